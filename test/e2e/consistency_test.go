//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/podnet/kubectl-podnet/internal/report"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

// nodeFacts are what every command must state alike about one node.
type nodeFacts struct {
	PodCIDRs  []string
	Transport []string
	Capacity  uint64
	// Tunnel: the node's model encapsulates (nodes shows a tunnel)
	Tunnel bool
}

// TestCommandsAgreeOnEveryNode runs every command's -o json on every scenario and compares the
// per-node facts they state: pod CIDRs (nodes, cidr-usage, who, trace), transport addresses
// (nodes, trace and its tunnel's outer destination) and pod capacity (nodes, cidr-usage).
func TestCommandsAgreeOnEveryNode(t *testing.T) {
	for _, scenario := range scenarioNames() {
		t.Run(scenario, func(t *testing.T) {
			c := clusterFor(t, scenario)
			var rep report.NodesReport
			c.podnetJSON(t, &rep, "nodes")
			facts := map[string]nodeFacts{}
			for _, n := range rep.Nodes {
				f := nodeFacts{PodCIDRs: n.PodCIDRs, Transport: n.Transport, Tunnel: n.Tunnel != nil}
				if n.Capacity == nil {
					t.Errorf("nodes: node %s has no capacity", n.Name)
				} else {
					f.Capacity = n.Capacity.PodIPs
				}
				facts[n.Name] = f
			}

			var u report.CIDRUsage
			c.podnetJSON(t, &u, "cidr-usage")
			if len(u.Nodes) != len(facts) {
				t.Errorf("cidr-usage shows %d nodes, nodes %d", len(u.Nodes), len(facts))
			}
			for _, n := range u.Nodes {
				if _, ok := facts[n.Name]; !ok {
					t.Errorf("cidr-usage shows node %s, which nodes does not", n.Name)
				}
				f := facts[n.Name]
				if diff := cmp.Diff(f.PodCIDRs, n.CIDRs); diff != "" {
					t.Errorf("node %s pod CIDRs: nodes and cidr-usage differ (-nodes +cidr-usage):\n%s", n.Name, diff)
				}
				if n.Capacity != f.Capacity {
					t.Errorf("node %s capacity: nodes says %d, cidr-usage %d", n.Name, f.Capacity, n.Capacity)
				}
			}

			var s report.Summary
			c.podnetJSON(t, &s, "summary")
			if diff := cmp.Diff(rep.Cluster.PodCIDRs, s.PodNetwork.PodCIDRs); diff != "" {
				t.Errorf("cluster pod CIDRs: nodes and summary differ (-nodes +summary):\n%s", diff)
			}
			if diff := cmp.Diff(nodeMasks(facts), s.PodNetwork.NodeMasks); diff != "" {
				t.Errorf("node CIDR masks: summary differs from the nodes' pod CIDRs (-nodes +summary):\n%s", diff)
			}

			var pods corev1.PodList
			c.kubectlJSON(t, &pods, "get", "pods", "-A", "--field-selector", "status.phase=Running")
			onePer := map[string]*corev1.Pod{}
			for i := range pods.Items {
				p := &pods.Items[i]
				if !p.Spec.HostNetwork && len(p.Status.PodIPs) > 0 && onePer[p.Spec.NodeName] == nil {
					onePer[p.Spec.NodeName] = p
				}
			}
			// who: a pod's address is in its node's pod CIDR (or block), as nodes states it
			for node, p := range onePer {
				var w report.WhoReport
				c.podnetJSON(t, &w, "who", p.Status.PodIPs[0].IP)
				var in []string
				claims := false // a node CIDR of this node is said to hold the address
				for _, o := range w.Results[0].Owners {
					if o.Kind == report.OwnNodePodCIDR {
						in = append(in, o.CIDR)
						claims = claims || o.Object == "node/"+node || slices.Contains(facts[node].PodCIDRs, o.CIDR)
					}
				}
				// the node CIDR holding the address, as nodes states them ("" for a borrowed
				// Calico address or a model without node CIDRs)
				ip := netip.MustParseAddr(p.Status.PodIPs[0].IP)
				holder := ""
				for _, cidr := range facts[node].PodCIDRs {
					if netip.MustParsePrefix(cidr).Contains(ip) {
						holder = cidr
					}
				}
				switch {
				case holder == "" && claims:
					t.Errorf("who %s: in %v, said to be node %s's, whose pod CIDRs %v do not hold it", ip, in, node, facts[node].PodCIDRs)
				case holder != "" && !cmp.Equal(in, []string{holder}):
					t.Errorf("who %s (pod %s/%s on %s): in %v, want node %s's pod CIDR %s", ip, p.Namespace, p.Name, node, in, node, holder)
				}
			}
			// trace: from one pod to a pod on each other node
			names := make([]string, 0, len(onePer))
			for n := range onePer {
				names = append(names, n)
			}
			sort.Strings(names)
			if len(names) < 2 {
				return
			}
			src := onePer[names[0]]
			for _, dn := range names[1:] {
				dst := onePer[dn]
				var p trace.Path
				c.podnetJSON(t, &p, "trace", src.Namespace+"/"+src.Name, dst.Namespace+"/"+dst.Name)
				if len(p.Nodes) != 2 {
					t.Errorf("trace to %s: %d nodes in the path, want the source's and the destination's", dn, len(p.Nodes))
				}
				for _, nn := range p.Nodes {
					want := facts[nn.Name]
					got := nodeFacts{PodCIDRs: prefixStrings(nn.PodCIDRs), Transport: addrStrings(nn.Transport), Tunnel: nn.Tunnel != nil}
					want.Capacity = 0 // a trace reads no pods: it states no capacity
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("trace to %s: node %s (-nodes +trace):\n%s", dn, nn.Name, diff)
					}
				}
				encapsulated := false
				for _, h := range p.Hops {
					if h.Encap == nil {
						continue
					}
					encapsulated = true
					v4 := netip.MustParseAddr(src.Status.PodIPs[0].IP).Is4()
					if want := family(facts[dn].Transport, v4); h.Encap.OuterDst != want {
						t.Errorf("trace to %s: the tunnel's outer destination is %s; nodes says the node's transport address is %s", dn, h.Encap.OuterDst, want)
					}
					if want := family(facts[names[0]].Transport, v4); h.Encap.OuterSrc != want {
						t.Errorf("trace to %s: the tunnel's outer source is %s; nodes says %s", dn, h.Encap.OuterSrc, want)
					}
				}
				if facts[names[0]].Tunnel && !encapsulated {
					t.Errorf("trace to %s: nodes shows node %s's tunnel, the path has no encapsulation", dn, names[0])
				}
			}
		})
	}
}

// podnetJSON runs the plugin with -o json and decodes its output into v.
func (c *cluster) podnetJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	r := c.podnet(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("%v -o json: exit %d, %v\nstderr: %s", args, r.code, err, r.stderr)
	}
}

func nodeMasks(facts map[string]nodeFacts) []int {
	seen := map[int]bool{}
	for _, f := range facts {
		for _, c := range f.PodCIDRs {
			seen[netip.MustParsePrefix(c).Bits()] = true
		}
	}
	var out []int
	for m := range seen {
		out = append(out, m)
	}
	sort.Ints(out)
	return out
}

func family(addrs []string, v4 bool) string {
	for _, a := range addrs {
		if netip.MustParseAddr(a).Is4() == v4 {
			return a
		}
	}
	return fmt.Sprint(addrs)
}

func prefixStrings(ps []netip.Prefix) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func addrStrings(as []netip.Addr) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}
