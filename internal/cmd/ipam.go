package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
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
	Output    string
	NoHeaders bool

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
and the safe next step. It only reads. A claim that names nobody, or a store that cannot be read,
proves nothing: such addresses are never called leaked, and the stores that could not be read are
listed (host-local's reservations live in each node's file system, not in the API).`,
		Example: `  kubectl podnet ipam check
  kubectl podnet ipam check -o json | jq '.findings[] | select(.kind == "leaked")'`,
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
	return cmd
}

// Validate checks the flags before anything is read.
func (o *IPAMCheckOptions) Validate() error {
	var err error
	o.printer, err = parseOutput(o.Output, o.NoHeaders)
	return err
}

// Complete builds the clients.
func (o *IPAMCheckOptions) Complete() error {
	c, err := o.NewClients(o.ConfigFlags)
	o.clients = c
	return err
}

// Run reads the stores and the pods, prints the findings and sets the exit code: 2 when anything
// is found, else 4 when a store or the pods could not be read.
func (o *IPAMCheckOptions) Run(cmd *cobra.Command) error {
	inv, err := o.gatherWith(cmd, o.clients, cluster.Options{ClusterIPs: true, Claims: true})
	if err != nil {
		return err
	}
	rep := report.BuildIPAMCheck(inv, netmodel.Resolve(inv), inv.ClusterIPs)
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
