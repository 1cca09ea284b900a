package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/probe"
)

// IP writes a target's interfaces, routes, rules and neighbours as tables under a line naming it,
// and its checks. The snapshot's errors are the caller's to write (on stderr).
func IP(w io.Writer, v *probe.View, o TableOptions) error {
	p := o.Palette
	r := v.Result
	s := r.Snapshot
	var b strings.Builder
	tool := "busybox/iproute2 text"
	if s.Format == "json" {
		tool = "iproute2 JSON"
	}
	fmt.Fprintf(&b, "%s on node %s (probe %s, %s)\n", p.Heading(r.Target), dash(r.Node), r.Container, tool)
	var rows [][]string
	for _, l := range s.Links {
		peer := l.Peer
		if l.PeerIndex > 0 {
			peer = fmt.Sprintf("if%d", l.PeerIndex)
		}
		var addrs []string
		for _, a := range l.Addrs {
			addrs = append(addrs, a.CIDR)
		}
		state := l.State
		if state != "UP" && state != "UNKNOWN" {
			state = p.Bad(state)
		}
		row := []string{fmt.Sprint(l.Index), l.Name, dash(peer), dash(l.Master), state, fmt.Sprint(l.MTU), dash(l.MAC), joinOrDash(addrs)}
		if v.Serves != nil {
			row = append(row, dash(v.Serves[l.Name]))
		}
		rows = append(rows, row)
	}
	h := []string{"INDEX", "INTERFACE", "PEER", "MASTER", "STATE", "MTU", "MAC", "ADDRESSES"}
	if v.Serves != nil {
		h = append(h, "SERVES")
	}
	_ = Table(&b, h, rows, o.NoHeaders)
	b.WriteString("\n")
	rows = nil
	routes := append([]probe.Route(nil), s.Routes...)
	probe.SortRoutes(routes)
	for _, rt := range routes {
		rows = append(rows, []string{rt.Table, rt.Type, rt.Dst, dash(rt.Gateway), dash(rt.Dev), dash(rt.Src), dash(rt.Proto), dash(rt.Scope), dash(strings.Join(rt.Flags, ","))})
	}
	_ = Table(&b, []string{"TABLE", "TYPE", "DESTINATION", "GATEWAY", "DEV", "SRC", "PROTO", "SCOPE", "FLAGS"}, rows, o.NoHeaders)
	b.WriteString("\n")
	rows = nil
	for _, ru := range s.Rules {
		rows = append(rows, []string{fmt.Sprint(ru.Priority), ru.Family, ru.Selector, ru.Action})
	}
	_ = Table(&b, []string{"PRIORITY", "FAMILY", "SELECTOR", "ACTION"}, rows, o.NoHeaders)
	if len(s.Neighbours) > 0 {
		b.WriteString("\n")
		rows = nil
		for _, n := range s.Neighbours {
			st := strings.Join(n.State, ",")
			if n.Router {
				st += " router"
			}
			rows = append(rows, []string{n.Dst, dash(n.Dev), dash(n.LLAddr), dash(st)})
		}
		_ = Table(&b, []string{"NEIGHBOUR", "DEV", "LLADDR", "STATE"}, rows, o.NoHeaders)
	}
	if len(v.Checks) > 0 {
		b.WriteString("\n")
		for _, c := range v.Checks {
			mark := p.Good("ok  ")
			if !c.OK {
				mark = p.Bad("FAIL")
			}
			fmt.Fprintf(&b, "%s %s\n", mark, c.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// IPRaw writes the probe's output as the commands printed it.
func IPRaw(w io.Writer, r *probe.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s (probe %s)\n", r.Target, r.Container)
	for _, c := range probe.Commands {
		fmt.Fprintf(&b, "$ ip %s\n%s", c, r.Snapshot.Raw[c])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
