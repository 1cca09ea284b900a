package report

import (
	"net/netip"
	"sort"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/overlap"
)

// ClusterStatus is how reading one cluster of a fleet went.
type ClusterStatus string

// Cluster statuses.
const (
	// StatusOK: everything the command needs was read.
	StatusOK ClusterStatus = "ok"
	// StatusIncomplete: the cluster answered, but a read the command needs failed (Unread).
	StatusIncomplete ClusterStatus = "incomplete"
	// StatusUnreachable: the API server could not be reached, did not answer in time, or is not
	// trusted.
	StatusUnreachable ClusterStatus = "unreachable"
	// StatusUnauthorized: the credentials were refused (expired, wrong) or could not be had (the
	// credential plugin failed).
	StatusUnauthorized ClusterStatus = "unauthorized"
	// StatusForbidden: the user may not read what the command needs.
	StatusForbidden ClusterStatus = "forbidden"
	// StatusFailed: anything else (a kubeconfig entry that does not resolve, a server error).
	StatusFailed ClusterStatus = "failed"
)

// Answered reports whether the cluster gave a report (complete or not).
func (s ClusterStatus) Answered() bool { return s == StatusOK || s == StatusIncomplete }

// FleetMember is one cluster (kubeconfig context) of a fleet and its report R.
type FleetMember[R any] struct {
	Context string        `json:"context"`
	Server  string        `json:"server,omitempty"`
	Status  ClusterStatus `json:"status"`
	// Error says why the cluster did not answer, with the remedy.
	Error string `json:"error,omitempty"`
	// Unread are the reads that failed on a cluster that answered.
	Unread []string `json:"unread,omitempty"`
	Report R        `json:"report,omitempty"`
}

// Fleet is a command's answer for several clusters, in the order they were given.
type Fleet[R any] struct {
	Clusters []FleetMember[R] `json:"clusters"`
}

// FleetNodeRow is a node of a fleet, with its cluster's context.
type FleetNodeRow struct {
	Context string `json:"context"`
	NodeRow
}

// NodeRows are the nodes of every cluster that answered, each with its context.
func (f *Fleet[R]) NodeRows(rows func(R) []NodeRow) []FleetNodeRow {
	out := []FleetNodeRow{}
	for _, m := range f.Clusters {
		if !m.Status.Answered() {
			continue
		}
		for _, r := range rows(m.Report) {
			out = append(out, FleetNodeRow{Context: m.Context, NodeRow: r})
		}
	}
	return out
}

// OverlapReport is `kubectl podnet overlap`: every range of every cluster and network, the
// overlaps among them, and for each goal whether it holds.
type OverlapReport struct {
	// For is the goal asked with --for, "" when none was.
	For      overlap.Goal                        `json:"for,omitempty"`
	Clusters []FleetMember[*netmodel.Addressing] `json:"clusters"`
	Networks []OverlapNetwork                    `json:"networks"`
	Ranges   []overlap.Range                     `json:"ranges"`
	Overlaps []overlap.Overlap                   `json:"overlaps"`
	Verdicts []Verdict                           `json:"verdicts"`
}

// OverlapNetwork is a network given with --network.
type OverlapNetwork struct {
	Name string       `json:"name"`
	CIDR netip.Prefix `json:"cidr"`
}

// Verdict is whether the ranges allow a goal, and the overlaps (numbered from 1) that break it.
type Verdict struct {
	Goal     overlap.Goal `json:"goal"`
	Holds    bool         `json:"holds"`
	BrokenBy []int        `json:"brokenBy,omitempty"`
}

// BuildOverlap checks the ranges of the clusters that answered and of the networks.
func BuildOverlap(members []FleetMember[*netmodel.Addressing], networks []OverlapNetwork, goal overlap.Goal) *OverlapReport {
	var cs []overlap.Cluster
	for _, m := range members {
		if m.Status.Answered() && m.Report != nil {
			cs = append(cs, overlap.Cluster{Name: m.Context, Addressing: m.Report})
		}
	}
	ns := make([]overlap.Network, 0, len(networks))
	for _, n := range networks {
		ns = append(ns, overlap.Network{Name: n.Name, CIDR: n.CIDR})
	}
	res := overlap.Check(cs, ns)
	r := &OverlapReport{For: goal, Clusters: members, Networks: networks, Ranges: res.Ranges, Overlaps: res.Overlaps}
	if r.Networks == nil {
		r.Networks = []OverlapNetwork{}
	}
	for _, g := range overlap.Goals {
		v := Verdict{Goal: g, Holds: true}
		for i, o := range res.Overlaps {
			if o.Breaks.Breaks(g) {
				v.Holds = false
				v.BrokenBy = append(v.BrokenBy, i+1)
			}
		}
		r.Verdicts = append(r.Verdicts, v)
	}
	return r
}

// Verdict is the verdict on goal g.
func (r *OverlapReport) Verdict(g overlap.Goal) Verdict {
	for _, v := range r.Verdicts {
		if v.Goal == g {
			return v
		}
	}
	return Verdict{Goal: g, Holds: true}
}

// ByUtilisation is the fleet's clusters hottest first (the most used range or limit), those
// that did not answer last, each group in the order given.
func ByUtilisation(f *Fleet[*CIDRUsage]) []FleetMember[*CIDRUsage] {
	out := append([]FleetMember[*CIDRUsage](nil), f.Clusters...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Status.Answered() != b.Status.Answered() {
			return a.Status.Answered()
		}
		return a.Status.Answered() && a.Report.Max > b.Report.Max
	})
	return out
}
