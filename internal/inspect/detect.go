package inspect

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Network models the detector knows.
const (
	ModelKubenet         = "kubenet"
	ModelFlannel         = "flannel"
	ModelCalico          = "calico"
	ModelCilium          = "cilium"
	ModelAWSVPCCNI       = "aws-vpc-cni"
	ModelAzureCNI        = "azure-cni"
	ModelAzureCNIOverlay = "azure-cni-overlay"
	ModelAntrea          = "antrea"
	ModelWeave           = "weave"
	ModelUnknown         = "unknown"
)

// Network is a detected network model, its mode (encapsulation or routing) and the evidence that
// decided it.
type Network struct {
	Model    string   `json:"model"`
	Mode     string   `json:"mode,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

// String is "model" or "model/mode".
func (n Network) String() string {
	if n.Mode == "" {
		return n.Model
	}
	return n.Model + "/" + n.Mode
}

// UsesNodePodCIDR reports whether the model's IPAM hands out pod addresses from Node.spec.podCIDRs,
// so that a node without one cannot run pods and a pod outside it is a fault.
func (n Network) UsesNodePodCIDR(ev *Evidence) bool {
	switch n.Model {
	case ModelKubenet, ModelFlannel, ModelAzureCNIOverlay, ModelAntrea:
		return true
	case ModelCilium:
		return ev.Cilium != nil && ev.Cilium.IPAM == "kubernetes"
	}
	return false
}

// Tunnel is a node's tunnel (or overlay gateway) device kind and its addresses.
type Tunnel struct {
	Kind      string   `json:"kind"`
	Device    string   `json:"device,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
}

// String is "kind address[,address]".
func (t *Tunnel) String() string {
	if t == nil {
		return "-"
	}
	if len(t.Addresses) == 0 {
		return t.Kind
	}
	return t.Kind + " " + strings.Join(t.Addresses, ",")
}

// Calico node annotations.
const (
	annCalicoIPv4Address   = "projectcalico.org/IPv4Address"
	annCalicoIPIPTunnel    = "projectcalico.org/IPv4IPIPTunnelAddr"
	annCalicoVXLANTunnel   = "projectcalico.org/IPv4VXLANTunnelAddr"
	annCalicoVXLANTunnelV6 = "projectcalico.org/IPv6VXLANTunnelAddr"
	annCalicoWireguard     = "projectcalico.org/IPv4WireguardInterfaceAddr"
	annFlannelBackend      = "flannel.alpha.coreos.com/backend-type"
	annAntreaTransport     = "node.antrea.io/transport-addresses"
	annCiliumHost          = "network.cilium.io/ipv4-cilium-host"
)

func hasPrefixKey(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func netReason(n *Node) string {
	if n.NetworkUnavail == nil {
		return ""
	}
	return n.NetworkUnavail.Reason
}

// DetectNode decides the network model of one node from its own marks first (annotations, the
// NetworkUnavailable reason, labels, its CiliumNode), then from the cluster's DaemonSets.
func DetectNode(n *Node, ev *Evidence) Network {
	reasonIs := func(r string) bool { return netReason(n) == r }
	switch {
	case ev.CiliumNodes[n.Name] != nil:
		return ciliumNetwork(ev, "CiliumNode "+n.Name)
	case hasPrefixKey(n.Annotations, "network.cilium.io/") || hasPrefixKey(n.Annotations, "io.cilium.network/"):
		return ciliumNetwork(ev, "node annotations network.cilium.io/*")
	case reasonIs("CiliumIsUp"):
		return ciliumNetwork(ev, "NetworkUnavailable reason CiliumIsUp")
	case n.Labels["kubernetes.azure.com/ebpf-dataplane"] == "cilium":
		return ciliumNetwork(ev, "label kubernetes.azure.com/ebpf-dataplane=cilium")
	case hasPrefixKey(n.Annotations, "projectcalico.org/"):
		return calicoNetwork(n, ev, "node annotations projectcalico.org/*")
	case reasonIs("CalicoIsUp"):
		return calicoNetwork(n, ev, "NetworkUnavailable reason CalicoIsUp")
	case hasPrefixKey(n.Annotations, "flannel.alpha.coreos.com/"):
		return flannelNetwork(n, ev, "node annotations flannel.alpha.coreos.com/*")
	case reasonIs("FlannelIsUp"):
		return flannelNetwork(n, ev, "NetworkUnavailable reason FlannelIsUp")
	case hasPrefixKey(n.Annotations, "node.antrea.io/"):
		return Network{Model: ModelAntrea, Mode: "geneve", Evidence: []string{"node annotation " + annAntreaTransport, "Geneve is Antrea's default encapsulation"}}
	case n.Labels["kubernetes.azure.com/azure-cni-overlay"] == "true" || n.Labels["kubernetes.azure.com/podnetwork-type"] == "overlay":
		return Network{Model: ModelAzureCNIOverlay, Mode: "overlay", Evidence: []string{"label kubernetes.azure.com/azure-cni-overlay / podnetwork-type=overlay"}}
	case n.Labels["kubernetes.azure.com/podnetwork-type"] == "vnetblock":
		return Network{Model: ModelAzureCNI, Mode: "vnet-block", Evidence: []string{"label kubernetes.azure.com/podnetwork-type=vnetblock"}}
	case n.Labels["kubernetes.azure.com/network-plugin"] == "azure":
		return Network{Model: ModelAzureCNI, Mode: "node-subnet", Evidence: []string{"label kubernetes.azure.com/network-plugin=azure"}}
	case n.Labels["kubernetes.azure.com/network-plugin"] == "kubenet":
		return Network{Model: ModelKubenet, Evidence: []string{"label kubernetes.azure.com/network-plugin=kubenet", "routes in the Azure route table"}}
	}
	// No mark of its own: the cluster's DaemonSets.
	switch {
	case ev.HasDaemonSet("cilium") || ev.HasDaemonSet("cilium-agent"):
		return ciliumNetwork(ev, "DaemonSet cilium")
	case ev.HasDaemonSet("calico-node") || ev.HasDaemonSet("canal"):
		return calicoNetwork(n, ev, "DaemonSet calico-node")
	case ev.HasDaemonSet("kube-flannel-ds") || ev.HasDaemonSet("kube-flannel"):
		return flannelNetwork(n, ev, "DaemonSet kube-flannel-ds")
	case ev.HasDaemonSet("antrea-agent"):
		return Network{Model: ModelAntrea, Mode: "geneve", Evidence: []string{"DaemonSet antrea-agent"}}
	case ev.HasDaemonSet("aws-node"):
		e := []string{"DaemonSet aws-node"}
		if strings.HasPrefix(n.ProviderID, "aws://") {
			e = append(e, "providerID aws://")
		}
		return Network{Model: ModelAWSVPCCNI, Mode: "native", Evidence: e}
	case ev.HasDaemonSet("weave-net"):
		return Network{Model: ModelWeave, Mode: "vxlan", Evidence: []string{"DaemonSet weave-net"}}
	case strings.HasPrefix(n.ProviderID, "azure://") && (ev.HasDaemonSet("azure-cns") || ev.HasDaemonSet("azure-cni-networkmonitor")) && len(n.PodCIDRs) == 0:
		return Network{Model: ModelAzureCNI, Mode: "node-subnet", Evidence: []string{"providerID azure://", "DaemonSet azure-cns", "no podCIDR"}}
	case strings.HasPrefix(n.ProviderID, "azure://") && len(n.PodCIDRs) > 0:
		e := []string{"providerID azure://", "podCIDR set", "no CNI DaemonSet"}
		if reasonIs("RouteCreated") {
			e = append(e, "NetworkUnavailable reason RouteCreated (cloud route table)")
		}
		return Network{Model: ModelKubenet, Evidence: e}
	case reasonIs("RouteCreated") && len(n.PodCIDRs) > 0:
		return Network{Model: ModelKubenet, Evidence: []string{"NetworkUnavailable reason RouteCreated (cloud route table)", "podCIDR set", "no CNI DaemonSet"}}
	}
	var seen []string
	if len(n.PodCIDRs) > 0 {
		seen = append(seen, "podCIDR set")
	} else {
		seen = append(seen, "no podCIDR")
	}
	if n.ProviderID != "" {
		seen = append(seen, "providerID "+strings.SplitN(n.ProviderID, ":", 2)[0])
	}
	if r := netReason(n); r != "" {
		seen = append(seen, "NetworkUnavailable reason "+r)
	}
	seen = append(seen, "no known CNI DaemonSet, annotation or label")
	return Network{Model: ModelUnknown, Evidence: seen}
}

func ciliumNetwork(ev *Evidence, why string) Network {
	nw := Network{Model: ModelCilium, Evidence: []string{why}}
	c := ev.Cilium
	if c == nil {
		nw.Evidence = append(nw.Evidence, "ConfigMap kube-system/cilium-config not read: routing mode unknown")
		return nw
	}
	if c.RoutingMode == "native" {
		nw.Mode = "native"
	} else {
		nw.Mode = c.TunnelProtocol
	}
	if c.WireGuard {
		nw.Mode += "+wireguard"
	}
	nw.Evidence = append(nw.Evidence, fmt.Sprintf("cilium-config routing-mode=%s tunnel-protocol=%s ipam=%s", c.RoutingMode, c.TunnelProtocol, c.IPAM))
	return nw
}

func calicoNetwork(n *Node, ev *Evidence, why string) Network {
	nw := Network{Model: ModelCalico, Evidence: []string{why}}
	switch {
	case n.Annotations[annCalicoWireguard] != "":
		nw.Mode = "wireguard"
		nw.Evidence = append(nw.Evidence, "annotation "+annCalicoWireguard)
	case n.Annotations[annCalicoVXLANTunnel] != "" || n.Annotations[annCalicoVXLANTunnelV6] != "":
		nw.Mode = "vxlan"
		nw.Evidence = append(nw.Evidence, "annotation "+annCalicoVXLANTunnel)
	case n.Annotations[annCalicoIPIPTunnel] != "":
		nw.Mode = "ipip"
		nw.Evidence = append(nw.Evidence, "annotation "+annCalicoIPIPTunnel)
	default:
		if m, pool := calicoPoolMode(ev); m != "" {
			nw.Mode = m
			nw.Evidence = append(nw.Evidence, "IPPool "+pool)
		} else if len(ev.CalicoPools) > 0 {
			nw.Mode = "bgp"
			nw.Evidence = append(nw.Evidence, "IPPools with ipipMode and vxlanMode Never: BGP without encapsulation")
		}
	}
	// CrossSubnet pools encapsulate only between subnets.
	if nw.Mode == "vxlan" || nw.Mode == "ipip" {
		for _, p := range ev.CalicoPools {
			if !p.Disabled && ((nw.Mode == "vxlan" && p.VXLANMode == "CrossSubnet") || (nw.Mode == "ipip" && p.IPIPMode == "CrossSubnet")) {
				nw.Mode += "-crosssubnet"
				break
			}
		}
	}
	return nw
}

func calicoPoolMode(ev *Evidence) (mode, pool string) {
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

func flannelNetwork(n *Node, ev *Evidence, why string) Network {
	nw := Network{Model: ModelFlannel, Evidence: []string{why}}
	if b := n.Annotations[annFlannelBackend]; b != "" {
		nw.Mode = strings.ToLower(b)
		nw.Evidence = append(nw.Evidence, "annotation "+annFlannelBackend+"="+b)
	} else if ev.Flannel != nil {
		nw.Mode = ev.Flannel.Backend
		nw.Evidence = append(nw.Evidence, "kube-flannel-cfg Backend.Type="+ev.Flannel.Backend)
	}
	return nw
}

// NodeTunnel gives the node's tunnel device and addresses for its network, or nil.
func NodeTunnel(n *Node, nw Network, ev *Evidence) *Tunnel {
	switch nw.Model {
	case ModelCalico:
		switch strings.TrimSuffix(nw.Mode, "-crosssubnet") {
		case "vxlan":
			return tunnelFrom("vxlan", "vxlan.calico", n.Annotations[annCalicoVXLANTunnel], n.Annotations[annCalicoVXLANTunnelV6])
		case "ipip":
			return tunnelFrom("ipip", "tunl0", n.Annotations[annCalicoIPIPTunnel])
		case "wireguard":
			return tunnelFrom("wireguard", "wireguard.cali", n.Annotations[annCalicoWireguard])
		}
	case ModelFlannel:
		dev := map[string]string{"vxlan": "flannel.1", "ipip": "flannel.ipip", "wireguard": "flannel-wg", "udp": "flannel0"}[nw.Mode]
		if dev == "" {
			return nil // host-gw and friends route without a tunnel device
		}
		t := &Tunnel{Kind: nw.Mode, Device: dev}
		// flannel gives its tunnel device (flannel.1, and flannel-v6.1 for IPv6) the network
		// address of the node's subnet of that family
		for _, p := range n.PodCIDRs {
			t.Addresses = append(t.Addresses, p.Masked().Addr().String())
		}
		return t
	case ModelCilium:
		if nw.Mode == "native" || nw.Mode == "" {
			return nil
		}
		kind := strings.TrimSuffix(nw.Mode, "+wireguard")
		t := &Tunnel{Kind: kind, Device: "cilium_" + kind}
		if cn := ev.CiliumNodes[n.Name]; cn != nil {
			for _, a := range cn.CiliumInternalIP {
				t.Addresses = append(t.Addresses, a.String())
			}
		} else if a := n.Annotations[annCiliumHost]; a != "" {
			t.Addresses = append(t.Addresses, a)
		}
		return t
	case ModelAntrea:
		t := &Tunnel{Kind: "geneve", Device: "antrea-tun0"}
		for _, p := range n.PodCIDRs {
			t.Addresses = append(t.Addresses, p.Masked().Addr().Next().String()) // antrea-gw0 holds .1
		}
		return t
	}
	return nil
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

// ClusterNetwork sums up the per-node networks: the model most nodes have, and "mixed" when
// nodes disagree.
func ClusterNetwork(nets []Network, ev *Evidence) Network {
	if len(nets) == 0 {
		return DetectNode(&Node{}, ev)
	}
	count := map[string]int{}
	first := map[string]Network{}
	for _, n := range nets {
		k := n.String()
		count[k]++
		if _, ok := first[k]; !ok {
			first[k] = n
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	best := first[keys[0]]
	out := Network{Model: best.Model, Mode: best.Mode, Evidence: append([]string(nil), best.Evidence...)}
	if len(keys) > 1 {
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s on %d node(s)", k, count[k]))
		}
		out.Evidence = append(out.Evidence, "mixed: "+strings.Join(parts, ", "))
	}
	return out
}

// calicoAutodetected parses projectcalico.org/IPv4Address ("10.0.0.11/24") to its address.
func calicoAutodetected(n *Node) (netip.Addr, bool) {
	v := n.Annotations[annCalicoIPv4Address]
	if v == "" {
		return netip.Addr{}, false
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Addr(), true
	}
	a, err := netip.ParseAddr(v)
	return a, err == nil
}
