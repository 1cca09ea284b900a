package netmodel

import (
	"encoding/json"
	"net/netip"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

const annAntreaTransport = "node.antrea.io/transport-addresses"

// antreaModel is Antrea: pods on Open vSwitch behind the antrea-gw0 gateway, spec.podCIDRs, and
// Geneve (default) or VXLAN tunnels between nodes in OVS, or routes (noEncap).
type antreaModel struct{ base }

func (antreaModel) Name() Name                          { return Antrea }
func (antreaModel) Agent() string                       { return "antrea-agent" }
func (antreaModel) NodeCIDRIPAM(*cluster.Evidence) bool { return true }
func (antreaModel) Bridge() string                      { return "antrea-gw0" }
func (antreaModel) HostEnd() HostEnd                    { return HostEndBridge }
func (antreaModel) GatewayDevice() string               { return "antrea-gw0" }

func (antreaModel) Datapath(mode string, _ *cluster.Node) Datapath {
	switch mode {
	case "noEncap":
		return DatapathRouted
	case "", "geneve", "vxlan", "gre", "stt":
		return DatapathOVSTunnel
	}
	return DatapathUnknown
}

func (antreaModel) Encap(mode string, _ *cluster.Node, _ bool) *Encap {
	switch mode {
	case "vxlan":
		return &Encap{Kind: "vxlan", Device: "antrea-tun0", Port: 4789, Overhead: 50}
	case "noEncap":
		return nil
	}
	return &Encap{Kind: "geneve", Device: "antrea-tun0", Port: 6081, Overhead: 50}
}

func (antreaModel) Policy(*cluster.Evidence) Enforcement {
	return Enforcement{State: Enforced, Reason: string(Antrea)}
}

func (antreaModel) PolicyKinds() []schema.GroupVersionResource {
	g := schema.GroupVersion{Group: "crd.antrea.io", Version: "v1beta1"}
	return []schema.GroupVersionResource{g.WithResource("clusternetworkpolicies"), g.WithResource("networkpolicies")}
}

func (antreaModel) Needs(*cluster.Node) cluster.Needs { return cluster.Needs{CNIConfigMaps: true} }

func (antreaModel) marks(n *cluster.Node, _ *cluster.Evidence) string {
	if hasPrefixKey(n.Annotations, "node.antrea.io/") {
		return "node annotation " + annAntreaTransport
	}
	return ""
}

func (antreaModel) clusterSigns(_ *cluster.Node, ev *cluster.Evidence) []string {
	return firstDaemonSet(ev, "antrea-agent")
}

func (antreaModel) mode(_ *cluster.Node, ev *cluster.Evidence) (string, []string) {
	if c := ev.Antrea; c != nil {
		if c.TrafficEncapMode == "noEncap" {
			return "noEncap", []string{"antrea-config trafficEncapMode=noEncap"}
		}
		return c.TunnelType, []string{"antrea-config trafficEncapMode=" + c.TrafficEncapMode + " tunnelType=" + c.TunnelType}
	}
	return "geneve", []string{"Geneve is Antrea's default encapsulation"}
}

func (antreaModel) tunnel(n *cluster.Node, mode string, _ *cluster.Evidence) *Tunnel {
	if mode == "noEncap" {
		return nil
	}
	kind := mode
	if kind == "" {
		kind = "geneve"
	}
	t := &Tunnel{Kind: kind, Device: "antrea-tun0"}
	for _, p := range n.PodCIDRs {
		t.Addresses = append(t.Addresses, p.Masked().Addr().Next().String()) // antrea-gw0 holds .1
	}
	return t
}

// transport is the address Antrea publishes for the node's tunnels (node.antrea.io/transport-addresses).
func (antreaModel) transport(n *cluster.Node, _ *cluster.Evidence) ([]netip.Addr, string) {
	var t struct {
		IPv4 string `json:"ipv4"`
		IPv6 string `json:"ipv6"`
	}
	if json.Unmarshal([]byte(n.Annotations[annAntreaTransport]), &t) != nil {
		return nil, ""
	}
	var out []netip.Addr
	for _, s := range []string{t.IPv4, t.IPv6} {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out, "annotation " + annAntreaTransport
}

// weaveModel is Weave Net: its own IPAM (10.32.0.0/12 by default, ranges not in the API) and
// fast-datapath VXLAN between nodes.
type weaveModel struct{ base }

func (weaveModel) Name() Name    { return Weave }
func (weaveModel) Agent() string { return "weave-net" }
func (weaveModel) Policy(*cluster.Evidence) Enforcement {
	return Enforcement{State: Enforced, Reason: string(Weave)}
}
func (weaveModel) clusterSigns(_ *cluster.Node, ev *cluster.Evidence) []string {
	return firstDaemonSet(ev, "weave-net")
}
func (weaveModel) mode(*cluster.Node, *cluster.Evidence) (string, []string) { return "vxlan", nil }
func (weaveModel) podCIDRs(*cluster.Node, *cluster.Evidence) ([]netip.Prefix, CIDRSource) {
	return nil, SourceNone
}
func (weaveModel) addresses(*NodeNetwork, *cluster.Evidence) (uint64, bool, string) {
	return 0, false, "Weave's IPAM hands out ranges the API does not show"
}
