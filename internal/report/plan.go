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

// Shortfall names the checks the plan fails, with what they need and have.
func (p *PlanResult) Shortfall() string {
	var out []string
	for _, c := range p.Checks {
		if !c.OK {
			out = append(out, fmt.Sprintf("%s: need %d, have %d", c.Name, c.Need, c.Have))
		}
	}
	return strings.Join(out, "; ")
}

// CheckPlanMask refuses a what-if node CIDR mask that cannot describe a plan: one shorter than an
// IPv4 cluster CIDR (no node CIDR fits in it), or one that leaves a node no pod address under the
// cluster's network model. It needs the cluster's ranges, so it runs after BuildCIDRUsage.
func CheckPlanMask(u *CIDRUsage, mask int) error {
	if mask == 0 {
		return nil
	}
	model := u.Network.Descriptor()
	var v4 []netip.Prefix
	for _, r := range u.Ranges {
		if pfx, err := netip.ParsePrefix(r.CIDR); err == nil && pfx.Addr().Is4() {
			v4 = append(v4, pfx)
		}
	}
	if len(v4) == 0 {
		return fmt.Errorf("--node-cidr-mask /%d has no IPv4 cluster pod CIDR to plan in (none is known for this cluster, model %s); plan without it, or read the CIDR with 'kubectl podnet summary'", mask, model.Name())
	}
	for _, pfx := range v4 {
		if mask < pfx.Bits() {
			return fmt.Errorf("--node-cidr-mask /%d does not fit in cluster CIDR %s: a node CIDR cannot be larger than the range it is cut from; give a mask from /%d up", mask, pfx, pfx.Bits())
		}
	}
	node := netip.PrefixFrom(v4[0].Addr(), mask).Masked()
	if usable, src := netmodel.Usable(model, node); usable == 0 {
		longest := mask
		for longest > v4[0].Bits() {
			longest--
			if n, _ := netmodel.Usable(model, netip.PrefixFrom(v4[0].Addr(), longest).Masked()); n > 0 {
				break
			}
		}
		return fmt.Errorf("--node-cidr-mask /%d leaves a node no pod address under %s (%s): give a mask of /%d or shorter", mask, model.Name(), src, longest)
	}
	return nil
}
