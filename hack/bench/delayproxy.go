package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// delayProxy forwards TCP connections from listen to backend, each byte arriving rtt/2 later than
// it was sent, in each direction: a link to a cluster in another region, with its round trip but
// not a narrower pipe. TLS passes through untouched. It prints the address it listens on (listen
// may end in :0) on a line of its own, then serves until SIGTERM or SIGINT.
func delayProxy(listen, backend string, rtt time.Duration) error {
	if backend == "" {
		return fmt.Errorf("--backend is required")
	}
	if rtt < 0 {
		return fmt.Errorf("--rtt %v: negative", rtt)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	err = (&delayLine{backend: backend, rtt: rtt}).serve(ln)
	if ctx.Err() != nil {
		return nil // stopped by a signal: the connections still open go with the process
	}
	return err
}

// delayLine is the proxy's work: every chunk read from one side is stamped with its arrival and
// written to the other side at arrival + rtt/2, by a writer of its own, so that chunks in flight
// pile up in a queue as on a long link: a large response streams at the speed of its sender, only
// later. The TCP handshake's round trip, which the kernel completes before the proxy sees the
// connection, is put back by holding what the client sends in its first rtt until then.
type delayLine struct {
	backend string
	rtt     time.Duration
}

// The queue of each direction holds at most queueChunks chunks of at most chunkSize bytes: the
// bytes in flight a direction can hold, 4096 × 64 KiB, are far more than a loopback connection
// carries in rtt/2 for any round trip used here, so the queue bounds memory, not throughput.
const (
	chunkSize   = 64 << 10
	queueChunks = 4096
)

// chunk is what a reader queues: bytes read, or the end of its side (err: io.EOF for an orderly
// close), and when the writer may pass it on.
type chunk struct {
	data []byte
	err  error
	due  time.Time
}

// serve accepts connections until ln is closed. The connections still open go on: each ends
// with its sides.
func (d *delayLine) serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		go d.handle(c.(*net.TCPConn))
	}
}

// handle forwards one connection: a reader and a writer a direction. An orderly close of one side
// is passed on as a half-close (CloseWrite) once its last bytes are written; an error on either
// side (a reset, a write to a closed peer) closes both. handle returns when both directions have
// ended, all four goroutines with them, and closes both connections.
func (d *delayLine) handle(client *net.TCPConn) {
	accepted := time.Now()
	defer client.Close()
	bc, err := net.DialTimeout("tcp", d.backend, 10*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: delay-proxy: %v\n", err)
		return
	}
	backend := bc.(*net.TCPConn)
	defer backend.Close()
	var once sync.Once
	abort := func() {
		once.Do(func() {
			client.Close()
			backend.Close()
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		d.direction(client, backend, accepted.Add(d.rtt), abort)
	}()
	go func() {
		defer wg.Done()
		d.direction(backend, client, time.Time{}, abort)
	}()
	wg.Wait()
}

// direction forwards src to dst, each chunk at max(its arrival, notBefore) + rtt/2. It returns
// once both its reader and its writer have.
func (d *delayLine) direction(src, dst *net.TCPConn, notBefore time.Time, abort func()) {
	queue := make(chan chunk, queueChunks)
	go read(src, queue, d.rtt/2, notBefore)
	write(dst, queue, abort)
}

// read queues what src sends, stamped, then its end, and closes queue.
func read(src *net.TCPConn, queue chan<- chunk, delay time.Duration, notBefore time.Time) {
	defer close(queue)
	buf := make([]byte, chunkSize)
	for {
		n, err := src.Read(buf)
		now := time.Now()
		if now.Before(notBefore) {
			now = notBefore
		}
		if n > 0 {
			queue <- chunk{data: append([]byte(nil), buf[:n]...), due: now.Add(delay)}
		}
		if err != nil {
			queue <- chunk{err: err, due: now.Add(delay)}
			return
		}
	}
}

// write writes each chunk of queue to dst when it is due, until the end of the queue's side: an
// orderly end is a half-close of dst, any other end or a write failing aborts the connection. It
// drains queue in any case, so that its reader never blocks on it.
func write(dst *net.TCPConn, queue <-chan chunk, abort func()) {
	defer func() {
		for range queue {
		}
	}()
	for c := range queue {
		if wait := time.Until(c.due); wait > 0 {
			time.Sleep(wait)
		}
		if c.err != nil {
			if c.err == io.EOF {
				if dst.CloseWrite() == nil {
					return
				}
			}
			abort()
			return
		}
		if _, err := dst.Write(c.data); err != nil {
			abort()
			return
		}
	}
}
