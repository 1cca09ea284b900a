// Package overlap checks the address ranges of several clusters and of the networks around them
// against each other: which overlap, by how much, and what each overlap breaks (peering the
// networks, a ClusterMesh, Submariner, or the cluster itself).
package overlap

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
)

// Relation is how one prefix stands to another it overlaps. Two prefixes either are disjoint,
// equal, or one holds the other.
type Relation string

// Relations of A to B.
const (
	Equal    Relation = "equal"
	Contains Relation = "contains"
	Within   Relation = "within"
)

// Compare says whether a and b overlap and how a stands to b; the shared part is the smaller of
// the two. Prefixes of different families never overlap.
func Compare(a, b netip.Prefix) (shared netip.Prefix, rel Relation, ok bool) {
	a, b = a.Masked(), b.Masked()
	if !a.IsValid() || !b.IsValid() || a.Addr().Is4() != b.Addr().Is4() || !a.Overlaps(b) {
		return netip.Prefix{}, "", false
	}
	switch {
	case a.Bits() == b.Bits():
		return a, Equal, true
	case a.Bits() < b.Bits():
		return b, Contains, true
	}
	return a, Within, true
}

// Size is the number of addresses in p: a decimal number below 2^63, "2^N" from there on.
func Size(p netip.Prefix) string {
	n := p.Addr().BitLen() - p.Bits()
	if n >= 63 {
		return "2^" + strconv.Itoa(n)
	}
	return strconv.FormatUint(uint64(1)<<n, 10)
}

// Share is the fraction of whole that part (a prefix inside it) takes: 2^-(part.Bits-whole.Bits).
func Share(part, whole netip.Prefix) float64 {
	return math.Ldexp(1, whole.Bits()-part.Bits())
}

// Percent writes a share as a percentage a reader can compare: "100%", "25%", "0.39%", "<0.01%".
func Percent(f float64) string {
	switch {
	case f >= 1:
		return "100%"
	case f >= 0.1:
		return fmt.Sprintf("%.0f%%", f*100)
	case f >= 0.0001:
		return fmt.Sprintf("%.2g%%", f*100)
	}
	return "<0.01%"
}
