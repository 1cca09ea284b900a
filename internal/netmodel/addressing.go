package netmodel

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// RangeRole is what a cluster's address range holds.
type RangeRole string

// Range roles.
const (
	RoleNodes    RangeRole = "nodes"
	RolePods     RangeRole = "pods"
	RoleServices RangeRole = "services"
)

// Reach says who sees a range's addresses as the source or destination of packets.
type Reach string

// Reaches.
const (
	// ReachUnderlay: the network the nodes are on carries the addresses, and networks joined to it
	// see them (node addresses; pods as the VPC/VNet's own addresses, or routed natively, by BGP).
	ReachUnderlay Reach = "underlay"
	// ReachNetwork: the cluster's own network routes the addresses to the cluster (a cloud route
	// table with a route per node pod CIDR), but joined networks are not told of them, and they
	// leave the network through their node's address.
	ReachNetwork Reach = "network"
	// ReachCluster: the addresses live only inside the cluster: pods behind a tunnel or routed by
	// the nodes alone (they leave through their node's address) and ClusterIPs (the service proxy's).
	ReachCluster Reach = "cluster"
)

// ClusterRange is one address range of a cluster, as the networks around it see it.
type ClusterRange struct {
	Role   RangeRole    `json:"role"`
	CIDR   netip.Prefix `json:"cidr"`
	Source string       `json:"source"`
	Reach  Reach        `json:"reach"`
	// OfNodeNetwork is set on pods whose addresses are the node network's own by design (AWS VPC
	// CNI, Azure CNI on the node subnet): pods and nodes sharing the range is no conflict.
	OfNodeNetwork bool `json:"ofNodeNetwork,omitempty"`
}

// Addressing is a cluster's address ranges and what the networks around it need to know of them.
type Addressing struct {
	Network Network        `json:"network"`
	Ranges  []ClusterRange `json:"ranges"`
	// NodeAddresses are the nodes' InternalIPs: the same address in two clusters says they sit in
	// two networks whose address spaces overlap.
	NodeAddresses []netip.Addr `json:"-"`
	// InUse are the pod addresses handed out: the pod CIDRs (or IPAM blocks) the nodes hold, and
	// the pod IPs where pods take the node network's addresses. A pod range overlapping another
	// collides only where they lie, until the IPAM hands out addresses there.
	InUse []netip.Prefix `json:"-"`
	// SharedSubnet, when set, is why two clusters of this model may not share a node subnet.
	SharedSubnet string `json:"-"`
	// Unknown are the ranges that could not be known: the answer is incomplete without them.
	Unknown []string `json:"unknown,omitempty"`
}

// ClusterAddressing gathers the cluster's ranges: the node subnets (those the model's agent
// published with their prefix, else the smallest prefix covering the InternalIPs, per family),
// the pod ranges (ClusterPodCIDRs; for pods that take the node network's addresses and have no
// range of their own, the smallest prefix covering the pod IPs) and the service CIDRs, each with
// how far its addresses reach, as the cluster's model says.
func ClusterAddressing(inv *cluster.Inventory, v *View) *Addressing {
	a := &Addressing{Network: v.Cluster}
	m := v.Cluster.Descriptor()
	// the pods' reach is the datapath of the nodes of the cluster's model, unless the model keeps
	// the pods' addresses inside the cluster in that mode
	podReach, ofNodeNet := ReachCluster, false
	var shared []string
	for i := range v.Nodes {
		nn := &v.Nodes[i]
		a.InUse = append(a.InUse, nn.PodCIDRs...)
		if nn.Network.Model != v.Cluster.Model || nn.node == nil {
			continue
		}
		if why := nn.model.SharedSubnet(nn.node); why != "" && !slices.Contains(shared, why) {
			shared = append(shared, why)
		}
		if nn.model.podsLocal(nn.Network.Mode) {
			continue
		}
		switch dp := nn.model.Datapath(nn.Network.Mode, nn.node); {
		case dp == DatapathCloudRouteTable && podReach == ReachCluster:
			podReach = ReachNetwork
		case dp.PodsOnUnderlay() && dp != DatapathCloudRouteTable:
			podReach = ReachUnderlay
			ofNodeNet = ofNodeNet || dp == DatapathCloudNetwork
		}
	}
	a.SharedSubnet = strings.Join(shared, "; ")

	// node subnets: published with their prefix, else the ranges the InternalIPs fall in
	var known []netip.Prefix
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		a.NodeAddresses = append(a.NodeAddresses, n.InternalIPs...)
		for _, s := range lookup(modelOf(v, n.Name, m)).nodeSubnets(n) {
			if !slices.Contains(known, s) {
				known = append(known, s)
			}
		}
	}
	var loose []netip.Addr
	for _, ip := range a.NodeAddresses {
		if !slices.ContainsFunc(known, func(s netip.Prefix) bool { return s.Contains(ip) }) {
			loose = append(loose, ip)
		}
	}
	// nodesIn counts the nodes with an InternalIP in p
	nodesIn := func(p netip.Prefix) string {
		n := 0
		for i := range inv.Nodes {
			if slices.ContainsFunc(inv.Nodes[i].InternalIPs, p.Contains) {
				n++
			}
		}
		return fmt.Sprintf("%d %s", n, plural(n, "node", "nodes"))
	}
	for _, s := range known {
		a.Ranges = append(a.Ranges, ClusterRange{Role: RoleNodes, CIDR: s, Reach: ReachUnderlay,
			Source: fmt.Sprintf("node subnet published by %s (%s)", m.Agent(), nodesIn(s))})
	}
	for _, p := range AddressRanges(loose) {
		a.Ranges = append(a.Ranges, ClusterRange{Role: RoleNodes, CIDR: p, Reach: ReachUnderlay,
			Source: fmt.Sprintf("smallest prefix covering the InternalIPs in it (%s)", nodesIn(p))})
	}

	pods := ClusterPodCIDRs(&inv.Evidence, v)
	for _, r := range pods {
		p, err := netip.ParsePrefix(r.CIDR)
		if err != nil {
			continue
		}
		a.Ranges = append(a.Ranges, ClusterRange{Role: RolePods, CIDR: p.Masked(), Source: r.Source, Reach: podReach, OfNodeNetwork: ofNodeNet})
	}
	if len(pods) == 0 && ofNodeNet {
		var ips []netip.Addr
		for i := range inv.Pods {
			if p := &inv.Pods[i]; p.HoldsIP() {
				ips = append(ips, p.IPs...)
			}
		}
		for _, ip := range ips {
			a.InUse = append(a.InUse, netip.PrefixFrom(ip, ip.BitLen()))
		}
		for _, p := range AddressRanges(ips) {
			a.Ranges = append(a.Ranges, ClusterRange{Role: RolePods, CIDR: p, Source: "smallest prefix covering the pod IPs in it (the node network's addresses)", Reach: podReach, OfNodeNetwork: true})
		}
	}
	if !slices.ContainsFunc(a.Ranges, func(r ClusterRange) bool { return r.Role == RolePods }) {
		a.Unknown = append(a.Unknown, "the pod range (no pod CIDR, IPAM pool or node pod CIDR says it)")
	}
	for _, r := range ServiceCIDRs(&inv.Evidence) {
		if r.Inferred {
			a.Unknown = append(a.Unknown, fmt.Sprintf("the Service CIDR (only the kubernetes Service's ClusterIP %s is known: grant reading ServiceCIDRs or kube-system/kubeadm-config)", r.CIDR))
		}
		p, err := netip.ParsePrefix(r.CIDR)
		if err != nil {
			ip, ierr := netip.ParseAddr(r.CIDR)
			if ierr != nil {
				continue
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		a.Ranges = append(a.Ranges, ClusterRange{Role: RoleServices, CIDR: p.Masked(), Source: r.Source, Reach: ReachCluster})
	}
	return a
}

// modelOf is the model name of node name in v, the cluster's when v does not have it.
func modelOf(v *View, name string, cluster Model) Name {
	if nn := v.Node(name); nn != nil {
		return nn.Network.Model
	}
	return cluster.Name()
}

// PodsOnUnderlay reports whether the datapath puts pod addresses on the node network (routed
// natively, by a cloud route table, or as the cloud network's own), rather than behind a tunnel.
func (d Datapath) PodsOnUnderlay() bool {
	switch d {
	case DatapathRouted, DatapathCloudRouteTable, DatapathCloudNetwork:
		return true
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
