// Package render turns the plain structs gathered by the engine packages into tables, JSON and
// YAML. Renderers take an io.Writer and data; they never call the API.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"sigs.k8s.io/yaml"
)

// TableOptions are the reader's choices for a command's tables: no header lines (nor section
// titles), and the colours.
type TableOptions struct {
	NoHeaders bool
	Palette   Palette
}

// Table writes rows under headers the way kubectl does: no borders, columns three spaces apart,
// left-aligned, no trailing blanks.
func Table(w io.Writer, headers []string, rows [][]string, noHeaders bool) error {
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "   ", Overwrite: true}),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	if !noHeaders {
		t.Header(headers)
	}
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	if len(rows) == 0 && noHeaders {
		return nil
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		if _, err := io.WriteString(w, trimLine(line)+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// reset ends a coloured span.
const reset = "\x1b[0m"

// trimLine drops a table line's trailing blanks, also those tablewriter writes before the reset
// it adds after a coloured last cell, keeping one reset so no colour runs on.
func trimLine(line string) string {
	line = strings.TrimRight(line, "\n")
	hadReset := false
	for {
		switch {
		case strings.HasSuffix(line, " "):
			line = strings.TrimRight(line, " ")
		case strings.HasSuffix(line, reset):
			line, hadReset = strings.TrimSuffix(line, reset), true
		default:
			if hadReset {
				line += reset
			}
			return line
		}
	}
}

// JSON writes v as indented JSON.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// YAML writes v as YAML, with the same field names as JSON.
func YAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// dash stands for an empty cell.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinOrDash(ss []string) string { return dash(strings.Join(ss, ",")) }

// thousands formats n with thousands separators: 48500 -> 48,500.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Thousands is thousands for callers outside the package (progress lines).
func Thousands(n int64) string { return thousands(n) }

// sections returns what starts a titled section in b: a blank line after the one before, and the
// title unless o.NoHeaders.
func sections(b *strings.Builder, o TableOptions) func(title string) {
	return func(title string) {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		if !o.NoHeaders {
			b.WriteString(o.Palette.Heading(title) + "\n")
		}
	}
}
