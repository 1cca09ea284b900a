package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/overlap"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// goalWords say what each goal is, in the verdict.
var goalWords = map[overlap.Goal]string{
	overlap.GoalCluster:    "each cluster on its own",
	overlap.GoalPeering:    "the networks peered or routed to each other",
	overlap.GoalMesh:       "pods reaching pods across clusters (Cilium ClusterMesh): pod ranges unique",
	overlap.GoalSubmariner: "Submariner without Globalnet: pod and Service CIDRs unique",
}

// Overlap writes every range, the overlaps among them (numbered, why each matters below the
// table), and the verdict on each goal.
func Overlap(w io.Writer, r *report.OverlapReport, o TableOptions) error {
	p := o.Palette
	var b strings.Builder
	section := sections(&b, o)
	section("RANGES")
	var rows [][]string
	for _, x := range r.Ranges {
		rows = append(rows, []string{x.Owner, string(x.Role), x.CIDR.String(), addresses(x.CIDR.Addr().BitLen() - x.CIDR.Bits()), string(x.Reach), x.Source})
	}
	_ = Table(&b, []string{"CLUSTER/NETWORK", "RANGE", "CIDR", "ADDRESSES", "REACH", "SOURCE"}, rows, o.NoHeaders)

	section("OVERLAPS")
	if len(r.Overlaps) == 0 {
		b.WriteString(p.Good("none: no two ranges share an address") + "\n")
	} else {
		rows = rows[:0]
		for i, x := range r.Overlaps {
			breaks := "-"
			switch {
			case x.Breaks == overlap.GoalCluster:
				breaks = p.Bad(string(x.Breaks))
			case x.Breaks != "" && (r.For == "" || x.Breaks.Breaks(r.For)):
				breaks = p.Warn(string(x.Breaks))
			case x.Breaks != "":
				breaks = string(x.Breaks)
			}
			rows = append(rows, []string{strconv.Itoa(i + 1), x.A.String(), x.B.String(), x.Shared.String() + " (" + string(x.Relation) + ")",
				sizeCell(x.Addresses), overlap.Percent(x.ShareOfA), overlap.Percent(x.ShareOfB), breaks})
		}
		_ = Table(&b, []string{"#", "A", "B", "SHARED", "ADDRESSES", "OF-A", "OF-B", "BREAKS"}, rows, o.NoHeaders)
		b.WriteString("\n")
		for i, x := range r.Overlaps {
			fmt.Fprintf(&b, "%d. %s: %s\n", i+1, x.Kind, x.Why)
		}
	}

	section("VERDICT")
	rows = rows[:0]
	for _, v := range r.Verdicts {
		if r.For != "" && !v.Goal.Breaks(r.For) && v.Goal != r.For {
			continue // goals beyond the one asked for
		}
		cell := p.Good("holds")
		if !v.Holds {
			nums := make([]string, 0, len(v.BrokenBy))
			for _, n := range v.BrokenBy {
				nums = append(nums, strconv.Itoa(n))
			}
			cell = p.Bad("broken by " + strings.Join(nums, ", "))
		}
		goal := string(v.Goal)
		if v.Goal == r.For {
			goal += " (--for)"
		}
		rows = append(rows, []string{goal, cell, goalWords[v.Goal]})
	}
	_ = Table(&b, []string{"GOAL", "VERDICT", "MEANS"}, rows, o.NoHeaders)
	_, err := io.WriteString(w, b.String())
	return err
}

// addresses is 2^bits addresses, with thousands separators, "2^N" past 2^62.
func addresses(bits int) string {
	if bits >= 63 {
		return "2^" + strconv.Itoa(bits)
	}
	return thousands(int64(1) << bits)
}

// sizeCell writes overlap.Size's decimal numbers with thousands separators.
func sizeCell(s string) string {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return thousands(n)
	}
	return s
}
