package cmd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// NewCmdIPAM builds `kubectl podnet ipam`, the group of IPAM commands.
func NewCmdIPAM(g *GlobalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ipam",
		Short: "Check the IPAM stores against what really runs",
		Long: `Commands about the address stores of the cluster's IPAM. How full the ranges are is
'kubectl podnet cidr-usage'.`,
		Example: `  kubectl podnet ipam check
  kubectl podnet ipam check -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("ipam needs a subcommand: 'kubectl podnet ipam check' (how full the ranges are: 'kubectl podnet cidr-usage')")
		},
	}
	cmd.AddCommand(NewCmdIPAMCheck(g))
	return cmd
}

// IPAMCheckOptions are the options of `kubectl podnet ipam check`.
type IPAMCheckOptions struct {
	*GlobalOptions
	ProbeFlags
	Output    string
	NoHeaders bool
	// Nodes are the nodes whose host-local reservations are read; AllNodes reads every node
	// whose pod addresses host-local reserves.
	Nodes       []string
	AllNodes    bool
	CNIDataDir  string
	RuntimeDirs []string
	Parallel    int
	MinAge      time.Duration

	clients *Clients
	printer render.Printer
}

// NewCmdIPAMCheck builds `kubectl podnet ipam check`.
func NewCmdIPAMCheck(g *GlobalOptions) *cobra.Command {
	o := &IPAMCheckOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Find leaked, orphaned, duplicate and out-of-range addresses",
		Long: `Join every IPAM store the cluster has (Calico IPAMBlocks, IPAMHandles and BlockAffinities,
CiliumNodes' status.ipam.used) with the live pods and nodes, and report each address that is:
- leaked: claimed for a pod that is gone or finished, or for a node that is gone;
- orphaned: held by a running pod that no store claims, or outside its node's pod CIDR;
- duplicate: held by two running pods, or by a pod and a node;
- out-of-range: a ClusterIP outside every service CIDR, a node CIDR outside the cluster CIDR, a
  Calico block outside every IPPool;
- stale: block affinities and CiliumNodes of nodes that no longer exist, addresses borrowed from
  another node's block.
Each finding says who claims the address, what holds it, since when where the store records it,
and the safe next step. A claim that names nobody, or a store that cannot be read, proves nothing:
such addresses are never called leaked, and the stores that could not be read are listed.

host-local's reservations (kubenet, Flannel, Canal, Antrea, the bridge plugin) live in each node's
file system, not in the API. With --nodes or --all-nodes, a short-lived host-network pod on each
node (at most --parallel at once, always deleted; its namespace must allow Pod Security
privileged) mounts the node's root read-only, as 'kubectl debug node/...' does, and reads as root
without any capability (the CNI's directories are root's, mode 0700): the files under
--cni-data-dir, and whether the runtime still runs each reservation's sandbox (containerd's state
under --runtime-state-dir). A reservation is called leaked only when
its sandbox is gone, no pod on the node holds the address, and it is older than --min-age. Without
the probe, nothing else is created or changed.`,
		Example: `  kubectl podnet ipam check
  kubectl podnet ipam check -o json | jq '.findings[] | select(.kind == "leaked")'
  # host-local's reservations on two nodes, the probe pods in a privileged namespace
  kubectl podnet ipam check --nodes node-1,node-2 --probe-namespace podnet-system
  kubectl podnet ipam check --all-nodes --runtime-state-dir /run/k3s/containerd`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", outputHelp())
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "print the tables without their header lines")
	cmd.Flags().StringSliceVar(&o.Nodes, "nodes", nil, "read host-local's reservations on these nodes (comma-separated), with a probe pod on each")
	cmd.Flags().BoolVar(&o.AllNodes, "all-nodes", false, "read host-local's reservations on every Ready node whose pod addresses host-local reserves")
	cmd.Flags().StringVar(&o.CNIDataDir, "cni-data-dir", probe.DefaultCNIDataDir, "host-local's dataDir on the nodes")
	cmd.Flags().StringSliceVar(&o.RuntimeDirs, "runtime-state-dir", probe.DefaultRuntimeStateDirs, "containerd state directories on the nodes, the first found is read")
	cmd.Flags().IntVar(&o.Parallel, "parallel", 10, "probe at most this many nodes at once")
	cmd.Flags().DurationVar(&o.MinAge, "min-age", report.ReservationGrace, "never call a reservation younger than this leaked (a pod may be starting)")
	o.addNodeProbe(cmd)
	_ = cmd.RegisterFlagCompletionFunc("nodes", g.completeNodeList)
	return cmd
}

// probing reports whether nodes are probed.
func (o *IPAMCheckOptions) probing() bool { return o.AllNodes || len(o.Nodes) > 0 }

// Validate checks the flags before anything is read.
func (o *IPAMCheckOptions) Validate() error {
	var err error
	if o.printer, err = parseOutput(o.Output, o.NoHeaders); err != nil {
		return err
	}
	if o.AllNodes && len(o.Nodes) > 0 {
		return fmt.Errorf("--nodes and --all-nodes do not go together: name the nodes, or take all")
	}
	for _, n := range o.Nodes {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("--nodes has an empty name: give node names separated by commas")
		}
	}
	if err := probe.CheckHostPath("--cni-data-dir", o.CNIDataDir); err != nil {
		return err
	}
	if len(o.RuntimeDirs) == 0 {
		return fmt.Errorf("--runtime-state-dir needs at least one directory")
	}
	for _, d := range o.RuntimeDirs {
		if err := probe.CheckHostPath("--runtime-state-dir", d); err != nil {
			return err
		}
	}
	if o.Parallel < 1 {
		return fmt.Errorf("--parallel must be at least 1 (got %d)", o.Parallel)
	}
	if o.MinAge <= 0 {
		return fmt.Errorf("--min-age must be positive (got %s): a reservation made a moment ago belongs to a pod being started", o.MinAge)
	}
	if o.dryRun() && !o.probing() {
		return fmt.Errorf("--dry-run plans the node probes: give --nodes or --all-nodes")
	}
	return o.ProbeFlags.validate()
}

// Complete builds the clients.
func (o *IPAMCheckOptions) Complete() error {
	c, err := o.NewClients(o.ConfigFlags)
	if err != nil {
		return err
	}
	o.clients = c
	if o.ProbeNamespace == "" {
		o.ProbeNamespace = c.Namespace
	}
	return nil
}

// Run reads the stores and the pods, prints the findings and sets the exit code: 2 when anything
// is found, else 4 when a store or the pods could not be read.
func (o *IPAMCheckOptions) Run(cmd *cobra.Command) error {
	inv, err := o.gatherWith(cmd, o.clients, cluster.Options{ClusterIPs: true, Claims: cluster.ClaimsAll})
	if err != nil {
		return err
	}
	v := netmodel.Resolve(inv)
	var stores *report.NodeStores
	if o.probing() {
		nodes, notes, err := o.probeTargets(inv, v)
		if err != nil {
			return err
		}
		inv.Notes = append(inv.Notes, notes...)
		if stores, err = o.probeNodes(cmd.Context(), nodes, inv, v); err != nil || stores == nil {
			return err // a dry run, or the probes could not start
		}
	}
	rep := report.BuildIPAMCheck(inv, v, inv.ClusterIPs, stores)
	gaps := append(append(inv.Gaps(), rep.Gaps()...), inv.ClusterIPs.Unknown...)
	render.Notes(o.Streams.ErrOut, rep.Notes, render.NewPalette(o.Streams.ErrOut, o.Color))
	if o.printer != nil {
		err = o.printer.Print(o.Streams.Out, render.Printable{Report: rep, Items: rep.Findings, NameField: "address"})
	} else {
		err = render.IPAMCheck(o.Streams.Out, o.Streams.ErrOut, rep, o.NoHeaders)
	}
	if err != nil {
		return err
	}
	if n := len(rep.Findings); n > 0 {
		return finding(fmt.Errorf("%d IPAM finding(s): %s", n, render.IPAMCounts(rep)))
	}
	return incomplete(gaps)
}

// probeTargets are the nodes to probe: those named (each must exist), or with --all-nodes every
// Ready node whose addresses host-local reserves. Named nodes whose IPAM is not host-local are
// left out with a note.
func (o *IPAMCheckOptions) probeTargets(inv *cluster.Inventory, v *netmodel.View) ([]string, []string, error) {
	var nodes, notes []string
	if o.AllNodes {
		for i := range v.Nodes {
			nn := &v.Nodes[i]
			switch {
			case !nn.HostLocal():
			case nn.Node().Ready != "Ready":
				notes = append(notes, fmt.Sprintf("node %s is %s: its host-local reservations were not read", nn.Name, nn.Node().Ready))
			default:
				nodes = append(nodes, nn.Name)
			}
		}
		if len(nodes) == 0 {
			notes = append(notes, "no Ready node has its pod addresses reserved by host-local: nothing to read on the nodes")
		}
		return nodes, notes, nil
	}
	if slices.ContainsFunc(inv.Nodes, func(n cluster.Node) bool { return n.FromPods }) {
		return nil, nil, fmt.Errorf("--nodes needs the nodes, which could not be listed: you need 'list nodes' (kubectl auth can-i list nodes)")
	}
	for _, name := range o.Nodes {
		nn := v.Node(name)
		switch {
		case nn == nil || nn.Node().FromPods:
			return nil, nil, fmt.Errorf("node %q not found: check the name (kubectl get nodes)", name)
		case !nn.HostLocal():
			notes = append(notes, fmt.Sprintf("node %s takes its pod addresses from %s (%s), not host-local: nothing to read on it", name, nn.Source, nn.Network))
		case !slices.Contains(nodes, name):
			nodes = append(nodes, name)
		}
	}
	return nodes, notes, nil
}

// probeNodes reads host-local's reservations on the nodes, at most --parallel at once, then
// confirms the orphan candidates by reading their pods again. It returns nil stores after a dry run.
func (o *IPAMCheckOptions) probeNodes(ctx context.Context, nodes []string, inv *cluster.Inventory, v *netmodel.View) (*report.NodeStores, error) {
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	if !o.dryRun() {
		if err := warnLeftovers(ctx, o.clients, o.ProbeNamespace, o.Streams.ErrOut, errPal); err != nil {
			return nil, err
		}
	}
	runner, st := o.runner(o.clients, o.Streams.ErrOut)
	opts := o.options()
	opts.Script = probe.HostLocalScript(o.CNIDataDir, o.RuntimeDirs)
	opts.HostRoot = true
	stores := &report.NodeStores{Failed: map[string]string{}, MinAge: o.MinAge}
	var mu sync.Mutex
	var errs []error
	eg := &errgroup.Group{}
	eg.SetLimit(o.Parallel)
	for _, node := range nodes {
		eg.Go(func() error {
			pctx, cancel := context.WithTimeout(ctx, o.Timeout)
			defer cancel()
			res, err := runner.ProbeNodeRaw(pctx, node, o.ProbeNamespace, opts)
			var h *probe.HostLocalNode
			if err == nil {
				h, err = probe.ParseHostLocal(node, o.CNIDataDir, res.Raw)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				stores.HostLocal = append(stores.HostLocal, h)
			case o.dryRun():
				errs = append(errs, err)
			default:
				stores.Failed[node] = err.Error()
			}
			return nil
		})
	}
	_ = eg.Wait()
	st.done()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.dryRun() {
		return nil, printPlanned(o.Streams.Out, o.printer, runner.Planned(), errs...)
	}
	slices.SortFunc(stores.HostLocal, func(a, b *probe.HostLocalNode) int { return strings.Compare(a.Node, b.Node) })
	for _, c := range report.HostLocalOrphans(inv, v, stores.HostLocal) {
		if ok, err := o.stillHolds(ctx, c); err != nil {
			return nil, err
		} else if ok {
			stores.Orphans = append(stores.Orphans, c)
		}
	}
	return stores, nil
}

// stillHolds reads the pod again after the probe: only a pod that still holds the address and is
// not being deleted (its reservation goes before its object) is an orphan.
func (o *IPAMCheckOptions) stillHolds(ctx context.Context, c report.PodAddress) (bool, error) {
	ns, name, _ := strings.Cut(c.Pod, "/")
	gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	p, err := o.clients.Kube.CoreV1().Pods(ns).Get(gctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading pod %s again to confirm that no reservation holds its address %s: %w", c.Pod, c.Address, err)
	case p.DeletionTimestamp != nil || p.Spec.NodeName != c.Node || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
		return false, nil
	}
	for _, ip := range p.Status.PodIPs {
		if ip.IP == c.Address.String() {
			return true, nil
		}
	}
	return false, nil
}
