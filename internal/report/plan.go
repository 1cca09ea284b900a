package report

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/ipam"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

// PlanResult answers "would the current ranges hold N nodes of M pods?".
type PlanResult struct {
	Nodes    int         `json:"nodes"`
	MaxPods  int         `json:"maxPods"`
	NodeMask int         `json:"nodeCIDRMask,omitempty"`
	Holds    bool        `json:"holds"`
	Binding  string      `json:"bindsFirst"`
	Checks   []PlanCheck `json:"checks"`
	// Smallest are the smallest cluster CIDRs that would hold the nodes, per family.
	Smallest []string `json:"smallestClusterCIDRs,omitempty"`
}

// PlanCheck is one limit the plan must fit in.
type PlanCheck struct {
	Name   string `json:"name"`
	Need   uint64 `json:"need"`
	Have   uint64 `json:"have"`
	OK     bool   `json:"ok"`
	Source string `json:"source"`
}

func plan(inv *cluster.Inventory, v *netmodel.View, u *CIDRUsage, cfg CIDRUsageConfig) *PlanResult {
	p := &PlanResult{Nodes: cfg.PlanNodes, MaxPods: cfg.PlanMax, NodeMask: cfg.PlanMask, Checks: []PlanCheck{}}
	if p.MaxPods == 0 {
		p.MaxPods = commonMaxPods(inv)
	}
	n, m := uint64(p.Nodes), uint64(p.MaxPods)
	model := v.Cluster.Descriptor()
	for _, r := range u.Ranges {
		pfx, err := netip.ParsePrefix(r.CIDR)
		if err != nil {
			continue
		}
		mask := r.NodeMask
		if p.NodeMask > 0 && pfx.Addr().Is4() {
			mask = p.NodeMask
		}
		if pfx.Addr().Is4() && p.NodeMask == 0 {
			p.NodeMask = mask
		}
		p.Checks = append(p.Checks, PlanCheck{Name: fmt.Sprintf("node CIDRs (/%d) in cluster CIDR %s", mask, r.CIDR), Need: n, Have: ipam.Slots(pfx, mask),
			Source: "one node CIDR per node (kube-controller-manager --node-cidr-mask-size)"})
		if bits := ipam.SmallestPrefixFor(n, mask); bits >= 0 {
			p.Smallest = append(p.Smallest, netip.PrefixFrom(pfx.Addr(), min(bits, pfx.Bits())).Masked().String())
		}
		node := netip.PrefixFrom(pfx.Addr(), mask).Masked()
		usable, src := netmodel.Usable(model, node)
		if pfx.Addr().Is4() {
			p.Checks = append(p.Checks, PlanCheck{Name: fmt.Sprintf("pod addresses in a /%d node CIDR", mask), Need: m, Have: usable, Source: src})
		}
	}
	if gke := anyProvider(inv, "gce://"); gke && p.NodeMask > 0 {
		p.Checks = append(p.Checks, PlanCheck{Name: fmt.Sprintf("GKE node block (/%d) of at least twice max pods", p.NodeMask), Need: 2 * m, Have: ipam.Pow2(32 - p.NodeMask),
			Source: netmodel.GKENodeBlock})
	}
	var blocks, maxBlocks uint64
	blockSize := 0
	for _, pu := range u.Pools {
		if !pu.Disabled {
			maxBlocks += pu.MaxBlocks
			blockSize = pu.BlockSize
		}
	}
	if maxBlocks > 0 && blockSize > 0 {
		per := ipam.Pow2(32 - blockSize)
		blocks = n * ((m + per - 1) / per)
		p.Checks = append(p.Checks, PlanCheck{Name: fmt.Sprintf("Calico /%d blocks in the enabled IPPools", blockSize), Need: blocks, Have: maxBlocks,
			Source: "Calico claims whole blocks per node: max pods / block size, rounded up, per node"})
	}
	families := uint64(1)
	for _, r := range u.Ranges {
		if strings.Contains(r.CIDR, ":") && len(u.Ranges) > 1 {
			families = 2
		}
	}
	for _, l := range u.Limits {
		need := map[netmodel.LimitKind]uint64{netmodel.LimitRoutes: n * families, netmodel.LimitNodeSubnet: n * (m + 1), netmodel.LimitNodes: n, netmodel.LimitPods: n * m}
		if want, ok := need[l.Kind]; ok && l.Limit > 0 {
			p.Checks = append(p.Checks, PlanCheck{Name: l.Name, Need: want, Have: l.Limit, Source: l.Source})
		}
	}
	p.Holds = true
	worst := -1.0
	for i := range p.Checks {
		c := &p.Checks[i]
		c.OK = c.Have >= c.Need
		if !c.OK {
			p.Holds = false
		}
		ratio := float64(c.Need) / float64(max(c.Have, 1))
		if ratio > worst {
			worst, p.Binding = ratio, c.Name
		}
	}
	if len(p.Checks) == 0 {
		p.Binding = "nothing known to this model"
	}
	return p
}

func commonMaxPods(inv *cluster.Inventory) int {
	counts := map[int64]int{}
	for _, n := range inv.Nodes {
		counts[n.AllocatablePods]++
	}
	best, c := int64(110), 0
	for v, k := range counts {
		if v > 0 && (k > c || k == c && v < best) {
			best, c = v, k
		}
	}
	return int(best)
}

func anyProvider(inv *cluster.Inventory, prefix string) bool {
	for _, n := range inv.Nodes {
		if strings.HasPrefix(n.ProviderID, prefix) {
			return true
		}
	}
	return false
}
