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
	section := func(title string) {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		if !o.NoHeaders {
			b.WriteString(p.Heading(title) + "\n")
		}
	}
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

// Prometheus writes every utilisation as gauges in the text exposition format.
func Prometheus(w io.Writer, u *report.CIDRUsage) error {
	var b strings.Builder
	gauge := func(name, help string, samples func(add func(labels string, v float64))) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		samples(func(labels string, v float64) { fmt.Fprintf(&b, "%s%s %s\n", name, labels, num(v)) })
	}
	nodes := func(v func(report.NodeUsage) float64) func(add func(string, float64)) {
		return func(add func(string, float64)) {
			for _, n := range u.Nodes {
				add(lbl("node", n.Name), v(n))
			}
		}
	}
	ranges := func(v func(report.RangeUsage) float64) func(add func(string, float64)) {
		return func(add func(string, float64)) {
			for _, r := range u.Ranges {
				add(lbl("cidr", r.CIDR, "mask", fmt.Sprint(r.NodeMask)), v(r))
			}
		}
	}
	gauge("podnet_node_pod_ips_used", "Pod IPs in use on the node (pods on the pod network that hold one).", nodes(func(n report.NodeUsage) float64 { return float64(n.Used) }))
	gauge("podnet_node_pod_ips_capacity", "Pods the node can hold: the smaller of its usable addresses and its max pods.", nodes(func(n report.NodeUsage) float64 { return float64(n.Capacity) }))
	gauge("podnet_node_utilisation_ratio", "Pod IPs in use over capacity.", nodes(func(n report.NodeUsage) float64 { return n.Utilisation }))
	if len(u.LeakedFrom) > 0 {
		gauge("podnet_node_pod_ips_leaked", "Addresses of the node's range its IPAM store claims for pods that no longer hold them (not in the capacity).", nodes(func(n report.NodeUsage) float64 { return float64(n.Leaked) }))
	}
	gauge("podnet_cluster_cidr_node_cidrs", "Node CIDRs a cluster pod CIDR holds.", ranges(func(r report.RangeUsage) float64 { return float64(r.Slots) }))
	gauge("podnet_cluster_cidr_node_cidrs_allocated", "Node CIDRs allocated from a cluster pod CIDR.", ranges(func(r report.RangeUsage) float64 { return float64(r.Allocated) }))
	gauge("podnet_cluster_cidr_utilisation_ratio", "Node CIDRs allocated over those the cluster pod CIDR holds (not for an inferred cluster CIDR).", func(add func(string, float64)) {
		for _, r := range u.Ranges {
			if !r.Inferred {
				add(lbl("cidr", r.CIDR, "mask", fmt.Sprint(r.NodeMask)), r.Utilisation)
			}
		}
	})
	gauge("podnet_nodes_without_pod_cidr", "Nodes that need a pod CIDR and have none.", func(add func(string, float64)) { add("", float64(len(u.Starved))) })
	if len(u.Pools) > 0 {
		gauge("podnet_ippool_utilisation_ratio", "Calico IPPool: the larger of blocks claimed over blocks and addresses allocated over addresses.", func(add func(string, float64)) {
			for _, p := range u.Pools {
				add(lbl("pool", p.Name, "cidr", p.CIDR), p.Utilisation)
			}
		})
	}
	gauge("podnet_service_cidr_utilisation_ratio", "ClusterIPs allocated over those the service CIDR holds.", func(add func(string, float64)) {
		for _, s := range u.Services {
			add(lbl("cidr", s.CIDR), s.Utilisation)
		}
	})
	gauge("podnet_platform_limit_utilisation_ratio", "Platform limit used over the limit.", func(add func(string, float64)) {
		for _, l := range u.Limits {
			if l.Limit > 0 {
				add(lbl("limit", l.Name), l.Utilisation)
			}
		}
	})
	gauge("podnet_max_utilisation_ratio", "The highest utilisation of all.", func(add func(string, float64)) { add("", u.Max) })
	_, err := io.WriteString(w, b.String())
	return err
}

func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4f", v)
}

// lbl renders {k="v",...} with the exposition format's escaping.
func lbl(kv ...string) string {
	parts := make([]string, 0, len(kv)/2)
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, fmt.Sprintf(`%s="%s"`, kv[i], r.Replace(kv[i+1])))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
