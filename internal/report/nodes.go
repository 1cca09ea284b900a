// Package report builds what each command shows from the cluster's evidence and the resolved
// network of its nodes (netmodel): pure functions over plain structs, no API calls, no output.
package report

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
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
	Network         netmodel.Network       `json:"network"`
	PodCIDRs        []netmodel.SourcedCIDR `json:"podCIDRs"`
	ServiceCIDRs    []netmodel.SourcedCIDR `json:"serviceCIDRs"`
	KubeProxyMode   string                 `json:"kubeProxyMode,omitempty"`
	Nodes           int                    `json:"nodes"`
	Pods            int                    `json:"pods"`
	HostNetworkPods int                    `json:"hostNetworkPods"`
	// PodsNamespace is set when only one namespace's pods could be read.
	PodsNamespace string `json:"podsNamespace,omitempty"`
	PodsUnknown   bool   `json:"podsUnknown,omitempty"`
}

// NodeRow is one node of the nodes report.
type NodeRow struct {
	Name          string              `json:"name"`
	Status        string              `json:"status"`
	InternalIPs   []string            `json:"internalIPs"`
	ExternalIPs   []string            `json:"externalIPs,omitempty"`
	PodCIDRs      []string            `json:"podCIDRs"`
	PodCIDRSource netmodel.CIDRSource `json:"podCIDRSource"`
	Tunnel        *netmodel.Tunnel    `json:"tunnel,omitempty"`
	// Transport are the addresses other nodes send this node's pod traffic to.
	Transport       []string           `json:"transportAddresses"`
	TransportSource string             `json:"transportSource"`
	Pods            int                `json:"pods"`
	HostNetworkPods int                `json:"hostNetworkPods"`
	MaxPods         int64              `json:"maxPods"`
	Capacity        *netmodel.Capacity `json:"capacity,omitempty"`
	Network         netmodel.Network   `json:"network"`
	Zone            string             `json:"zone,omitempty"`
	InstanceType    string             `json:"instanceType,omitempty"`
	Kernel          string             `json:"kernel,omitempty"`
	Runtime         string             `json:"containerRuntime,omitempty"`
	ProviderID      string             `json:"providerID,omitempty"`
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

// BuildNodes joins nodes, pods and evidence into the nodes report; v is the inventory resolved.
func BuildNodes(inv *cluster.Inventory, v *netmodel.View) *NodesReport {
	ev := &inv.Evidence
	r := &NodesReport{Notes: inv.Notes, Warnings: []Warning{}, Nodes: []NodeRow{}}
	outside := make(map[string][]*cluster.Pod)
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if p.HostNetwork {
			r.Cluster.HostNetworkPods++
		} else if p.HoldsIP() {
			r.Cluster.Pods++
		}
		nn := v.Node(p.Node)
		if nn == nil || !p.HoldsIP() {
			continue
		}
		if len(nn.PodCIDRs) > 0 && nn.Source == netmodel.SourceSpec && nn.Model().NodeCIDRIPAM(ev) && !inPrefixes(p.IPs, nn.PodCIDRs) {
			outside[p.Node] = append(outside[p.Node], p)
		}
	}
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		nn := &v.Nodes[i]
		row := NodeRow{
			Name: n.Name, Status: nodeStatus(n), InternalIPs: addrStrings(n.InternalIPs), ExternalIPs: addrStrings(n.ExternalIPs),
			PodCIDRs: prefixStrings(nn.PodCIDRs), PodCIDRSource: nn.Source, Tunnel: nn.Tunnel,
			Transport: addrStrings(nn.Transport), TransportSource: nn.TransportSource,
			MaxPods: n.AllocatablePods, Capacity: nn.Capacity, Network: nn.Network, Zone: n.Zone,
			InstanceType: n.InstanceType, Kernel: n.Kernel, Runtime: n.Runtime, ProviderID: n.ProviderID, DerivedFromPods: n.FromPods,
		}
		if c := nn.Capacity; c != nil {
			row.Pods, row.HostNetworkPods = c.Used, c.HostNetworkPods
		}
		r.Nodes = append(r.Nodes, row)
		r.Warnings = append(r.Warnings, nodeWarnings(nn, ev, outside[n.Name])...)
	}
	r.Warnings = append(r.Warnings, overlapWarnings(v)...)
	r.Cluster.Network = v.Cluster
	r.Cluster.Nodes = len(inv.Nodes)
	r.Cluster.PodCIDRs = netmodel.ClusterPodCIDRs(ev, v)
	r.Cluster.ServiceCIDRs = netmodel.ServiceCIDRs(ev)
	if ev.KubeProxy != nil {
		r.Cluster.KubeProxyMode = ev.KubeProxy.Mode
	}
	r.Cluster.PodsNamespace = inv.PodsNamespace
	r.Cluster.PodsUnknown = inv.PodsUnknown
	return r
}

func nodeStatus(n *cluster.Node) string {
	s := n.Ready
	if n.Unschedulable {
		s += ",SchedulingDisabled"
	}
	return s
}

func nodeWarnings(nn *netmodel.NodeNetwork, ev *cluster.Evidence, outside []*cluster.Pod) []Warning {
	var w []Warning
	n := nn.Node()
	nw := nn.Network
	obj := "node/" + n.Name
	if n.FromPods {
		return nil
	}
	event, starved := ev.CIDRNotAvailable[n.Name]
	if nn.NeedsCIDR(ev) {
		msg := fmt.Sprintf("node %s has no pod CIDR: pods scheduled there cannot get an address", n.Name)
		if nn.Model().NodeCIDRIPAM(ev) {
			msg = fmt.Sprintf("node %s has no pod CIDR, and %s hands out pod addresses from it: pods scheduled there cannot get an address", n.Name, nw.Model)
		}
		if starved {
			msg += fmt.Sprintf("; event CIDRNotAvailable: %q: the cluster CIDR is exhausted, widen it (kube-controller-manager --cluster-cidr) or remove nodes", event)
		}
		w = append(w, Warning{Kind: WarnNoPodCIDR, Object: obj, Message: msg})
	}
	if kind, msg := nn.AddressWarning(); msg != "" {
		w = append(w, Warning{Kind: kind, Object: obj, Message: msg})
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
	if len(outside) > 0 {
		p := outside[0]
		w = append(w, Warning{Kind: WarnPodOutsideCIDR, Object: obj, Message: fmt.Sprintf("%d pod(s) on node %s have addresses outside its pod CIDR %s (e.g. pod %s/%s has %s): the route to them points elsewhere",
			len(outside), n.Name, strings.Join(prefixStrings(nn.PodCIDRs), ","), p.Namespace, p.Name, strings.Join(addrStrings(p.IPs), ","))})
	}
	return w
}

// overlapWarnings finds node CIDRs of two nodes that overlap (Calico blocks, claimed whole by one
// node each, included).
func overlapWarnings(v *netmodel.View) []Warning {
	type owned struct {
		p    netip.Prefix
		node string
	}
	var all []owned
	for _, n := range v.Nodes {
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
