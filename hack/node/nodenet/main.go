// nodenet joins the local control plane, on the root network namespace's loopback, to real nodes
// that live in network namespaces of their own, keeping every byte on loopback, unix sockets and
// the tests' namespaces (test-only; never shipped):
//
//	nodenet egress --socket PATH --routes FILE
//	    kube-apiserver's egress selector (HTTP CONNECT over a unix socket, as konnectivity serves it):
//	    a CONNECT to ADDR:PORT is dialled inside the network namespace FILE names for ADDR
//	    (lines "ADDR NETNS-PATH", read at each connection), or here when none does.
//	nodenet forward --netns PATH --listen ADDR:PORT --to ADDR:PORT
//	    listens inside the namespace (a node's 127.0.0.1, where its kubelet looks for the API
//	    server) and forwards each connection to ADDR:PORT here.
//go:build linux && amd64

package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: nodenet egress|forward ...")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	switch os.Args[1] {
	case "egress":
		sock := fs.String("socket", "", "unix socket kube-apiserver connects to")
		routes := fs.String("routes", "", "file of 'ADDR NETNS-PATH' lines")
		_ = fs.Parse(os.Args[2:])
		log.Fatal(egress(*sock, *routes))
	case "forward":
		ns := fs.String("netns", "", "network namespace to listen in")
		listen := fs.String("listen", "", "address to listen on inside it")
		to := fs.String("to", "", "address to forward to, here")
		_ = fs.Parse(os.Args[2:])
		log.Fatal(forward(*ns, *listen, *to))
	default:
		log.Fatalf("unknown command %q (egress or forward)", os.Args[1])
	}
}

// inNetns runs f on a thread moved into the namespace at path, then moves the thread back; the
// sockets f makes stay in that namespace.
func inNetns(path string, f func() error) error {
	if path == "" {
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter %s: %w", path, err)
			return
		}
		ferr := f()
		if err := setns(self); err != nil {
			// the thread stays locked and dies with this goroutine: never reused in the wrong namespace
			errc <- errors.Join(ferr, fmt.Errorf("leave %s: %w", path, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// sysSetns is setns(2) on linux/amd64 (the syscall package has no name for it).
const sysSetns = 308

func setns(f *os.File) error {
	if _, _, e := syscall.RawSyscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}

func splice(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if c, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = c.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	go cp(a, b)
	go cp(b, a)
	wg.Wait()
	_ = a.Close()
	_ = b.Close()
}

func lookupNetns(routes, host string) string {
	data, err := os.ReadFile(routes)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == host {
			return f[1]
		}
	}
	return ""
}

func egress(sock, routes string) error {
	if sock == "" || routes == "" {
		return errors.New("egress needs --socket and --routes")
	}
	_ = os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			br := bufio.NewReader(c)
			req, err := http.ReadRequest(br)
			if err != nil || req.Method != http.MethodConnect {
				fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
				_ = c.Close()
				return
			}
			target := req.Host
			if target == "" {
				target = req.URL.Host
			}
			host, _, _ := net.SplitHostPort(target)
			if net.ParseIP(host) == nil {
				// a name would be resolved, and dialled, on threads of the root namespace
				log.Printf("CONNECT %s refused: not an IP address", target)
				fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
				_ = c.Close()
				return
			}
			ns := lookupNetns(routes, host)
			var up net.Conn
			err = inNetns(ns, func() error {
				var derr error
				up, derr = net.DialTimeout("tcp", target, 10*time.Second)
				return derr
			})
			if err != nil {
				log.Printf("CONNECT %s (netns %q): %v", target, ns, err)
				fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\n\r\n")
				_ = c.Close()
				return
			}
			fmt.Fprint(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			if n := br.Buffered(); n > 0 {
				buf, _ := br.Peek(n)
				_, _ = up.Write(buf)
			}
			splice(c, up)
		}()
	}
}

func forward(ns, listen, to string) error {
	if ns == "" || listen == "" || to == "" {
		return errors.New("forward needs --netns, --listen and --to")
	}
	var l net.Listener
	if err := inNetns(ns, func() error {
		var lerr error
		l, lerr = net.Listen("tcp", listen)
		return lerr
	}); err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			up, err := net.DialTimeout("tcp", to, 10*time.Second)
			if err != nil {
				log.Printf("forward to %s: %v", to, err)
				_ = c.Close()
				return
			}
			splice(c, up)
		}()
	}
}
