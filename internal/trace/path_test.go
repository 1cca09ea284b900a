package trace

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podnet/kubectl-podnet/internal/inspect"
)

func node(name, ip, cidr string, ann map[string]string) *inspect.Node {
	n := &inspect.Node{Name: name, Ready: "Ready", InternalIPs: []netip.Addr{netip.MustParseAddr(ip)}, Annotations: ann}
	if cidr != "" {
		n.PodCIDRs = []netip.Prefix{netip.MustParsePrefix(cidr)}
	}
	return n
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
	nodes := map[string]*inspect.Node{
		"a": node("a", "192.168.56.11", "10.244.0.0/24", flannel),
		"b": node("b", "192.168.56.12", "10.244.1.0/24", flannel),
	}
	p, err := Build(pod("shop", "web-1", "10.244.0.5", "a"), pod("shop", "db-0", "10.244.1.7", "b"), nodes, &inspect.Evidence{})
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
	nodes := map[string]*inspect.Node{"a": node("a", "10.0.0.11", "", calico)}
	p, err := Build(pod("shop", "web-1", "192.168.1.5", "a"), pod("shop", "db-0", "192.168.1.6", "a"), nodes, &inspect.Evidence{})
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
	a.NetworkUnavail = &inspect.Condition{Status: "False", Reason: "RouteCreated"}
	p, err := Build(pod("x", "p", "10.244.0.9", "a"), pod("x", "q", "10.244.2.9", "b"), map[string]*inspect.Node{"a": a, "b": b}, &inspect.Evidence{})
	if err != nil {
		t.Fatal(err)
	}
	cloud := p.Hops[3]
	if cloud.Where != "cloud" || cloud.Route != "10.244.2.0/24 -> 10.224.0.5" || !strings.Contains(p.Notes[0], "extra hop") && !strings.Contains(p.Notes[0], "adds a hop") {
		t.Errorf("cloud hop %+v, notes %v", cloud, p.Notes)
	}
}

func TestMixedFamiliesRefused(t *testing.T) {
	nodes := map[string]*inspect.Node{"a": node("a", "10.0.0.1", "10.244.0.0/24", nil)}
	_, err := Build(pod("x", "p", "10.244.0.9", "a"), pod("x", "q", "fd00::9", "a"), nodes, &inspect.Evidence{})
	if err == nil || !strings.Contains(err.Error(), "different address families") {
		t.Errorf("error = %v", err)
	}
}
