package cmd

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/overlap"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// OverlapOptions are the options of `kubectl podnet overlap`.
type OverlapOptions struct {
	*GlobalOptions
	FleetOptions
	Networks  []string
	For       string
	Output    string
	NoHeaders bool

	networks []report.OverlapNetwork
	goal     overlap.Goal
	printer  render.Printer
	// notes are said on stderr before the answer (contexts of one cluster read once)
	notes []string
}

// NewCmdOverlap builds `kubectl podnet overlap`.
func NewCmdOverlap(g *GlobalOptions) *cobra.Command {
	o := &OverlapOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "overlap",
		Short: "Find overlapping ranges before peering or meshing",
		Long: `Check every address range of the clusters given (the current context, or --contexts /
--all-contexts) and of the networks named with --network against each other, pairwise: which ranges
overlap, by how much, and what breaks because of it.

Each cluster's ranges: its node subnets (as the network plugin published them, else the smallest
prefix covering the nodes' InternalIPs), its pod ranges (cluster pod CIDRs, IPAM pools; for pods that
take the node network's addresses, the prefix covering the pod IPs) and its Service CIDRs, each with
its reach: "underlay" when the network the nodes are on carries the addresses (nodes; pods routed
natively, by BGP, a cloud route table or as the VPC's own), "cluster" when they stay inside it (pods
behind a tunnel, ClusterIPs).

What an overlap breaks, weakest goal first (one that breaks a goal breaks every later one):
  cluster     a cluster's own ranges collide, or two AKS kubenet clusters share a subnet
  peering     the networks joined (VNet/VPC peering, VPN): routes ambiguous, or a cluster's pods
              unable to reach addresses it keeps for its pods or Services
  mesh        pods reaching pods across clusters by their addresses (Cilium ClusterMesh): pod
              ranges unique
  submariner  Submariner without Globalnet: pod and Service CIDRs unique (Globalnet is Submariner's
              answer to overlapping ranges)

Without --for, every overlap is listed with the goal it breaks and the exit code is 2 only when a
cluster's own ranges collide; with --for GOAL, it is 2 when an overlap breaks that goal.`,
		Example: `  kubectl podnet overlap --contexts aks-weu,aks-neu --for peering
  kubectl podnet overlap --all-contexts --for mesh -o json
  kubectl podnet overlap --contexts aks-weu,aks-neu --network 10.224.0.0/12=vnet-weu --network 10.0.0.0/16=hub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.Networks, "network", nil, "a network the clusters join or reach (VNet, VPC, on-premises): CIDR or CIDR=name; repeatable")
	f.StringVar(&o.For, "for", "", "the goal to judge (exit 2 when an overlap breaks it): peering, mesh or submariner")
	f.StringVarP(&o.Output, "output", "o", "", outputHelp())
	f.BoolVar(&o.NoHeaders, "no-headers", false, "print the tables' rows only: no section titles, no header lines")
	o.addFleetFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("for", cobra.FixedCompletions([]string{"peering", "mesh", "submariner"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Validate checks the flags before anything is read.
func (o *OverlapOptions) Validate() error {
	var err error
	if o.printer, err = parseOutput(o.Output, o.NoHeaders); err != nil {
		return err
	}
	if err := o.validateFleet(o.ConfigFlags); err != nil {
		return err
	}
	switch g := overlap.Goal(o.For); g {
	case "":
	case overlap.GoalPeering, overlap.GoalMesh, overlap.GoalSubmariner:
		o.goal = g
	default:
		return fmt.Errorf("--for %q is not a goal: use peering, mesh or submariner", o.For)
	}
	o.networks = o.networks[:0]
	for _, n := range o.Networks {
		net, err := parseNetwork(n)
		if err != nil {
			return err
		}
		for _, prev := range o.networks {
			if prev.Name == net.Name {
				return fmt.Errorf("--network %q: the name %q is given twice: give each network its own name", n, net.Name)
			}
		}
		o.networks = append(o.networks, net)
	}
	return nil
}

// parseNetwork parses CIDR or CIDR=name.
func parseNetwork(s string) (report.OverlapNetwork, error) {
	cidr, name, named := strings.Cut(strings.TrimSpace(s), "=")
	cidr, name = strings.TrimSpace(cidr), strings.TrimSpace(name)
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return report.OverlapNetwork{}, fmt.Errorf("--network %q: %q is not a CIDR: give CIDR or CIDR=name, e.g. --network 10.224.0.0/12=vnet-weu", s, cidr)
	}
	if p.Masked() != p {
		return report.OverlapNetwork{}, fmt.Errorf("--network %q: %s has bits set past its /%d prefix: did you mean %s?", s, cidr, p.Bits(), p.Masked())
	}
	if named && name == "" {
		return report.OverlapNetwork{}, fmt.Errorf("--network %q: the name after = is empty: give CIDR=name, or the CIDR alone", s)
	}
	if !named {
		name = p.String()
	}
	return report.OverlapNetwork{Name: name, CIDR: p}, nil
}

// Complete resolves the contexts (the current one without --contexts) and builds their clients.
func (o *OverlapOptions) Complete() error {
	if o.fleet() {
		if err := o.completeFleet(&o.FleetOptions); err != nil {
			return err
		}
	} else {
		c, err := o.NewClients(o.ConfigFlags)
		if err != nil {
			return err
		}
		name := c.Context
		if name == "" {
			name = c.Server
		}
		o.members = []fleetMember{{context: name, clients: c}}
	}
	// two contexts of one cluster (another user, say) would compare the cluster with itself
	var kept []fleetMember
	for _, m := range o.members {
		if i := slices.IndexFunc(kept, func(k fleetMember) bool {
			return m.clients != nil && k.clients != nil && m.clients.Server != "" && k.clients.Server == m.clients.Server
		}); i >= 0 {
			o.notes = append(o.notes, fmt.Sprintf("context %s is the cluster of context %s (server %s): its ranges are read once, as %s", m.context, kept[i].context, m.clients.Server, kept[i].context))
			continue
		}
		kept = append(kept, m)
	}
	o.members = kept
	for _, n := range o.networks {
		if slices.ContainsFunc(o.members, func(m fleetMember) bool { return m.context == n.Name }) {
			return fmt.Errorf("--network %s=%s: %q is also a context: give the network another name", n.CIDR, n.Name, n.Name)
		}
	}
	return nil
}

// Run reads every cluster's ranges at once, checks them and sets the exit code.
func (o *OverlapOptions) Run(cmd *cobra.Command) error {
	f := readFleet(cmd.Context(), o.GlobalOptions, &o.FleetOptions, func(ctx context.Context, c *Clients) (*netmodel.Addressing, []string, error) {
		inv, err := gatherQuiet(ctx, c, cluster.Options{})
		if err != nil {
			return nil, nil, err
		}
		a := netmodel.ClusterAddressing(inv, netmodel.Resolve(inv))
		return a, append(inv.Gaps(), a.Unknown...), nil
	})
	r := report.BuildOverlap(f.Clusters, o.networks, o.goal)
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	render.Notes(o.Streams.ErrOut, o.notes, errPal)
	render.FleetErrors(o.Streams.ErrOut, f, errPal)
	for _, m := range f.Clusters {
		if m.Status == report.StatusIncomplete {
			render.Notes(o.Streams.ErrOut, []string{fmt.Sprintf("context %s: could not read %s: its ranges may be missing some", m.Context, strings.Join(m.Unread, "; "))}, errPal)
		}
	}
	for _, x := range r.Overlaps {
		if x.Kind == overlap.InClusterLatent {
			render.Warnings(o.Streams.ErrOut, []report.Warning{{Kind: string(x.Kind), Message: x.Why}}, errPal)
		}
	}
	var err error
	if o.printer != nil {
		err = o.printer.Print(o.Streams.Out, render.Printable{Report: r, Kind: "overlap", Items: r.Overlaps, NameField: "kind"})
	} else {
		err = render.Overlap(o.Streams.Out, r, render.TableOptions{NoHeaders: o.NoHeaders, Palette: render.NewPalette(o.Streams.Out, o.Color)})
	}
	if err != nil {
		return err
	}
	goal := o.goal
	if goal == "" {
		goal = overlap.GoalCluster
	}
	var findings []string
	if v := r.Verdict(goal); !v.Holds {
		nums := make([]string, 0, len(v.BrokenBy))
		for _, n := range v.BrokenBy {
			nums = append(nums, strconv.Itoa(n))
		}
		what := "a cluster is broken (its own ranges collide, or AKS kubenet clusters share a subnet)"
		if o.goal != "" {
			what = string(o.goal) + " is broken"
		}
		findings = append(findings, fmt.Sprintf("%s: by overlap %s (see above)", what, strings.Join(nums, ", ")))
	}
	return fleetExit(f, findings, true)
}
