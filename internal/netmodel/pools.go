package netmodel

import (
	"net/netip"
	"sort"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// HostAddress is an address a network model's agent gives the node itself (beside its tunnel
// device's): its kind, as who reports it, and what holds it.
type HostAddress struct {
	Addr   netip.Addr
	Kind   string
	Detail string
}

// Pool is an IPAM pool a model hands out to nodes in blocks (a Calico IPPool), with the blocks
// claimed from it.
type Pool struct {
	Name      string
	APIGroup  string
	CIDR      netip.Prefix
	BlockSize int
	Disabled  bool
	Blocks    []PoolBlock
}

// PoolBlock is a block claimed from a pool: its node ("" when not affine to one), the addresses
// allocated in it, and those of them held by pods of other nodes (borrowed).
type PoolBlock struct {
	CIDR      netip.Prefix
	Node      string
	Allocated int
	Borrowed  int
}

// Pools are every model's IPAM pools, in the order the models read them.
func Pools(ev *cluster.Evidence) []Pool {
	var out []Pool
	for _, m := range models {
		out = append(out, m.pools(ev)...)
	}
	return out
}

// HostAddresses are the addresses the node's agent gives the node itself, in address order.
func (nn *NodeNetwork) HostAddresses(ev *cluster.Evidence) []HostAddress {
	out := nn.model.hostAddresses(nn.node, ev)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	return out
}
