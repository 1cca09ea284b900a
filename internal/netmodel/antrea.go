package netmodel

import (
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

const annAntreaTransport = "node.antrea.io/transport-addresses"

// antreaModel is Antrea: pods on Open vSwitch behind the antrea-gw0 gateway, spec.podCIDRs, and
// Geneve (default) or VXLAN tunnels between nodes in OVS, or routes (noEncap).
type antreaModel struct{ base }

func (antreaModel) Name() Name    { return Antrea }
func (antreaModel) Agent() string { return "antrea-agent" }
func (antreaModel) InterfaceHint() string {
	return "set transportInterface or transportInterfaceCIDRs in antrea-config"
}
func (antreaModel) Bridge() string        { return "antrea-gw0" }
func (antreaModel) HostEnd() HostEnd      { return HostEndBridge }
func (antreaModel) GatewayDevice() string { return "antrea-gw0" }

// Antrea's traffic modes (trafficEncapMode, matched regardless of case as Antrea does).
const (
	antreaNoEncap = "noencap"
	antreaHybrid  = "hybrid"
	// antreaPolicyOnly: Antrea only enforces policies, chained behind the platform's CNI.
	antreaPolicyOnly = "networkpolicyonly"
)

// antreaMode is "noencap", "networkpolicyonly", or the tunnel type ("geneve", "vxlan", "gre",
// "stt"), with "+hybrid" when tunnels are used only between subnets.
func antreaMode(ev *cluster.Evidence) string {
	c := ev.Antrea
	if c == nil {
		return "geneve"
	}
	switch m := strings.ToLower(c.TrafficEncapMode); m {
	case antreaNoEncap, antreaPolicyOnly:
		return m
	case antreaHybrid:
		return strings.ToLower(c.TunnelType) + "+" + antreaHybrid
	}
	return strings.ToLower(c.TunnelType)
}

func (antreaModel) NodeCIDRIPAM(ev *cluster.Evidence) bool {
	return antreaMode(ev) != antreaPolicyOnly // chained: the primary CNI's IPAM
}

func (antreaModel) Datapath(mode string, _ *cluster.Node) Datapath {
	switch strings.TrimSuffix(mode, "+"+antreaHybrid) {
	case antreaNoEncap:
		return DatapathRouted
	case antreaPolicyOnly:
		return DatapathCloudNetwork
	case "geneve", "vxlan", "gre", "stt":
		return DatapathOVSTunnel
	}
	return DatapathUnknown
}

func (antreaModel) Encap(mode string, _ *cluster.Node, _ bool) *Encap {
	var e *Encap
	switch strings.TrimSuffix(mode, "+"+antreaHybrid) {
	case "geneve":
		e = &Encap{Kind: "geneve", Device: "antrea-tun0", Port: 6081, Overhead: 50}
	case "vxlan":
		e = &Encap{Kind: "vxlan", Device: "antrea-tun0", Port: 4789, Overhead: 50}
	case "gre":
		e = &Encap{Kind: "gre", Device: "antrea-tun0", Overhead: 38}
	case "stt":
		e = &Encap{Kind: "stt", Device: "antrea-tun0", Port: 7471, Overhead: 50}
	default:
		return nil
	}
	e.CrossSubnetOnly = strings.HasSuffix(mode, "+"+antreaHybrid)
	return e
}

func (antreaModel) Policy(*cluster.Evidence) Enforcement {
	return Enforcement{State: Enforced, Reason: string(Antrea)}
}

func (antreaModel) PolicyKinds() []schema.GroupVersionResource {
	g := schema.GroupVersion{Group: "crd.antrea.io", Version: "v1beta1"}
	return []schema.GroupVersionResource{g.WithResource("clusternetworkpolicies"), g.WithResource("networkpolicies")}
}

func (antreaModel) Needs(*cluster.Node) cluster.Needs { return cluster.Needs{CNIConfigMaps: true} }

// podCIDRs: chained in networkPolicyOnly mode, the primary CNI hands out the addresses.
func (antreaModel) podCIDRs(n *cluster.Node, ev *cluster.Evidence) ([]netip.Prefix, CIDRSource) {
	if antreaMode(ev) == antreaPolicyOnly {
		return nil, SourceCloudSubnet
	}
	return specCIDRs(n)
}

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
		return antreaMode(ev), []string{"antrea-config trafficEncapMode=" + c.TrafficEncapMode + " tunnelType=" + c.TunnelType}
	}
	return antreaMode(ev), []string{"Geneve is Antrea's default encapsulation"}
}

func (antreaModel) tunnel(n *cluster.Node, mode string, _ *cluster.Evidence) *Tunnel {
	kind := strings.TrimSuffix(mode, "+"+antreaHybrid)
	if kind == antreaNoEncap || kind == antreaPolicyOnly {
		return nil
	}
	t := &Tunnel{Kind: kind, Device: "antrea-tun0"}
	for _, p := range n.PodCIDRs {
		t.Addresses = append(t.Addresses, p.Masked().Addr().Next().String()) // antrea-gw0 holds .1
	}
	return t
}

// transport: with a transport interface configured (transportInterface, transportInterfaceCIDRs),
// peers tunnel to the addresses each agent publishes, comma-separated, in
// node.antrea.io/transport-addresses; otherwise to the node IP.
func (antreaModel) transport(n *cluster.Node, ev *cluster.Evidence) ([]netip.Addr, string) {
	if c := ev.Antrea; c == nil || c.TransportInterface == "" && len(c.TransportInterfaceCIDRs) == 0 {
		return nil, ""
	}
	var out []netip.Addr
	for _, f := range strings.Split(n.Annotations[annAntreaTransport], ",") {
		if a, err := netip.ParseAddr(strings.TrimSpace(f)); err == nil {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, ""
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

// HostLocal is false: Weave's own IPAM shares the range among its peers.
func (weaveModel) HostLocal() bool { return false }
