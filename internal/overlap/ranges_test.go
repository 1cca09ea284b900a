package overlap

import (
	"net/netip"
	"testing"
)

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		shared     string
		rel        Relation
	}{
		{"equal IPv4", "10.244.0.0/16", "10.244.0.0/16", "10.244.0.0/16", Equal},
		{"nested IPv4", "10.0.0.0/8", "10.244.0.0/16", "10.244.0.0/16", Contains},
		{"nested the other way", "10.244.1.0/24", "10.244.0.0/16", "10.244.1.0/24", Within},
		{"unmasked given", "10.244.7.9/16", "10.244.0.0/24", "10.244.0.0/24", Contains},
		{"disjoint IPv4", "10.244.0.0/16", "10.245.0.0/16", "", ""},
		{"adjacent IPv4", "10.0.0.0/25", "10.0.0.128/25", "", ""},
		{"one address in a range", "10.0.0.4/32", "10.0.0.0/24", "10.0.0.4/32", Within},
		{"whole space", "0.0.0.0/0", "192.168.1.0/24", "192.168.1.0/24", Contains},
		{"equal IPv6", "fd00:10:244::/56", "fd00:10:244::/56", "fd00:10:244::/56", Equal},
		{"nested IPv6", "fd00::/8", "fd00:10:96::/112", "fd00:10:96::/112", Contains},
		{"disjoint IPv6", "fd00:10:244::/56", "fd00:10:245::/56", "", ""},
		{"families never overlap", "10.0.0.0/8", "::ffff:10.0.0.0/104", "", ""},
		{"IPv4 against IPv6 of a dual-stack pair", "10.244.0.0/16", "fd00:10:244::/56", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shared, rel, ok := Compare(netip.MustParsePrefix(tc.a), netip.MustParsePrefix(tc.b))
			if ok != (tc.shared != "") {
				t.Fatalf("overlap = %v, want %v", ok, tc.shared != "")
			}
			if !ok {
				return
			}
			if shared.String() != tc.shared || rel != tc.rel {
				t.Errorf("got %s %s, want %s %s", shared, rel, tc.shared, tc.rel)
			}
			// the relation reads the other way round from b
			_, back, _ := Compare(netip.MustParsePrefix(tc.b), netip.MustParsePrefix(tc.a))
			want := map[Relation]Relation{Equal: Equal, Contains: Within, Within: Contains}[tc.rel]
			if back != want {
				t.Errorf("from b: %s, want %s", back, want)
			}
		})
	}
}

func TestSizeAndShare(t *testing.T) {
	for _, tc := range []struct {
		part, whole string
		size        string
		share       string
	}{
		{"10.244.0.0/16", "10.244.0.0/16", "65536", "100%"},
		{"10.244.1.0/24", "10.244.0.0/16", "256", "0.39%"},
		{"10.0.0.0/10", "10.0.0.0/8", "4194304", "25%"},
		{"10.0.0.4/32", "10.0.0.0/8", "1", "<0.01%"},
		{"0.0.0.0/0", "0.0.0.0/0", "4294967296", "100%"},
		{"fd00:10:244::/64", "fd00:10:244::/56", "2^64", "0.39%"},
		{"::/0", "::/0", "2^128", "100%"},
		{"fd00::/65", "fd00::/64", "2^63", "50%"},
		{"fd00::/66", "fd00::/64", "4611686018427387904", "25%"},
		{"fd00::/64", "fd00::/8", "2^64", "<0.01%"},
	} {
		part, whole := netip.MustParsePrefix(tc.part), netip.MustParsePrefix(tc.whole)
		if got := Size(part); got != tc.size {
			t.Errorf("Size(%s) = %s, want %s", part, got, tc.size)
		}
		if got := Percent(Share(part, whole)); got != tc.share {
			t.Errorf("share of %s in %s = %s, want %s", part, whole, got, tc.share)
		}
	}
}

func TestGoalBreaks(t *testing.T) {
	for _, tc := range []struct {
		breaks Goal
		want   map[Goal]bool
	}{
		{"", map[Goal]bool{}},
		{GoalCluster, map[Goal]bool{GoalCluster: true, GoalPeering: true, GoalMesh: true, GoalSubmariner: true}},
		{GoalPeering, map[Goal]bool{GoalPeering: true, GoalMesh: true, GoalSubmariner: true}},
		{GoalMesh, map[Goal]bool{GoalMesh: true, GoalSubmariner: true}},
		{GoalSubmariner, map[Goal]bool{GoalSubmariner: true}},
	} {
		for _, g := range Goals {
			if got := tc.breaks.Breaks(g); got != tc.want[g] {
				t.Errorf("an overlap breaking from %q breaks %s: %v, want %v", tc.breaks, g, got, tc.want[g])
			}
		}
	}
}
