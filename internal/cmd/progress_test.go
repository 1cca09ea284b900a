package cmd

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	clock := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { return clock }
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.on = true // as on a terminal

	p.Update("pods", 500) // under a second: nothing
	if buf.Len() != 0 {
		t.Fatalf("progress written before a second passed: %q", buf.String())
	}
	clock = clock.Add(1500 * time.Millisecond)
	p.Update("nodes", 5000)
	clock = clock.Add(50 * time.Millisecond)
	p.Update("pods", 48500) // throttled: within 100ms of the last line
	clock = clock.Add(200 * time.Millisecond)
	p.Update("pods", 48500)
	p.Done()
	want := "\rlisting pods: 500, nodes: 5,000" +
		"\rlisting pods: 48,500, nodes: 5,000" +
		"\r" + strings.Repeat(" ", len("listing pods: 48,500, nodes: 5,000")) + "\r"
	if got := buf.String(); got != want {
		t.Errorf("progress output\n got %q\nwant %q", got, want)
	}
}

func TestProgressOffWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.Update("pods", 1)
	p.Done()
	if buf.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", buf.String())
	}
}

// TestStatusLineOffATerminal: off a terminal, a probe that still waits after the delay says what
// it waits for in one line; one that finished in time, and states after the line, write nothing.
func TestStatusLineOffATerminal(t *testing.T) {
	var buf syncBuffer
	s := newStatusLine(&buf)
	s.after = 50 * time.Millisecond
	s.set("pod/shop/web-1", "adding ephemeral container podnet-x")
	s.set("pod/shop/web-1", "pulling image busybox")
	s.set("node/n1", "creating probe pod default/podnet-y")
	s.set("node/n1", "")
	time.Sleep(200 * time.Millisecond)
	s.set("pod/shop/web-1", "running")
	time.Sleep(100 * time.Millisecond)
	s.done()
	if got, want := buf.String(), "pod/shop/web-1: pulling image busybox (still waiting after 50ms)\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// syncBuffer is a bytes.Buffer safe for the status line's timers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
