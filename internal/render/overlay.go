package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/overlay"
)

// Overlay writes the overlay check: the model and its overlay, the nodes, then one block per pair
// of nodes with each check and, below it, the likely cause of each failed or unknown check.
func Overlay(w io.Writer, r *overlay.Report, o TableOptions) error {
	var b strings.Builder
	pal := o.Palette
	if !o.NoHeaders {
		fmt.Fprintf(&b, "%s %s\n", pal.Heading("NETWORK"), r.Network)
		ov := r.Overlay.String()
		if r.Overlay.State == overlay.NoTunnel && r.Overlay.Reason != "" {
			ov += ": " + r.Overlay.Reason
		}
		fmt.Fprintf(&b, "%s %s\n", pal.Heading("OVERLAY"), ov)
		var nodes []string
		for _, n := range r.Nodes {
			s := n.Name + " " + n.Transport
			if n.Zone != "" {
				s += " (" + n.Zone + ")"
			}
			if n.Probe != overlay.OK {
				s += " " + pal.Bad("probe failed")
			}
			nodes = append(nodes, s)
		}
		fmt.Fprintf(&b, "%s %s\n", pal.Heading("NODES"), strings.Join(nodes, ", "))
	}
	for _, p := range r.Pairs {
		b.WriteString("\n")
		if !o.NoHeaders {
			fmt.Fprintf(&b, "%s %s\n", pal.Heading("PAIR "+p.A+" <-> "+p.B+":"), paintState(pal, p.State))
		}
		rows := make([][]string, 0, len(p.Checks))
		for _, c := range p.Checks {
			rows = append(rows, []string{string(c.Check), c.Where(), paintState(pal, c.State), dash(c.Seen)})
		}
		if err := Table(&b, []string{"CHECK", "ON", "STATE", "SEEN"}, rows, o.NoHeaders); err != nil {
			return err
		}
		for _, c := range p.Checks {
			if c.Cause != "" {
				fmt.Fprintf(&b, "  %s %s: %s\n", c.Check, c.Where(), c.Cause)
			}
		}
	}
	if !o.NoHeaders {
		s := r.Summary
		fmt.Fprintf(&b, "\n%s: %d ok, %d failed, %d unknown\n", plural(s.Pairs, "pair", "pairs"), s.OK, s.Failed, s.Unknown)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func paintState(p Palette, s overlay.State) string {
	switch s {
	case overlay.OK:
		return p.Good(string(s))
	case overlay.Failed:
		return p.Bad(string(s))
	}
	return p.Warn(string(s))
}
