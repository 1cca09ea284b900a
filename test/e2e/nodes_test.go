//go:build e2e

package e2e

import (
	"encoding/json"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/podnet/kubectl-podnet/internal/report"
)

// scenarioWant is what `nodes` must say about a scenario beyond what the raw API data gives.
type scenarioWant struct {
	network     string
	tunnelKind  string // "" = no tunnel
	podCIDR     string // the cluster pod CIDR shown first
	serviceCIDR string
	warnings    []string // "Kind object"
	dualStack   bool     // every node has an InternalIP and a pod CIDR of each family
}

var scenarioWants = map[string]scenarioWant{
	"aks-kubenet":       {network: "kubenet", podCIDR: "10.244.0.0/16", serviceCIDR: "10.0.0.0/16"},
	"flannel-vxlan":     {network: "flannel/vxlan", tunnelKind: "vxlan", podCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12", dualStack: true},
	"calico-vxlan":      {network: "calico/vxlan", tunnelKind: "vxlan", podCIDR: "192.168.0.0/16", serviceCIDR: "10.96.0.0/12", warnings: []string{"CalicoAddressMismatch node/calico-node-3"}},
	"calico-ipip":       {network: "calico/ipip", tunnelKind: "ipip", podCIDR: "192.168.0.0/16", serviceCIDR: "10.96.0.0/12", warnings: []string{"CalicoAddressMismatch node/calico-node-3"}},
	"cilium-vxlan":      {network: "cilium/vxlan", tunnelKind: "vxlan", podCIDR: "10.0.0.0/8", serviceCIDR: "10.96.0.0/12"},
	"aws-vpc-cni":       {network: "aws-vpc-cni/native", serviceCIDR: "10.100.0.0/16"},
	"azure-cni-overlay": {network: "azure-cni-overlay/overlay", podCIDR: "10.244.0.0/16", serviceCIDR: "10.0.0.0/16"},
	"exhausted":         {network: "flannel/host-gw", podCIDR: "10.244.0.0/22", serviceCIDR: "10.96.0.0/12", warnings: []string{"NoPodCIDR node/worker-5", "NoPodCIDR node/worker-6"}},
	// the controller manager also hands out spec.podCIDRs (10.244.x.0/24) that Cilium ignores
	"cilium-cluster-pool":   {network: "cilium/geneve", tunnelKind: "geneve", podCIDR: "10.0.0.0/8", serviceCIDR: "10.96.0.0/12"},
	"aws-prefix-delegation": {network: "aws-vpc-cni/native", serviceCIDR: "172.20.0.0/16"},
	"azure-cni":             {network: "azure-cni/node-subnet", serviceCIDR: "10.0.0.0/16"},
	"antrea-geneve":         {network: "antrea/geneve", tunnelKind: "geneve", podCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12"},
}

// scenarioNames are the scenarios with expectations, in order.
func scenarioNames() []string {
	names := make([]string, 0, len(scenarioWants))
	for n := range scenarioWants {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestNodesOnEveryScenario(t *testing.T) {
	for _, scenario := range scenarioNames() {
		want := scenarioWants[scenario]
		t.Run(scenario, func(t *testing.T) {
			c := clusterFor(t, scenario)
			r := c.podnet(t, "nodes", "-o", "json")
			if r.code != 0 {
				t.Fatalf("nodes -o json: exit %d\n%s", r.code, r.stderr)
			}
			var rep report.NodesReport
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("nodes -o json is not JSON: %v", err)
			}
			checkAgainstAPI(t, c, &rep)
			if got := rep.Cluster.Network.String(); got != want.network {
				t.Errorf("cluster network = %s (evidence %v), want %s", got, rep.Cluster.Network.Evidence, want.network)
			}
			for _, n := range rep.Nodes {
				if want.dualStack && (len(n.InternalIPs) != 2 || len(n.PodCIDRs) != 2) {
					t.Errorf("dual-stack node %s: internal IPs %v, pod CIDRs %v; want one of each family", n.Name, n.InternalIPs, n.PodCIDRs)
				}
				if n.Network.String() != want.network {
					t.Errorf("node %s network = %s, want %s", n.Name, n.Network, want.network)
				}
				kind := ""
				if n.Tunnel != nil {
					kind = n.Tunnel.Kind
				}
				if kind != want.tunnelKind {
					t.Errorf("node %s tunnel = %s, want kind %q", n.Name, n.Tunnel, want.tunnelKind)
				}
			}
			if want.podCIDR != "" && (len(rep.Cluster.PodCIDRs) == 0 || rep.Cluster.PodCIDRs[0].CIDR != want.podCIDR) {
				t.Errorf("cluster pod CIDRs = %+v, want %s first", rep.Cluster.PodCIDRs, want.podCIDR)
			}
			if len(rep.Cluster.ServiceCIDRs) == 0 || rep.Cluster.ServiceCIDRs[0].CIDR != want.serviceCIDR {
				t.Errorf("service CIDRs = %+v, want %s", rep.Cluster.ServiceCIDRs, want.serviceCIDR)
			}
			var kinds []string
			for _, w := range rep.Warnings {
				kinds = append(kinds, w.Kind+" "+w.Object)
			}
			if diff := cmp.Diff(want.warnings, kinds); diff != "" {
				t.Errorf("warnings (-want +got):\n%s\n%+v", diff, rep.Warnings)
			}
			// the table alone on stdout, one row per node; the footer and warnings on stderr
			tr := c.podnet(t, "nodes")
			if tr.code != 0 {
				t.Fatalf("nodes: exit %d: %s", tr.code, tr.stderr)
			}
			lines := strings.Split(strings.TrimSpace(tr.stdout), "\n")
			if len(lines) != len(rep.Nodes)+1 || !strings.HasPrefix(lines[0], "NAME ") {
				t.Errorf("table:\n%s", tr.stdout)
			}
			if errLines := strings.Split(strings.TrimSpace(tr.stderr), "\n"); !strings.HasPrefix(errLines[len(errLines)-1], "network "+want.network+" · ") {
				t.Errorf("stderr does not end with the footer:\n%s", tr.stderr)
			}
			if got := strings.Count(tr.stderr, "warning: "); got != len(want.warnings) {
				t.Errorf("stderr has %d warnings, want %d:\n%s", got, len(want.warnings), tr.stderr)
			}
		})
	}
}

// checkAgainstAPI compares every node row with figures computed here from raw API data.
func checkAgainstAPI(t *testing.T, c *cluster, rep *report.NodesReport) {
	t.Helper()
	var nodes corev1.NodeList
	c.kubectlJSON(t, &nodes, "get", "nodes")
	var pods corev1.PodList
	c.kubectlJSON(t, &pods, "get", "pods", "-A")
	ciliumCIDRs, ciliumHost, ciliumNodeIP := map[string][]string{}, map[string]string{}, map[string]string{}
	if strings.Contains(c.kubectl(t, "api-resources", "--api-group", "cilium.io", "-o", "name"), "ciliumnodes") {
		var cns unstructured.UnstructuredList
		c.kubectlJSON(t, &cns, "get", "ciliumnodes")
		for _, cn := range cns.Items {
			ciliumCIDRs[cn.GetName()], _, _ = unstructured.NestedStringSlice(cn.Object, "spec", "ipam", "podCIDRs")
			addrs, _, _ := unstructured.NestedSlice(cn.Object, "spec", "addresses")
			for _, a := range addrs {
				switch m := a.(map[string]any); m["type"] {
				case "CiliumInternalIP":
					ciliumHost[cn.GetName()] = m["ip"].(string)
				case "InternalIP":
					ciliumNodeIP[cn.GetName()] = m["ip"].(string)
				}
			}
		}
	}
	// Calico: a node's addresses come from the IPAM blocks affine to it (either API group)
	calicoBlocks := map[string][]string{}
	for _, group := range []string{"crd.projectcalico.org", "projectcalico.org"} {
		if !strings.Contains(c.kubectl(t, "api-resources", "--api-group", group, "-o", "name"), "ipamblocks") {
			continue
		}
		var bl unstructured.UnstructuredList
		c.kubectlJSON(t, &bl, "get", "ipamblocks."+group)
		for _, b := range bl.Items {
			aff, _, _ := unstructured.NestedString(b.Object, "spec", "affinity")
			cidr, _, _ := unstructured.NestedString(b.Object, "spec", "cidr")
			node := strings.TrimPrefix(aff, "host:")
			calicoBlocks[node] = append(calicoBlocks[node], cidr)
		}
	}
	for _, bs := range calicoBlocks {
		sort.Slice(bs, func(i, j int) bool {
			return netip.MustParsePrefix(bs[i]).Addr().Less(netip.MustParsePrefix(bs[j]).Addr())
		})
	}
	podsOn := map[string]int{}
	for _, p := range pods.Items {
		if !p.Spec.HostNetwork && len(p.Status.PodIPs) > 0 && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			podsOn[p.Spec.NodeName]++
		}
	}
	if len(rep.Nodes) != len(nodes.Items) {
		t.Fatalf("report has %d nodes, the API %d", len(rep.Nodes), len(nodes.Items))
	}
	byName := map[string]report.NodeRow{}
	for _, n := range rep.Nodes {
		byName[n.Name] = n
	}
	for _, n := range nodes.Items {
		got, ok := byName[n.Name]
		if !ok {
			t.Errorf("node %s missing from the report", n.Name)
			continue
		}
		var internal []string
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				internal = append(internal, a.Address)
			}
		}
		cidrs := n.Spec.PodCIDRs
		if cc, ok := ciliumCIDRs[n.Name]; ok {
			cidrs = cc
		}
		if got.Network.Model == "calico" {
			cidrs = calicoBlocks[n.Name]
		}
		if cidrs == nil {
			cidrs = []string{}
		}
		alloc := n.Status.Allocatable[corev1.ResourcePods]
		wantRow := []any{internal, cidrs, podsOn[n.Name], alloc.Value()}
		gotRow := []any{got.InternalIPs, got.PodCIDRs, got.Pods, got.MaxPods}
		if diff := cmp.Diff(wantRow, gotRow); diff != "" {
			t.Errorf("node %s [internalIPs podCIDRs pods maxPods] (-api +report):\n%s", n.Name, diff)
		}
		// transport: the address the CNI publishes for the node, read here from the raw objects
		wantTransport := internal[0]
		switch got.Network.Model {
		case "calico":
			if p, err := netip.ParsePrefix(n.Annotations["projectcalico.org/IPv4Address"]); err == nil {
				wantTransport = p.Addr().String()
			}
		case "flannel":
			if a := n.Annotations["flannel.alpha.coreos.com/public-ip"]; a != "" {
				wantTransport = a
			}
		case "antrea":
			// the scenario sets transportInterfaceCIDRs: peers tunnel to the published addresses
			if a := strings.Split(n.Annotations["node.antrea.io/transport-addresses"], ",")[0]; a != "" {
				wantTransport = a
			}
		case "cilium":
			wantTransport = ciliumNodeIP[n.Name]
		}
		if len(got.Transport) == 0 || got.Transport[0] != wantTransport {
			t.Errorf("node %s transport addresses %v (%s), want %s first", n.Name, got.Transport, got.TransportSource, wantTransport)
		}
		// tunnel addresses: where the raw data says them
		switch {
		case got.Tunnel == nil:
		case got.Network.Model == "calico":
			a := n.Annotations["projectcalico.org/IPv4VXLANTunnelAddr"] + n.Annotations["projectcalico.org/IPv4IPIPTunnelAddr"]
			if diff := cmp.Diff([]string{a}, got.Tunnel.Addresses); diff != "" {
				t.Errorf("node %s calico tunnel (-annotation +report):\n%s", n.Name, diff)
			}
		case got.Network.Model == "flannel" && len(n.Spec.PodCIDRs) > 0:
			var want []string
			for _, c := range n.Spec.PodCIDRs {
				want = append(want, strings.Split(c, "/")[0])
			}
			if diff := cmp.Diff(want, got.Tunnel.Addresses); diff != "" {
				t.Errorf("node %s flannel tunnel (-podCIDR network addresses +report):\n%s", n.Name, diff)
			}
		case got.Network.Model == "cilium":
			if len(got.Tunnel.Addresses) != 1 || got.Tunnel.Addresses[0] != ciliumHost[n.Name] {
				t.Errorf("node %s cilium tunnel = %v, want %s", n.Name, got.Tunnel.Addresses, ciliumHost[n.Name])
			}
		}
	}
}

func TestExhaustedQuotesTheEvent(t *testing.T) {
	c := clusterFor(t, "exhausted")
	r := c.podnet(t, "nodes")
	for _, n := range []string{"worker-5", "worker-6"} {
		want := `warning: node ` + n + ` has no pod CIDR, and flannel hands out pod addresses from it: pods scheduled there cannot get an address; event CIDRNotAvailable: "Node ` + n + ` status is now: CIDRNotAvailable"`
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}
