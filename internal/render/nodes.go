package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// NodesOptions say how the nodes table looks.
type NodesOptions struct {
	Wide      bool
	NoHeaders bool
	Palette   Palette
}

// NodesHeaders are the columns of the nodes table; Wide adds the last five.
var NodesHeaders = []string{"NAME", "STATUS", "INTERNAL-IP", "EXTERNAL-IP", "POD-CIDRS", "TUNNEL", "PODS", "NETWORK"}

var nodesWideHeaders = []string{"ZONE", "INSTANCE-TYPE", "KERNEL", "CONTAINER-RUNTIME", "EVIDENCE"}

// Nodes writes the nodes table (data only: the footer, NodesFooter, is for stderr).
func Nodes(w io.Writer, r *report.NodesReport, o NodesOptions) error {
	headers := NodesHeaders
	if o.Wide {
		headers = append(append([]string(nil), NodesHeaders...), nodesWideHeaders...)
	}
	rows := make([][]string, 0, len(r.Nodes))
	for i := range r.Nodes {
		rows = append(rows, nodeCells(&r.Nodes[i], r, o))
	}
	return Table(w, headers, rows, o.NoHeaders)
}

// nodeCells is a node's row of the nodes table.
func nodeCells(n *report.NodeRow, r *report.NodesReport, o NodesOptions) []string {
	pods := fmt.Sprintf("%d/%d", n.Pods, n.MaxPods)
	if r.Cluster.PodsUnknown {
		pods = fmt.Sprintf("?/%d", n.MaxPods)
	}
	if n.DerivedFromPods {
		pods = fmt.Sprintf("%d/?", n.Pods)
	}
	status := n.Status
	if !strings.HasPrefix(status, "Ready") {
		status = o.Palette.Bad(status)
	}
	row := []string{n.Name, status, joinOrDash(n.InternalIPs), joinOrDash(n.ExternalIPs), joinOrDash(n.PodCIDRs),
		n.Tunnel.String(), pods, n.Network.String()}
	if o.Wide {
		row = append(row, dash(n.Zone), dash(n.InstanceType), dash(n.Kernel), dash(n.Runtime), dash(strings.Join(n.Network.Evidence, "; ")))
	}
	return row
}

// NodesFooter sums up the cluster in one line: model, pod and service CIDRs, counts.
func NodesFooter(r *report.NodesReport) string {
	c := r.Cluster
	parts := []string{"network " + c.Network.String()}
	if len(c.PodCIDRs) > 0 {
		parts = append(parts, "pod CIDR "+sourced(c.PodCIDRs))
	} else {
		parts = append(parts, "pod CIDR unknown")
	}
	if len(c.ServiceCIDRs) > 0 {
		parts = append(parts, "service CIDR "+sourced(c.ServiceCIDRs))
	} else {
		parts = append(parts, "service CIDR unknown")
	}
	parts = append(parts, plural(c.Nodes, "node", "nodes"))
	switch {
	case c.PodsUnknown:
		parts = append(parts, "pods unknown")
	case c.PodsNamespace != "":
		parts = append(parts, fmt.Sprintf("%s on the pod network and %d on the host network in namespace %s", plural(c.Pods, "pod", "pods"), c.HostNetworkPods, c.PodsNamespace))
	default:
		parts = append(parts, fmt.Sprintf("%s on the pod network, %d on the host network", plural(c.Pods, "pod", "pods"), c.HostNetworkPods))
	}
	return strings.Join(parts, " · ")
}

func sourced(cs []netmodel.SourcedCIDR) string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s (%s)", c.CIDR, c.Source))
	}
	return strings.Join(out, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(int64(n)) + " " + many
}

// Warnings writes each warning on its own line, "warning: ...".
func Warnings(w io.Writer, ws []report.Warning, p Palette) {
	for _, x := range ws {
		fmt.Fprintf(w, "%s %s\n", p.Warn("warning:"), x.Message)
	}
}

// Notes writes what could not be read, "note: ...".
func Notes(w io.Writer, notes []string, p Palette) {
	for _, n := range notes {
		fmt.Fprintf(w, "%s %s\n", p.Dim("note:"), n)
	}
}
