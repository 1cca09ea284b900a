package overlap

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

// Goal is what the clusters and networks are to be joined for. Goals are ordered: each needs
// everything the one before it needs, so an overlap that breaks one breaks every later one.
type Goal string

// Goals, weakest first.
const (
	// GoalCluster: every cluster working on its own. An overlap that breaks it breaks every goal.
	GoalCluster Goal = "cluster"
	// GoalPeering: the networks peered or routed to each other (VNet/VPC peering, VPN, transit
	// gateway): node addresses and every routed range unambiguous.
	GoalPeering Goal = "peering"
	// GoalMesh: pods reaching pods across clusters by their own addresses (Cilium ClusterMesh):
	// pod ranges unique as well.
	GoalMesh Goal = "mesh"
	// GoalSubmariner: Submariner without Globalnet, which routes Service CIDRs between clusters:
	// service ranges unique as well.
	GoalSubmariner Goal = "submariner"
)

// Goals are the goals in order, weakest first.
var Goals = []Goal{GoalCluster, GoalPeering, GoalMesh, GoalSubmariner}

// Breaks reports whether an overlap that breaks from goal b on (b: its weakest goal broken, ""
// for none) breaks goal g.
func (b Goal) Breaks(g Goal) bool {
	return b != "" && slices.Index(Goals, b) <= slices.Index(Goals, g)
}

// Kind is what an overlap is.
type Kind string

// Kinds of overlap.
const (
	// InCluster: two ranges of one cluster share addresses, and the pods use some of them.
	InCluster Kind = "InCluster"
	// InClusterLatent: a cluster's pod range (a pool the IPAM hands out node CIDRs or blocks from)
	// holds another of its ranges, but no node holds a CIDR there yet: it collides once one does.
	InClusterLatent Kind = "InClusterLatent"
	// SharedSubnet: two clusters of a model that forbids sharing a subnet have node ranges that
	// overlap (as far as their addresses tell) without a node address in common.
	SharedSubnet Kind = "SharedSubnet"
	// SameNodeAddress: one address is a node of two clusters, which therefore sit in two networks
	// whose address spaces overlap.
	SameNodeAddress Kind = "SameNodeAddress"
	// NodeRangesMeet: two clusters' node addresses fall in one range: one network, or two that
	// overlap.
	NodeRangesMeet Kind = "NodeRangesMeet"
	// OneNetwork: two clusters' node addresses fall in a range of one network given with --network.
	OneNetwork Kind = "OneNetwork"
	// HomeNetwork: a network given with --network holds the cluster's nodes (or its pods, where
	// they are the node network's addresses).
	HomeNetwork Kind = "HomeNetwork"
	// AmbiguousRoute: two ranges the networks route are one range: a route to it can lead to one
	// side only.
	AmbiguousRoute Kind = "AmbiguousRoute"
	// Shadowed: a range that lives only inside a cluster (pods behind a tunnel, ClusterIPs) holds
	// addresses of another network: the cluster's pods cannot reach them.
	Shadowed Kind = "Shadowed"
	// PodsNotUnique: two clusters' pod ranges share addresses.
	PodsNotUnique Kind = "PodsNotUnique"
	// ServicesNotUnique: a cluster's Service CIDR shares addresses with another cluster's pods or
	// Services.
	ServicesNotUnique Kind = "ServicesNotUnique"
	// NetworksOverlap: two networks given with --network share addresses.
	NetworksOverlap Kind = "NetworksOverlap"
)

// RoleNetwork is the role of a range given with --network.
const RoleNetwork netmodel.RangeRole = "network"

// Cluster is one cluster's ranges, under the name the user knows it by (its context).
type Cluster struct {
	Name       string
	Addressing *netmodel.Addressing
}

// Network is a range the user named: a VNet, a VPC, an on-premises range.
type Network struct {
	Name string
	CIDR netip.Prefix
}

// Range is one range of a cluster or a network.
type Range struct {
	// Owner is the cluster's (context's) or the network's name.
	Owner string `json:"owner"`
	// Network is set when the range is one given with --network.
	Network bool `json:"network,omitempty"`
	netmodel.ClusterRange
}

// String is "owner role CIDR".
func (r Range) String() string { return fmt.Sprintf("%s %s %s", r.Owner, r.Role, r.CIDR) }

// Overlap is two ranges that share addresses, and what it breaks.
type Overlap struct {
	A Range `json:"a"`
	B Range `json:"b"`
	// Relation is how A stands to B.
	Relation Relation `json:"relation"`
	// Shared is the addresses both hold (the smaller of the two), Addresses how many, and
	// ShareOfA and ShareOfB the fraction of each range it takes.
	Shared    netip.Prefix `json:"shared"`
	Addresses string       `json:"addresses"`
	ShareOfA  float64      `json:"shareOfA"`
	ShareOfB  float64      `json:"shareOfB"`
	Kind      Kind         `json:"kind"`
	// Breaks is the weakest goal the overlap breaks ("" when it breaks none; see Goal.Breaks).
	Breaks Goal   `json:"breaks,omitempty"`
	Why    string `json:"why"`
}

// Result is every range and every overlap among them.
type Result struct {
	Ranges   []Range   `json:"ranges"`
	Overlaps []Overlap `json:"overlaps"`
}

// Broken are the overlaps that break goal g.
func (r *Result) Broken(g Goal) []Overlap {
	var out []Overlap
	for _, o := range r.Overlaps {
		if o.Breaks.Breaks(g) {
			out = append(out, o)
		}
	}
	return out
}

// Check compares every range of the clusters and networks with every other, pairwise.
func Check(clusters []Cluster, networks []Network) *Result {
	res := &Result{Ranges: []Range{}, Overlaps: []Overlap{}}
	byName := map[string]*netmodel.Addressing{}
	for _, c := range clusters {
		byName[c.Name] = c.Addressing
		for _, r := range c.Addressing.Ranges {
			res.Ranges = append(res.Ranges, Range{Owner: c.Name, ClusterRange: r})
		}
	}
	for _, n := range networks {
		res.Ranges = append(res.Ranges, Range{Owner: n.Name, Network: true,
			ClusterRange: netmodel.ClusterRange{Role: RoleNetwork, CIDR: n.CIDR.Masked(), Source: "--network", Reach: netmodel.ReachUnderlay}})
	}
	c := checker{clusters: byName, networks: networks}
	for i := range res.Ranges {
		for j := i + 1; j < len(res.Ranges); j++ {
			a, b := res.Ranges[i], res.Ranges[j]
			shared, rel, ok := Compare(a.CIDR, b.CIDR)
			if !ok {
				continue
			}
			kind, breaks, why, report := c.judge(a, b)
			if !report {
				continue
			}
			res.Overlaps = append(res.Overlaps, Overlap{A: a, B: b, Relation: rel, Shared: shared, Addresses: Size(shared),
				ShareOfA: Share(shared, a.CIDR), ShareOfB: Share(shared, b.CIDR), Kind: kind, Breaks: breaks, Why: why})
		}
	}
	return res
}

type checker struct {
	clusters map[string]*netmodel.Addressing
	networks []Network
}

// nodeLike reports whether r's addresses are node network addresses: node subnets, and pods
// that take the node network's addresses.
func nodeLike(r Range) bool {
	return r.Role == netmodel.RoleNodes || (r.Role == netmodel.RolePods && r.OfNodeNetwork)
}

// homes are the networks given with --network that hold every node range of cluster name in
// the family of p.
func (c checker) homes(name string, p netip.Prefix) []Network {
	a := c.clusters[name]
	var out []Network
	for _, n := range c.networks {
		if n.CIDR.Addr().Is4() != p.Addr().Is4() {
			continue
		}
		found, all := false, true
		for _, r := range a.Ranges {
			if r.Role != netmodel.RoleNodes || r.CIDR.Addr().Is4() != p.Addr().Is4() {
				continue
			}
			found = true
			if _, rel, ok := Compare(n.CIDR, r.CIDR); !ok || rel == Within {
				all = false
			}
		}
		if found && all {
			out = append(out, n)
		}
	}
	return out
}

func (c checker) isHome(cluster string, n Range) bool {
	return slices.ContainsFunc(c.homes(cluster, n.CIDR), func(h Network) bool { return h.Name == n.Owner })
}

// judge says what the overlap of a and b is, the weakest goal it breaks and why; report is false
// for overlaps that are the design (a cluster's pods in its node network on a cloud network).
func (c checker) judge(a, b Range) (kind Kind, breaks Goal, why string, report bool) {
	switch {
	case a.Network && b.Network:
		return NetworksOverlap, GoalPeering, fmt.Sprintf("networks %s and %s share addresses: two networks whose address spaces overlap cannot be peered or routed to each other (if one is a part of the other, give only the whole)", a.Owner, b.Owner), true
	case a.Network || b.Network:
		if b.Network {
			a, b = b, a
		}
		return c.withNetwork(a, b)
	case a.Owner == b.Owner:
		return c.inCluster(a, b)
	}
	return c.acrossClusters(a, b)
}

// inCluster: two ranges of one cluster.
func (c checker) inCluster(a, b Range) (Kind, Goal, string, bool) {
	if a.Role == b.Role {
		return "", "", "", false // a range and its parts, or pools beside each other: the IPAM's business
	}
	if a.Role == netmodel.RoleServices {
		a, b = b, a
	}
	if a.Role == netmodel.RolePods && b.Role == netmodel.RoleNodes {
		a, b = b, a
	}
	if a.Role == netmodel.RoleNodes && b.OfNodeNetwork {
		return "", "", "", false
	}
	if a.Role == netmodel.RoleNodes && b.Role == netmodel.RoleServices {
		return InCluster, GoalCluster, fmt.Sprintf("cluster %s's Service CIDR and its node addresses share addresses: the service proxy can take packets meant for nodes there; give Services a range outside the node network", a.Owner), true
	}
	// a pod range (a; b when a is nodes) collides where the IPAM has handed out addresses: where a
	// node pod CIDR lies
	pods, other := a, b
	if a.Role == netmodel.RoleNodes {
		pods, other = b, a
	}
	shared, _, _ := Compare(a.CIDR, b.CIDR)
	var used []string
	for _, n := range c.clusters[a.Owner].InUse {
		if n.Overlaps(shared) {
			used = append(used, n.String())
		}
	}
	if len(used) == 0 {
		return InClusterLatent, "", fmt.Sprintf("cluster %s's pod range %s holds its %s %s, but no node holds a pod CIDR there yet: they collide once the IPAM hands one out there; narrow the pod range, or move the other",
			a.Owner, pods.CIDR, rangeNoun(other.Role), other.CIDR), true
	}
	if len(used) > 3 {
		used = append(used[:3], fmt.Sprintf("and %d more", len(used)-3))
	}
	inUse := " (node pod CIDRs there: " + strings.Join(used, ", ") + ")"
	switch {
	case a.Role == netmodel.RoleNodes && b.Role == netmodel.RolePods:
		return InCluster, GoalCluster, fmt.Sprintf("cluster %s's pod range and its node addresses share addresses: the nodes route the shared addresses to pods, so nodes there are unreachable from pods%s; give the pods a range outside the node network", a.Owner, inUse), true
	}
	return InCluster, GoalCluster, fmt.Sprintf("cluster %s's Service CIDR and its pod range share addresses: ClusterIPs and pod addresses collide%s; the two ranges must be disjoint", a.Owner, inUse), true
}

// rangeNoun is how a sentence names a range of the role.
func rangeNoun(r netmodel.RangeRole) string {
	switch r {
	case netmodel.RoleNodes:
		return "node addresses"
	case netmodel.RoleServices:
		return "Service CIDR (ClusterIPs)"
	}
	return string(r)
}

// withNetwork: a network given with --network (n) and a cluster's range (r).
func (c checker) withNetwork(n, r Range) (Kind, Goal, string, bool) {
	home := c.isHome(r.Owner, n)
	switch {
	case r.Role == netmodel.RoleNodes && home:
		return HomeNetwork, "", fmt.Sprintf("cluster %s's nodes are in network %s", r.Owner, n.Owner), true
	case r.Role == netmodel.RoleNodes:
		return AmbiguousRoute, GoalPeering, fmt.Sprintf("network %s and cluster %s's nodes share addresses, but %s does not hold all of them: routes to the shared addresses are ambiguous (if the nodes are in %s, give its whole range)", n.Owner, r.Owner, n.Owner, n.Owner), true
	case r.OfNodeNetwork && home:
		return HomeNetwork, "", fmt.Sprintf("cluster %s's pods take addresses of its nodes' network %s, by design", r.Owner, n.Owner), true
	case r.Role == netmodel.RolePods && r.Reach == netmodel.ReachUnderlay:
		return AmbiguousRoute, GoalPeering, fmt.Sprintf("cluster %s routes its pods' range on the node network, and network %s holds the shared addresses too: routes to them are ambiguous; move one of the ranges", r.Owner, n.Owner), true
	case r.Role == netmodel.RolePods && r.Reach == netmodel.ReachNetwork:
		return Shadowed, GoalPeering, fmt.Sprintf("cluster %s's network routes the shared addresses to its pods (a route per node pod CIDR): hosts of network %s there are unreachable from it; move one of the ranges", r.Owner, n.Owner), true
	case r.Role == netmodel.RolePods:
		return Shadowed, GoalPeering, fmt.Sprintf("cluster %s's pods cannot reach hosts of network %s in the shared addresses: the nodes route them into the pod network; move one of the ranges", r.Owner, n.Owner), true
	}
	return Shadowed, GoalPeering, fmt.Sprintf("cluster %s's pods cannot reach hosts of network %s in the shared addresses: its service proxy keeps them as ClusterIPs (AKS and EKS want the Service CIDR outside every network the cluster reaches); move the Service CIDR", r.Owner, n.Owner), true
}

// acrossClusters: ranges of two clusters.
func (c checker) acrossClusters(a, b Range) (Kind, Goal, string, bool) {
	// order: node-like first, then pods the joined networks see, then pods the cluster's own
	// network routes, then pods inside the cluster, then Services
	rank := func(r Range) int {
		switch {
		case nodeLike(r):
			return 0
		case r.Role == netmodel.RolePods && r.Reach == netmodel.ReachUnderlay:
			return 1
		case r.Role == netmodel.RolePods && r.Reach == netmodel.ReachNetwork:
			return 2
		case r.Role == netmodel.RolePods:
			return 3
		}
		return 4
	}
	if rank(b) < rank(a) {
		a, b = b, a
	}
	switch ra, rb := rank(a), rank(b); {
	case ra == 0 && rb == 0:
		return c.nodesMeet(a, b)
	case ra <= 1 && rb <= 1:
		return AmbiguousRoute, GoalPeering, fmt.Sprintf("clusters %s and %s both route the shared addresses on their networks (%s of %s, %s of %s): once the networks are joined, routes to them are ambiguous; move one of the ranges",
			a.Owner, b.Owner, a.Role, a.Owner, b.Role, b.Owner), true
	case ra <= 1 && rb == 2:
		return Shadowed, GoalPeering, fmt.Sprintf("cluster %s's network routes the shared addresses to its pods (a route per node pod CIDR): %s of cluster %s there are unreachable from it; move one of the ranges", b.Owner, a.Role, a.Owner), true
	case ra <= 1 && rb == 3:
		return Shadowed, GoalPeering, fmt.Sprintf("cluster %s's pods cannot reach %s of cluster %s in the shared addresses: %s routes them into its own pod network; move one of the ranges", b.Owner, a.Role, a.Owner, b.Owner), true
	case ra <= 1:
		return Shadowed, GoalPeering, fmt.Sprintf("cluster %s's pods cannot reach %s of cluster %s in the shared addresses: %s's service proxy keeps them as ClusterIPs; move one of the ranges", b.Owner, a.Role, a.Owner, b.Owner), true
	case rb <= 3:
		return PodsNotUnique, GoalMesh, fmt.Sprintf("clusters %s and %s give pods the same addresses: Cilium ClusterMesh and Submariner without Globalnet need every cluster's pod range unique (harmless for peering alone: pods leave through their node's address)", a.Owner, b.Owner), true
	case ra <= 3:
		return ServicesNotUnique, GoalSubmariner, fmt.Sprintf("cluster %s's pods and cluster %s's ClusterIPs share addresses: Submariner (without Globalnet) routes Service CIDRs between clusters and needs them apart from every pod range (harmless for peering and for Cilium ClusterMesh)", a.Owner, b.Owner), true
	}
	return ServicesNotUnique, GoalSubmariner, fmt.Sprintf("clusters %s and %s have Service CIDRs that share addresses: Submariner (without Globalnet) routes Service CIDRs between clusters and needs them unique (harmless for peering and for Cilium ClusterMesh)", a.Owner, b.Owner), true
}

// nodesMeet: node network addresses of two clusters share a range.
func (c checker) nodesMeet(a, b Range) (Kind, Goal, string, bool) {
	ca, cb := c.clusters[a.Owner], c.clusters[b.Owner]
	var same []string
	for _, x := range ca.NodeAddresses {
		if a.CIDR.Contains(x) && b.CIDR.Contains(x) && slices.Contains(cb.NodeAddresses, x) {
			same = append(same, x.String())
		}
	}
	if a.Role == netmodel.RoleNodes && b.Role == netmodel.RoleNodes && len(same) > 0 {
		if len(same) > 3 {
			same = append(same[:3], fmt.Sprintf("and %d more", len(same)-3))
		}
		return SameNodeAddress, GoalPeering, fmt.Sprintf("clusters %s and %s both have a node at %s: they are in two networks whose address spaces overlap, which cannot be peered or routed to each other; re-address one of them", a.Owner, b.Owner, strings.Join(same, ", ")), true
	}
	if a.Role == netmodel.RoleNodes && b.Role == netmodel.RoleNodes && ca.SharedSubnet != "" && cb.SharedSubnet != "" {
		return SharedSubnet, GoalCluster, fmt.Sprintf("the nodes of clusters %s and %s are in one range, likely one subnet: %s; give each cluster its own subnet", a.Owner, b.Owner, ca.SharedSubnet), true
	}
	for _, h := range c.homes(a.Owner, a.CIDR) {
		if slices.ContainsFunc(c.homes(b.Owner, b.CIDR), func(n Network) bool { return n.Name == h.Name }) {
			return OneNetwork, "", fmt.Sprintf("clusters %s and %s are both in network %s", a.Owner, b.Owner, h.Name), true
		}
	}
	return NodeRangesMeet, GoalPeering, fmt.Sprintf("the %s of clusters %s and %s fall in one range: either both are in one network (say so with --network CIDR=name) or in two networks whose address spaces overlap, which cannot be peered or routed to each other",
		nodeWord(a, b), a.Owner, b.Owner), true
}

func nodeWord(a, b Range) string {
	if a.Role == netmodel.RoleNodes && b.Role == netmodel.RoleNodes {
		return "node addresses"
	}
	return "node network addresses (nodes, and pods that take the node network's addresses)"
}
