// Command bench measures `kubectl podnet nodes`, `cidr-usage` and `summary` against kubectl and
// against two floors (the same nodes and pods read and discarded: as a paged protobuf LIST, and as
// a watch-list stream) on one synthetic cluster.
//
//	bench load    --kubeconfig K --etcd URL --nodes N --pods P        write a synthetic cluster into etcd
//	bench floor   --kubeconfig K --mode paged|stream                 a floor, run as its own process
//	bench measure --kubeconfig K --plugin BIN --kubectl BIN --pods P  alternating rounds, figures and ratios
//	bench compare --results F                                         how the cost grows between sizes
//	bench exporter --kubeconfig K --plugin BIN --pods P               the exporter's sync, RSS and CPU under churn
//	bench churn   --kubeconfig K [--rate R --duration D]              pod changes at R a second for D (then removed)
//	bench delay-proxy --listen A --backend B --rtt D                  a TCP proxy adding a round trip of D, not a bandwidth cap
//
// It lives in its own module so that the etcd client never reaches the plugin's go.sum.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench load|floor|measure|compare|exporter|churn|delay-proxy [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster")
	etcd := fs.String("etcd", "", "etcd client URL (load)")
	nodes := fs.Int("nodes", 5000, "nodes to write (load)")
	pods := fs.Int("pods", 150000, "pods to write (load)")
	plugin := fs.String("plugin", "", "kubectl-podnet binary (measure)")
	kubectl := fs.String("kubectl", "", "kubectl binary (measure)")
	runs := fs.Int("runs", 3, "alternating rounds; the median wall and CPU time and the highest RSS are kept (measure)")
	mode := fs.String("mode", "paged", "paged or stream (floor)")
	results := fs.String("results", "", "file the figures of each size are appended to (measure, compare)")
	rate := fs.Float64("rate", 10, "pod changes a second (exporter, churn)")
	duration := fs.Duration("duration", time.Minute, "how long the pods change (exporter, churn)")
	idle := fs.Duration("idle", 20*time.Second, "how long the exporter idles after its sync before its steady RSS is read (exporter)")
	logDir := fs.String("log-dir", "", "directory for the exporters' logs (exporter; default: the temporary directory)")
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on; its port is printed (delay-proxy)")
	backend := fs.String("backend", "", "address connections are forwarded to (delay-proxy)")
	rtt := fs.Duration("rtt", 40*time.Millisecond, "round trip added: rtt/2 each way (delay-proxy)")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "load":
		err = load(*kubeconfig, *etcd, *nodes, *pods)
	case "floor":
		err = floor(*kubeconfig, *mode)
	case "measure":
		err = measure(*kubeconfig, *plugin, *kubectl, *runs, *pods, *results)
	case "compare":
		err = compare(*results)
	case "exporter":
		err = exporterBench(exporterOpts{kubeconfig: *kubeconfig, plugin: *plugin, logDir: *logDir, pods: *pods, runs: *runs,
			rate: *rate, churn: *duration, idle: *idle})
	case "churn":
		err = churnAlone(*kubeconfig, *rate, *duration)
	case "delay-proxy":
		err = delayProxy(*listen, *backend, *rtt)
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
		os.Exit(1)
	}
}
