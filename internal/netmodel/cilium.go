package netmodel

import (
	"fmt"
	"net/netip"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/ipam"
)

// annCiliumHost is the cilium_host address, when Cilium annotates nodes (annotateK8sNode).
const (
	annCiliumHost    = "network.cilium.io/ipv4-cilium-host"
	annCiliumPodCIDR = "network.cilium.io/ipv4-pod-cidr"
)

// ciliumModel is Cilium: eBPF on the pods' lxc devices, pod CIDRs routed to cilium_host, VXLAN or
// Geneve encapsulated by eBPF, or native routing; IPAM from its cluster pool, multi-pool,
// spec.podCIDRs (kubernetes), or the cloud (ENI, azure).
type ciliumModel struct{ base }

func (ciliumModel) Name() Name            { return Cilium }
func (ciliumModel) Agent() string         { return "the cilium agent" }
func (ciliumModel) HostEnd() HostEnd      { return HostEndEBPF }
func (ciliumModel) GatewayDevice() string { return "cilium_host" }
func (ciliumModel) InterfaceHint() string {
	return "set the cilium agent's devices (--devices) or its node IP"
}
func (ciliumModel) PodDevice(string, string) string {
	return "lxc…" // lxc + a hash of the endpoint ID, unknown from the API
}

// NodeCIDRIPAM: only Cilium's "kubernetes" IPAM hands out spec.podCIDRs.
func (ciliumModel) NodeCIDRIPAM(ev *cluster.Evidence) bool {
	return ev.Cilium != nil && ev.Cilium.IPAM == "kubernetes"
}

func (ciliumModel) Datapath(mode string, _ *cluster.Node) Datapath {
	switch baseMode(mode) {
	case "vxlan", "geneve":
		return DatapathEBPFTunnel
	case "native":
		return DatapathRouted
	}
	return DatapathUnknown
}

func (ciliumModel) Encap(mode string, _ *cluster.Node, _ bool) *Encap {
	switch baseMode(mode) {
	case "vxlan":
		return &Encap{Kind: "vxlan", Device: "cilium_vxlan", Port: 8472, Overhead: 50}
	case "geneve":
		return &Encap{Kind: "geneve", Device: "cilium_geneve", Port: 6081, Overhead: 50}
	}
	return nil
}

// Gateway is the node's cilium_host address of the family.
func (ciliumModel) Gateway(n *cluster.Node, ev *cluster.Evidence, v4 bool) string {
	if cn := ev.CiliumNodes[n.Name]; cn != nil {
		for _, a := range cn.CiliumInternalIP {
			if a.Is4() == v4 {
				return a.String()
			}
		}
	}
	if a, err := netip.ParseAddr(n.Annotations[annCiliumHost]); err == nil && v4 && a.Is4() {
		return a.String()
	}
	return ""
}

func (ciliumModel) Policy(*cluster.Evidence) Enforcement {
	return Enforcement{State: Enforced, Reason: string(Cilium)}
}

// hostAddresses: cilium_host's address (the CiliumInternalIP) and the health endpoint's.
func (ciliumModel) hostAddresses(n *cluster.Node, ev *cluster.Evidence) []HostAddress {
	cn := ev.CiliumNodes[n.Name]
	if cn == nil {
		return nil
	}
	var out []HostAddress
	for _, a := range cn.CiliumInternalIP {
		out = append(out, HostAddress{Addr: a, Kind: "CiliumHost", Detail: "cilium_host (CiliumInternalIP)"})
	}
	for _, a := range cn.HealthIPs {
		out = append(out, HostAddress{Addr: a, Kind: "CiliumHealth", Detail: "cilium-health endpoint"})
	}
	return out
}

func (ciliumModel) PolicyKinds() []schema.GroupVersionResource {
	g := schema.GroupVersion{Group: "cilium.io", Version: "v2"}
	return []schema.GroupVersionResource{g.WithResource("ciliumnetworkpolicies"), g.WithResource("ciliumclusterwidenetworkpolicies")}
}

func (ciliumModel) Needs(*cluster.Node) cluster.Needs {
	return cluster.Needs{CiliumConfig: true, CiliumNodes: true}
}

func (ciliumModel) marks(n *cluster.Node, ev *cluster.Evidence) string {
	switch {
	case ev.CiliumNodes[n.Name] != nil:
		return "CiliumNode " + n.Name
	case hasPrefixKey(n.Annotations, "network.cilium.io/") || hasPrefixKey(n.Annotations, "io.cilium.network/"):
		return "node annotations network.cilium.io/*"
	case netReason(n) == "CiliumIsUp":
		return "NetworkUnavailable reason CiliumIsUp"
	case n.Labels["kubernetes.azure.com/ebpf-dataplane"] == "cilium":
		return "label kubernetes.azure.com/ebpf-dataplane=cilium"
	}
	return ""
}

func (ciliumModel) clusterSigns(_ *cluster.Node, ev *cluster.Evidence) []string {
	return firstDaemonSet(ev, "cilium", "cilium-agent")
}

func (ciliumModel) mode(_ *cluster.Node, ev *cluster.Evidence) (string, []string) {
	c := ev.Cilium
	if c == nil {
		return "", []string{"ConfigMap kube-system/cilium-config not read: routing mode unknown"}
	}
	mode := c.TunnelProtocol
	if c.RoutingMode == "native" {
		mode = "native"
	}
	if c.WireGuard {
		mode += "+wireguard"
	}
	return mode, []string{fmt.Sprintf("cilium-config routing-mode=%s tunnel-protocol=%s ipam=%s", c.RoutingMode, c.TunnelProtocol, c.IPAM)}
}

// podCIDRs follow Cilium's IPAM mode: its cluster pool and multi-pool write the node's CIDRs into
// its CiliumNode (kube-controller-manager's spec.podCIDRs, if it hands some out, are unused);
// "kubernetes" uses spec.podCIDRs; ENI and Azure IPAM take addresses from the cloud's subnets.
func (ciliumModel) podCIDRs(n *cluster.Node, ev *cluster.Evidence) ([]netip.Prefix, CIDRSource) {
	ipamMode := ""
	if ev.Cilium != nil {
		ipamMode = ev.Cilium.IPAM
	}
	cn := ev.CiliumNodes[n.Name]
	switch ipamMode {
	case "kubernetes", "delegated-plugin":
		// delegated-plugin: another CNI's IPAM (AKS's Azure CNI Powered by Cilium overlay) on spec.podCIDRs
		return specCIDRs(n)
	case "eni", "azure", "alibabacloud":
		return nil, SourceCloudSubnet
	case "multi-pool":
		if cn != nil {
			return cn.PoolCIDRs, SourceCiliumPools
		}
	case "cluster-pool":
		if cn != nil { // none yet: the operator has not allocated one; spec.podCIDRs is unused
			return cn.PodCIDRs, SourceCiliumNode
		}
	default: // crd, or cilium-config unread: the CiliumNode where it has CIDRs
		if cn != nil && len(cn.PodCIDRs) > 0 {
			return cn.PodCIDRs, SourceCiliumNode
		}
	}
	if p, err := netip.ParsePrefix(n.Annotations[annCiliumPodCIDR]); err == nil {
		return []netip.Prefix{p.Masked()}, SourceCiliumAnnot
	}
	if ipamMode == "" {
		return specCIDRs(n) // nothing says otherwise
	}
	return nil, SourceNone
}

func (ciliumModel) tunnel(n *cluster.Node, mode string, ev *cluster.Evidence) *Tunnel {
	kind := baseMode(mode)
	if kind != "vxlan" && kind != "geneve" {
		return nil
	}
	t := &Tunnel{Kind: kind, Device: "cilium_" + kind}
	if cn := ev.CiliumNodes[n.Name]; cn != nil {
		for _, a := range cn.CiliumInternalIP {
			t.Addresses = append(t.Addresses, a.String())
		}
	} else if a := n.Annotations[annCiliumHost]; a != "" {
		t.Addresses = append(t.Addresses, a)
	}
	return t
}

// transport is the node IP in the CiliumNode (spec.addresses type InternalIP): the tunnel map's
// endpoint for the node's CIDRs.
func (ciliumModel) transport(n *cluster.Node, ev *cluster.Evidence) ([]netip.Addr, string) {
	if cn := ev.CiliumNodes[n.Name]; cn != nil && len(cn.InternalIPs) > 0 {
		return cn.InternalIPs, "CiliumNode spec.addresses InternalIP"
	}
	return nil, ""
}

func (ciliumModel) addresses(nn *NodeNetwork, ev *cluster.Evidence) (uint64, bool, string) {
	if nn.Source == SourceCloudSubnet && ev.Cilium != nil && ev.Cilium.IPAM == "eni" {
		return eniAddresses(nn.node, false, false)
	}
	if len(nn.PodCIDRs) == 0 {
		return 0, false, "no per-node CIDR"
	}
	return usableOf(nn.PodCIDRs, ipam.CiliumUsable), true, ciliumRule
}

const ciliumRule = "Cilium reserves 2 addresses per CIDR, plus cilium_host and health"

func (ciliumModel) usable(p netip.Prefix) (uint64, string) { return ipam.CiliumUsable(p), ciliumRule }

func (ciliumModel) clusterRanges(ev *cluster.Evidence) []SourcedCIDR {
	if ev.Cilium == nil || ev.Cilium.IPAM != "cluster-pool" {
		return nil
	}
	var out []SourcedCIDR
	for _, c := range ev.Cilium.ClusterPoolCIDRs {
		r := SourcedCIDR{CIDR: c, Source: "cilium-config cluster-pool"}
		if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is4() {
			r.NodeMask = ev.Cilium.ClusterPoolMaskSize
		}
		out = append(out, r)
	}
	return out
}

func (ciliumModel) limits(nodes []*NodeNetwork, _ LimitOptions) []Limit {
	var eni []*NodeNetwork
	for _, nn := range nodes {
		if nn.Source == SourceCloudSubnet {
			eni = append(eni, nn)
		}
	}
	return perInstanceType(eni, eniLimitSource)
}

// TunnelNextHop: Cilium's tunnel map sends a node's CIDR to its node IP.
func (ciliumModel) TunnelNextHop(_ string, dst *NodeNetwork, _ string, v4 bool) string {
	return dst.TransportAddr(v4)
}

// HostLocal is false: the agent allocates from spec.podCIDRs itself (ipam: kubernetes) and records it in the CiliumNode.
func (ciliumModel) HostLocal() bool { return false }
