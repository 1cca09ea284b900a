package render

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/report"
)

// CIDRUsage writes the utilisation tables, hottest first: cluster CIDRs, IPPools, nodes, service
// CIDRs, platform limits, and the plan when one was asked for; with NoHeaders, the rows only, a
// blank line between the tables.
func CIDRUsage(w io.Writer, u *report.CIDRUsage, o TableOptions) error {
	p := o.Palette
	var b strings.Builder
	section := sections(&b, o)
	table := func(h []string, rows [][]string) {
		_ = Table(&b, h, rows, o.NoHeaders)
	}
	if len(u.Ranges) > 0 {
		section("CLUSTER POD CIDRS")
		var rows [][]string
		for _, r := range u.Ranges {
			used := bar(r.Utilisation, p, u.Settings)
			if r.Inferred {
				used = "unknown"
			}
			rows = append(rows, []string{r.CIDR, fmt.Sprintf("/%d", r.NodeMask), fmt.Sprintf("%d/%s", r.Allocated, count(r.Slots)), count(r.Free),
				fmt.Sprint(len(r.Starved)), fmt.Sprint(r.Holes), used, r.Source})
		}
		table([]string{"CIDR", "NODE-MASK", "NODE-CIDRS", "FREE", "NO-CIDR", "HOLES", "USED", "SOURCE"}, rows)
	}
	if len(u.Pools) > 0 {
		section("CALICO IP POOLS")
		var rows [][]string
		for _, pu := range u.Pools {
			state := bar(pu.Utilisation, p, u.Settings)
			if pu.Disabled {
				state = "disabled"
			}
			rows = append(rows, []string{pu.Name, pu.CIDR, fmt.Sprintf("/%d", pu.BlockSize), fmt.Sprintf("%d/%s", pu.Blocks, count(pu.MaxBlocks)),
				fmt.Sprintf("%d/%s", pu.Allocated, count(pu.Addresses)), fmt.Sprint(pu.Borrowed), state, byNode(pu.BlocksBy)})
		}
		table([]string{"POOL", "CIDR", "BLOCK", "BLOCKS", "ADDRESSES", "BORROWED", "USED", "BLOCKS-BY-NODE"}, rows)
	}
	section("NODES")
	var rows [][]string
	leaks := len(u.LeakedFrom) > 0
	for _, n := range u.Nodes {
		row := []string{n.Name, joinOrDash(n.CIDRs), fmt.Sprintf("%d/%s", n.Used, count(n.Capacity)), count(n.Usable)}
		if leaks {
			row = append(row, fmt.Sprint(n.Leaked))
		}
		rows = append(rows, append(row, fmt.Sprint(n.MaxPods), fmt.Sprint(n.HostNetworkPods), string(n.Binding), bar(n.Utilisation, p, u.Settings)))
	}
	// IPS is pod IPs in use of those the node can hold: the lower of its usable addresses (less
	// the leaked, where the IPAM store was read) and its max pods less its host-network pods (which
	// take a max-pods slot and no address)
	head := []string{"NODE", "POD-CIDRS", "IPS", "USABLE"}
	if leaks {
		head = append(head, "LEAKED")
	}
	table(append(head, "MAX-PODS", "HOST-NET", "BINDS-FIRST", "USED"), rows)
	if len(u.Services) > 0 {
		section("SERVICE CIDRS")
		var rows [][]string
		for _, s := range u.Services {
			rows = append(rows, []string{s.CIDR, fmt.Sprintf("%d/%s", s.Allocated, count(s.Usable)), bar(s.Utilisation, p, u.Settings), s.Source, "counted from " + s.CountedFrom})
		}
		table([]string{"CIDR", "CLUSTER-IPS", "USED", "SOURCE", "COUNT"}, rows)
	}
	section("PLATFORM LIMITS")
	rows = nil
	for _, l := range u.Limits {
		limit, used := "?", "-"
		if l.Limit > 0 {
			limit, used = count(l.Limit), bar(l.Utilisation, p, u.Settings)
		}
		rows = append(rows, []string{l.Name, fmt.Sprintf("%s/%s", count(l.Used), limit), used, l.Source})
	}
	table([]string{"LIMIT", "USED/LIMIT", "USED", "SOURCE"}, rows)
	if pl := u.Plan; pl != nil {
		section(fmt.Sprintf("PLAN: %d NODES OF %d PODS", pl.Nodes, pl.MaxPods))
		var rows [][]string
		for _, c := range pl.Checks {
			ok := p.Good("yes")
			if !c.OK {
				ok = p.Bad("NO")
			}
			rows = append(rows, []string{c.Name, count(c.Need), count(c.Have), ok})
		}
		table([]string{"CHECK", "NEED", "HAVE", "FITS"}, rows)
		verdict := p.Good("yes")
		if !pl.Holds {
			verdict = p.Bad("no")
		}
		fmt.Fprintf(&b, "holds %d nodes of %d pods: %s; binds first: %s\n", pl.Nodes, pl.MaxPods, verdict, pl.Binding)
		if len(pl.Smallest) > 0 {
			fmt.Fprintf(&b, "smallest cluster CIDR that would hold them: %s\n", strings.Join(pl.Smallest, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// count writes a size, saying "2^64+" for what saturated.
func count(n uint64) string {
	if n == math.MaxUint64 {
		return "2^64+"
	}
	return thousands(int64(min(n, math.MaxInt64)))
}

func byNode(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return joinOrDash(parts)
}

// bar draws a ten-cell utilisation bar and the percentage, coloured by the thresholds.
func bar(r float64, p Palette, s report.CIDRUsageConfig) string {
	cells := int(math.Round(math.Min(r, 1) * 10))
	text := fmt.Sprintf("[%s%s] %3.0f%%", strings.Repeat("#", cells), strings.Repeat(".", 10-cells), r*100)
	switch {
	case s.FailAt > 0 && r*100 >= s.FailAt:
		return p.Bad(text)
	case r*100 >= s.WarnAt:
		return p.Warn(text)
	}
	return text
}
