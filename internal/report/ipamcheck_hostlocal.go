package report

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
)

// ReservationGrace is how old a reservation must be before it can be called leaked: host-local
// reserves an address before the runtime starts the sandbox and before the pod's status names it.
const ReservationGrace = 60 * time.Second

// NodeStores are what was read on the nodes for `ipam check`: host-local's reservations.
type NodeStores struct {
	// HostLocal are the nodes probed and what was read there.
	HostLocal []*probe.HostLocalNode
	// Failed are the nodes whose probe failed, with why.
	Failed map[string]string
	// Orphans are live pods holding a host-local node's address that no reservation claims,
	// confirmed by a read after the probe (see HostLocalOrphans).
	Orphans []PodAddress
	// MinAge is how old a reservation must be to be called leaked (0: ReservationGrace).
	MinAge time.Duration
}

// PodAddress is one pod's address on a node.
type PodAddress struct {
	Pod     string     `json:"pod"` // namespace/name
	Node    string     `json:"node"`
	Address netip.Addr `json:"address"`
}

// Unproven is a reservation held by no pod that cannot be called leaked, and why.
type Unproven struct {
	Node        string            `json:"node"`
	Reservation probe.Reservation `json:"reservation"`
	Why         string            `json:"why"`
}

// hostLocal joins each probed node's reservations with the live pods on that node.
func (c *IPAMCheck) hostLocal(inv *cluster.Inventory, v *netmodel.View, ns *NodeStores, podsKnown bool) {
	probed := map[string]bool{}
	if ns != nil {
		for _, node := range slices.Sorted(maps.Keys(ns.Failed)) {
			probed[node] = true
			c.Stores = append(c.Stores, cluster.ClaimStore{Name: "host-local reservations on node " + node, State: cluster.StoreUnreadable, Reason: ns.Failed[node]})
		}
		for _, h := range ns.HostLocal {
			probed[h.Node] = true
			c.hostLocalNode(h, podsKnown, cmp.Or(ns.MinAge, ReservationGrace))
		}
		if podsKnown {
			for _, o := range ns.Orphans {
				c.add(IPAMFinding{Kind: FindOrphaned, Address: o.Address.String(), Store: "pod status", HeldBy: "pod/" + o.Pod,
					Reason: fmt.Sprintf("no host-local reservation on node %s claims it: host-local may hand it to the next pod there", o.Node),
					Next:   "recreate the pod so that host-local reserves its address (its reservation file was removed by hand, or the node's dataDir was reset while it ran)"})
			}
		}
	}
	// the nodes whose host-local store was not read
	var unread []string
	for i := range v.Nodes {
		if nn := &v.Nodes[i]; nn.HostLocal() && !probed[nn.Name] {
			unread = append(unread, nn.Name)
		}
	}
	if len(unread) > 0 {
		c.Stores = append(c.Stores, cluster.ClaimStore{Name: fmt.Sprintf("host-local reservations on %d node(s)", len(unread)), State: cluster.StoreInvisible,
			Reason: "kept in each node's file system, not in the API: read them with --nodes or --all-nodes"})
	}
}

func (c *IPAMCheck) hostLocalNode(h *probe.HostLocalNode, podsKnown bool, minAge time.Duration) {
	store := cluster.ClaimStore{Name: fmt.Sprintf("host-local reservations on node %s (%s)", h.Node, h.DataDir), Objects: len(h.Reservations)}
	switch h.State {
	case probe.StoreOK:
		store.State = cluster.StoreRead
		if len(h.Unreadable) > 0 {
			store.State, store.Reason = cluster.StoreUnreadable, "network director(ies) "+strings.Join(h.Unreadable, ", ")+" not readable by the probe's user"
		}
	case probe.StoreAbsent:
		store.State, store.Reason = cluster.StoreAbsent, "no such directory: host-local never reserved an address there, or its dataDir is elsewhere (--cni-data-dir)"
	default:
		store.State, store.Reason = cluster.StoreUnreadable, "the directory is not readable by the probe's user"
	}
	c.Stores = append(c.Stores, store)
	c.Checked.Claims += len(h.Reservations)
	if !podsKnown {
		return
	}
	for _, r := range h.Reservations {
		held := false
		for _, ph := range c.byAddr[r.Address] {
			if ph.node == h.Node {
				held = true
			}
		}
		age := h.Now.Sub(r.Since)
		switch {
		case held:
		case r.Sandbox == probe.SandboxRunning:
			// a sandbox still runs: a pod being created, or one the kubelet is still tearing down
		case r.Since.IsZero():
			c.unproven(h.Node, r, "the reservation's age could not be read (no stat on the probe image)")
		case age < minAge:
			c.unproven(h.Node, r, fmt.Sprintf("reserved %s ago: a pod may be starting", age.Round(time.Second)))
		case r.Sandbox == probe.SandboxUnknown:
			why := "the container runtime's sandboxes are not visible on the node (" + h.RuntimeState + "): name its state directory with --runtime-state-dir"
			if r.Container == "" {
				why = "the reservation file does not name a container"
			}
			c.unproven(h.Node, r, why)
		default:
			c.add(IPAMFinding{Kind: FindLeaked, Address: r.Address.String(), Store: "host-local " + h.Node + ":" + r.File,
				ClaimedFor: "sandbox " + shortID(r.Container) + ifaceSuffix(r.Interface), HeldBy: c.holders(r.Address), Since: r.Since.Format(time.RFC3339),
				Reason: fmt.Sprintf("the sandbox is not running on node %s (%s/%s is gone) and no pod there holds the address: its CNI DEL failed or never ran", h.Node, h.Runtime, shortID(r.Container)),
				Next: fmt.Sprintf("look for 'failed to destroy network for sandbox %s' in the kubelet or runtime log of %s; once the cause is fixed the kubelet's retry releases it, "+
					"else remove the file %s on the node (host-local then hands the address out again)", shortID(r.Container), h.Node, r.File)})
		}
	}
}

func (c *IPAMCheck) unproven(node string, r probe.Reservation, why string) {
	c.Unproven = append(c.Unproven, Unproven{Node: node, Reservation: r, Why: why})
}

func shortID(id string) string {
	if len(id) > 13 {
		return id[:13]
	}
	return id
}

func ifaceSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// HostLocalOrphans are the candidates for orphaned addresses on the probed nodes: live pods on a
// read host-local node holding an address of its pod CIDRs that no reservation there claims. The
// caller confirms each by reading the pod again after the probe, since a pod deleted meanwhile has
// released its reservation before its object goes.
func HostLocalOrphans(inv *cluster.Inventory, v *netmodel.View, hl []*probe.HostLocalNode) []PodAddress {
	type readNode struct {
		cidrs    []netip.Prefix
		reserved map[netip.Addr]bool
	}
	read := map[string]readNode{}
	for _, h := range hl {
		nn := v.Node(h.Node)
		if nn == nil || !nn.HostLocal() || h.State != probe.StoreOK || len(h.Unreadable) > 0 {
			continue
		}
		rn := readNode{cidrs: nn.PodCIDRs, reserved: make(map[netip.Addr]bool, len(h.Reservations))}
		for _, r := range h.Reservations {
			rn.reserved[r.Address] = true
		}
		read[h.Node] = rn
	}
	var out []PodAddress
	if len(read) == 0 {
		return out
	}
	for i := range inv.Pods { // once, whatever the number of nodes probed
		p := &inv.Pods[i]
		rn, ok := read[p.Node]
		if !ok || !p.HoldsIP() {
			continue
		}
		for _, a := range p.IPs {
			if inAny(a, rn.cidrs) && !rn.reserved[a] {
				out = append(out, PodAddress{Pod: p.Namespace + "/" + p.Name, Node: p.Node, Address: a})
			}
		}
	}
	slices.SortFunc(out, func(a, b PodAddress) int { return a.Address.Compare(b.Address) })
	return out
}
