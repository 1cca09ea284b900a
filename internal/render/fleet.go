package render

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// FleetNodes writes the nodes of every cluster that answered, each row led by its context.
func FleetNodes(w io.Writer, f *report.Fleet[*report.NodesReport], o NodesOptions) error {
	headers := append([]string{"CONTEXT"}, NodesHeaders...)
	if o.Wide {
		headers = append(headers, nodesWideHeaders...)
	}
	var rows [][]string
	for _, m := range f.Clusters {
		if !m.Status.Answered() {
			continue
		}
		for i := range m.Report.Nodes {
			rows = append(rows, append([]string{m.Context}, nodeCells(&m.Report.Nodes[i], m.Report, o)...))
		}
	}
	return Table(w, headers, rows, o.NoHeaders)
}

// FleetNodesFooters are the nodes footer of every cluster that answered, led by its context.
func FleetNodesFooters(f *report.Fleet[*report.NodesReport]) []string {
	var out []string
	for _, m := range f.Clusters {
		if m.Status.Answered() {
			out = append(out, m.Context+": "+NodesFooter(m.Report))
		}
	}
	return out
}

// FleetErrors writes, for each cluster that did not answer, why: "error: context NAME (STATUS): ...".
func FleetErrors[R any](w io.Writer, f *report.Fleet[R], p Palette) {
	for _, m := range f.Clusters {
		if !m.Status.Answered() {
			fmt.Fprintf(w, "%s context %s (%s): %s\n", p.Bad("error:"), m.Context, m.Status, m.Error)
		}
	}
}

// FleetNotes writes each answering cluster's notes and warnings, led by its context.
func FleetNotes[R any](w io.Writer, f *report.Fleet[R], of func(R) ([]string, []report.Warning), p Palette) {
	for _, m := range f.Clusters {
		if !m.Status.Answered() {
			continue
		}
		notes, warns := of(m.Report)
		for _, n := range notes {
			fmt.Fprintf(w, "%s %s: %s\n", p.Dim("note:"), m.Context, n)
		}
		for _, x := range warns {
			fmt.Fprintf(w, "%s %s: %s\n", p.Warn("warning:"), m.Context, x.Message)
		}
	}
}

// status is a cluster's status cell, coloured.
func status(s report.ClusterStatus, p Palette) string {
	switch s {
	case report.StatusOK:
		return string(s)
	case report.StatusIncomplete:
		return p.Warn(string(s))
	}
	return p.Bad(string(s))
}

// FleetSummary writes one row per cluster: the three networks at a glance, then every cluster's
// findings.
func FleetSummary(w io.Writer, f *report.Fleet[*report.Summary], p Palette) error {
	var b strings.Builder
	var rows [][]string
	var findings []string
	for _, m := range f.Clusters {
		if !m.Status.Answered() {
			rows = append(rows, []string{m.Context, status(m.Status, p), "-", "-", "-", "-", "-", "-", "-", "-"})
			continue
		}
		s := m.Report
		rows = append(rows, []string{m.Context, status(m.Status, p), s.PodNetwork.Network.String(), fmt.Sprint(s.NodeNetwork.Nodes),
			joinOrDash(s.NodeNetwork.InternalRanges), cidrList(s.PodNetwork.PodCIDRs), cidrList(s.ClusterNetwork.ServiceCIDRs),
			dash(s.ClusterNetwork.KubeProxy), dnsCell(s), fmt.Sprint(len(s.Findings))})
		for _, x := range s.Findings {
			findings = append(findings, fmt.Sprintf("  %s %s: %s", p.Warn("!"), m.Context, x.Message))
		}
	}
	if err := Table(&b, []string{"CONTEXT", "STATUS", "NETWORK", "NODES", "NODE-RANGES", "POD-CIDRS", "SERVICE-CIDRS", "KUBE-PROXY", "DNS", "FINDINGS"}, rows, false); err != nil {
		return err
	}
	if len(findings) > 0 {
		b.WriteString("\n" + p.Heading("FINDINGS") + "\n" + strings.Join(findings, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// dnsCell is the cluster DNS in a word: its Service's ready endpoints, or what is wrong.
func dnsCell(s *report.Summary) string {
	d := s.ClusterNetwork.DNS
	switch {
	case d == nil || (d.Service == "" && len(d.Unknown) > 0):
		return "unknown"
	case d.Service == "":
		return "none"
	}
	return fmt.Sprintf("%d/%d ready", d.Ready, len(d.Endpoints))
}

// FleetCIDRUsage writes one row per cluster, hottest first: its node CIDRs and ClusterIPs in use,
// the range or limit closest to running out and how far it is used; the clusters that did not
// answer last.
func FleetCIDRUsage(w io.Writer, f *report.Fleet[*report.CIDRUsage], o TableOptions) error {
	p := o.Palette
	plan := false
	for _, m := range f.Clusters {
		plan = plan || (m.Status.Answered() && m.Report.Plan != nil)
	}
	var rows [][]string
	for _, m := range report.ByUtilisation(f) {
		if !m.Status.Answered() {
			row := []string{m.Context, status(m.Status, p), "-", "-", "-", "-", "-", "-"}
			if plan {
				row = append(row, "-")
			}
			rows = append(rows, row)
			continue
		}
		u := m.Report
		var alloc int
		var slots uint64
		for _, r := range u.Ranges {
			if !r.Inferred {
				alloc, slots = alloc+r.Allocated, addSat(slots, r.Slots)
			}
		}
		nodeCIDRs := "-"
		if slots > 0 {
			nodeCIDRs = fmt.Sprintf("%d/%s", alloc, count(slots))
		}
		var ips int
		var usable uint64
		for _, s := range u.Services {
			ips, usable = ips+s.Allocated, addSat(usable, s.Usable)
		}
		clusterIPs := "-"
		if usable > 0 {
			clusterIPs = fmt.Sprintf("%d/%s", ips, count(usable))
		}
		row := []string{m.Context, status(m.Status, p), u.Network.String(), fmt.Sprint(len(u.Nodes)), nodeCIDRs, clusterIPs,
			dash(u.Hottest), bar(u.Max, p, u.Settings)}
		if plan {
			cell := "-"
			if u.Plan != nil {
				cell = "yes"
				if !u.Plan.Holds {
					cell = p.Bad("no: " + u.Plan.Binding)
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	h := []string{"CONTEXT", "STATUS", "NETWORK", "NODES", "NODE-CIDRS", "CLUSTER-IPS", "HOTTEST", "USED"}
	if plan {
		h = append(h, "PLAN-FITS")
	}
	return Table(w, h, rows, o.NoHeaders)
}

// cidrList is the CIDRs alone, comma-separated, "-" for none.
func cidrList(cs []netmodel.SourcedCIDR) string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.CIDR)
	}
	return joinOrDash(out)
}

// addSat adds, stopping at the largest uint64: an IPv6 range's size is counted there already.
func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
