package netmodel

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/ipam"
)

// Calico's node annotations.
const (
	annCalicoIPv4Address   = "projectcalico.org/IPv4Address"
	annCalicoIPv6Address   = "projectcalico.org/IPv6Address"
	annCalicoIPIPTunnel    = "projectcalico.org/IPv4IPIPTunnelAddr"
	annCalicoVXLANTunnel   = "projectcalico.org/IPv4VXLANTunnelAddr"
	annCalicoVXLANTunnelV6 = "projectcalico.org/IPv6VXLANTunnelAddr"
	annCalicoWireguard     = "projectcalico.org/IPv4WireguardInterfaceAddr"
)

// calicoModel is Calico: routed veths (cali*) with proxy ARP, addresses from IPAM blocks claimed
// on demand, and IPIP, VXLAN, WireGuard or BGP between nodes.
type calicoModel struct{ base }

func (calicoModel) Name() Name            { return Calico }
func (calicoModel) Agent() string         { return "calico-node" }
func (calicoModel) KeepsBlackholes() bool { return true }
func (calicoModel) InterfaceHint() string {
	return "set IP_AUTODETECTION_METHOD on calico-node (interface=..., can-reach=... or kubernetes-internal-ip)"
}

func (calicoModel) Datapath(mode string, _ *cluster.Node) Datapath {
	switch baseMode(mode) {
	case "vxlan", "ipip", "wireguard":
		return DatapathTunnel
	case "bgp":
		return DatapathRouted
	}
	return DatapathUnknown
}

func (calicoModel) Encap(mode string, _ *cluster.Node, v4 bool) *Encap {
	var e *Encap
	switch baseMode(mode) {
	case "vxlan":
		e = &Encap{Kind: "vxlan", Device: "vxlan.calico", Port: 4789, VNI: 4096, Overhead: 50}
		if !v4 {
			e.Device, e.Overhead = "vxlan-v6.calico", 70
		}
	case "ipip":
		if !v4 {
			return nil // Calico's IPIP carries IPv4 only
		}
		e = &Encap{Kind: "ipip", Device: "tunl0", Overhead: 20}
	case "wireguard":
		e = &Encap{Kind: "wireguard", Device: "wireguard.cali", Port: 51820, Overhead: 60}
	default:
		return nil
	}
	e.CrossSubnetOnly = strings.HasSuffix(mode, "-crosssubnet")
	return e
}

func (calicoModel) Gateway(_ *cluster.Node, _ *cluster.Evidence, v4 bool) string {
	return proxyARPGateway(v4)
}

func (calicoModel) PodDevice(ns, name string) string { return hashedDevice("cali", ns, name) }

func (calicoModel) Policy(*cluster.Evidence) Enforcement {
	return Enforcement{State: Enforced, Reason: string(Calico)}
}

func (calicoModel) PolicyKinds() []schema.GroupVersionResource {
	var out []schema.GroupVersionResource
	for _, g := range []schema.GroupVersion{{Group: "projectcalico.org", Version: "v3"}, {Group: "crd.projectcalico.org", Version: "v1"}} {
		out = append(out, g.WithResource("networkpolicies"), g.WithResource("globalnetworkpolicies"))
	}
	return out
}

func (calicoModel) Needs(*cluster.Node) cluster.Needs { return cluster.Needs{Calico: true} }

func (calicoModel) marks(n *cluster.Node, _ *cluster.Evidence) string {
	switch {
	case hasPrefixKey(n.Annotations, "projectcalico.org/"):
		return "node annotations projectcalico.org/*"
	case netReason(n) == "CalicoIsUp":
		return "NetworkUnavailable reason CalicoIsUp"
	}
	return ""
}

func (calicoModel) clusterSigns(_ *cluster.Node, ev *cluster.Evidence) []string {
	return firstDaemonSet(ev, "calico-node", "canal")
}

func (calicoModel) mode(n *cluster.Node, ev *cluster.Evidence) (string, []string) {
	var mode string
	var why []string
	switch {
	case n.Annotations[annCalicoWireguard] != "":
		mode, why = "wireguard", []string{"annotation " + annCalicoWireguard}
	case n.Annotations[annCalicoVXLANTunnel] != "" || n.Annotations[annCalicoVXLANTunnelV6] != "":
		mode, why = "vxlan", []string{"annotation " + annCalicoVXLANTunnel}
	case n.Annotations[annCalicoIPIPTunnel] != "":
		mode, why = "ipip", []string{"annotation " + annCalicoIPIPTunnel}
	default:
		if m, pool := calicoPoolMode(ev); m != "" {
			mode, why = m, []string{"IPPool " + pool}
		} else if len(ev.CalicoPools) > 0 {
			mode, why = "bgp", []string{"IPPools with ipipMode and vxlanMode Never: BGP without encapsulation"}
		}
	}
	// CrossSubnet pools encapsulate only between subnets.
	if mode == "vxlan" || mode == "ipip" {
		for _, p := range ev.CalicoPools {
			if !p.Disabled && ((mode == "vxlan" && p.VXLANMode == "CrossSubnet") || (mode == "ipip" && p.IPIPMode == "CrossSubnet")) {
				mode += "-crosssubnet"
				break
			}
		}
	}
	return mode, why
}

func calicoPoolMode(ev *cluster.Evidence) (mode, pool string) {
	for _, p := range ev.CalicoPools {
		if p.Disabled {
			continue
		}
		switch {
		case p.VXLANMode == "Always" || p.VXLANMode == "CrossSubnet":
			return "vxlan", fmt.Sprintf("%s vxlanMode=%s", p.Name, p.VXLANMode)
		case p.IPIPMode == "Always" || p.IPIPMode == "CrossSubnet":
			return "ipip", fmt.Sprintf("%s ipipMode=%s", p.Name, p.IPIPMode)
		}
	}
	return "", ""
}

// podCIDRs: Calico IPAM ignores spec.podCIDRs; a node's addresses come from the blocks affine to
// it. Where the cluster has no IPAM block at all (Calico or Canal with host-local IPAM, whose
// manifests install the IPAMBlock CRD all the same), spec.podCIDRs stands.
func (calicoModel) podCIDRs(n *cluster.Node, ev *cluster.Evidence) ([]netip.Prefix, CIDRSource) {
	if len(ev.CalicoBlocks) > 0 {
		return ev.NodeBlocks(n.Name), SourceCalicoBlocks
	}
	return specCIDRs(n)
}

func (calicoModel) NodeCIDRIPAM(*cluster.Evidence) bool { return false }

// tunnel: Calico publishes its VXLAN VTEP MAC on its own Node resource (projectcalico.org/v3
// spec.ipv4VXLANTunnelMACAddr), not on the Kubernetes node's annotations, so MAC stays empty and
// a probe reads it from the device.
func (calicoModel) tunnel(n *cluster.Node, mode string, _ *cluster.Evidence) *Tunnel {
	switch baseMode(mode) {
	case "vxlan":
		return tunnelFrom("vxlan", "vxlan.calico", n.Annotations[annCalicoVXLANTunnel], n.Annotations[annCalicoVXLANTunnelV6])
	case "ipip":
		return tunnelFrom("ipip", "tunl0", n.Annotations[annCalicoIPIPTunnel])
	case "wireguard":
		return tunnelFrom("wireguard", "wireguard.cali", n.Annotations[annCalicoWireguard])
	}
	return nil
}

// transport is Calico's node address (projectcalico.org/IPv4Address, IPv6Address): the address
// other nodes' VXLAN FDB, IPIP routes and BGP sessions point at.
func (calicoModel) transport(n *cluster.Node, _ *cluster.Evidence) ([]netip.Addr, string) {
	var out []netip.Addr
	var srcs []string
	for _, k := range []string{annCalicoIPv4Address, annCalicoIPv6Address} {
		if a, ok := calicoAddress(n, k); ok {
			out = append(out, a)
			srcs = append(srcs, "annotation "+k)
		}
	}
	return out, strings.Join(srcs, ", ")
}

// nodeSubnets: calico-node publishes the address it autodetected with the prefix length of its
// interface (10.0.1.5/24): the node's subnet, when the address is the node's InternalIP (one
// autodetected on another interface, docker0 say, tells of that interface, not of the subnet).
func (calicoModel) nodeSubnets(n *cluster.Node) []netip.Prefix {
	var out []netip.Prefix
	for _, k := range []string{annCalicoIPv4Address, annCalicoIPv6Address} {
		if p, err := netip.ParsePrefix(n.Annotations[k]); err == nil && p.Bits() < p.Addr().BitLen() && slices.Contains(n.InternalIPs, p.Addr()) {
			out = append(out, p.Masked())
		}
	}
	return out
}

// addressWarning: an autodetected node address that is not the InternalIP is the classic broken
// overlay (calico-node picked docker0 or a VPN interface).
func (calicoModel) addressWarning(n *cluster.Node) (string, string) {
	a, ok := calicoAddress(n, annCalicoIPv4Address)
	if !ok || len(n.InternalIPs) == 0 || slices.Contains(n.InternalIPs, a) {
		return "", ""
	}
	ips := make([]string, 0, len(n.InternalIPs))
	for _, ip := range n.InternalIPs {
		ips = append(ips, ip.String())
	}
	return "CalicoAddressMismatch", fmt.Sprintf("Calico autodetected %s for node %s but its InternalIP is %s: other nodes send tunnel and BGP traffic to the wrong address; set IP_AUTODETECTION_METHOD=kubernetes-internal-ip on calico-node",
		a, n.Name, strings.Join(ips, ","))
}

// calicoAddress parses a Calico address annotation ("10.0.0.11/24") to its address.
func calicoAddress(n *cluster.Node, key string) (netip.Addr, bool) {
	v := n.Annotations[key]
	if v == "" {
		return netip.Addr{}, false
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Addr(), true
	}
	a, err := netip.ParseAddr(v)
	return a, err == nil
}

// addresses: blocks are claimed on demand, so only IPAMConfig's maxBlocksPerHost caps a node.
func (calicoModel) addresses(nn *NodeNetwork, ev *cluster.Evidence) (uint64, bool, string) {
	if ev.MaxBlocksPerHost <= 0 || nn.Source != SourceCalicoBlocks {
		return usableOf(nn.PodCIDRs, ipam.Size), false, "Calico claims blocks on demand: a block hands out every address"
	}
	size := 26
	for _, p := range ev.CalicoPools {
		if !p.Disabled && !strings.Contains(p.CIDR, ":") {
			size = p.BlockSize
			break
		}
	}
	return uint64(ev.MaxBlocksPerHost) * ipam.Pow2(32-size), true, fmt.Sprintf("IPAMConfig maxBlocksPerHost %d x /%d blocks", ev.MaxBlocksPerHost, size)
}

func (calicoModel) usable(p netip.Prefix) (uint64, string) {
	return ipam.Size(p), "a Calico block hands out every address"
}

func (calicoModel) clusterRanges(ev *cluster.Evidence) []SourcedCIDR {
	var out []SourcedCIDR
	for _, p := range ev.CalicoPools {
		if !p.Disabled {
			out = append(out, SourcedCIDR{CIDR: p.CIDR, Source: "IPPool " + p.Name, Pool: true, NodeMask: p.BlockSize})
		}
	}
	return out
}

// pools are the IPPools, each with the IPAM blocks inside it.
func (calicoModel) pools(ev *cluster.Evidence) []Pool {
	var out []Pool
	for _, p := range ev.CalicoPools {
		cidr, err := netip.ParsePrefix(p.CIDR)
		if err != nil {
			continue
		}
		pl := Pool{Name: p.Name, APIGroup: p.APIGroup, CIDR: cidr.Masked(), BlockSize: p.BlockSize, Disabled: p.Disabled}
		for _, b := range ev.CalicoBlocks {
			if pl.CIDR.Contains(b.CIDR.Addr()) {
				pl.Blocks = append(pl.Blocks, PoolBlock{CIDR: b.CIDR, Node: b.Node, Allocated: b.Allocated, Borrowed: b.Borrowed})
			}
		}
		out = append(out, pl)
	}
	return out
}

func baseMode(mode string) string {
	return strings.TrimSuffix(strings.TrimSuffix(mode, "+wireguard"), "-crosssubnet")
}

func tunnelFrom(kind, dev string, addrs ...string) *Tunnel {
	t := &Tunnel{Kind: kind, Device: dev}
	for _, a := range addrs {
		if a != "" {
			t.Addresses = append(t.Addresses, a)
		}
	}
	return t
}

// TunnelNextHop: IPIP routes go via the other node's address; VXLAN ones via its vxlan.calico
// address.
func (calicoModel) TunnelNextHop(mode string, dst *NodeNetwork, _ string, v4 bool) string {
	if baseMode(mode) == "ipip" {
		return dst.TransportAddr(v4)
	}
	return tunnelAddress(dst, v4)
}
