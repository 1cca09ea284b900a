// Package ipam holds the address arithmetic of pod and service ranges: sizes, slots of a node mask
// in a cluster CIDR, what an IPAM can really hand out, and free space. Sizes saturate at the
// largest uint64 (an IPv6 /64 alone holds 2^64 addresses).
package ipam

import (
	"math"
	"math/bits"
	"net/netip"

	"go4.org/netipx"
)

// Pow2 is 2^n, saturating at math.MaxUint64; 0 for a negative n.
func Pow2(n int) uint64 {
	switch {
	case n < 0:
		return 0
	case n >= 64:
		return math.MaxUint64
	}
	return 1 << uint(n)
}

// Size is the number of addresses in p.
func Size(p netip.Prefix) uint64 {
	return Pow2(p.Addr().BitLen() - p.Bits())
}

// Slots is how many node CIDRs of length mask fit in cluster (0 when mask is shorter than the
// cluster prefix or of no sense for its family).
func Slots(cluster netip.Prefix, mask int) uint64 {
	if mask < cluster.Bits() || mask > cluster.Addr().BitLen() {
		return 0
	}
	return Pow2(mask - cluster.Bits())
}

// HostLocalUsable is what host-local IPAM on a bridge (kubenet, Flannel, bridge CNI) can hand out
// of a node CIDR: IPv4 loses the network address, the gateway (.1) and the broadcast address;
// IPv6 loses the subnet-router address and the gateway. /31, /32, /127 and /128 give nothing.
func HostLocalUsable(p netip.Prefix) uint64 {
	size := Size(p)
	reserved := uint64(2)
	if p.Addr().Is4() {
		reserved = 3
	}
	switch {
	case size == math.MaxUint64:
		return size
	case size <= reserved:
		return 0
	}
	return size - reserved
}

// CiliumUsable is what Cilium's cluster-pool IPAM hands to pods from a node CIDR: the network and
// broadcast addresses are reserved, and cilium_host and the health endpoint take one address each.
func CiliumUsable(p netip.Prefix) uint64 {
	size := Size(p)
	if size == math.MaxUint64 {
		return size
	}
	if size <= 4 {
		return 0
	}
	return size - 4
}

// ServiceUsable is how many ClusterIPs a service CIDR holds: kube-apiserver never hands out the
// network address, nor for IPv4 the broadcast address.
func ServiceUsable(p netip.Prefix) uint64 {
	size := Size(p)
	if size == math.MaxUint64 {
		return size
	}
	reserved := uint64(1)
	if p.Addr().Is4() && p.Bits() < 31 {
		reserved = 2
	}
	if size <= reserved {
		return 0
	}
	return size - reserved
}

// Free is the part of cluster that none of used covers, as the smallest list of prefixes.
func Free(cluster netip.Prefix, used []netip.Prefix) []netip.Prefix {
	var b netipx.IPSetBuilder
	b.AddPrefix(cluster.Masked())
	for _, u := range used {
		b.RemovePrefix(u.Masked())
	}
	s, err := b.IPSet()
	if err != nil {
		return nil
	}
	return s.Prefixes()
}

// FreeSlots counts the node CIDRs of length mask that still fit in the free prefixes.
func FreeSlots(free []netip.Prefix, mask int) uint64 {
	var n uint64
	for _, p := range free {
		if p.Bits() <= mask && mask <= p.Addr().BitLen() {
			s, carry := bits.Add64(n, Pow2(mask-p.Bits()), 0)
			if carry != 0 {
				return math.MaxUint64
			}
			n = s
		}
	}
	return n
}

// Holes counts the free ranges that lie below the highest used address: CIDRs released in the
// middle of the range (fragmentation) rather than space never used at its end.
func Holes(free []netip.Prefix, used []netip.Prefix) int {
	var top netip.Addr
	for _, u := range used {
		last := netipx.PrefixLastIP(u.Masked())
		if !top.IsValid() || top.Less(last) {
			top = last
		}
	}
	if !top.IsValid() {
		return 0
	}
	// adjacent free prefixes form one range
	var b netipx.IPSetBuilder
	for _, f := range free {
		b.AddPrefix(f)
	}
	s, err := b.IPSet()
	if err != nil {
		return 0
	}
	n := 0
	for _, r := range s.Ranges() {
		if r.From().Less(top) {
			n++
		}
	}
	return n
}

// SmallestPrefixFor is the longest prefix length whose node-mask slots hold n node CIDRs:
// with mask 24, 300 nodes need 512 slots, a /15. It returns -1 when no prefix can.
func SmallestPrefixFor(n uint64, mask int) int {
	if n <= 1 {
		return mask
	}
	need := bits.Len64(n - 1) // ceil(log2(n))
	if need > mask {
		return -1
	}
	return mask - need
}

// Ratio is used/capacity, 0 for no capacity.
func Ratio(used, capacity uint64) float64 {
	if capacity == 0 {
		if used > 0 {
			return 1
		}
		return 0
	}
	return float64(used) / float64(capacity)
}
