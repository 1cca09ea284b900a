package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// startProxy starts a delay line to backend on a free port; it stops with the test.
func startProxy(t *testing.T, backend string, rtt time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- (&delayLine{backend: backend, rtt: rtt}).serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// startServer serves each connection with handle on a free port; it stops with the test.
func startServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// echo writes back what it reads, then half-closes.
func echo(c net.Conn) {
	_, _ = io.Copy(c, c)
	_ = c.(*net.TCPConn).CloseWrite()
}

// count reads to the end, then writes the number of bytes read.
func count(c net.Conn) {
	n, _ := io.Copy(io.Discard, c)
	_ = binary.Write(c, binary.BigEndian, n)
}

// settle waits until the goroutines are back to at most want, as connections wind down.
func settle(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before the connections:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDelayLineRoundTrip(t *testing.T) {
	const rtt = 40 * time.Millisecond
	proxy := startProxy(t, startServer(t, echo), rtt)
	before := runtime.NumGoroutine()

	t0 := time.Now()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello")
	buf := make([]byte, len(msg))
	for i := range 3 {
		t1 := time.Now()
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, msg) {
			t.Fatalf("echo: %q, want %q", buf, msg)
		}
		took := time.Since(t1)
		if i == 0 {
			// the first exchange waits for the connection's handshake as well
			took = time.Since(t0)
			if took < 2*rtt {
				t.Errorf("first round trip, the connection's included: %v, want >= %v", took, 2*rtt)
			}
			continue
		}
		if took < rtt {
			t.Errorf("round trip %d: %v, want >= %v", i, took, rtt)
		}
	}
	// a half-close passes through: the echo server ends, and so does the connection
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
		t.Fatalf("after the half-close: %q, %v; want the end", rest, err)
	}
	c.Close()
	settle(t, before)
}

func TestDelayLineThroughput(t *testing.T) {
	const (
		rtt  = 50 * time.Millisecond
		size = 10 << 20
	)
	server := startServer(t, count)
	proxy := startProxy(t, server, rtt)
	before := runtime.NumGoroutine()
	send := func(addr string) time.Duration {
		t.Helper()
		t0 := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(make([]byte, size)); err != nil {
			t.Fatal(err)
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			t.Fatal(err)
		}
		if n != size {
			t.Fatalf("the server read %d bytes, want %d", n, size)
		}
		return time.Since(t0)
	}
	direct := send(server)
	proxied := send(proxy)
	// expected: the connection's round trip, the data's and the answer's (2 rtt) on top of the
	// transfer; a proxy passing one chunk a round trip would take size/chunkSize × rtt/2, seconds
	if limit := direct + 6*rtt; proxied > limit {
		t.Errorf("10 MB through the proxy: %v, directly %v; want at most %v", proxied, direct, limit)
	}
	if proxied < 2*rtt {
		t.Errorf("10 MB through the proxy: %v, want >= %v", proxied, 2*rtt)
	}
	t.Logf("10 MB: %v directly, %v with a %v round trip", direct, proxied, rtt)
	settle(t, before)
}

func TestDelayLineBackendDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	proxy := startProxy(t, gone, 10*time.Millisecond)
	before := runtime.NumGoroutine()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read through a proxy to no backend succeeded")
	}
	settle(t, before)
}
