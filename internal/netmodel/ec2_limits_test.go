package netmodel

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEC2LimitsMaxPods checks well-known instance types against the max pods that AWS publishes
// (amazon-vpc-cni-k8s misc/eni-max-pods.txt, also used by the EKS AMIs): ENIs*(IPv4PerENI-1)+2.
func TestEC2LimitsMaxPods(t *testing.T) {
	want := map[string]int{
		"m5.large":    29,
		"m5.xlarge":   58,
		"m6i.large":   29,
		"r5.large":    29,
		"t3.small":    11,
		"t3.medium":   17,
		"t3.xlarge":   58,
		"c5.18xlarge": 737,
		"m4.large":    20,
		"t2.micro":    4,
		"p5.48xlarge": 100, // several network cards: only the default card's ENIs count
	}
	got := map[string]int{}
	for name := range want {
		l, ok := ec2Limits[name]
		if !ok {
			t.Errorf("%s: not in ec2Limits", name)
			continue
		}
		got[name] = l.ENIs*(l.IPv4PerENI-1) + 2
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("max pods (-published +computed):\n%s", diff)
	}
}

func TestEC2LimitsTable(t *testing.T) {
	// Upstream lists about 1400 types; a much smaller table means the generator lost entries.
	if n := len(ec2Limits); n < 1300 {
		t.Errorf("len(ec2Limits) = %d, want at least 1300", n)
	}
	for name, l := range ec2Limits {
		if !strings.Contains(name, ".") || l.ENIs <= 0 || l.IPv4PerENI <= 0 {
			t.Errorf("%s: implausible entry %+v", name, l)
		}
	}
	if !strings.HasPrefix(EC2Source, "aws/amazon-vpc-cni-k8s pkg/vpc/vpc_ip_resource_limit.go at ") {
		t.Errorf("EC2Source = %q", EC2Source)
	}
}

func TestEC2LimitsNitro(t *testing.T) {
	for name, want := range map[string]bool{
		"m4.large":  false, // Xen
		"t2.micro":  false, // Xen
		"c4.large":  false, // Xen
		"m5.large":  true,
		"t3.medium": true,
		"m6i.large": true,
		"m5.metal":  true, // bare metal: no hypervisor, but prefix delegation works
	} {
		l, ok := ec2Limits[name]
		if !ok {
			t.Errorf("%s: not in ec2Limits", name)
			continue
		}
		if l.Nitro != want {
			t.Errorf("%s: Nitro = %t, want %t", name, l.Nitro, want)
		}
	}
}
