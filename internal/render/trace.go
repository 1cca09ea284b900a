package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/policy"
	"github.com/podnet/kubectl-podnet/internal/probe"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

// hopRows are the numbered hops, a row each, with the route and the encapsulation on rows of
// their own under the hop's WHAT.
func hopRows(hops []trace.Hop) [][]string {
	var rows [][]string
	for i, h := range hops {
		rows = append(rows, []string{fmt.Sprintf("%2d", i+1), h.Where, dash(h.Device), h.What})
		if h.Route != "" {
			rows = append(rows, []string{"", "", "", "route: " + h.Route})
		}
		if e := h.Encap; e != nil {
			rows = append(rows, []string{"", "", "", fmt.Sprintf("%s outer %s -> %s%s, %d bytes of overhead", e.Kind, e.OuterSrc, e.OuterDst, encapPort(e), e.Overhead)})
		}
	}
	return rows
}

// Trace writes a path as numbered hops: where, device, what happens, the route that matches and
// the encapsulation, then the live check and the policy verdict. The notes are the caller's to
// write (on stderr, with Notes).
func Trace(w io.Writer, p *trace.Path, o TableOptions) error {
	pal := o.Palette
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, node %s) -> %s (%s, node %s)\n", pal.Heading(p.Src.String()), p.Src.IP, p.Src.Node, pal.Heading(p.Dst.String()), p.Dst.IP, p.Dst.Node)
	fmt.Fprintf(&b, "network %s · %s\n", p.Network, p.Case)
	fmt.Fprintf(&b, "%s\n\n", traceDiagram(p))
	if err := Table(&b, []string{"HOP", "WHERE", "DEVICE", "WHAT"}, hopRows(p.Hops), o.NoHeaders); err != nil {
		return err
	}
	if v := p.Probe; v != nil {
		if err := traceProbe(&b, v, o); err != nil {
			return err
		}
	}
	if v := p.Policy; v != nil {
		verdict := string(v.Verdict.Verdict)
		switch v.Verdict.Verdict {
		case policy.Denied:
			verdict = pal.Bad(verdict)
		case policy.Allowed:
			verdict = pal.Good(verdict)
		case policy.Unknown:
			verdict = pal.Warn(verdict)
		}
		fmt.Fprintf(&b, "\nnetwork policy for port %s: %s\n", p.Port, verdict)
		fmt.Fprintf(&b, "  egress of %s: %s%s\n", p.Src, v.Egress.Verdict, policyNames(v.Egress))
		fmt.Fprintf(&b, "  ingress of %s: %s%s\n", p.Dst, v.Ingress.Verdict, policyNames(v.Ingress))
		fmt.Fprintf(&b, "  enforced: %s\n", v.Enforced)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func encapPort(e *trace.Encap) string {
	switch {
	case e.Port > 0 && e.VNI > 0:
		return fmt.Sprintf(" (UDP %d, VNI %d)", e.Port, e.VNI)
	case e.Port > 0:
		return fmt.Sprintf(" (UDP %d)", e.Port)
	}
	return ""
}

// policyNames says which policies decided a direction, or why it is unknown.
func policyNames(d policy.DirectionVerdict) string {
	switch {
	case d.Verdict == policy.Unknown:
		s := ": " + strings.Join(d.Unknown, "; ")
		if len(d.DecidedBy) > 0 {
			s += " (could be decided by " + strings.Join(d.DecidedBy, ", ") + ")"
		}
		return s
	case len(d.DecidedBy) > 0:
		return " by " + strings.Join(d.DecidedBy, ", ")
	case len(d.Selecting) > 0:
		return " (selected by " + strings.Join(d.Selecting, ", ") + "; none decides)"
	}
	return ""
}

// TraceDot writes the path as a Graphviz digraph: one node per hop, edges in order.
func TraceDot(w io.Writer, p *trace.Path) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph podnet_trace {\n  rankdir=LR;\n  label=%q;\n  node [shape=box];\n", fmt.Sprintf("%s -> %s (%s, %s)", p.Src, p.Dst, p.Network, p.Case))
	for i, h := range p.Hops {
		fmt.Fprintf(&b, "  h%d [label=%q];\n", i+1, hopLabel(h, "\n"))
		if i > 0 {
			fmt.Fprintf(&b, "  h%d -> h%d;\n", i, i+1)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// hopLabel is a hop's box in a picture: where, the device and the encapsulation, one a line.
func hopLabel(h trace.Hop, newline string) string {
	label := h.Where
	if h.Device != "" {
		label += newline + h.Device
	}
	if h.Encap != nil {
		label += newline + h.Encap.Kind + encapPort(h.Encap)
	}
	return label
}

// TraceMermaid writes the path as a Mermaid flowchart.
func TraceMermaid(w io.Writer, p *trace.Path) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	esc := strings.NewReplacer(`"`, "#quot;")
	for i, h := range p.Hops {
		fmt.Fprintf(&b, "  h%d[\"%s\"]\n", i+1, esc.Replace(hopLabel(h, "<br/>")))
		if i > 0 {
			fmt.Fprintf(&b, "  h%d --> h%d\n", i, i+1)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// traceProbe writes the live check: a table of the routing decision per hop and the tunnel
// devices, expected and seen, then the connection.
func traceProbe(b *strings.Builder, v *trace.Verification, o TableOptions) error {
	pal := o.Palette
	status := func(s trace.Status, reason string) string {
		switch s {
		case trace.StatusOK:
			return pal.Good("ok")
		case trace.StatusMismatch:
			return pal.Bad("MISMATCH") + ": " + reason
		case trace.StatusPresent:
			return "present: " + reason
		case trace.StatusNotProbed:
			return pal.Dim("not probed") + ": " + reason
		}
		return pal.Bad(string(s)) + ": " + reason
	}
	var rows [][]string
	add := func(hop, in, item, expected, seen string, s trace.Status, reason, cause string) {
		rows = append(rows, []string{hop, in, item, "expected " + expected})
		if seen != "" {
			rows = append(rows, []string{"", "", "", "seen     " + seen})
		}
		rows = append(rows, []string{"", "", "", status(s, reason)})
		if cause != "" {
			rows = append(rows, []string{"", "", "", "likely cause: " + cause})
		}
	}
	for _, c := range v.Checks {
		add(fmt.Sprintf("%2d", c.Hop), c.In, "route", c.Expected, c.Seen, c.Status, c.Reason, c.Cause)
	}
	for _, d := range v.Devices {
		check := d.Device
		if d.Aspect != "" && d.Aspect != trace.AspectDevice {
			check += " " + string(d.Aspect)
		}
		add(" -", d.In, check, d.Expected, d.Seen, d.Status, d.Reason, d.Cause)
	}
	if len(rows) > 0 {
		fmt.Fprintf(b, "\nlive check (ip route get in each namespace, the tunnel devices on the nodes):\n")
		if err := Table(b, []string{"HOP", "WHERE", "CHECK", "RESULT"}, rows, o.NoHeaders); err != nil {
			return err
		}
	}
	if c := v.Connect; c != nil {
		result := string(c.Result)
		if c.Result == probe.Connected {
			result = pal.Good(result)
		} else {
			result = pal.Bad(result)
		}
		to := c.To
		if to == "" {
			to = "the destination"
		}
		if c.Result != probe.Connected && c.Expected == trace.ExpectBlocked && c.Agrees {
			result = pal.Good(string(c.Result))
		}
		expected := ""
		switch {
		case c.Expected == "":
			expected = " (the policy verdict is not known: nothing to compare)"
		case c.Expected != trace.ExpectConnected || !c.Agrees:
			expected = " (expected: " + string(c.Expected) + ")"
		}
		fmt.Fprintf(b, "\nTCP connect from %s to %s: %s%s\n", c.From, to, result, expected)
		if c.Output != "" && c.Result != probe.Connected {
			fmt.Fprintf(b, "  %s\n", strings.TrimSpace(c.Output))
		}
		if c.Cause != "" {
			fmt.Fprintf(b, "  likely cause: %s\n", c.Cause)
		}
	}
	return nil
}

// traceDiagram is the path on one line: each place the packet passes, with its devices, and the
// links between them (a tunnel shown with its encapsulation).
func traceDiagram(p *trace.Path) string {
	type place struct {
		where   string
		devices []string
		encap   *trace.Encap
	}
	var places []place
	for _, h := range p.Hops {
		if h.Where == "network" {
			continue
		}
		if len(places) == 0 || places[len(places)-1].where != h.Where {
			places = append(places, place{where: h.Where})
		}
		pl := &places[len(places)-1]
		if h.Device != "" && (len(pl.devices) == 0 || pl.devices[len(pl.devices)-1] != h.Device) {
			pl.devices = append(pl.devices, h.Device)
		}
		if h.Encap != nil {
			pl.encap = h.Encap
		}
	}
	dst := ""
	switch {
	case p.Dst.Kind == "pod" && !p.Dst.HostNetwork:
		dst = "pod " + p.Dst.Namespace + "/" + p.Dst.Name
	case p.Dst.Kind == "node":
		dst = "node " + p.Dst.Name
	}
	if dst != "" && (len(places) == 0 || places[len(places)-1].where != dst) {
		places = append(places, place{where: dst})
	}
	var b strings.Builder
	for i, pl := range places {
		if i > 0 {
			if e := places[i-1].encap; e != nil {
				fmt.Fprintf(&b, " ══%s%s══▶ ", strings.Fields(e.Kind)[0], encapPort(e))
			} else {
				b.WriteString(" ─▶ ")
			}
		}
		b.WriteString("[" + pl.where)
		if len(pl.devices) > 0 {
			b.WriteString(": " + strings.Join(pl.devices, " › "))
		}
		b.WriteString("]")
	}
	return b.String()
}
