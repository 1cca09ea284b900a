package report

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

// IPAMFindingKind is what is wrong with an address.
type IPAMFindingKind string

// Finding kinds of `ipam check`.
const (
	// FindLeaked: claimed by an IPAM store, held by no live pod or node.
	FindLeaked IPAMFindingKind = "leaked"
	// FindOrphaned: held by a live pod, claimed by no store, or outside its node's range.
	FindOrphaned IPAMFindingKind = "orphaned"
	// FindDuplicate: held by two live pods, or by a pod and a node.
	FindDuplicate IPAMFindingKind = "duplicate"
	// FindOutOfRange: a ClusterIP, node CIDR or block outside every range it belongs in.
	FindOutOfRange IPAMFindingKind = "out-of-range"
	// FindStale: IPAM state of a node that no longer exists, or an address borrowed from another
	// node's block.
	FindStale IPAMFindingKind = "stale"
)

// IPAMFinding is one address (or range) found wrong, who claims it, what holds it and what to do.
type IPAMFinding struct {
	Kind    IPAMFindingKind `json:"kind"`
	Address string          `json:"address"`
	// Store is what claims it: an IPAM object, a pod's status, a Service, a Node.
	Store string `json:"store"`
	// ClaimedFor is whom the store claims it for, as it says.
	ClaimedFor string `json:"claimedFor,omitempty"`
	// HeldBy is what really holds it now ("nobody" when nothing live does).
	HeldBy string `json:"heldBy"`
	Since  string `json:"since,omitempty"`
	Reason string `json:"reason"`
	// Next is the safe next step.
	Next string `json:"next"`
}

// IPAMCheck is the report of `ipam check`.
type IPAMCheck struct {
	Findings []IPAMFinding           `json:"findings"`
	Counts   map[IPAMFindingKind]int `json:"counts"`
	Stores   []cluster.ClaimStore    `json:"stores"`
	Checked  IPAMChecked             `json:"checked"`
	Notes    []string                `json:"notes,omitempty"`
	// Unproven are host-local reservations held by no pod that could not be called leaked.
	Unproven []Unproven                  `json:"unproven,omitempty"`
	byAddr   map[netip.Addr][]*podHolder `json:"-"`
}

// IPAMChecked counts what was joined.
type IPAMChecked struct {
	Pods   int `json:"podsHoldingAddresses"`
	Claims int `json:"claims"`
	Nodes  int `json:"nodes"`
}

type podHolder struct {
	name string // namespace/name
	node string
}

// Gaps are the stores that could not be read: the check says nothing of what they hold.
func (c *IPAMCheck) Gaps() []string {
	var out []string
	for _, s := range c.Stores {
		if s.State == cluster.StoreUnreadable {
			out = append(out, s.Name+" ("+s.Reason+")")
		}
	}
	return out
}

// BuildIPAMCheck joins the IPAM stores' claims with the live pods and nodes. It claims a leak only
// where a store names a pod (or node) that provably does not hold the address; an address whose
// claim names nobody, or a store that could not be read, proves nothing and is never a finding.
// ns are the stores read on the nodes (nil: none was probed).
func BuildIPAMCheck(inv *cluster.Inventory, v *netmodel.View, ips *cluster.ClusterIPs, ns *NodeStores) *IPAMCheck {
	c := &IPAMCheck{Findings: []IPAMFinding{}, Counts: map[IPAMFindingKind]int{}, Stores: []cluster.ClaimStore{}, Notes: slices.Clone(inv.Notes),
		byAddr: map[netip.Addr][]*podHolder{}}
	if inv.Claims != nil {
		c.Stores = inv.Claims.Stores
	}
	nodes := map[string]*cluster.Node{}
	nodeAddrs := map[netip.Addr]string{}
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		if n.FromPods {
			continue // derived from pods: its existence says nothing of nodes that are gone
		}
		nodes[n.Name] = n
		for _, a := range n.InternalIPs {
			nodeAddrs[a] = n.Name
		}
	}
	nodesKnown := len(nodes) > 0 || len(inv.Nodes) == 0
	c.Checked.Nodes = len(nodes)
	pods := inv.PodIndex()
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if pods[p.Key()] != p || !p.HoldsIP() {
			continue
		}
		c.Checked.Pods++
		for _, a := range p.IPs {
			c.byAddr[a] = append(c.byAddr[a], &podHolder{name: p.Namespace + "/" + p.Name, node: p.Node})
		}
	}
	podsKnown := !inv.PodsUnknown && inv.PodsNamespace == ""
	if !podsKnown {
		c.Notes = append(c.Notes, "pods could not be listed in every namespace: no address is called leaked or orphaned")
	} else {
		c.duplicates(nodeAddrs)
		c.claims(inv, pods, nodes, nodesKnown)
		c.orphans(inv, v)
	}
	c.hostLocal(inv, v, ns, podsKnown)
	if n := len(c.Unproven); n > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%d host-local reservation(s) held by no pod are not called leaked, for want of proof (first: %s on node %s: %s); all are under 'unproven' in -o json",
			n, c.Unproven[0].Reservation.Address, c.Unproven[0].Node, c.Unproven[0].Why))
	}
	c.outOfRange(inv, v, ips)
	if nodesKnown {
		c.stale(inv, nodes)
	}
	slices.SortFunc(c.Findings, func(a, b IPAMFinding) int {
		return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), compareAddrText(a.Address, b.Address), strings.Compare(a.Store, b.Store))
	})
	for _, f := range c.Findings {
		c.Counts[f.Kind]++
	}
	return c
}

func compareAddrText(a, b string) int {
	pa, ea := netip.ParsePrefix(a)
	pb, eb := netip.ParsePrefix(b)
	if ea != nil {
		if x, err := netip.ParseAddr(a); err == nil {
			pa, ea = netip.PrefixFrom(x, x.BitLen()), nil
		}
	}
	if eb != nil {
		if x, err := netip.ParseAddr(b); err == nil {
			pb, eb = netip.PrefixFrom(x, x.BitLen()), nil
		}
	}
	if ea != nil || eb != nil {
		return strings.Compare(a, b)
	}
	return cmp.Or(pa.Addr().Compare(pb.Addr()), pa.Bits()-pb.Bits())
}

func (c *IPAMCheck) add(f IPAMFinding) { c.Findings = append(c.Findings, f) }

func (c *IPAMCheck) holders(a netip.Addr) string {
	var names []string
	for _, h := range c.byAddr[a] {
		names = append(names, "pod/"+h.name)
	}
	if len(names) == 0 {
		return "nobody"
	}
	return strings.Join(names, ", ")
}

// duplicates: one address held by two live pods, or by a pod and a node.
func (c *IPAMCheck) duplicates(nodeAddrs map[netip.Addr]string) {
	for a, hs := range c.byAddr {
		if len(hs) > 1 {
			c.add(IPAMFinding{Kind: FindDuplicate, Address: a.String(), Store: "pod status", HeldBy: c.holders(a),
				Reason: fmt.Sprintf("%d running pods report the same address: traffic for one reaches the other", len(hs)),
				Next:   "delete the newer pod so that its node's IPAM gives it a free address, then run 'ipam check' again to see whether the store still claims it twice"})
		}
		if n, ok := nodeAddrs[a]; ok {
			c.add(IPAMFinding{Kind: FindDuplicate, Address: a.String(), Store: "node/" + n + " InternalIP", HeldBy: c.holders(a) + " and node/" + n,
				Reason: "a pod on the pod network holds its node network's address",
				Next:   "the pod range overlaps the node network: fix the pod CIDR or the IPAM pool, then recreate the pod"})
		}
	}
}

// claims: every address a store claims for a pod or a node that provably does not hold it.
func (c *IPAMCheck) claims(inv *cluster.Inventory, pods map[cluster.PodKey]*cluster.Pod, nodes map[string]*cluster.Node, nodesKnown bool) {
	if inv.Claims == nil {
		return
	}
	for _, cl := range inv.Claims.Addresses {
		c.Checked.Claims++
		a := cl.Address
		switch cl.Kind {
		case cluster.ClaimPod:
			key := cl.Namespace + "/" + cl.Pod
			if reason := cl.LeakReason(pods); reason != "" {
				c.add(IPAMFinding{Kind: FindLeaked, Address: a.String(), Store: cl.Store, ClaimedFor: "pod/" + key, HeldBy: c.holders(a), Since: cl.Since,
					Reason: reason, Next: releaseHint(cl)})
			} else if p := pods[cluster.PodKey{Namespace: cl.Namespace, Name: cl.Pod}]; p != nil && slices.Contains(p.IPs, a) && cl.BlockNode != "" && p.Node != "" && p.Node != cl.BlockNode {
				c.add(IPAMFinding{Kind: FindStale, Address: a.String(), Store: cl.Store, ClaimedFor: "pod/" + key, HeldBy: "pod/" + key, Since: cl.Since,
					Reason: fmt.Sprintf("borrowed: node %s's pod holds an address of node %s's block, because node %s could not claim a block of its own; Calico routes it with a /32", p.Node, cl.BlockNode, p.Node),
					Next:   fmt.Sprintf("harmless while it lasts; many borrowed addresses mean the pool is short of free blocks or node %s is at maxBlocksPerHost: see 'kubectl podnet cidr-usage'", p.Node)})
			}
		case cluster.ClaimTunnel:
			if _, ok := nodes[cl.Node]; nodesKnown && cl.Node != "" && !ok {
				c.add(IPAMFinding{Kind: FindLeaked, Address: a.String(), Store: cl.Store, ClaimedFor: "tunnel address of node/" + cl.Node, HeldBy: c.holders(a), Since: cl.Since,
					Reason: fmt.Sprintf("node %s no longer exists", cl.Node), Next: releaseHint(cl)})
			}
		}
	}
	// Calico handles that no allocation carries any more
	used := map[string]bool{}
	for _, cl := range inv.Claims.Addresses {
		if cl.Handle != "" {
			used[cl.Handle] = true
		}
	}
	blocksRead := storeRead(inv.Claims.Stores, "Calico IPAMBlocks")
	for _, h := range inv.Claims.Handles {
		n := 0
		for _, k := range h.Blocks {
			n += k
		}
		if blocksRead && n > 0 && !used[h.Handle] {
			c.add(IPAMFinding{Kind: FindLeaked, Address: strings.Join(mapKeys(h.Blocks), ","), Store: "IPAMHandle " + h.Name, ClaimedFor: h.Handle, HeldBy: "nobody",
				Reason: fmt.Sprintf("the handle counts %d address(es) but no block allocation carries it", n),
				Next:   "confirm with 'calicoctl ipam check', then 'calicoctl ipam release --from-report' to remove the handle"})
		}
	}
}

func storeRead(stores []cluster.ClaimStore, prefix string) bool {
	for _, s := range stores {
		if strings.HasPrefix(s.Name, prefix) {
			return s.State == cluster.StoreRead
		}
	}
	return false
}

func mapKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// releaseHint is the safe next step for a leaked claim, in the store's own tool.
func releaseHint(cl cluster.AddressClaim) string {
	if strings.HasPrefix(cl.Store, "IPAMBlock ") {
		return fmt.Sprintf("confirm with 'calicoctl ipam check', then 'calicoctl ipam release --ip=%s'", cl.Address)
	}
	if cl.Secondary {
		return "Whereabouts' ip-reconciler releases allocations of deleted pods: run it now (kubectl create job --from=cronjob/ip-reconciler in its namespace), else remove the allocation from the IPPool's spec.allocations"
	}
	return fmt.Sprintf("the Cilium agent on node %s releases addresses of deleted pods when it restarts (kubectl -n kube-system delete pod of its cilium DaemonSet there); check 'cilium-dbg ip list' on it first", cl.Node)
}

// orphans: live pods' addresses no read store claims, or outside their node's range.
func (c *IPAMCheck) orphans(inv *cluster.Inventory, v *netmodel.View) {
	claimed := map[netip.Addr]bool{}
	if inv.Claims != nil {
		for _, cl := range inv.Claims.Addresses {
			claimed[cl.Address] = true
		}
	}
	var calicoPools []netip.Prefix
	for _, p := range netmodel.Pools(&inv.Evidence) {
		calicoPools = append(calicoPools, p.CIDR)
	}
	calicoRead := inv.Claims != nil && storeRead(inv.Claims.Stores, "Calico IPAMBlocks")
	ciliumRead := inv.Claims != nil && storeRead(inv.Claims.Stores, "CiliumNodes")
	for a, hs := range c.byAddr {
		for _, h := range hs {
			nn := v.Node(h.node)
			if nn == nil {
				continue
			}
			switch {
			case nn.Source == netmodel.SourceCalicoBlocks:
				if calicoRead && inAny(a, calicoPools) && !claimed[a] {
					c.add(IPAMFinding{Kind: FindOrphaned, Address: a.String(), Store: "pod status", HeldBy: "pod/" + h.name,
						Reason: "no Calico IPAMBlock allocation claims it: Calico may hand it to another pod",
						Next:   "recreate the pod so that Calico IPAM allocates its address, then run 'calicoctl ipam check'"})
				}
			case nn.Source == netmodel.SourceCiliumNode || nn.Source == netmodel.SourceCiliumPools:
				if ciliumRead && inAny(a, nn.PodCIDRs) && !claimed[a] {
					c.add(IPAMFinding{Kind: FindOrphaned, Address: a.String(), Store: "pod status", HeldBy: "pod/" + h.name,
						Reason: fmt.Sprintf("CiliumNode %s's status.ipam.used does not list it: the agent may hand it to another pod", h.node),
						Next:   "recreate the pod so that the Cilium agent allocates its address"})
				}
				fallthrough
			default:
				if cidrs := familyCIDRs(nn.PodCIDRs, a); len(cidrs) > 0 && !inAny(a, cidrs) && nn.Source != netmodel.SourceCloudSubnet {
					c.add(IPAMFinding{Kind: FindOrphaned, Address: a.String(), Store: "pod status", HeldBy: "pod/" + h.name,
						Reason: fmt.Sprintf("outside node %s's pod CIDR %s (%s): no route of the pod network leads to it", h.node, prefixText(cidrs), nn.Source),
						Next:   "the pod kept an address from before its node's range changed: recreate it"})
				}
			}
		}
	}
}

func familyCIDRs(ps []netip.Prefix, a netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if p.Addr().Is4() == a.Is4() {
			out = append(out, p)
		}
	}
	return out
}

func inAny(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func prefixText(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

// outOfRange: ClusterIPs outside every service CIDR, node CIDRs outside every cluster CIDR, Calico
// blocks outside every pool.
func (c *IPAMCheck) outOfRange(inv *cluster.Inventory, v *netmodel.View, ips *cluster.ClusterIPs) {
	var svc []netip.Prefix
	for _, s := range netmodel.ServiceCIDRs(&inv.Evidence) {
		if p, err := netip.ParsePrefix(s.CIDR); err == nil {
			svc = append(svc, p.Masked())
		}
	}
	if ips != nil && len(svc) > 0 {
		for _, a := range ips.Addresses {
			if cidrs := familyCIDRs(svc, a); len(cidrs) > 0 && !inAny(a, cidrs) {
				c.add(IPAMFinding{Kind: FindOutOfRange, Address: a.String(), Store: "ClusterIP (" + ips.CountedFrom + ")", HeldBy: "a Service",
					Reason: fmt.Sprintf("outside every service CIDR (%s): kube-proxy may not route it", prefixText(svc)),
					Next:   "the Service got it before the service CIDR changed: recreate the Service to get an address in range"})
			}
		}
	}
	var clusterCIDRs []netip.Prefix
	for _, r := range netmodel.ClusterPodCIDRs(&inv.Evidence, v) {
		if r.Pool || r.Inferred {
			continue
		}
		if p, err := netip.ParsePrefix(r.CIDR); err == nil {
			clusterCIDRs = append(clusterCIDRs, p.Masked())
		}
	}
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		for _, p := range n.PodCIDRs {
			if cidrs := familyCIDRs(clusterCIDRs, p.Addr()); len(cidrs) > 0 && !coveredBy(p, cidrs) {
				c.add(IPAMFinding{Kind: FindOutOfRange, Address: p.String(), Store: "node/" + n.Name + " spec.podCIDRs", HeldBy: "node/" + n.Name,
					Reason: fmt.Sprintf("outside every cluster CIDR (%s)", prefixText(cidrs)),
					Next:   "the cluster CIDR changed after the node joined: drain the node and recreate it to get a CIDR in range"})
			}
		}
	}
	var pools []netip.Prefix
	for _, p := range inv.Evidence.CalicoPools {
		if pp, err := netip.ParsePrefix(p.CIDR); err == nil {
			pools = append(pools, pp.Masked())
		}
	}
	if len(inv.Evidence.CalicoPools) > 0 {
		for _, b := range inv.Evidence.CalicoBlocks {
			if !coveredBy(b.CIDR, pools) {
				c.add(IPAMFinding{Kind: FindOutOfRange, Address: b.CIDR.String(), Store: "IPAMBlock " + b.Name, HeldBy: "node/" + dashIfEmpty(b.Node),
					Reason: fmt.Sprintf("outside every Calico IPPool (%s): its pool was deleted or shrunk while addresses were in use", prefixText(pools)),
					Next:   "drain the block's pods so that they get addresses from a current pool, then 'calicoctl ipam check' and release the block"})
			}
		}
	}
}

func coveredBy(p netip.Prefix, ps []netip.Prefix) bool {
	for _, c := range ps {
		if c.Bits() <= p.Bits() && c.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// stale: Calico affinities and blocks, and CiliumNodes, of nodes that no longer exist.
func (c *IPAMCheck) stale(inv *cluster.Inventory, nodes map[string]*cluster.Node) {
	gone := func(n string) bool { _, ok := nodes[n]; return n != "" && !ok }
	if inv.Claims != nil {
		for _, a := range inv.Claims.Affinities {
			if gone(a.Node) {
				c.add(IPAMFinding{Kind: FindStale, Address: a.CIDR.String(), Store: "BlockAffinity " + a.Name, ClaimedFor: "node/" + a.Node, HeldBy: "nobody",
					Reason: fmt.Sprintf("node %s no longer exists, but the block is still affine to it (%s): no other node may claim it", a.Node, dashIfEmpty(a.State)),
					Next:   "'calicoctl ipam check' then 'calicoctl ipam release --from-report' frees the affinity; Calico's kube-controllers does it when it sees the node deleted"})
			}
		}
	}
	for name := range inv.Evidence.CiliumNodes {
		if gone(name) {
			c.add(IPAMFinding{Kind: FindStale, Address: dashIfEmpty(prefixText(inv.Evidence.CiliumNodes[name].PodCIDRs)), Store: "CiliumNode " + name, ClaimedFor: "node/" + name, HeldBy: "nobody",
				Reason: fmt.Sprintf("node %s no longer exists: its pod CIDR stays allocated in the cluster pool", name),
				Next:   fmt.Sprintf("the cilium-operator deletes it when it sees the node gone; if it stays, 'kubectl delete ciliumnode %s'", name)})
		}
	}
}
