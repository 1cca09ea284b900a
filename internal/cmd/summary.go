package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// SummaryOptions are the options of `kubectl podnet summary`.
type SummaryOptions struct {
	*GlobalOptions
	FleetOptions
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
  kubectl podnet summary -o json
  kubectl podnet summary --all-contexts   # one row per cluster of the kubeconfig`,
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
	o.addFleetFlags(cmd)
	return cmd
}

// Complete builds the clients.
func (o *SummaryOptions) Complete() error {
	if o.fleet() {
		return o.completeFleet(&o.FleetOptions)
	}
	c, err := o.NewClients(o.ConfigFlags)
	o.clients = c
	return err
}

// Validate checks the flags.
func (o *SummaryOptions) Validate() error {
	var err error
	if err := o.validateFleet(o.ConfigFlags); err != nil {
		return err
	}
	o.printer, err = parseOutput(o.Output, false)
	return err
}

// Run gathers and prints the summary.
func (o *SummaryOptions) Run(cmd *cobra.Command) error {
	if o.fleet() {
		return o.runFleet(cmd)
	}
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

// runFleet reads every context at once and prints one row per cluster.
func (o *SummaryOptions) runFleet(cmd *cobra.Command) error {
	f := readFleet(cmd.Context(), o.GlobalOptions, &o.FleetOptions, func(ctx context.Context, c *Clients) (*report.Summary, []string, error) {
		inv, err := gatherQuiet(ctx, c, cluster.Options{DNS: true})
		if err != nil {
			return nil, nil, err
		}
		s := report.BuildSummary(inv, netmodel.Resolve(inv), inv.DNS)
		return s, append(inv.Gaps(), inv.DNS.Unknown...), nil
	})
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	render.FleetNotes(o.Streams.ErrOut, f, func(s *report.Summary) ([]string, []report.Warning) { return s.Notes, nil }, errPal)
	render.FleetErrors(o.Streams.ErrOut, f, errPal)
	var err error
	if o.printer != nil {
		err = o.printer.Print(o.Streams.Out, render.Printable{Report: f, Kind: "context", Items: f.Clusters, NameField: "context"})
	} else {
		err = render.FleetSummary(o.Streams.Out, f, render.NewPalette(o.Streams.Out, o.Color))
	}
	if err != nil {
		return err
	}
	var findings []string
	for _, m := range f.Clusters {
		if !m.Status.Answered() || m.Report.ClusterNetwork.DNS == nil {
			continue
		}
		if e := dnsFinding(m.Report.ClusterNetwork.DNS); e != nil {
			findings = append(findings, "context "+m.Context+": "+e.Error())
		}
	}
	return fleetExit(f, findings, true)
}
