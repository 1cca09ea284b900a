package inspect

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/podnet/kubectl-podnet/internal/ipam"
)

// CIDRUsage answers "are we running out of IPs?": `kubectl podnet cidr-usage`.
type CIDRUsage struct {
	Network  Network         `json:"network"`
	Nodes    []NodeUsage     `json:"nodes"`
	Ranges   []RangeUsage    `json:"clusterCIDRs"`
	Pools    []PoolUsage     `json:"ipPools,omitempty"`
	Services []ServiceUsage  `json:"serviceCIDRs"`
	Limits   []LimitUsage    `json:"platformLimits"`
	Plan     *PlanResult     `json:"plan,omitempty"`
	Starved  []StarvedNode   `json:"nodesWithoutCIDR,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
	Warnings []Warning       `json:"warnings"`
	Max      float64         `json:"maxUtilisation"`
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
	Name     string   `json:"name"`
	CIDRs    []string `json:"cidrs"`
	Source   string   `json:"source"`
	Usable   uint64   `json:"usable"`
	Used     int      `json:"used"`
	MaxPods  int64    `json:"maxPods"`
	Capacity uint64   `json:"capacity"`
	// Binding is the limit that binds first: "addresses" or "max-pods".
	Binding     string  `json:"binding"`
	Utilisation float64 `json:"utilisation"`
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
	Name        string  `json:"name"`
	Limit       uint64  `json:"limit"`
	Used        uint64  `json:"used"`
	Source      string  `json:"source"`
	Utilisation float64 `json:"utilisation"`
}

// StarvedNode is a node that needs a pod CIDR and has none.
type StarvedNode struct {
	Name  string `json:"name"`
	Event string `json:"event,omitempty"`
}

// CIDRExtra is what cidr-usage reads beyond the inventory.
type CIDRExtra struct {
	// MaxBlocksPerHost is Calico's IPAMConfig limit (0 = none).
	MaxBlocksPerHost int
	// ClusterIPs are the allocated ClusterIPs, from IPAddress objects or else Services.
	ClusterIPs  []netip.Addr
	CountedFrom string
	Unknown     []string
}

var (
	gvrCalicoIPAMConfigV1 = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "ipamconfigs"}
	gvrCalicoIPAMConfigV3 = schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "ipamconfigurations"}
)

// GatherCIDRExtra reads Calico's IPAMConfig and the allocated ClusterIPs (IPAddress objects where
// the API has them, else the Services' ClusterIPs).
func GatherCIDRExtra(ctx context.Context, c Clients, ev *Evidence) *CIDRExtra {
	x := &CIDRExtra{}
	for _, gvr := range []schema.GroupVersionResource{gvrCalicoIPAMConfigV1, gvrCalicoIPAMConfigV3} {
		if !ev.Resources[gvrKey(gvr)] {
			continue
		}
		list, err := c.Dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			x.Unknown = append(x.Unknown, fmt.Sprintf("Calico IPAMConfig (%s): %s", gvr.Group, reason(err)))
			continue
		}
		for _, it := range list.Items {
			v, _, _ := unstructured.NestedFieldNoCopy(it.Object, "spec", "maxBlocksPerHost")
			if n := toInt(v); n > 0 {
				x.MaxBlocksPerHost = n
			}
		}
	}
	if ev.Resources["networking.k8s.io/v1/ipaddresses"] {
		list, err := c.Kube.NetworkingV1().IPAddresses().List(ctx, metav1.ListOptions{})
		if err == nil {
			x.CountedFrom = "IPAddress objects"
			for _, it := range list.Items {
				if a, err := netip.ParseAddr(it.Name); err == nil {
					x.ClusterIPs = append(x.ClusterIPs, a)
				}
			}
			return x
		}
		x.Unknown = append(x.Unknown, "IPAddresses: "+reason(err))
	}
	svcs, err := c.Kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsForbidden(err) {
			x.Unknown = append(x.Unknown, "Services: forbidden: service CIDR usage unknown")
		} else {
			x.Unknown = append(x.Unknown, "Services: "+reason(err))
		}
		return x
	}
	x.CountedFrom = "Services"
	for _, s := range svcs.Items {
		for _, ip := range s.Spec.ClusterIPs {
			if a, err := netip.ParseAddr(ip); err == nil {
				x.ClusterIPs = append(x.ClusterIPs, a)
			}
		}
	}
	return x
}

// BuildCIDRUsage computes every utilisation the cluster has.
func BuildCIDRUsage(inv *Inventory, x *CIDRExtra, cfg CIDRUsageConfig) *CIDRUsage {
	ev := &inv.Evidence
	u := &CIDRUsage{Notes: append(append([]string(nil), inv.Notes...), prefixed("could not read: ", x.Unknown)...), Settings: cfg,
		Nodes: []NodeUsage{}, Ranges: []RangeUsage{}, Services: []ServiceUsage{}, Limits: []LimitUsage{}, Warnings: []Warning{}}
	nets := make(map[string]Network, len(inv.Nodes))
	ordered := make([]Network, len(inv.Nodes))
	for i := range inv.Nodes {
		ordered[i] = DetectNode(&inv.Nodes[i], ev)
		nets[inv.Nodes[i].Name] = ordered[i]
	}
	u.Network = ClusterNetwork(ordered, ev)
	used := map[string]int{}
	for i := range inv.Pods {
		if inv.Pods[i].HoldsIP() {
			used[inv.Pods[i].Node]++
		}
	}
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		nu := nodeUsage(n, nets[n.Name], ev, used[n.Name])
		u.Nodes = append(u.Nodes, nu)
		if len(nu.CIDRs) == 0 && nets[n.Name].UsesNodePodCIDR(ev) || ev.CIDRNotAvailable[n.Name] != "" && len(n.PodCIDRs) == 0 {
			u.Starved = append(u.Starved, StarvedNode{Name: n.Name, Event: ev.CIDRNotAvailable[n.Name]})
		}
	}
	sort.SliceStable(u.Nodes, func(i, j int) bool {
		if u.Nodes[i].Utilisation != u.Nodes[j].Utilisation {
			return u.Nodes[i].Utilisation > u.Nodes[j].Utilisation
		}
		return u.Nodes[i].Name < u.Nodes[j].Name
	})
	u.Ranges = rangeUsages(inv, u.Starved)
	u.Pools = poolUsages(ev)
	u.Services = serviceUsages(ev, x)
	u.Limits = platformLimits(inv, nets, used, cfg)
	if cfg.PlanNodes > 0 {
		u.Plan = plan(inv, u, cfg)
	}
	u.warn(x, cfg)
	return u
}

func prefixed(p string, ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, p+s)
	}
	return out
}

func nodeUsage(n *Node, nw Network, ev *Evidence, used int) NodeUsage {
	nu := NodeUsage{Name: n.Name, Used: used, MaxPods: n.AllocatablePods, CIDRs: []string{}}
	var cidrs []netip.Prefix
	usableOf := ipam.HostLocalUsable
	switch {
	case nw.Model == ModelCalico && len(ev.CalicoBlocks) > 0:
		nu.Source = "Calico IPAM blocks"
		cidrs = ev.NodeBlocks(n.Name)
		usableOf = ipam.Size // a block hands out every address
	case ev.CiliumNodes[n.Name] != nil && len(ev.CiliumNodes[n.Name].PodCIDRs) > 0:
		nu.Source = "CiliumNode"
		cidrs = ev.CiliumNodes[n.Name].PodCIDRs
		usableOf = ipam.CiliumUsable
	case nw.Model == ModelAWSVPCCNI || nw.Model == ModelAzureCNI:
		nu.Source = "VPC/VNet subnet (no node CIDR)"
	case len(n.PodCIDRs) > 0:
		nu.Source = "spec.podCIDRs"
		cidrs = n.PodCIDRs
	default:
		nu.Source = "none"
	}
	for _, p := range cidrs {
		nu.CIDRs = append(nu.CIDRs, p.String())
		if p.Addr().Is4() || len(cidrs) == 1 { // dual-stack: IPv4 is the scarce family
			nu.Usable += usableOf(p)
		}
	}
	nu.Capacity = uint64(max(nu.MaxPods, 0))
	nu.Binding = "max-pods"
	if len(cidrs) > 0 && nu.Usable < nu.Capacity && nw.Model != ModelCalico {
		nu.Capacity, nu.Binding = nu.Usable, "addresses"
	}
	if nw.Model == ModelCalico && len(cidrs) > 0 && nu.Usable < nu.Capacity {
		nu.Binding = "max-pods (blocks are claimed on demand)"
	}
	if len(cidrs) == 0 && (nw.UsesNodePodCIDR(ev) || ev.CIDRNotAvailable[n.Name] != "") {
		nu.Capacity, nu.Binding = 0, "no pod CIDR"
	}
	nu.Utilisation = ipam.Ratio(uint64(used), nu.Capacity)
	return nu
}

// rangeUsages carves each cluster pod CIDR (and Cilium cluster-pool CIDR) into node CIDRs.
func rangeUsages(inv *Inventory, starved []StarvedNode) []RangeUsage {
	ev := &inv.Evidence
	var allocated []netip.Prefix
	for _, n := range inv.Nodes {
		allocated = append(allocated, n.PodCIDRs...)
	}
	ciliumPool := ev.Cilium != nil && ev.Cilium.IPAM == "cluster-pool" && len(ev.CiliumNodes) > 0
	if ciliumPool {
		allocated = nil
		for _, cn := range ev.CiliumNodes {
			allocated = append(allocated, cn.PodCIDRs...)
		}
	}
	out := []RangeUsage{}
	for _, c := range ClusterPodCIDRs(inv) {
		if strings.HasPrefix(c.Source, "IPPool ") {
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
			case ciliumPool && ev.Cilium.ClusterPoolMaskSize > 0 && p.Addr().Is4():
				mask = ev.Cilium.ClusterPoolMaskSize
			case p.Addr().Is4():
				mask = 24
			default:
				mask = 64
			}
		}
		free := ipam.Free(p, inside)
		r := RangeUsage{CIDR: p.String(), Source: c.Source, NodeMask: mask, Slots: ipam.Slots(p, mask), Allocated: len(inside),
			Free: ipam.FreeSlots(free, mask), Holes: ipam.Holes(free, inside), Inferred: strings.Contains(c.Source, "(inferred)")}
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

func poolUsages(ev *Evidence) []PoolUsage {
	var out []PoolUsage
	for _, p := range ev.CalicoPools {
		cidr, err := netip.ParsePrefix(p.CIDR)
		if err != nil {
			continue
		}
		cidr = cidr.Masked()
		pu := PoolUsage{Name: p.Name, APIGroup: p.APIGroup, CIDR: cidr.String(), BlockSize: p.BlockSize, Disabled: p.Disabled,
			Addresses: ipam.Size(cidr), MaxBlocks: ipam.Slots(cidr, p.BlockSize), BlocksBy: map[string]int{}}
		for _, b := range ev.CalicoBlocks {
			if cidr.Contains(b.CIDR.Addr()) {
				pu.Blocks++
				pu.Allocated += b.Allocated
				pu.Borrowed += b.Borrowed
				pu.BlocksBy[dashIfEmpty(b.Node)]++
			}
		}
		// blocks claimed reserve their addresses for their node: that is what runs out first
		pu.Utilisation = math.Max(ipam.Ratio(uint64(pu.Blocks), pu.MaxBlocks), ipam.Ratio(uint64(pu.Allocated), pu.Addresses))
		out = append(out, pu)
	}
	return out
}

func serviceUsages(ev *Evidence, x *CIDRExtra) []ServiceUsage {
	out := []ServiceUsage{}
	for _, c := range ClusterServiceCIDRs(ev) {
		p, err := netip.ParsePrefix(c.CIDR)
		if err != nil {
			continue // only an address is known (inferred)
		}
		su := ServiceUsage{CIDR: p.String(), Source: c.Source, Usable: ipam.ServiceUsable(p), CountedFrom: dashIfEmpty(x.CountedFrom)}
		for _, a := range x.ClusterIPs {
			if p.Contains(a) {
				su.Allocated++
			}
		}
		su.Utilisation = ipam.Ratio(uint64(su.Allocated), su.Usable)
		out = append(out, su)
	}
	return out
}

// Platform limits and their sources.
const (
	aksRouteLimit      = 400
	upstreamNodes      = 5000
	upstreamPods       = 150000
	azureSubnetReserve = 5
)

func platformLimits(inv *Inventory, nets map[string]Network, used map[string]int, cfg CIDRUsageConfig) []LimitUsage {
	out := []LimitUsage{}
	azureKubenet, azureCNI := 0, 0
	var azureCNIAddrs uint64
	routes := 0
	for _, n := range inv.Nodes {
		az := strings.HasPrefix(n.ProviderID, "azure://")
		switch {
		case az && nets[n.Name].Model == ModelKubenet:
			azureKubenet++
			routes += max(len(n.PodCIDRs), 1)
		case az && nets[n.Name].Model == ModelAzureCNI && nets[n.Name].Mode == "node-subnet":
			azureCNI++
			azureCNIAddrs += uint64(n.AllocatablePods) + 1
		}
	}
	if azureKubenet > 0 {
		out = append(out, LimitUsage{Name: "Azure route table (kubenet)", Limit: aksRouteLimit, Used: uint64(routes),
			Source: "AKS kubenet: one user-defined route per node pod CIDR, at most 400 routes per route table, so at most 400 nodes"})
	}
	if azureCNI > 0 {
		l := LimitUsage{Name: "Azure CNI node subnet", Used: azureCNIAddrs,
			Source: "AKS Azure CNI (node subnet): every node takes max-pods + 1 subnet addresses up front; Azure reserves 5 per subnet"}
		if p, err := netip.ParsePrefix(cfg.NodeSubnet); err == nil {
			l.Limit = ipam.Size(p.Masked()) - azureSubnetReserve
			l.Name += " " + p.Masked().String()
		} else {
			l.Source += "; give --node-subnet CIDR to compute the headroom"
		}
		out = append(out, l)
	}
	out = append(out, awsLimits(inv, nets, used)...)
	pods := 0
	for i := range inv.Pods {
		if inv.Pods[i].Phase != "Succeeded" && inv.Pods[i].Phase != "Failed" {
			pods++
		}
	}
	out = append(out,
		LimitUsage{Name: "nodes per cluster", Limit: upstreamNodes, Used: uint64(len(inv.Nodes)), Source: "Kubernetes scalability thresholds: clusters are designed for at most 5,000 nodes"},
		LimitUsage{Name: "pods per cluster", Limit: upstreamPods, Used: uint64(pods), Source: "Kubernetes scalability thresholds: at most 150,000 pods"},
	)
	for i := range out {
		if out[i].Limit > 0 {
			out[i].Utilisation = ipam.Ratio(out[i].Used, out[i].Limit)
		}
	}
	return out
}

// eniLimits are, per EC2 instance type, the ENIs it takes and the IPv4 addresses per ENI (AWS
// documentation, "IP addresses per network interface per instance type").
var eniLimits = map[string][2]int{
	"t3.small": {3, 4}, "t3.medium": {3, 6}, "t3.large": {3, 12}, "t3.xlarge": {4, 15}, "t3.2xlarge": {4, 15},
	"m5.large": {3, 10}, "m5.xlarge": {4, 15}, "m5.2xlarge": {4, 15}, "m5.4xlarge": {8, 30},
	"m6i.large": {3, 10}, "m6i.xlarge": {4, 15}, "m6i.2xlarge": {4, 15}, "m7i.large": {3, 10}, "m7i.xlarge": {4, 15},
	"c5.large": {3, 10}, "c5.xlarge": {4, 15}, "c5.2xlarge": {4, 15}, "r5.large": {3, 10}, "r5.xlarge": {4, 15},
}

// awsLimits gives, per instance type of the AWS VPC CNI nodes, the pods their ENIs can address;
// used counts the pod IPs in use per node.
func awsLimits(inv *Inventory, nets map[string]Network, used map[string]int) []LimitUsage {
	type agg struct {
		nodes, used int
		alloc       int64
	}
	byType := map[string]*agg{}
	for _, n := range inv.Nodes {
		if nets[n.Name].Model != ModelAWSVPCCNI {
			continue
		}
		t := dashIfEmpty(n.InstanceType)
		a := byType[t]
		if a == nil {
			a = &agg{}
			byType[t] = a
		}
		a.nodes++
		a.used += used[n.Name]
		a.alloc = max(a.alloc, n.AllocatablePods)
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	var out []LimitUsage
	for _, t := range types {
		a := byType[t]
		per := a.alloc
		src := fmt.Sprintf("AWS VPC CNI on %s: max pods taken from the nodes' allocatable pods (instance type not in the ENI table)", t)
		if e, ok := eniLimits[t]; ok {
			per = int64(e[0]*(e[1]-1) + 2)
			src = fmt.Sprintf("AWS VPC CNI: max pods = ENIs x (IPv4 per ENI - 1) + 2 = %d x (%d - 1) + 2 = %d on %s", e[0], e[1], per, t)
			if a.alloc > 0 && a.alloc != per {
				src += fmt.Sprintf("; the nodes allow %d (prefix delegation or a custom max-pods)", a.alloc)
			}
		}
		out = append(out, LimitUsage{Name: fmt.Sprintf("ENI addresses (%d x %s)", a.nodes, t), Limit: uint64(per) * uint64(a.nodes), Used: uint64(a.used), Source: src})
	}
	return out
}

func (u *CIDRUsage) warn(x *CIDRExtra, cfg CIDRUsageConfig) {
	add := func(kind, obj, msg string, ratio float64) {
		u.Max = math.Max(u.Max, ratio)
		if ratio*100 >= cfg.WarnAt {
			u.Warnings = append(u.Warnings, Warning{Kind: kind, Object: obj, Message: msg})
		}
	}
	for _, s := range u.Starved {
		msg := fmt.Sprintf("node %s has no pod CIDR: its pods cannot get an address", s.Name)
		if s.Event != "" {
			msg += fmt.Sprintf(" (event CIDRNotAvailable: %q)", s.Event)
		}
		u.Max = math.Max(u.Max, 1)
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
		add("ClusterCIDR", r.CIDR, msg, r.Utilisation)
	}
	for _, n := range u.Nodes {
		add("NodeAddresses", "node/"+n.Name, fmt.Sprintf("node %s: %d pod IPs in use of %d (%s, bound by %s)", n.Name, n.Used, n.Capacity, pct(n.Utilisation), n.Binding), n.Utilisation)
	}
	for _, p := range u.Pools {
		if p.Disabled {
			continue
		}
		add("IPPool", "ippool/"+p.Name, fmt.Sprintf("IPPool %s (%s): %d of %d /%d blocks claimed, %d of %d addresses allocated (%s)", p.Name, p.CIDR, p.Blocks, p.MaxBlocks, p.BlockSize, p.Allocated, p.Addresses, pct(p.Utilisation)), p.Utilisation)
	}
	if x.MaxBlocksPerHost > 0 {
		for _, p := range u.Pools {
			for node, b := range p.BlocksBy {
				ratio := float64(b) / float64(x.MaxBlocksPerHost)
				add("MaxBlocksPerHost", "node/"+node, fmt.Sprintf("node %s holds %d of at most %d Calico blocks (IPAMConfig maxBlocksPerHost)", node, b, x.MaxBlocksPerHost), ratio)
			}
		}
	}
	for _, s := range u.Services {
		add("ServiceCIDR", s.CIDR, fmt.Sprintf("service CIDR %s: %d of %d ClusterIPs allocated (%s)", s.CIDR, s.Allocated, s.Usable, pct(s.Utilisation)), s.Utilisation)
	}
	for _, l := range u.Limits {
		if l.Limit > 0 {
			add("PlatformLimit", l.Name, fmt.Sprintf("%s: %d of %d used (%s): %s", l.Name, l.Used, l.Limit, pct(l.Utilisation), l.Source), l.Utilisation)
		}
	}
}

func pct(r float64) string { return fmt.Sprintf("%.0f%%", r*100) }
