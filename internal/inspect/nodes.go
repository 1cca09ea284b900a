package inspect

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// NodesReport is what `kubectl podnet nodes` shows; -o json|yaml emit it as is.
type NodesReport struct {
	Cluster  ClusterSummary `json:"cluster"`
	Nodes    []NodeRow      `json:"nodes"`
	Warnings []Warning      `json:"warnings"`
	Notes    []string       `json:"notes,omitempty"`
}

// ClusterSummary is the cluster-wide part of the nodes report.
type ClusterSummary struct {
	Network         Network       `json:"network"`
	PodCIDRs        []SourcedCIDR `json:"podCIDRs"`
	ServiceCIDRs    []SourcedCIDR `json:"serviceCIDRs"`
	KubeProxyMode   string        `json:"kubeProxyMode,omitempty"`
	Nodes           int           `json:"nodes"`
	Pods            int           `json:"pods"`
	HostNetworkPods int           `json:"hostNetworkPods"`
	// PodsNamespace is set when only one namespace's pods could be read.
	PodsNamespace string `json:"podsNamespace,omitempty"`
	PodsUnknown   bool   `json:"podsUnknown,omitempty"`
}

// SourcedCIDR is a CIDR and where it was read (or how it was inferred).
type SourcedCIDR struct {
	CIDR   string `json:"cidr"`
	Source string `json:"source"`
}

// NodeRow is one node of the nodes report.
type NodeRow struct {
	Name            string   `json:"name"`
	Status          string   `json:"status"`
	InternalIPs     []string `json:"internalIPs"`
	ExternalIPs     []string `json:"externalIPs,omitempty"`
	PodCIDRs        []string `json:"podCIDRs"`
	Tunnel          *Tunnel  `json:"tunnel,omitempty"`
	Pods            int      `json:"pods"`
	HostNetworkPods int      `json:"hostNetworkPods"`
	MaxPods         int64    `json:"maxPods"`
	Network         Network  `json:"network"`
	Zone            string   `json:"zone,omitempty"`
	InstanceType    string   `json:"instanceType,omitempty"`
	Kernel          string   `json:"kernel,omitempty"`
	Runtime         string   `json:"containerRuntime,omitempty"`
	ProviderID      string   `json:"providerID,omitempty"`
	// DerivedFromPods is set when the node itself could not be read.
	DerivedFromPods bool `json:"derivedFromPods,omitempty"`
}

// Warning is something that looks wrong, about one object.
type Warning struct {
	Kind    string `json:"kind"`
	Object  string `json:"object"`
	Message string `json:"message"`
}

// Warning kinds.
const (
	WarnNoPodCIDR          = "NoPodCIDR"
	WarnCalicoAddress      = "CalicoAddressMismatch"
	WarnNetworkUnavailable = "NetworkUnavailable"
	WarnNotReady           = "NotReady"
	WarnPodOutsideCIDR     = "PodIPOutsideNodeCIDR"
	WarnOverlappingCIDRs   = "OverlappingPodCIDRs"
)

// podCounts is what the pods say of one node.
type podCounts struct {
	onPodNet, onHostNet int
	outside             []*Pod // pods holding an address outside the node's pod CIDRs
}

// BuildNodes joins nodes, pods and evidence into the nodes report.
func BuildNodes(inv *Inventory) *NodesReport {
	ev := &inv.Evidence
	r := &NodesReport{Notes: inv.Notes, Warnings: []Warning{}, Nodes: []NodeRow{}}
	nets := make([]Network, len(inv.Nodes))
	byName := make(map[string]int, len(inv.Nodes))
	for i := range inv.Nodes {
		byName[inv.Nodes[i].Name] = i
		nets[i] = DetectNode(&inv.Nodes[i], ev)
	}
	counts := make([]podCounts, len(inv.Nodes))
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if p.HostNetwork {
			r.Cluster.HostNetworkPods++
		} else if p.HoldsIP() {
			r.Cluster.Pods++
		}
		ni, ok := byName[p.Node]
		if !ok {
			continue
		}
		c := &counts[ni]
		switch {
		case p.HostNetwork:
			if p.Phase != "Succeeded" && p.Phase != "Failed" {
				c.onHostNet++
			}
		case p.HoldsIP():
			c.onPodNet++
			n := &inv.Nodes[ni]
			if len(n.PodCIDRs) > 0 && nets[ni].UsesNodePodCIDR(ev) && !inPrefixes(p.IPs, n.PodCIDRs) {
				c.outside = append(c.outside, p)
			}
		}
	}
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		row := NodeRow{
			Name: n.Name, Status: nodeStatus(n), InternalIPs: addrStrings(n.InternalIPs), ExternalIPs: addrStrings(n.ExternalIPs),
			PodCIDRs: prefixStrings(n.PodCIDRs), Tunnel: NodeTunnel(n, nets[i], ev), Pods: counts[i].onPodNet,
			HostNetworkPods: counts[i].onHostNet, MaxPods: n.AllocatablePods, Network: nets[i], Zone: n.Zone,
			InstanceType: n.InstanceType, Kernel: n.Kernel, Runtime: n.Runtime, ProviderID: n.ProviderID, DerivedFromPods: n.FromPods,
		}
		if cn := ev.CiliumNodes[n.Name]; cn != nil && len(row.PodCIDRs) == 0 {
			// Cilium cluster-pool IPAM: the node's CIDRs live in its CiliumNode.
			row.PodCIDRs = prefixStrings(cn.PodCIDRs)
		}
		if nets[i].Model == ModelCalico && len(ev.CalicoBlocks) > 0 {
			// Calico IPAM ignores spec.podCIDRs: the node's addresses come from its affine blocks.
			row.PodCIDRs = prefixStrings(ev.NodeBlocks(n.Name))
		}
		r.Nodes = append(r.Nodes, row)
		r.Warnings = append(r.Warnings, nodeWarnings(n, nets[i], ev, &counts[i])...)
	}
	r.Warnings = append(r.Warnings, overlapWarnings(inv.Nodes)...)
	r.Cluster.Network = ClusterNetwork(nets, ev)
	r.Cluster.Nodes = len(inv.Nodes)
	r.Cluster.PodCIDRs = ClusterPodCIDRs(inv)
	r.Cluster.ServiceCIDRs = ClusterServiceCIDRs(ev)
	if ev.KubeProxy != nil {
		r.Cluster.KubeProxyMode = ev.KubeProxy.Mode
	}
	r.Cluster.PodsNamespace = inv.PodsNamespace
	r.Cluster.PodsUnknown = inv.Pods == nil && inv.PodsNamespace == "" && len(inv.Notes) > 0 && strings.Contains(strings.Join(inv.Notes, " "), "cannot list pods")
	return r
}

func nodeStatus(n *Node) string {
	s := n.Ready
	if n.Unschedulable {
		s += ",SchedulingDisabled"
	}
	return s
}

func nodeWarnings(n *Node, nw Network, ev *Evidence, c *podCounts) []Warning {
	var w []Warning
	obj := "node/" + n.Name
	if n.FromPods {
		return nil
	}
	event, starved := ev.CIDRNotAvailable[n.Name]
	if len(n.PodCIDRs) == 0 && (nw.UsesNodePodCIDR(ev) || nw.Model == ModelUnknown && starved) {
		msg := fmt.Sprintf("node %s has no pod CIDR: pods scheduled there cannot get an address", n.Name)
		if nw.Model != ModelUnknown {
			msg = fmt.Sprintf("node %s has no pod CIDR, and %s hands out pod addresses from it: pods scheduled there cannot get an address", n.Name, nw.Model)
		}
		if starved {
			msg += fmt.Sprintf("; event CIDRNotAvailable: %q: the cluster CIDR is exhausted, widen it (kube-controller-manager --cluster-cidr) or remove nodes", event)
		}
		w = append(w, Warning{Kind: WarnNoPodCIDR, Object: obj, Message: msg})
	}
	if nw.Model == ModelCalico {
		if a, ok := calicoAutodetected(n); ok && len(n.InternalIPs) > 0 && !containsAddr(n.InternalIPs, a) {
			w = append(w, Warning{Kind: WarnCalicoAddress, Object: obj, Message: fmt.Sprintf(
				"Calico autodetected %s for node %s but its InternalIP is %s: other nodes send tunnel and BGP traffic to the wrong address; set IP_AUTODETECTION_METHOD=kubernetes-internal-ip on calico-node",
				a, n.Name, strings.Join(addrStrings(n.InternalIPs), ","))})
		}
	}
	if n.NetworkUnavail != nil && n.NetworkUnavail.Status == "True" {
		w = append(w, Warning{Kind: WarnNetworkUnavailable, Object: obj, Message: fmt.Sprintf("node %s reports NetworkUnavailable=True (%s: %s): its network plugin has not set up its routes",
			n.Name, n.NetworkUnavail.Reason, n.NetworkUnavail.Message)})
	}
	if n.Ready != "Ready" {
		msg := fmt.Sprintf("node %s is %s", n.Name, n.Ready)
		if n.ReadyCondition != nil && n.ReadyCondition.Message != "" {
			msg += ": " + n.ReadyCondition.Message
		}
		w = append(w, Warning{Kind: WarnNotReady, Object: obj, Message: msg})
	}
	if len(c.outside) > 0 {
		p := c.outside[0]
		w = append(w, Warning{Kind: WarnPodOutsideCIDR, Object: obj, Message: fmt.Sprintf("%d pod(s) on node %s have addresses outside its pod CIDR %s (e.g. pod %s/%s has %s): the route to them points elsewhere",
			len(c.outside), n.Name, strings.Join(prefixStrings(n.PodCIDRs), ","), p.Namespace, p.Name, strings.Join(addrStrings(p.IPs), ","))})
	}
	return w
}

func overlapWarnings(nodes []Node) []Warning {
	type owned struct {
		p    netip.Prefix
		node string
	}
	var all []owned
	for _, n := range nodes {
		for _, p := range n.PodCIDRs {
			all = append(all, owned{p.Masked(), n.Name})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if c := all[i].p.Addr().Compare(all[j].p.Addr()); c != 0 {
			return c < 0
		}
		return all[i].p.Bits() < all[j].p.Bits()
	})
	var w []Warning
	for i := 0; i < len(all); i++ {
		for j := i + 1; j < len(all) && all[i].p.Overlaps(all[j].p); j++ {
			if all[i].node == all[j].node {
				continue
			}
			w = append(w, Warning{Kind: WarnOverlappingCIDRs, Object: "node/" + all[j].node, Message: fmt.Sprintf(
				"nodes %s and %s have overlapping pod CIDRs %s and %s: pods on them can get the same address", all[i].node, all[j].node, all[i].p, all[j].p)})
		}
	}
	return w
}

// ClusterPodCIDRs gives the cluster's pod CIDR(s) from the first sources that say, each CIDR with
// where it was read; failing all, the covering prefix of the node CIDRs, marked as inferred.
func ClusterPodCIDRs(inv *Inventory) []SourcedCIDR {
	ev := &inv.Evidence
	var out []SourcedCIDR
	add := func(cidrs, source string) {
		for _, c := range strings.Split(cidrs, ",") {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			merged := false
			for i := range out {
				if out[i].CIDR == c {
					out[i].Source += ", " + source
					merged = true
				}
			}
			if !merged {
				out = append(out, SourcedCIDR{CIDR: c, Source: source})
			}
		}
	}
	for _, p := range ev.CalicoPools {
		if !p.Disabled {
			add(p.CIDR, "IPPool "+p.Name)
		}
	}
	if ev.Cilium != nil && ev.Cilium.IPAM == "cluster-pool" {
		add(strings.Join(ev.Cilium.ClusterPoolCIDRs, ","), "cilium-config cluster-pool")
	}
	if len(out) == 0 {
		if ev.Kubeadm != nil {
			add(ev.Kubeadm.PodSubnet, "kubeadm-config")
		}
		if ev.KubeProxy != nil {
			add(ev.KubeProxy.ClusterCIDR, "kube-proxy clusterCIDR")
		}
		if ev.Flannel != nil {
			add(ev.Flannel.Network, "kube-flannel-cfg")
			add(ev.Flannel.IPv6Network, "kube-flannel-cfg")
		}
	}
	if len(out) == 0 {
		var cidrs []netip.Prefix
		for _, n := range inv.Nodes {
			cidrs = append(cidrs, n.PodCIDRs...)
		}
		for _, p := range CoveringPrefixes(cidrs) {
			add(p.String(), "covering prefix of node pod CIDRs (inferred)")
		}
	}
	return out
}

// ClusterServiceCIDRs gives the service CIDR(s): ServiceCIDR objects, else kubeadm-config, else
// inferred from the kubernetes Service's ClusterIP.
func ClusterServiceCIDRs(ev *Evidence) []SourcedCIDR {
	var out []SourcedCIDR
	for _, s := range ev.ServiceCIDRs {
		for _, c := range s.CIDRs {
			out = append(out, SourcedCIDR{CIDR: c, Source: "ServiceCIDR " + s.Name})
		}
	}
	if len(out) == 0 && ev.Kubeadm != nil && ev.Kubeadm.ServiceSubnet != "" {
		for _, c := range strings.Split(ev.Kubeadm.ServiceSubnet, ",") {
			out = append(out, SourcedCIDR{CIDR: c, Source: "kubeadm-config"})
		}
	}
	if len(out) == 0 && ev.KubernetesServiceIP.IsValid() {
		out = append(out, SourcedCIDR{CIDR: ev.KubernetesServiceIP.String(), Source: "kubernetes Service ClusterIP (range unknown, inferred)"})
	}
	return out
}

// CoveringPrefixes returns, per address family, the smallest prefix that contains every prefix given.
func CoveringPrefixes(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, v4 := range []bool{true, false} {
		var cover netip.Prefix
		for _, p := range ps {
			if p.Addr().Is4() != v4 {
				continue
			}
			p = p.Masked()
			if !cover.IsValid() {
				cover = p
				continue
			}
			bits := min(cover.Bits(), p.Bits())
			for bits > 0 {
				a, _ := cover.Addr().Prefix(bits)
				b, _ := p.Addr().Prefix(bits)
				if a == b {
					break
				}
				bits--
			}
			cover, _ = cover.Addr().Prefix(bits)
		}
		if cover.IsValid() {
			out = append(out, cover)
		}
	}
	return out
}

func inPrefixes(ips []netip.Addr, ps []netip.Prefix) bool {
	for _, ip := range ips {
		if !addrCovered(ip, ps) {
			return false
		}
	}
	return true
}

// addrCovered reports whether ip is in one of ps, or ps has no prefix of ip's family to judge by.
func addrCovered(ip netip.Addr, ps []netip.Prefix) bool {
	judged := false
	for _, p := range ps {
		if p.Addr().Is4() == ip.Is4() {
			judged = true
			if p.Contains(ip) {
				return true
			}
		}
	}
	return !judged
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}
