// Command kubectl-podnet is the kubectl plugin `kubectl podnet`: it makes pod networking visible.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // every kubeconfig auth provider

	"github.com/podnet/kubectl-podnet/internal/cmd"
)

func main() {
	os.Exit(run())
}

func run() int {
	if os.Getenv("GOGC") == "" {
		// A large cluster's inventory is tens of megabytes that live until the report is built,
		// and at Go's default (100) the heap grows to twice what is live before a collection.
		// 30% headroom costs a few more collections, milliseconds each, and keeps the read of
		// 150,000 pods under 100 MB (make bench). GOGC, when set, is the user's to choose.
		debug.SetGCPercent(30)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	flags := genericclioptions.NewConfigFlags(true)
	root := cmd.NewCmdRoot(flags, streams)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
		return cmd.ExitCode(err)
	}
	return 0
}
