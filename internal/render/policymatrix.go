package render

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/policy"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// matrixSymbols are the grid's cells.
var matrixSymbols = map[policy.Result]string{policy.Allowed: "✓", policy.Denied: "✗", policy.Unknown: "?", policy.NoPolicy: "·"}

// PolicyMatrix writes the groups, then a grid per port: rows are sources, columns destinations,
// both by group number.
func PolicyMatrix(w io.Writer, m *report.PolicyMatrix, o TableOptions) error {
	pal := o.Palette
	var b strings.Builder
	if err := matrixGroups(&b, m, o.NoHeaders); err != nil {
		return err
	}
	var srcs, dsts []int
	for _, g := range m.Groups {
		if g.Source {
			srcs = append(srcs, g.ID)
		}
		if g.Destination {
			dsts = append(dsts, g.ID)
		}
	}
	// a flat grid: the cells come in any order
	pos := func(ids []int) map[int]int {
		out := make(map[int]int, len(ids))
		for i, id := range ids {
			out[id] = i
		}
		return out
	}
	srcPos, dstPos := pos(srcs), pos(dsts)
	portPos := map[string]int{}
	for i, p := range m.Ports {
		portPos[p] = i
	}
	grid := make([]policy.Result, len(srcs)*len(dsts)*len(m.Ports))
	for i := range m.Len() {
		c := m.Cell(i)
		grid[(srcPos[c.From]*len(dsts)+dstPos[c.To])*len(m.Ports)+portPos[c.Port]] = c.Verdict
	}
	width := len(strconv.Itoa(len(m.Groups)))
	// rows carry the group's name, cut to a width that keeps the grid on a terminal
	const maxName = 32
	nameW := 0
	names := make([]string, len(m.Groups))
	oneNS := true
	for _, g := range m.Groups {
		oneNS = oneNS && g.Namespace == m.Groups[0].Namespace
	}
	for _, s := range srcs {
		n := m.Groups[s].Namespace + "/" + m.Groups[s].Name
		if oneNS {
			n = m.Groups[s].Name
		}
		if r := []rune(n); len(r) > maxName {
			n = string(r[:maxName-1]) + "…"
		}
		names[s] = n
		nameW = max(nameW, len([]rune(n)))
	}
	pad := func(s string, w int) string { return s + strings.Repeat(" ", w-len([]rune(s))) }
	for pi, port := range m.Ports {
		fmt.Fprintf(&b, "\n%s  (row: from, column: to)\n", pal.Heading(port))
		fmt.Fprintf(&b, "%*s %s ", width, "", pad("", nameW))
		for _, d := range dsts {
			fmt.Fprintf(&b, " %*d", width, d+1)
		}
		b.WriteByte('\n')
		for si, s := range srcs {
			fmt.Fprintf(&b, "%*d %s ", width, s+1, pad(names[s], nameW))
			for di := range dsts {
				v := grid[(si*len(dsts)+di)*len(m.Ports)+pi]
				fmt.Fprintf(&b, " %*s%s", width-1, "", paintResult(pal, v, matrixSymbols[v]))
			}
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "\n%s allowed  %s denied  %s unknown  %s no policy (allowed)\n", pal.Good("✓"), pal.Bad("✗"), pal.Warn("?"), "·")
	_, err := io.WriteString(w, b.String())
	return err
}

func paintResult(pal Palette, v policy.Result, s string) string {
	switch v {
	case policy.Allowed:
		return pal.Good(s)
	case policy.Denied:
		return pal.Bad(s)
	case policy.Unknown:
		return pal.Warn(s)
	}
	return s
}

func matrixGroups(b *strings.Builder, m *report.PolicyMatrix, noHeaders bool) error {
	var rows [][]string
	for _, g := range m.Groups {
		var side []string
		if g.Source {
			side = append(side, "from")
		}
		if g.Destination {
			side = append(side, "to")
		}
		rows = append(rows, []string{strconv.Itoa(g.ID + 1), g.Namespace, g.Name, strconv.Itoa(len(g.Pods)), strings.Join(side, ","), dash(labelString(g.Labels))})
	}
	return Table(b, []string{"GROUP", "NAMESPACE", "NAME", "PODS", "SIDE", "LABELS"}, rows, noHeaders)
}

// labelString is "k=v,k2=v2", sorted.
func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}

// PolicyMatrixCSV writes one row per cell, groups by their titles.
func PolicyMatrixCSV(w io.Writer, m *report.PolicyMatrix) error {
	cw := csv.NewWriter(w)
	title := func(id int) string { return m.Groups[id].Namespace + "/" + m.Groups[id].Name }
	if m.WhatIf != nil {
		_ = cw.Write([]string{"from", "to", "port", "before", "after", "decided_by"})
		for _, c := range m.WhatIf.Changes {
			_ = cw.Write([]string{title(c.From), title(c.To), c.Port, string(c.Was), string(c.Is), strings.Join(c.DecidedBy, "; ")})
		}
	} else {
		_ = cw.Write([]string{"from", "to", "port", "verdict", "egress", "ingress", "decided_by", "unknown"})
		for i := range m.Len() {
			c := m.Cell(i)
			_ = cw.Write([]string{title(c.From), title(c.To), c.Port, string(c.Verdict), string(c.Egress.Verdict), string(c.Ingress.Verdict),
				strings.Join(append(append([]string{}, c.Egress.DecidedBy...), c.Ingress.DecidedBy...), "; "),
				strings.Join(append(append([]string{}, c.Egress.Unknown...), c.Ingress.Unknown...), "; ")})
		}
	}
	cw.Flush()
	return cw.Error()
}

// PolicyWhatIf writes the cells a change turns, then the client -> Service connections it breaks,
// degrades or restores.
func PolicyWhatIf(w io.Writer, m *report.PolicyMatrix, o TableOptions) error {
	pal := o.Palette
	wi := m.WhatIf
	var b strings.Builder
	if len(wi.Added) > 0 {
		fmt.Fprintf(&b, "with: %s\n", strings.Join(wi.Added, ", "))
	}
	if len(wi.Removed) > 0 {
		fmt.Fprintf(&b, "without: %s\n", strings.Join(wi.Removed, ", "))
	}
	title := func(id int) string { return m.Groups[id].Title() }
	if len(wi.Changes) == 0 {
		b.WriteString("no verdict changes\n")
	} else {
		var rows [][]string
		for _, c := range wi.Changes {
			rows = append(rows, []string{title(c.From), title(c.To), c.Port, paintResult(pal, c.Was, string(c.Was)), paintResult(pal, c.Is, string(c.Is)), dash(strings.Join(c.DecidedBy, ", "))})
		}
		if err := Table(&b, []string{"FROM", "TO", "PORT", "BEFORE", "AFTER", "DECIDED-BY"}, rows, o.NoHeaders); err != nil {
			return err
		}
	}
	if len(wi.Connections) > 0 {
		b.WriteString("\nclient -> Service connections:\n")
		var rows [][]string
		for _, c := range wi.Connections {
			state := string(c.State)
			if c.State.Breaks() {
				state = pal.Bad(state)
			} else if c.State == report.ConnectionRestored {
				state = pal.Good(state)
			}
			rows = append(rows, []string{title(c.Client), c.Service, c.Port, strconv.Itoa(c.Backend), strconv.Itoa(c.Before), strconv.Itoa(c.After), state})
		}
		if err := Table(&b, []string{"CLIENT", "SERVICE", "PORT", "BACKENDS", "ALLOWED-BEFORE", "ALLOWED-AFTER", "STATE"}, rows, o.NoHeaders); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PolicyMatrixJSON writes the matrix as JSON does (indented, cells last), streaming the cells:
// a million of them would otherwise be built in memory first. Each distinct side is encoded once.
func PolicyMatrixJSON(w io.Writer, m *report.PolicyMatrix) error {
	head, err := json.MarshalIndent(m.WithoutCells(), "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(bytes.TrimSuffix(head, []byte("\n}")))
	if m.Len() == 0 {
		bw.WriteString(",\n  \"cells\": []\n}\n")
		return bw.Flush()
	}
	bw.WriteString(",\n  \"cells\": [")
	sides := map[*report.MatrixSide][]byte{}
	side := func(s *report.MatrixSide) ([]byte, error) {
		if b, ok := sides[s]; ok {
			return b, nil
		}
		b, err := json.MarshalIndent(s, "      ", "  ")
		sides[s] = b
		return b, err
	}
	var num []byte
	for i := range m.Len() {
		c := m.Cell(i)
		eg, err := side(c.Egress)
		if err != nil {
			return err
		}
		in, err := side(c.Ingress)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    {\n      \"from\": ")
		bw.Write(strconv.AppendInt(num[:0], int64(c.From), 10))
		bw.WriteString(",\n      \"to\": ")
		bw.Write(strconv.AppendInt(num[:0], int64(c.To), 10))
		bw.WriteString(",\n      \"port\": ")
		bw.Write(strconv.AppendQuote(num[:0], c.Port))
		bw.WriteString(",\n      \"verdict\": ")
		bw.Write(strconv.AppendQuote(num[:0], string(c.Verdict)))
		bw.WriteString(",\n      \"egress\": ")
		bw.Write(eg)
		bw.WriteString(",\n      \"ingress\": ")
		bw.Write(in)
		bw.WriteString("\n    }")
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}
