package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/overlay"
	"github.com/podnet/kubectl-podnet/internal/probe"
	"github.com/podnet/kubectl-podnet/internal/render"
)

// NewCmdCheck builds `kubectl podnet check`, the group of live checks between nodes.
func NewCmdCheck(g *GlobalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check the pod network live between nodes",
		Long: `Live checks that send real traffic between nodes with short-lived probe pods. The IPAM
stores are checked by 'kubectl podnet ipam check'.`,
		Example: `  kubectl podnet check overlay
  kubectl podnet check overlay --nodes node-1,node-2 -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("check needs a subcommand: 'kubectl podnet check overlay'")
		},
	}
	cmd.AddCommand(NewCmdCheckOverlay(g))
	return cmd
}

// CheckOverlayOptions are the options of `kubectl podnet check overlay`.
type CheckOverlayOptions struct {
	*GlobalOptions
	ProbeFlags
	Output    string
	NoHeaders bool
	// Nodes are the nodes to check between; empty chooses one per zone.
	Nodes    []string
	Parallel int

	clients *Clients
	printer render.Printer
}

// NewCmdCheckOverlay builds `kubectl podnet check overlay`.
func NewCmdCheckOverlay(g *GlobalOptions) *cobra.Command {
	o := &CheckOverlayOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "overlay",
		Short: "Send real tunnel traffic between nodes and say why it fails",
		Long: `Check that the underlay carries the overlay between nodes. A short-lived host-network pod on
each chosen node (at most --parallel at once, always deleted; its namespace must allow Pod Security
privileged; it runs as root with NET_RAW alone, for ping) reads the tunnel device ('ip -d link':
kind, VNI, UDP port, local address, underlay device, up), its FDB ('bridge fdb') and neighbour
entries for each peer, and pings every other node: small pings through the tunnel (to the peer's
tunnel address) and on the underlay (to its transport address), then don't-fragment pings at the
pod MTU (the tunnel device's) through the tunnel and at pod MTU + the encapsulation's overhead on
the underlay; when that fails it searches the underlay's real path MTU. Both directions of each
pair of nodes are reported, each failure with its likely cause: UDP 8472 dropped by a security
group, an underlay MTU too small for pod MTU + 50, a VTEP the agent has not programmed, nodes that
disagree on VNI or port.

The nodes: --nodes, or by default one per zone (label topology.kubernetes.io/zone) of the Ready,
schedulable Linux nodes, at most 5, and at least a pair. Models without a tunnel (Flannel host-gw,
Calico BGP, kubenet, cloud networks) have no overlay to check: the underlay is still checked to
carry packets of the pod MTU. The probe image needs iproute2 (ip, bridge) and iputils' ping;
with busybox those checks are unknown. With --dry-run=client it prints the probe pods instead.`,
		Example: `  kubectl podnet check overlay
  kubectl podnet check overlay --nodes node-1,node-2 --probe-namespace podnet-system
  kubectl podnet check overlay -o json | jq '.pairs[] | select(.state != "ok")'
  kubectl podnet check overlay --image registry.local/netshoot:v0.13 --dry-run=client`,
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
	fl := cmd.Flags()
	fl.StringVarP(&o.Output, "output", "o", "", outputHelp())
	fl.BoolVar(&o.NoHeaders, "no-headers", false, "print the pairs' tables without their header lines and titles")
	fl.StringSliceVar(&o.Nodes, "nodes", nil, "check between these nodes (comma-separated, at least two); default: one per zone, at most 5")
	fl.IntVar(&o.Parallel, "parallel", 5, "probe at most this many nodes at once")
	fl.StringVar(&o.Image, "image", overlay.DefaultImage, "probe image; it needs sh, iproute2 (ip, bridge) and iputils' ping; use a mirror in air-gapped clusters")
	fl.StringVar(&o.PullPolicy, "image-pull-policy", "", "probe image pull policy: Always, IfNotPresent or Never (default: the cluster's)")
	fl.DurationVar(&o.Timeout, "timeout", 90*time.Second, "time limit of each node's probe, from creation to output")
	fl.StringVar(&o.ProbeNamespace, "probe-namespace", "", "namespace of the probe pods (host network: Pod Security privileged there); default: the current one")
	fl.StringVar(&o.DryRun, "dry-run", string(probe.DryRunNone), "client: print the probe pods, create nothing; server: the API server admits them, stores nothing")
	// the profile is no choice here: ping needs root with NET_RAW (probe.ProfileNetRaw)
	o.Profile, o.Limit = probe.ProfileRestricted, 1
	_ = cmd.RegisterFlagCompletionFunc("nodes", g.completeNodeList)
	cmd.Long = strings.TrimSpace(cmd.Long) + "\n\n" + exitCodesHelp
	return cmd
}

// Validate checks the flags before anything is read.
func (o *CheckOverlayOptions) Validate() error {
	var err error
	if o.printer, err = parseOutput(o.Output, o.NoHeaders); err != nil {
		return err
	}
	for _, n := range o.Nodes {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("--nodes has an empty name: give node names separated by commas")
		}
	}
	if o.Parallel < 1 {
		return fmt.Errorf("--parallel must be at least 1 (got %d)", o.Parallel)
	}
	return o.ProbeFlags.validate()
}

// Complete builds the clients.
func (o *CheckOverlayOptions) Complete() error {
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

// Run chooses the nodes, plans the check from their model, probes them and prints the pairs. It
// exits 2 when a pair fails a check, else 4 when a probe did not run or its image lacked tools.
func (o *CheckOverlayOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	inv, err := o.gatherWith(cmd, o.clients, cluster.Options{SkipPods: true})
	if err != nil {
		return err
	}
	if slices.ContainsFunc(inv.Nodes, func(n cluster.Node) bool { return n.FromPods }) {
		return fmt.Errorf("check overlay needs the nodes, which could not be listed: you need 'list nodes' (kubectl auth can-i list nodes)")
	}
	names, err := overlay.SelectNodes(inv.Nodes, o.Nodes)
	if err != nil {
		return err
	}
	v := netmodel.Resolve(inv)
	nodes := make([]*netmodel.NodeNetwork, 0, len(names))
	for _, n := range names {
		nodes = append(nodes, v.Node(n))
	}
	plan, err := overlay.NewPlan(nodes)
	if err != nil {
		return err
	}
	results, failed, err := o.probe(ctx, plan, names)
	if err != nil || results == nil {
		return err // a dry run, or interrupted
	}
	rep := overlay.Build(plan, results, failed)
	render.Notes(o.Streams.ErrOut, rep.Notes, render.NewPalette(o.Streams.ErrOut, o.Color))
	if o.printer != nil {
		err = o.printer.Print(o.Streams.Out, render.Printable{Report: rep, Kind: "pair", Items: rep.Pairs})
	} else {
		err = render.Overlay(o.Streams.Out, rep, render.TableOptions{NoHeaders: o.NoHeaders, Palette: render.NewPalette(o.Streams.Out, o.Color)})
	}
	if err != nil {
		return err
	}
	s := rep.Summary
	switch {
	case s.Failed > 0:
		return finding(fmt.Errorf("%d of %d node pair(s) fail the overlay check (the causes are above)", s.Failed, s.Pairs))
	case s.ProbesFailed > 0 || s.ToolsMissing > 0 || s.Unknown > 0:
		// a check that could not be made is no pass: a script must not go on from it
		return &ExitError{Code: exitIncomplete, Err: fmt.Errorf("the answer is incomplete: %d of %d node pair(s) could not be fully checked, %d probe(s) did not run, %d image(s) lacked tools (see the causes and notes above)",
			s.Unknown, s.Pairs, s.ProbesFailed, s.ToolsMissing)}
	}
	return nil
}

// probe runs each node's probe, at most --parallel at once. It returns nil results after a dry
// run, having printed the planned pods.
func (o *CheckOverlayOptions) probe(ctx context.Context, plan *overlay.Plan, names []string) (map[string]*probe.OverlayResult, map[string]string, error) {
	if !o.dryRun() {
		if err := warnLeftovers(ctx, o.clients, o.ProbeNamespace, o.Streams.ErrOut, render.NewPalette(o.Streams.ErrOut, o.Color)); err != nil {
			return nil, nil, err
		}
	}
	runner, st := o.runner(o.clients, o.Streams.ErrOut)
	results, failed := map[string]*probe.OverlayResult{}, map[string]string{}
	var mu sync.Mutex
	var errs []error
	// every script is built before any pod is created: a bad one leaves nothing behind
	scripts := map[string]string{}
	for _, node := range names {
		script, err := probe.OverlayScript(plan.Probe(node))
		if err != nil {
			return nil, nil, fmt.Errorf("the probe of node %s: %w", node, err)
		}
		scripts[node] = script
	}
	eg := &errgroup.Group{}
	eg.SetLimit(o.Parallel)
	for _, node := range names {
		script := scripts[node]
		opts := o.options()
		opts.Script, opts.Profile = script, probe.ProfileNetRaw
		eg.Go(func() error {
			pctx, cancel := context.WithTimeout(ctx, o.Timeout)
			defer cancel()
			res, err := runner.ProbeNodeRaw(pctx, node, o.ProbeNamespace, opts)
			var r *probe.OverlayResult
			if err == nil {
				if r, err = probe.ParseOverlay(res.Raw); err != nil {
					err = fmt.Errorf("reading the probe's output on node %s: %w", node, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				results[node] = r
			case o.dryRun():
				errs = append(errs, err)
			default:
				failed[node] = err.Error()
			}
			return nil
		})
	}
	_ = eg.Wait()
	st.done()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if o.dryRun() {
		return nil, nil, printPlanned(o.Streams.Out, o.printer, runner.Planned(), errs...)
	}
	if len(results) == 0 && len(failed) > 0 {
		var all []error
		for _, n := range names {
			all = append(all, errors.New(failed[n]))
		}
		return nil, nil, &ExitError{Code: exitIncomplete, Err: fmt.Errorf("no probe ran: %w", errors.Join(all...))}
	}
	return results, failed, nil
}
