package cmd

import (
	"github.com/spf13/cobra"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// SummaryOptions are the options of `kubectl podnet summary`.
type SummaryOptions struct {
	*GlobalOptions
	Output string

	clients *Clients
	printer render.Printer
}

// NewCmdSummary builds `kubectl podnet summary`.
func NewCmdSummary(g *GlobalOptions) *cobra.Command {
	o := &SummaryOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Show the node, pod and cluster networks at a glance",
		Long: `Show the three networks of the cluster: the node network (node addresses and zones), the pod
network (model, encapsulation, cluster pod CIDRs and where they were read, node mask, dual-stack)
and the cluster network (service CIDRs, kube-proxy mode, the kubernetes and cluster DNS Services),
with the findings of 'kubectl podnet nodes'.`,
		Example: `  kubectl podnet summary
  kubectl podnet summary -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", outputHelp())
	return cmd
}

// Complete builds the clients.
func (o *SummaryOptions) Complete() error {
	c, err := o.NewClients(o.ConfigFlags)
	o.clients = c
	return err
}

// Validate checks the flags.
func (o *SummaryOptions) Validate() error {
	var err error
	o.printer, err = parseOutput(o.Output, false)
	return err
}

// Run gathers and prints the summary.
func (o *SummaryOptions) Run(cmd *cobra.Command) error {
	inv, err := o.gatherWith(cmd, o.clients, cluster.Options{DNS: true})
	if err != nil {
		return err
	}
	dns := inv.DNS
	s := report.BuildSummary(inv, netmodel.Resolve(inv), dns)
	// said last, taken now: the inventory (every pod) is not held while the report is printed
	gaps := append(inv.Gaps(), dns.Unknown...)
	render.Notes(o.Streams.ErrOut, s.Notes, render.NewPalette(o.Streams.ErrOut, o.Color))
	if o.printer != nil {
		err = o.printer.Print(o.Streams.Out, render.Printable{Report: s, Kind: "summary", NameField: "podNetwork.network.model"})
	} else {
		err = render.Summary(o.Streams.Out, s, render.NewPalette(o.Streams.Out, o.Color))
	}
	if err != nil {
		return err
	}
	if err := dnsFinding(dns); err != nil {
		return err
	}
	return incomplete(gaps)
}
