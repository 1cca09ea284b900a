//go:build e2e

package e2e

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/podnet/kubectl-podnet/internal/report"
)

func cidrUsage(t *testing.T, c *cluster, args ...string) (*report.CIDRUsage, result) {
	t.Helper()
	r := c.podnet(t, append([]string{"cidr-usage", "-o", "json"}, args...)...)
	var u report.CIDRUsage
	if err := json.Unmarshal([]byte(r.stdout), &u); err != nil {
		t.Fatalf("cidr-usage -o json: %v (exit %d, stderr %s)", err, r.code, r.stderr)
	}
	return &u, r
}

// TestCIDRUsageMatchesTheCluster checks every figure against counts made here from raw API data:
// pods per node (by the node CIDR they fall in, for models that hand out node CIDRs), node CIDRs
// per cluster CIDR, ClusterIPs per service CIDR, Calico allocations per pool.
func TestCIDRUsageMatchesTheCluster(t *testing.T) {
	for _, scenario := range scenarioNames() {
		t.Run(scenario, func(t *testing.T) {
			c := clusterFor(t, scenario)
			u, r := cidrUsage(t, c)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var nodes corev1.NodeList
			c.kubectlJSON(t, &nodes, "get", "nodes")
			var pods corev1.PodList
			c.kubectlJSON(t, &pods, "get", "pods", "-A")
			cidrModel := map[string]bool{"aks-kubenet": true, "flannel-vxlan": true, "azure-cni-overlay": true, "exhausted": true}[scenario]
			want := map[string]int{}
			for _, p := range pods.Items {
				if p.Spec.HostNetwork || len(p.Status.PodIPs) == 0 || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
					continue
				}
				if !cidrModel {
					want[p.Spec.NodeName]++
					continue
				}
				ip := netip.MustParseAddr(p.Status.PodIPs[0].IP)
				for _, n := range nodes.Items {
					for _, cidr := range n.Spec.PodCIDRs {
						if netip.MustParsePrefix(cidr).Contains(ip) {
							want[n.Name]++
						}
					}
				}
			}
			for _, n := range u.Nodes {
				if n.Used != want[n.Name] {
					t.Errorf("node %s: %d IPs used, the API says %d", n.Name, n.Used, want[n.Name])
				}
			}
			if cidrModel {
				withCIDR, starved := 0, 0
				for _, n := range nodes.Items {
					if len(n.Spec.PodCIDRs) > 0 {
						withCIDR++
					} else {
						starved++
					}
				}
				r := u.Ranges[0]
				if r.Allocated != withCIDR || len(r.Starved) != starved || r.Slots != uint64(r.Allocated)+r.Free {
					t.Errorf("range %+v; the API has %d nodes with a CIDR and %d without", r, withCIDR, starved)
				}
			}
			var ipas unstructured.UnstructuredList
			c.kubectlJSON(t, &ipas, "get", "ipaddresses")
			svc := u.Services[0]
			inRange := 0
			for _, a := range ipas.Items {
				if netip.MustParsePrefix(svc.CIDR).Contains(netip.MustParseAddr(a.GetName())) {
					inRange++
				}
			}
			if svc.Allocated != inRange || svc.CountedFrom != "IPAddress objects" {
				t.Errorf("service CIDR %+v; the API has %d IPAddress objects in it", svc, inRange)
			}
			if strings.HasPrefix(scenario, "calico") {
				var blocks unstructured.UnstructuredList
				group := "crd.projectcalico.org"
				if scenario == "calico-ipip" {
					group = "projectcalico.org"
				}
				c.kubectlJSON(t, &blocks, "get", "ipamblocks."+group)
				alloc := 0
				for _, b := range blocks.Items {
					as, _, _ := unstructured.NestedSlice(b.Object, "spec", "allocations")
					for _, a := range as {
						if a != nil {
							alloc++
						}
					}
				}
				if p := u.Pools[0]; p.Allocated != alloc || p.Blocks != len(blocks.Items) || p.Borrowed != 1 {
					t.Errorf("pool %+v; the API has %d blocks with %d allocations, 1 borrowed", p, len(blocks.Items), alloc)
				}
			}
		})
	}
}

func TestCIDRUsageExhausted(t *testing.T) {
	c := clusterFor(t, "exhausted")
	u, r := cidrUsage(t, c, "--fail-at", "90")
	if r.code != 2 {
		t.Errorf("exit code %d, want 2 (--fail-at 90 on an exhausted cluster CIDR)", r.code)
	}
	for _, want := range []string{
		"warning: node worker-5 has no pod CIDR: its pods cannot get an address (event CIDRNotAvailable: \"Node worker-5 status is now: CIDRNotAvailable\")",
		"warning: cluster CIDR 10.244.0.0/22: 4 of 4 /24 node CIDRs allocated (100%), 0 more nodes can join; 2 node(s) already have none: the cluster CIDR is exhausted",
		"error: utilisation 100% (node worker-5 without a pod CIDR) is at or past --fail-at 90%",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if len(u.Starved) != 2 || u.Ranges[0].Utilisation != 1 {
		t.Errorf("starved %v, range %+v", u.Starved, u.Ranges[0])
	}
	if ok := c.podnet(t, "cidr-usage"); ok.code != 0 {
		t.Errorf("without --fail-at the exit code is 0, got %d", ok.code)
	}
}

func TestCIDRUsagePlanKnownAnswer(t *testing.T) {
	c := clusterFor(t, "aks-kubenet")
	u, r := cidrUsage(t, c, "--plan-nodes", "300")
	if r.code != 2 || !strings.Contains(r.stderr, "error: the plan of 300 nodes of 110 pods does not fit: node CIDRs (/24) in cluster CIDR 10.244.0.0/16: need 300, have 256") {
		t.Fatalf("a plan that does not fit exits 2 with the shortfall; got exit %d: %s", r.code, r.stderr)
	}
	// 10.244.0.0/16 holds 256 /24s: 300 nodes do not fit; a /15 would; the 400-route cap is fine
	p := u.Plan
	if p.Holds || p.Binding != "node CIDRs (/24) in cluster CIDR 10.244.0.0/16" || len(p.Smallest) != 1 || p.Smallest[0] != "10.244.0.0/15" {
		t.Errorf("plan 300 nodes = %+v", p)
	}
	u, r = cidrUsage(t, c, "--plan-nodes", "200", "--max-pods", "250")
	if !u.Plan.Holds || r.code != 0 {
		t.Errorf("200 nodes of 250 pods fit 10.244.0.0/16 with /24s (253 addresses each): %+v", u.Plan)
	}
	u, _ = cidrUsage(t, c, "--plan-nodes", "500", "--node-cidr-mask", "25")
	if u.Plan.Holds || u.Plan.Binding != "Azure route table (kubenet)" {
		t.Errorf("500 kubenet nodes exceed the 400-route table whatever the mask: %+v", u.Plan)
	}
	if got := u.Limits[0]; got.Name != "Azure route table (kubenet)" || got.Used != 4 || got.Limit != 400 {
		t.Errorf("route table limit = %+v", got)
	}
	// masks that cannot describe a plan are refused before anything is printed
	for mask, want := range map[string]string{
		"12": "error: --node-cidr-mask /12 does not fit in cluster CIDR 10.244.0.0/16: a node CIDR cannot be larger than the range it is cut from; give a mask from /16 up",
		"31": "error: --node-cidr-mask must be an IPv4 prefix length from 8 to 30 (got 31)",
	} {
		if r := c.podnet(t, "cidr-usage", "--plan-nodes", "10", "--node-cidr-mask", mask); r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, want) {
			t.Errorf("--node-cidr-mask %s: exit %d, stdout %q, stderr %q; want 1 and %q", mask, r.code, r.stdout, r.stderr, want)
		}
	}
}

func TestCIDRUsageAWSAndPrometheus(t *testing.T) {
	c := clusterFor(t, "aws-vpc-cni")
	u, _ := cidrUsage(t, c)
	// m5.large: 3 ENIs x (10 - 1) = 27 pod addresses; max pods 29 less the 2 host-network pods
	// (aws-node, kube-proxy) is 27 as well
	found := false
	for _, l := range u.Limits {
		if l.Name == "ENI addresses (3 x m5.large)" && l.Limit == 81 && l.Used == 11 {
			found = true
		}
	}
	if !found {
		t.Errorf("no ENI limit of 3 x 27 pod addresses for m5.large with 11 used: %+v", u.Limits)
	}
	r := c.podnet(t, "cidr-usage", "-o", "prometheus")
	if r.code != 0 || !strings.Contains(r.stdout, `podnet_node_pod_ips_capacity{node="ip-192-168-12-34.us-west-2.compute.internal"} 27`) {
		t.Errorf("prometheus output:\n%s", r.stdout)
	}
}

// TestCIDRUsagePodCapacity: max-pods counts host-network pods, so a node whose pods fill it is
// full; the ENIs of a non-Nitro instance hold secondary IPs even with prefix delegation on, those
// of a Nitro one /28 prefixes (max-pods binds).
func TestCIDRUsagePodCapacity(t *testing.T) {
	c := clusterFor(t, "aws-prefix-delegation")
	u, r := cidrUsage(t, c)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var nodes corev1.NodeList
	c.kubectlJSON(t, &nodes, "get", "nodes")
	itype := map[string]string{}
	for _, n := range nodes.Items {
		itype[n.Name] = n.Labels["node.kubernetes.io/instance-type"]
	}
	full := 0
	for _, n := range u.Nodes {
		// aws-node and kube-proxy run on the host network of every node
		want := map[string][3]uint64{"m5.large": {432, 108, 0}, "m4.large": {18, 18, 0}}[itype[n.Name]]
		if n.HostNetworkPods != 2 || n.Usable != want[0] || n.Capacity != want[1] {
			t.Errorf("node %s (%s): host-network pods %d, usable %d, capacity %d; want 2, %d, %d", n.Name, itype[n.Name], n.HostNetworkPods, n.Usable, n.Capacity, want[0], want[1])
		}
		if n.Used == 18 && itype[n.Name] == "m4.large" {
			full++
			if n.Utilisation != 1 || !strings.Contains(r.stderr, "node "+n.Name+": 18 pod IPs in use of 18 (100%") {
				t.Errorf("the full node %s shows %v:\n%s", n.Name, n.Utilisation, r.stderr)
			}
		}
	}
	if full != 1 {
		t.Errorf("%d full m4.large nodes, want 1: %+v", full, u.Nodes)
	}
}
