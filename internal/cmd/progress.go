package cmd

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/podnet/kubectl-podnet/internal/render"
)

// progress writes a single, rewritten status line to a terminal once work takes over a second:
// "listing pods: 48,500". On anything but a terminal it writes nothing.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	on     bool
	start  time.Time
	last   time.Time
	counts map[string]int
	order  []string
	width  int // length of the line on screen, to blank it out
}

// now is swapped in tests.
var now = time.Now

func newProgress(w io.Writer) *progress {
	return &progress{w: w, on: render.IsTerminal(w), start: now(), counts: map[string]int{}}
}

// Update records that n objects of kind were read so far.
func (p *progress) Update(kind string, n int) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.counts[kind]; !ok {
		p.order = append(p.order, kind)
	}
	p.counts[kind] = n
	t := now()
	if t.Sub(p.start) < time.Second || t.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = t
	line := "listing"
	for i, k := range p.order {
		if i > 0 {
			line += ","
		}
		line += fmt.Sprintf(" %s: %s", k, render.Thousands(int64(p.counts[k])))
	}
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%*s", line, pad, "")
	p.width = len(line)
}

// Done clears the line if one was written.
func (p *progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
		p.width = 0
	}
}
