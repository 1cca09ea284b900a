package ipam

import (
	"math"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestSizes(t *testing.T) {
	tests := []struct {
		p                                string
		size, hostLocal, cilium, service uint64
	}{
		{"10.244.1.0/24", 256, 253, 252, 254},
		{"10.244.1.0/26", 64, 61, 60, 62},
		{"10.244.1.0/30", 4, 1, 0, 2},
		{"10.244.1.0/31", 2, 0, 0, 1},
		{"10.244.1.7/32", 1, 0, 0, 0},
		{"10.96.0.0/12", 1 << 20, 1<<20 - 3, 1<<20 - 4, 1<<20 - 2},
		{"fd00:10:244:1::/64", math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64},
		{"fd00:10:96::/112", 65536, 65534, 65532, 65535},
		{"fd00::/127", 2, 0, 0, 1},
		{"fd00::1/128", 1, 0, 0, 0},
		{"0.0.0.0/0", 1 << 32, 1<<32 - 3, 1<<32 - 4, 1<<32 - 2},
	}
	for _, tt := range tests {
		p := pfx(tt.p)
		got := []uint64{Size(p), HostLocalUsable(p), CiliumUsable(p), ServiceUsable(p)}
		if diff := cmp.Diff([]uint64{tt.size, tt.hostLocal, tt.cilium, tt.service}, got); diff != "" {
			t.Errorf("%s [size hostLocal cilium service] (-want +got):\n%s", tt.p, diff)
		}
	}
}

func TestSlots(t *testing.T) {
	tests := []struct {
		cluster string
		mask    int
		want    uint64
	}{
		{"10.244.0.0/16", 24, 256},
		{"10.244.0.0/22", 24, 4},
		{"10.244.0.0/24", 24, 1},
		{"10.244.0.0/24", 16, 0},
		{"10.244.0.0/16", 33, 0},
		{"fd00:10:244::/56", 64, 256},
		{"fd00::/8", 128, math.MaxUint64},
	}
	for _, tt := range tests {
		if got := Slots(pfx(tt.cluster), tt.mask); got != tt.want {
			t.Errorf("Slots(%s, /%d) = %d, want %d", tt.cluster, tt.mask, got, tt.want)
		}
	}
}

func TestFreeAndHoles(t *testing.T) {
	used := []netip.Prefix{pfx("10.244.0.0/24"), pfx("10.244.2.0/24"), pfx("10.244.3.0/24")}
	free := Free(pfx("10.244.0.0/22"), used)
	if diff := cmp.Diff([]netip.Prefix{pfx("10.244.1.0/24")}, free, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("Free (-want +got):\n%s", diff)
	}
	if got := FreeSlots(free, 24); got != 1 {
		t.Errorf("FreeSlots = %d, want 1", got)
	}
	if got := FreeSlots(free, 23); got != 0 {
		t.Errorf("FreeSlots(/23) = %d, want 0: a /24 hole holds no /23", got)
	}
	if got := Holes(free, used); got != 1 {
		t.Errorf("Holes = %d, want 1 (10.244.1.0/24 lies below 10.244.3.255)", got)
	}
	// contiguous use from the start: free space only at the end, no hole
	used = []netip.Prefix{pfx("10.244.0.0/24"), pfx("10.244.1.0/24")}
	free = Free(pfx("10.244.0.0/22"), used)
	if got, slots := Holes(free, used), FreeSlots(free, 24); got != 0 || slots != 2 {
		t.Errorf("Holes = %d, FreeSlots = %d; want 0 and 2", got, slots)
	}
	// a node CIDR outside the cluster CIDR changes nothing
	if got := FreeSlots(Free(pfx("10.244.0.0/22"), []netip.Prefix{pfx("10.9.0.0/24")}), 24); got != 4 {
		t.Errorf("FreeSlots with an outside CIDR = %d, want 4", got)
	}
	// IPv6 and overlapping used prefixes
	free = Free(pfx("fd00:10:244::/56"), []netip.Prefix{pfx("fd00:10:244::/64"), pfx("fd00:10:244::/65")})
	if got := FreeSlots(free, 64); got != 255 {
		t.Errorf("IPv6 FreeSlots = %d, want 255", got)
	}
}

func TestSmallestPrefixFor(t *testing.T) {
	tests := []struct {
		n    uint64
		mask int
		want int
	}{
		{300, 24, 15}, {256, 24, 16}, {257, 24, 15}, {1, 24, 24}, {0, 24, 24}, {5000, 24, 11}, {1 << 25, 24, -1}, {1000, 64, 54},
	}
	for _, tt := range tests {
		if got := SmallestPrefixFor(tt.n, tt.mask); got != tt.want {
			t.Errorf("SmallestPrefixFor(%d, /%d) = %d, want %d", tt.n, tt.mask, got, tt.want)
		}
	}
}

func TestRatio(t *testing.T) {
	if Ratio(5, 0) != 1 || Ratio(0, 0) != 0 || Ratio(1, 4) != 0.25 {
		t.Errorf("Ratio edge cases wrong")
	}
}
