package trace

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
)

func node(name, ip, cidr string, ann map[string]string) *cluster.Node {
	n := &cluster.Node{Name: name, Ready: "Ready", InternalIPs: []netip.Addr{netip.MustParseAddr(ip)}, Annotations: ann}
	if cidr != "" {
		n.PodCIDRs = []netip.Prefix{netip.MustParsePrefix(cidr)}
	}
	return n
}

// resolved resolves the nodes with the evidence, as a run does.
func resolved(nodes map[string]*cluster.Node, ev *cluster.Evidence) map[string]*netmodel.NodeNetwork {
	out := map[string]*netmodel.NodeNetwork{}
	for name, n := range nodes {
		nn := netmodel.ResolveNode(n, ev, nil)
		out[name] = &nn
	}
	return out
}

func pod(ns, name, ip, nodeName string) Endpoint {
	return Endpoint{Kind: "pod", Namespace: ns, Name: name, IP: netip.MustParseAddr(ip), Node: nodeName}
}

func summary(p *Path) []string {
	var out []string
	for _, h := range p.Hops {
		s := h.Where + " | " + h.Device + " | " + h.Route
		if h.Encap != nil {
			s += " | " + h.Encap.Kind
		}
		out = append(out, s)
	}
	return out
}

func TestFlannelVXLANCrossNode(t *testing.T) {
	flannel := map[string]string{"flannel.alpha.coreos.com/backend-type": "vxlan"}
	nodes := map[string]*cluster.Node{
		"a": node("a", "192.168.56.11", "10.244.0.0/24", flannel),
		"b": node("b", "192.168.56.12", "10.244.1.0/24", flannel),
	}
	p, err := Build(pod("shop", "web-1", "10.244.0.5", "a"), pod("shop", "db-0", "10.244.1.7", "b"), resolved(nodes, &cluster.Evidence{}), &cluster.Evidence{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"pod shop/web-1 | eth0 | default via 10.244.0.1 dev eth0",
		"node a | veth… | ",
		"node a | flannel.1 | 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink | vxlan",
		"network |  | ",
		"node b | flannel.1 | ",
		"node b | cni0 | 10.244.1.0/24 dev cni0",
	}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Errorf("hops (-want +got):\n%s", diff)
	}
	if p.Case != "cross-node" || p.Hops[2].Encap.Port != 8472 || p.Hops[2].Encap.VNI != 1 || p.Hops[2].Encap.OuterDst != "192.168.56.12" {
		t.Errorf("case %s, encap %+v", p.Case, p.Hops[2].Encap)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "adds 50 bytes") {
		t.Errorf("notes %v", p.Notes)
	}
}

func TestCalicoSameNodeNamesTheDevice(t *testing.T) {
	calico := map[string]string{"projectcalico.org/IPv4IPIPTunnelAddr": "192.168.1.0"}
	nodes := map[string]*cluster.Node{"a": node("a", "10.0.0.11", "", calico)}
	p, err := Build(pod("shop", "web-1", "192.168.1.5", "a"), pod("shop", "db-0", "192.168.1.6", "a"), resolved(nodes, &cluster.Evidence{}), &cluster.Evidence{})
	if err != nil {
		t.Fatal(err)
	}
	// Calico names the host side "cali" + sha1("shop.web-1")[:11]
	want := []string{
		"pod shop/web-1 | eth0 | default via 169.254.1.1 dev eth0",
		"node a | cali751425ce827 | ",
		"node a | cali43878a68a0a | 192.168.1.6 dev cali43878a68a0a",
	}
	got := summary(p)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hops (-want +got):\n%s", diff)
	}
	if p.Case != "same-node" || !strings.Contains(p.Hops[0].What, "proxy ARP") {
		t.Errorf("case %s, first hop %q", p.Case, p.Hops[0].What)
	}
}

func TestKubenetOnAzureGoesThroughTheRouteTable(t *testing.T) {
	a := node("a", "10.224.0.4", "10.244.0.0/24", nil)
	b := node("b", "10.224.0.5", "10.244.2.0/24", nil)
	a.ProviderID, b.ProviderID = "azure:///x/a", "azure:///x/b"
	a.NetworkUnavail = &cluster.Condition{Status: "False", Reason: "RouteCreated"}
	p, err := Build(pod("x", "p", "10.244.0.9", "a"), pod("x", "q", "10.244.2.9", "b"), resolved(map[string]*cluster.Node{"a": a, "b": b}, &cluster.Evidence{}), &cluster.Evidence{})
	if err != nil {
		t.Fatal(err)
	}
	cloud := p.Hops[3]
	if cloud.Where != "cloud" || cloud.Route != "10.244.2.0/24 -> 10.224.0.5" || !strings.Contains(p.Notes[0], "extra hop") && !strings.Contains(p.Notes[0], "adds a hop") {
		t.Errorf("cloud hop %+v, notes %v", cloud, p.Notes)
	}
}

func TestMixedFamiliesRefused(t *testing.T) {
	nodes := map[string]*cluster.Node{"a": node("a", "10.0.0.1", "10.244.0.0/24", nil)}
	_, err := Build(pod("x", "p", "10.244.0.9", "a"), pod("x", "q", "fd00::9", "a"), resolved(nodes, &cluster.Evidence{}), &cluster.Evidence{})
	if err == nil || !strings.Contains(err.Error(), "different address families") {
		t.Errorf("error = %v", err)
	}
}

func TestLookupMatch(t *testing.T) {
	tunnel := &Lookup{In: "node a", Dst: "10.244.1.7", Dev: "flannel.1", Via: "10.244.1.0"}
	native := &Lookup{In: "node a", Dst: "10.244.1.7", NodeInterface: true, Via: "192.168.56.12"}
	local := &Lookup{In: "node b", Dst: "192.168.56.12", Local: true}
	cilium := &Lookup{In: "node a", Dst: "10.0.2.5", DevPrefix: "lxc"}
	tests := []struct {
		l    *Lookup
		r    probe.RouteAnswer
		ok   bool
		why  string
		name string
	}{
		{tunnel, probe.RouteAnswer{Dst: "10.244.1.7", Via: "10.244.1.0", Dev: "flannel.1"}, true, "", "tunnel ok"},
		{tunnel, probe.RouteAnswer{Dst: "10.244.1.7", Via: "192.168.56.1", Dev: "eth0"}, false, "leaves by eth0, not flannel.1", "tunnel route missing"},
		{tunnel, probe.RouteAnswer{Dst: "10.244.1.7", Via: "10.244.9.0", Dev: "flannel.1"}, false, "next hop 10.244.9.0, not 10.244.1.0", "stale endpoint"},
		{native, probe.RouteAnswer{Dst: "10.244.1.7", Via: "192.168.56.12", Dev: "ens5"}, true, "", "native on ens5"},
		{native, probe.RouteAnswer{Dst: "10.244.1.7", Via: "192.168.56.12", Dev: "wg0"}, false, "leaves by wg0, not the node's interface (ens5)", "native captured"},
		{native, probe.RouteAnswer{Error: "Network is unreachable"}, false, "no route: Network is unreachable", "no route"},
		{local, probe.RouteAnswer{Dst: "192.168.56.12", Type: "local", Dev: "lo"}, true, "", "local"},
		{local, probe.RouteAnswer{Dst: "192.168.56.12", Dev: "eth0"}, false, "192.168.56.12 is not an address of this namespace (route 192.168.56.12 dev eth0)", "not local"},
		{cilium, probe.RouteAnswer{Dst: "10.0.2.5", Dev: "lxc12ab"}, true, "", "prefix"},
		{cilium, probe.RouteAnswer{Dst: "10.0.2.5", Type: "blackhole"}, false, "route type blackhole", "blackhole"},
	}
	for _, tt := range tests {
		ok, why := tt.l.Match(tt.r, []string{"ens5"})
		if ok != tt.ok || why != tt.why {
			t.Errorf("%s: Match = %v %q, want %v %q", tt.name, ok, why, tt.ok, tt.why)
		}
	}
}

func TestCiliumAndHostNetworkPaths(t *testing.T) {
	cilium := map[string]string{"network.cilium.io/ipv4-cilium-host": "10.0.1.93"}
	a := node("a", "172.18.0.11", "", cilium)
	b := node("b", "172.18.0.12", "", map[string]string{"network.cilium.io/ipv4-cilium-host": "10.0.2.93"})
	ev := &cluster.Evidence{CiliumNodes: map[string]*cluster.CiliumNode{
		"a": {Name: "a", PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.1.0/24")}, CiliumInternalIP: []netip.Addr{netip.MustParseAddr("10.0.1.93")}},
		"b": {Name: "b", PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.2.0/24")}, CiliumInternalIP: []netip.Addr{netip.MustParseAddr("10.0.2.93")}},
	}, Cilium: &cluster.CiliumConfig{RoutingMode: "tunnel", TunnelProtocol: "vxlan"}}
	p, err := Build(pod("x", "p", "10.0.1.5", "a"), pod("x", "q", "10.0.2.5", "b"), resolved(map[string]*cluster.Node{"a": a, "b": b}, ev), ev)
	if err != nil {
		t.Fatal(err)
	}
	var lookups []string
	for _, h := range p.Hops {
		if h.Lookup != nil {
			lookups = append(lookups, h.Lookup.In+": "+h.Lookup.String())
		}
	}
	want := []string{"pod x/p: 10.0.2.5 via 10.0.1.93 dev eth0", "node a: 10.0.2.5 via <gateway> dev cilium_host", "node b: 10.0.2.5 via <gateway> dev cilium_host"}
	if p.Network.Model != netmodel.Cilium || !cmp.Equal(want, lookups) {
		t.Errorf("model %s, lookups %q, want %q", p.Network, lookups, want)
	}
	host := pod("kube-system", "agent", "192.168.56.11", "a")
	host.HostNetwork, host.IP = true, netip.MustParseAddr("172.18.0.11")
	p, err = Build(host, pod("x", "q", "10.0.2.5", "b"), resolved(map[string]*cluster.Node{"a": a, "b": b}, ev), ev)
	if err != nil {
		t.Fatal(err)
	}
	if p.Case != "node-to-pod" || len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "uses the host network") || p.Hops[0].Where != "node a" {
		t.Errorf("host-network source: case %s, first hop %+v, notes %v", p.Case, p.Hops[0], p.Notes)
	}
}

func TestVerifyKubenetCloudAndFailures(t *testing.T) {
	a := node("a", "10.224.0.4", "10.244.0.0/24", nil)
	b := node("b", "10.224.0.5", "10.244.2.0/24", nil)
	a.ProviderID, b.ProviderID = "azure:///x/a", "azure:///x/b"
	p, err := Build(pod("x", "p", "10.244.0.9", "a"), pod("x", "q", "10.244.2.9", "b"), resolved(map[string]*cluster.Node{"a": a, "b": b}, &cluster.Evidence{}), &cluster.Evidence{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for in := range p.Probes() {
		got[in] = true
	}
	if !cmp.Equal(got, map[string]bool{"pod x/p": true, "node a": true, "node b": true}) {
		t.Errorf("probes %v: the cloud is not probed, the pod and both nodes are", got)
	}
	snap := func(ip string) *probe.Snapshot {
		return &probe.Snapshot{Links: []probe.Link{{Name: "eth0", Addrs: []probe.Addr{{Family: "inet", CIDR: ip + "/16"}}}}}
	}
	obs := map[string]*Observation{
		"pod x/p": {In: "pod x/p", Err: fmt.Errorf("pod x/p already carries 5 podnet ephemeral containers")},
		"node a": {In: "node a", NodeAddresses: []string{"10.224.0.4"}, Result: &probe.PathResult{Snapshot: snap("10.224.0.4"),
			Routes: map[string]probe.RouteAnswer{"10.244.2.9 from 10.244.0.9 iif cbr0": {Dst: "10.244.2.9", Via: "10.224.0.1", Dev: "eth0"}}}},
		"node b": {In: "node b", NodeAddresses: []string{"10.224.0.5"}, Result: &probe.PathResult{Snapshot: snap("10.224.0.5"),
			Routes: map[string]probe.RouteAnswer{"10.244.2.9": {Dst: "10.244.2.9", Via: "10.224.0.1", Dev: "eth0"}}}},
	}
	v := p.Verify(obs)
	var statuses []string
	for _, c := range v.Checks {
		statuses = append(statuses, c.In+" "+string(c.Status))
	}
	want := []string{"pod x/p failed", "node a ok", "cloud not-probed", "node b mismatch"}
	if !cmp.Equal(want, statuses) || v.Mismatches != 1 {
		t.Fatalf("statuses %v (mismatches %d), want %v", statuses, v.Mismatches, want)
	}
	if c := v.Checks[3]; c.Reason != "leaves by eth0, not cbr0" || !strings.Contains(c.Cause, "the destination's own node does not route 10.244.2.9 into a pod") {
		t.Errorf("delivery mismatch: %+v", c)
	}
	if !strings.Contains(v.Checks[2].Cause, "az network route-table route list") || !strings.Contains(v.Checks[0].Reason, "already carries 5") {
		t.Errorf("cloud %+v, failed %+v", v.Checks[2], v.Checks[0])
	}
}
