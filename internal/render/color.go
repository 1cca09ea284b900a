package render

import (
	"io"
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
)

// Palette colours text for one writer; its zero value colours nothing.
type Palette struct {
	on bool
}

// NewPalette decides colour for writer w: mode "always", "never" or "auto" (on when w is a
// terminal and NO_COLOR is not set).
func NewPalette(w io.Writer, mode string) Palette {
	switch mode {
	case "always":
		return Palette{on: true}
	case "never":
		return Palette{}
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return Palette{}
	}
	return Palette{on: IsTerminal(w)}
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func (p Palette) paint(s string, attrs ...color.Attribute) string {
	if !p.on || s == "" {
		return s
	}
	c := color.New(attrs...)
	c.EnableColor()
	return c.Sprint(s)
}

// Bad paints a fault.
func (p Palette) Bad(s string) string { return p.paint(s, color.FgRed, color.Bold) }

// Warn paints a warning.
func (p Palette) Warn(s string) string { return p.paint(s, color.FgYellow) }

// Good paints a healthy state.
func (p Palette) Good(s string) string { return p.paint(s, color.FgGreen) }

// Dim paints what matters less.
func (p Palette) Dim(s string) string { return p.paint(s, color.Faint) }

// Heading paints a heading.
func (p Palette) Heading(s string) string { return p.paint(s, color.Bold) }
