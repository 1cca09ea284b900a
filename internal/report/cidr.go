package report

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"sort"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/ipam"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

// CIDRUsage answers "are we running out of IPs?": `kubectl podnet cidr-usage`.
type CIDRUsage struct {
	Network  netmodel.Network `json:"network"`
	Nodes    []NodeUsage      `json:"nodes"`
	Ranges   []RangeUsage     `json:"clusterCIDRs"`
	Pools    []PoolUsage      `json:"ipPools,omitempty"`
	Services []ServiceUsage   `json:"serviceCIDRs"`
	Limits   []LimitUsage     `json:"platformLimits"`
	Plan     *PlanResult      `json:"plan,omitempty"`
	Starved  []StarvedNode    `json:"nodesWithoutCIDR,omitempty"`
	// PodsUnknown and NodesUnknown say that pods (of every namespace) or nodes could not be read:
	// the figures counted from them are not figures (the gauges leave them out).
	PodsUnknown  bool `json:"podsUnknown,omitempty"`
	NodesUnknown bool `json:"nodesUnknown,omitempty"`
	// LeakedFrom are the IPAM stores read for leaked addresses (Calico's blocks, CiliumNodes);
	// none: the cluster's stores are not in the API (host-local) and nothing was subtracted.
	LeakedFrom []string  `json:"leakedCountedFrom,omitempty"`
	Notes      []string  `json:"notes,omitempty"`
	Warnings   []Warning `json:"warnings"`
	Max        float64   `json:"maxUtilisation"`
	// Hottest names the range or limit at Max (the first at that utilisation), "" when none is used.
	Hottest  string          `json:"hottest,omitempty"`
	Settings CIDRUsageConfig `json:"settings"`
}

// CIDRUsageConfig are the knobs of a cidr-usage run.
type CIDRUsageConfig struct {
	WarnAt float64 `json:"warnAt"`
	FailAt float64 `json:"failAt,omitempty"`
	// NodeSubnet is the Azure CNI node subnet given with --node-subnet.
	NodeSubnet string `json:"nodeSubnet,omitempty"`
	PlanNodes  int    `json:"planNodes,omitempty"`
	PlanMax    int    `json:"planMaxPods,omitempty"`
	PlanMask   int    `json:"planNodeCIDRMask,omitempty"`
}

// NodeUsage is one node's pod addresses.
type NodeUsage struct {
	Name   string   `json:"name"`
	CIDRs  []string `json:"cidrs"`
	Source string   `json:"source"`
	// Usable are the pod addresses the node's IPAM can give it (0: no per-node limit), and why.
	Usable        uint64 `json:"usable"`
	AddressSource string `json:"addressSource,omitempty"`
	Used          int    `json:"used"`
	// Leaked are addresses the IPAM store claims for pods that no longer hold them: Capacity
	// already leaves them out. Counted only where LeakedFrom names a store.
	Leaked int `json:"leaked"`
	// MaxPods counts every pod; HostNetworkPods take a slot of it and no address.
	MaxPods         int64 `json:"maxPods"`
	HostNetworkPods int   `json:"hostNetworkPods"`
	// Capacity is the pod-network pods the node can hold.
	Capacity uint64 `json:"capacity"`
	// Binding is the limit that binds first.
	Binding     netmodel.Binding `json:"binding"`
	Utilisation float64          `json:"utilisation"`
}

// RangeUsage is a cluster pod CIDR carved into node CIDRs.
type RangeUsage struct {
	CIDR        string   `json:"cidr"`
	Source      string   `json:"source"`
	NodeMask    int      `json:"nodeMask"`
	Slots       uint64   `json:"slots"`
	Allocated   int      `json:"allocated"`
	Free        uint64   `json:"free"`
	Holes       int      `json:"holes"`
	Starved     []string `json:"nodesWithoutCIDR,omitempty"`
	Utilisation float64  `json:"utilisation"`
	// Inferred is set when the cluster CIDR is only the covering prefix of the node CIDRs: the real
	// one may be larger, so its utilisation is a bound, not counted against the thresholds.
	Inferred bool `json:"inferred,omitempty"`
}

// PoolUsage is a Calico IPPool.
type PoolUsage struct {
	Name        string         `json:"name"`
	APIGroup    string         `json:"apiGroup"`
	CIDR        string         `json:"cidr"`
	BlockSize   int            `json:"blockSize"`
	Disabled    bool           `json:"disabled"`
	Addresses   uint64         `json:"addresses"`
	Allocated   int            `json:"allocated"`
	Borrowed    int            `json:"borrowed"`
	Blocks      int            `json:"blocks"`
	MaxBlocks   uint64         `json:"maxBlocks"`
	BlocksBy    map[string]int `json:"blocksByNode,omitempty"`
	Utilisation float64        `json:"utilisation"`
}

// ServiceUsage is a service CIDR and the ClusterIPs taken from it.
type ServiceUsage struct {
	CIDR        string  `json:"cidr"`
	Source      string  `json:"source"`
	Usable      uint64  `json:"usable"`
	Allocated   int     `json:"allocated"`
	CountedFrom string  `json:"countedFrom"`
	Utilisation float64 `json:"utilisation"`
}

// LimitUsage is a platform limit, how much of it is used, and where the limit comes from.
type LimitUsage struct {
	Name string `json:"name"`
	// Key is Name without what changes with the nodes (see netmodel.Limit), for the gauges' label.
	Key         string             `json:"-"`
	Kind        netmodel.LimitKind `json:"kind"`
	Limit       uint64             `json:"limit"`
	Used        uint64             `json:"used"`
	Source      string             `json:"source"`
	Utilisation float64            `json:"utilisation"`
}

// StarvedNode is a node that needs a pod CIDR and has none.
type StarvedNode struct {
	Name  string `json:"name"`
	Event string `json:"event,omitempty"`
}

// BuildCIDRUsage computes every utilisation the cluster has; v is the inventory resolved, ips the
// allocated ClusterIPs.
func BuildCIDRUsage(inv *cluster.Inventory, v *netmodel.View, ips *cluster.ClusterIPs, cfg CIDRUsageConfig) *CIDRUsage {
	ev := &inv.Evidence
	u := &CIDRUsage{Notes: append(append([]string(nil), inv.Notes...), prefixed("could not read: ", ips.Unknown)...), Settings: cfg,
		Nodes: []NodeUsage{}, Ranges: []RangeUsage{}, Services: []ServiceUsage{}, Limits: []LimitUsage{}, Warnings: []Warning{}}
	u.Network = v.Cluster
	u.PodsUnknown = inv.PodsUnknown || inv.PodsNamespace != ""
	u.NodesUnknown = inv.NodesUnknown
	leaked, leakyNodes, hostLocal := 0, 0, 0
	for i := range v.Nodes {
		nn := &v.Nodes[i]
		u.Nodes = append(u.Nodes, nodeUsage(nn))
		if l := u.Nodes[len(u.Nodes)-1].Leaked; l > 0 {
			leaked, leakyNodes = leaked+l, leakyNodes+1
		}
		if nn.HostLocal() {
			hostLocal++
		}
		if nn.Capacity != nil && nn.Capacity.Binding == netmodel.BindNoPodCIDR {
			u.Starved = append(u.Starved, StarvedNode{Name: nn.Name, Event: ev.CIDRNotAvailable[nn.Name]})
		}
	}
	sort.SliceStable(u.Nodes, func(i, j int) bool {
		if u.Nodes[i].Utilisation != u.Nodes[j].Utilisation {
			return u.Nodes[i].Utilisation > u.Nodes[j].Utilisation
		}
		return u.Nodes[i].Name < u.Nodes[j].Name
	})
	u.leakNotes(inv, leaked, leakyNodes, hostLocal)
	u.Ranges = rangeUsages(inv, v, u.Starved)
	u.Pools = poolUsages(ev)
	u.Services = serviceUsages(ev, ips)
	pods := 0
	for i := range inv.Pods {
		if !inv.Pods[i].Finished() {
			pods++
		}
	}
	for _, l := range netmodel.PlatformLimits(v, pods, netmodel.LimitOptions{NodeSubnet: cfg.NodeSubnet}) {
		lu := LimitUsage{Name: l.Name, Key: cmp.Or(l.Key, l.Name), Kind: l.Kind, Limit: l.Limit, Used: l.Used, Source: l.Source}
		if l.Limit > 0 {
			lu.Utilisation = ipam.Ratio(l.Used, l.Limit)
		}
		u.Limits = append(u.Limits, lu)
	}
	if cfg.PlanNodes > 0 {
		u.Plan = plan(inv, v, u, cfg)
	}
	u.warn(ev, cfg)
	return u
}

// leakNotes say which stores the leaked addresses were counted from, and name the check that
// finds them where they could not be counted.
func (u *CIDRUsage) leakNotes(inv *cluster.Inventory, leaked, nodes, hostLocal int) {
	if inv.Claims != nil {
		for _, s := range inv.Claims.Stores {
			if s.State == cluster.StoreRead && !s.Secondary {
				u.LeakedFrom = append(u.LeakedFrom, s.Name)
			}
		}
	}
	if leaked > 0 {
		u.Notes = append(u.Notes, fmt.Sprintf("%d address(es) on %d node(s) are claimed by the IPAM for pods that no longer hold them: they are not counted as usable; 'kubectl podnet ipam check' names each and how to release it", leaked, nodes))
	}
	if hostLocal > 0 {
		u.Notes = append(u.Notes, fmt.Sprintf("host-local's reservations on %d node(s) live in the nodes' file systems, so leaks there are not subtracted: 'kubectl podnet ipam check --all-nodes' finds them", hostLocal))
	}
}

func prefixed(p string, ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, p+s)
	}
	return out
}

// nodeUsage is the node's capacity as its model resolved it.
func nodeUsage(nn *netmodel.NodeNetwork) NodeUsage {
	nu := NodeUsage{Name: nn.Name, CIDRs: prefixStrings(nn.PodCIDRs), Source: string(nn.Source)}
	if c := nn.Capacity; c != nil {
		nu.Usable, nu.Used, nu.Leaked, nu.MaxPods, nu.HostNetworkPods = c.Addresses, c.Used, c.Leaked, c.MaxPods, c.HostNetworkPods
		nu.Capacity, nu.Binding, nu.Utilisation, nu.AddressSource = c.PodIPs, c.Binding, c.Utilisation, c.AddressSource
	}
	return nu
}

// rangeUsages carves each cluster pod CIDR into node CIDRs: those the nodes' models resolved
// (spec.podCIDRs, or the CiliumNodes of Cilium's cluster pool).
func rangeUsages(inv *cluster.Inventory, v *netmodel.View, starved []StarvedNode) []RangeUsage {
	var allocated []netip.Prefix
	for _, nn := range v.Nodes {
		if nn.Source != netmodel.SourceCalicoBlocks {
			allocated = append(allocated, nn.PodCIDRs...)
		}
	}
	out := []RangeUsage{}
	for _, c := range netmodel.ClusterPodCIDRs(&inv.Evidence, v) {
		if c.Pool {
			continue // Calico pools get their own lines
		}
		p, err := netip.ParsePrefix(c.CIDR)
		if err != nil {
			continue
		}
		p = p.Masked()
		var inside []netip.Prefix
		masks := map[int]int{}
		for _, a := range allocated {
			if p.Contains(a.Addr()) && a.Bits() >= p.Bits() {
				inside = append(inside, a.Masked())
				masks[a.Bits()]++
			}
		}
		mask := commonMask(masks)
		if mask == 0 {
			switch {
			case c.NodeMask > 0:
				mask = c.NodeMask
			case p.Addr().Is4():
				mask = 24
			default:
				mask = 64
			}
		}
		free := ipam.Free(p, inside)
		r := RangeUsage{CIDR: p.String(), Source: c.Source, NodeMask: mask, Slots: ipam.Slots(p, mask), Allocated: len(inside),
			Free: ipam.FreeSlots(free, mask), Holes: ipam.Holes(free, inside), Inferred: c.Inferred}
		for _, s := range starved {
			r.Starved = append(r.Starved, s.Name)
		}
		r.Utilisation = ipam.Ratio(uint64(r.Allocated), r.Slots)
		if len(r.Starved) > 0 && r.Free == 0 {
			r.Utilisation = math.Max(r.Utilisation, 1)
		}
		out = append(out, r)
	}
	return out
}

func commonMask(masks map[int]int) int {
	best, n := 0, 0
	for m, c := range masks {
		if c > n || c == n && m < best {
			best, n = m, c
		}
	}
	return best
}

// poolUsages are the IPAM pools handed out in blocks (Calico's IPPools): blocks claimed and by
// which node, addresses allocated and borrowed.
func poolUsages(ev *cluster.Evidence) []PoolUsage {
	var out []PoolUsage
	for _, p := range netmodel.Pools(ev) {
		pu := PoolUsage{Name: p.Name, APIGroup: p.APIGroup, CIDR: p.CIDR.String(), BlockSize: p.BlockSize, Disabled: p.Disabled,
			Addresses: ipam.Size(p.CIDR), MaxBlocks: ipam.Slots(p.CIDR, p.BlockSize), BlocksBy: map[string]int{}}
		for _, b := range p.Blocks {
			pu.Blocks++
			pu.Allocated += b.Allocated
			pu.Borrowed += b.Borrowed
			pu.BlocksBy[dashIfEmpty(b.Node)]++
		}
		// blocks claimed reserve their addresses for their node: that is what runs out first
		pu.Utilisation = math.Max(ipam.Ratio(uint64(pu.Blocks), pu.MaxBlocks), ipam.Ratio(uint64(pu.Allocated), pu.Addresses))
		out = append(out, pu)
	}
	return out
}

func serviceUsages(ev *cluster.Evidence, x *cluster.ClusterIPs) []ServiceUsage {
	out := []ServiceUsage{}
	for _, c := range netmodel.ServiceCIDRs(ev) {
		p, err := netip.ParsePrefix(c.CIDR)
		if err != nil {
			continue // only an address is known (inferred)
		}
		su := ServiceUsage{CIDR: p.String(), Source: c.Source, Usable: ipam.ServiceUsable(p), CountedFrom: dashIfEmpty(x.CountedFrom)}
		for _, a := range x.Addresses {
			if p.Contains(a) {
				su.Allocated++
			}
		}
		su.Utilisation = ipam.Ratio(uint64(su.Allocated), su.Usable)
		out = append(out, su)
	}
	return out
}

func (u *CIDRUsage) warn(ev *cluster.Evidence, cfg CIDRUsageConfig) {
	add := func(kind, obj, what, msg string, ratio float64) {
		if ratio > u.Max {
			u.Max, u.Hottest = ratio, what
		}
		if ratio*100 >= cfg.WarnAt {
			u.Warnings = append(u.Warnings, Warning{Kind: kind, Object: obj, Message: msg})
		}
	}
	for _, s := range u.Starved {
		msg := fmt.Sprintf("node %s has no pod CIDR: its pods cannot get an address", s.Name)
		if s.Event != "" {
			msg += fmt.Sprintf(" (event CIDRNotAvailable: %q)", s.Event)
		}
		if u.Max < 1 {
			u.Max, u.Hottest = 1, "node "+s.Name+" without a pod CIDR"
		}
		u.Warnings = append(u.Warnings, Warning{Kind: WarnNoPodCIDR, Object: "node/" + s.Name, Message: msg})
	}
	for _, r := range u.Ranges {
		if r.Inferred {
			continue
		}
		msg := fmt.Sprintf("cluster CIDR %s: %d of %d /%d node CIDRs allocated (%s), %d more nodes can join", r.CIDR, r.Allocated, r.Slots, r.NodeMask, pct(r.Utilisation), r.Free)
		if len(r.Starved) > 0 {
			msg += fmt.Sprintf("; %d node(s) already have none: the cluster CIDR is exhausted", len(r.Starved))
		}
		add("ClusterCIDR", r.CIDR, "cluster CIDR "+r.CIDR, msg, r.Utilisation)
	}
	for _, n := range u.Nodes {
		add("NodeAddresses", "node/"+n.Name, "node "+n.Name, fmt.Sprintf("node %s: %d pod IPs in use of %d (%s, bound by %s)", n.Name, n.Used, n.Capacity, pct(n.Utilisation), n.Binding), n.Utilisation)
	}
	for _, p := range u.Pools {
		if p.Disabled {
			continue
		}
		add("IPPool", "ippool/"+p.Name, "IPPool "+p.Name, fmt.Sprintf("IPPool %s (%s): %d of %d /%d blocks claimed, %d of %d addresses allocated (%s)", p.Name, p.CIDR, p.Blocks, p.MaxBlocks, p.BlockSize, p.Allocated, p.Addresses, pct(p.Utilisation)), p.Utilisation)
	}
	if ev.MaxBlocksPerHost > 0 {
		for _, p := range u.Pools {
			for _, node := range slices.Sorted(maps.Keys(p.BlocksBy)) {
				b := p.BlocksBy[node]
				ratio := float64(b) / float64(ev.MaxBlocksPerHost)
				add("MaxBlocksPerHost", "node/"+node, "Calico blocks of node "+node, fmt.Sprintf("node %s holds %d of at most %d Calico blocks (IPAMConfig maxBlocksPerHost)", node, b, ev.MaxBlocksPerHost), ratio)
			}
		}
	}
	for _, s := range u.Services {
		add("ServiceCIDR", s.CIDR, "service CIDR "+s.CIDR, fmt.Sprintf("service CIDR %s: %d of %d ClusterIPs allocated (%s)", s.CIDR, s.Allocated, s.Usable, pct(s.Utilisation)), s.Utilisation)
	}
	for _, l := range u.Limits {
		if l.Limit > 0 {
			add("PlatformLimit", l.Name, l.Name, fmt.Sprintf("%s: %d of %d used (%s): %s", l.Name, l.Used, l.Limit, pct(l.Utilisation), l.Source), l.Utilisation)
		}
	}
}

func pct(r float64) string { return fmt.Sprintf("%.0f%%", r*100) }
