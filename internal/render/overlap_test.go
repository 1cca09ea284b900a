package render

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/overlap"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// twoAKSClusters are two AKS kubenet clusters on the defaults, in separate VNets, a hub VNet
// inside their Service CIDR, and a third cluster that could not be read.
func twoAKSClusters(goal overlap.Goal) *report.OverlapReport {
	aks := func(nodes string) *netmodel.Addressing {
		a := &netmodel.Addressing{Network: netmodel.Network{Model: netmodel.Kubenet}, SharedSubnet: "AKS kubenet clusters cannot share a subnet"}
		for _, r := range []struct {
			role  netmodel.RangeRole
			cidr  string
			reach netmodel.Reach
			src   string
		}{
			{netmodel.RoleNodes, nodes, netmodel.ReachUnderlay, "smallest prefix covering the InternalIPs of 3 nodes"},
			{netmodel.RolePods, "10.244.0.0/16", netmodel.ReachNetwork, "kube-proxy clusterCIDR"},
			{netmodel.RoleServices, "10.0.0.0/16", netmodel.ReachCluster, "ServiceCIDR kubernetes"},
			{netmodel.RoleServices, "fd00:10:96::/108", netmodel.ReachCluster, "ServiceCIDR kubernetes"},
		} {
			a.Ranges = append(a.Ranges, netmodel.ClusterRange{Role: r.role, CIDR: netip.MustParsePrefix(r.cidr), Reach: r.reach, Source: r.src})
		}
		return a
	}
	members := []report.FleetMember[*netmodel.Addressing]{
		{Context: "aks-prod-weu", Status: report.StatusOK, Report: aks("10.224.0.4/30")},
		{Context: "aks-prod-neu", Status: report.StatusOK, Report: aks("10.225.0.4/30")},
		{Context: "aks-dev", Status: report.StatusUnreachable, Error: "cannot reach the API server"},
	}
	nets := []report.OverlapNetwork{{Name: "hub", CIDR: netip.MustParsePrefix("10.0.0.0/22")}, {Name: "vnet-weu", CIDR: netip.MustParsePrefix("10.224.0.0/16")}}
	return report.BuildOverlap(members, nets, goal)
}

func TestOverlapTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		goal overlap.Goal
		o    TableOptions
	}{
		{"overlap.golden", "", TableOptions{}},
		{"overlap-for-peering.golden", overlap.GoalPeering, TableOptions{}},
		{"overlap-no-headers.golden", overlap.GoalMesh, TableOptions{NoHeaders: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := Overlap(&b, twoAKSClusters(tc.goal), tc.o); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.String())
		})
	}
}

func TestOverlapJSON(t *testing.T) {
	var b strings.Builder
	if err := JSON(&b, twoAKSClusters(overlap.GoalPeering)); err != nil {
		t.Fatal(err)
	}
	golden(t, "overlap.json.golden", b.String())
}

func TestOverlapNone(t *testing.T) {
	var b strings.Builder
	r := report.BuildOverlap(nil, []report.OverlapNetwork{{Name: "a", CIDR: netip.MustParsePrefix("10.0.0.0/16")}}, "")
	if err := Overlap(&b, r, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "overlap-none.golden", b.String())
}
