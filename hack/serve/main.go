// Command serve serves a directory over HTTP on 127.0.0.1 for the offline krew tests: it writes
// the port it got to a file and stops when its standard input closes or after --timeout.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	dir := flag.String("dir", ".", "directory to serve")
	portFile := flag.String("port-file", "", "file to write the port to")
	timeout := flag.Duration("timeout", 10*time.Minute, "stop after this long")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := os.WriteFile(*portFile, []byte(fmt.Sprint(port)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
	go func() { time.Sleep(*timeout); os.Exit(0) }()
	_ = http.Serve(ln, http.FileServer(http.Dir(*dir)))
}
