package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/report"
)

// IPAMCheck writes the findings as a table on w and the stores read on info (stderr).
func IPAMCheck(w, info io.Writer, c *report.IPAMCheck, noHeaders bool) error {
	var stores []string
	for _, s := range c.Stores {
		line := fmt.Sprintf("%s: %s", s.Name, s.State)
		if s.State == "read" {
			line += fmt.Sprintf(" (%d objects)", s.Objects)
		} else if s.Reason != "" {
			line += ": " + s.Reason
		}
		stores = append(stores, line)
	}
	fmt.Fprintf(info, "checked %d pod(s) holding addresses, %d claim(s), %d node(s) against: %s\n", c.Checked.Pods, c.Checked.Claims, c.Checked.Nodes, orNone(strings.Join(stores, "; ")))
	if len(c.Findings) == 0 {
		_, err := fmt.Fprintln(info, "no leaked, orphaned, duplicate, out-of-range or stale address found")
		return err
	}
	var rows [][]string
	for _, f := range c.Findings {
		rows = append(rows, []string{string(f.Kind), f.Address, f.Store, dash(f.ClaimedFor), f.HeldBy, dash(f.Since)})
	}
	if err := Table(w, []string{"KIND", "ADDRESS", "STORE", "CLAIMED-FOR", "HELD-BY", "SINCE"}, rows, noHeaders); err != nil {
		return err
	}
	if noHeaders {
		return nil // the rows alone, for scripts
	}
	// why each one is a finding and what to do, too long for a column
	var b strings.Builder
	for _, f := range c.Findings {
		fmt.Fprintf(&b, "\n%s %s: %s\n  next: %s\n", f.Kind, f.Address, f.Reason, f.Next)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// IPAMCounts is the findings counted by kind, in a fixed order.
func IPAMCounts(c *report.IPAMCheck) string {
	var parts []string
	for _, k := range []report.IPAMFindingKind{report.FindLeaked, report.FindOrphaned, report.FindDuplicate, report.FindOutOfRange, report.FindStale} {
		if n := c.Counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "no IPAM store"
	}
	return s
}
