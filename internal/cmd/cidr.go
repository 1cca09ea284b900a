package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// CIDRUsageOptions are the options of `kubectl podnet cidr-usage`.
type CIDRUsageOptions struct {
	*GlobalOptions
	FleetOptions
	Output     string
	WarnAt     float64
	FailAt     float64
	NodeSubnet string
	PlanNodes  int
	PlanMax    int
	PlanMask   int
	NoHeaders  bool

	clients *Clients
	printer render.Printer
	// warnAtGiven: --warn-at was set on the command line (not the default)
	warnAtGiven bool
}

// NewCmdCIDRUsage builds `kubectl podnet cidr-usage`.
func NewCmdCIDRUsage(g *GlobalOptions) *cobra.Command {
	o := &CIDRUsageOptions{GlobalOptions: g, WarnAt: 80}
	cmd := &cobra.Command{
		Use:   "cidr-usage",
		Short: "Answer \"are we running out of IPs?\" for every range",
		Long: `Show how full every address range of the cluster is, hottest first:
- per node: its pod CIDR(s) (or Calico blocks, or CiliumNode CIDRs), the addresses its IPAM can
  really hand out, the pod IPs in use, max pods, and which of the two binds first;
- per cluster pod CIDR: node CIDRs allocated against those it holds, how many more nodes can join,
  nodes already without a CIDR, and holes left by released CIDRs;
- per Calico IPPool: blocks claimed and by which node, addresses allocated, borrowed addresses;
- per service CIDR: ClusterIPs allocated;
- platform limits with their source: AKS kubenet's 400 routes, Azure CNI's pre-allocated node subnet
  addresses (--node-subnet), the upstream 5,000 nodes and 150,000 pods.

--plan-nodes answers whether the current ranges hold N nodes of M pods, what binds first, and the
smallest cluster CIDR that would; it exits 2 when the plan does not fit. For monitoring, --warn-at
and --fail-at set the exit code (2 at or past --fail-at) and -o prometheus writes gauges for a
textfile collector.`,
		Example: `  kubectl podnet cidr-usage
  kubectl podnet cidr-usage --plan-nodes 300 --max-pods 110
  kubectl podnet cidr-usage --fail-at 90 -o prometheus > /var/lib/node-exporter/podnet.prom
  kubectl podnet cidr-usage --all-contexts        # which cluster is closest to running out?`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.warnAtGiven = cmd.Flags().Changed("warn-at")
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
	f.StringVarP(&o.Output, "output", "o", "", outputHelp("prometheus"))
	f.Float64Var(&o.WarnAt, "warn-at", o.WarnAt, "warn on stderr about every utilisation at or above this percentage")
	f.Float64Var(&o.FailAt, "fail-at", 0, "exit with code 2 when any utilisation is at or above this percentage (0: never)")
	f.BoolVar(&o.NoHeaders, "no-headers", false, "print the tables' rows only: no section titles, no header lines")
	f.StringVar(&o.NodeSubnet, "node-subnet", "", "the Azure CNI node subnet (CIDR), to compute its headroom")
	f.IntVar(&o.PlanNodes, "plan-nodes", 0, "what-if: would the current ranges hold this many nodes?")
	f.IntVar(&o.PlanMax, "max-pods", 0, "what-if: max pods per node (default: the nodes' most common allocatable pods)")
	f.IntVar(&o.PlanMask, "node-cidr-mask", 0, "what-if: IPv4 node CIDR mask (default: the current one)")
	o.addFleetFlags(cmd)
	return cmd
}

// Validate checks the flags before anything is read.
func (o *CIDRUsageOptions) Validate() error {
	var err error
	if err := o.validateFleet(o.ConfigFlags); err != nil {
		return err
	}
	if o.fleet() && o.Output == "prometheus" {
		return fmt.Errorf("-o prometheus writes one cluster's gauges (a textfile collector or the exporter per cluster): run it once per context, or use -o json for several")
	}
	if o.fleet() && o.NodeSubnet != "" {
		return fmt.Errorf("--node-subnet is one cluster's Azure CNI node subnet: run cidr-usage --context NAME --node-subnet CIDR for that cluster alone")
	}
	if o.printer, err = parseOutput(o.Output, o.NoHeaders, "prometheus"); err != nil {
		return err
	}
	if o.WarnAt < 0 || o.WarnAt > 100 || o.FailAt < 0 || o.FailAt > 100 {
		return fmt.Errorf("--warn-at and --fail-at are percentages from 0 to 100 (got %g and %g)", o.WarnAt, o.FailAt)
	}
	if o.FailAt > 0 && o.WarnAt > o.FailAt && !o.warnAtGiven {
		o.WarnAt = o.FailAt // the default warning threshold follows a lower failing one
	}
	if o.FailAt > 0 && o.WarnAt > o.FailAt {
		return fmt.Errorf("--warn-at %g is above --fail-at %g: a warning would come after the failure; give a lower --warn-at", o.WarnAt, o.FailAt)
	}
	if o.NodeSubnet != "" {
		p, err := netip.ParsePrefix(o.NodeSubnet)
		if err != nil {
			return fmt.Errorf("--node-subnet %q is not a CIDR: give one like 10.224.0.0/16", o.NodeSubnet)
		}
		o.NodeSubnet = p.Masked().String()
	}
	switch {
	case o.PlanNodes < 0:
		return fmt.Errorf("--plan-nodes must be a positive number of nodes (got %d)", o.PlanNodes)
	case o.PlanNodes == 0 && (o.PlanMax != 0 || o.PlanMask != 0):
		return fmt.Errorf("--max-pods and --node-cidr-mask plan with --plan-nodes: give the number of nodes too")
	case o.PlanMax < 0 || o.PlanMax > 1000:
		return fmt.Errorf("--max-pods must be from 1 to 1000 (got %d)", o.PlanMax)
	case o.PlanMask != 0 && (o.PlanMask < 8 || o.PlanMask > 30):
		return fmt.Errorf("--node-cidr-mask must be an IPv4 prefix length from 8 to 30 (got %d)", o.PlanMask)
	}
	return nil
}

// Complete builds the clients.
func (o *CIDRUsageOptions) Complete() error {
	if o.fleet() {
		return o.completeFleet(&o.FleetOptions)
	}
	c, err := o.NewClients(o.ConfigFlags)
	o.clients = c
	return err
}

// Run reads the cluster, prints the utilisations and sets the exit code.
func (o *CIDRUsageOptions) Run(cmd *cobra.Command) error {
	if o.fleet() {
		return o.runFleet(cmd)
	}
	inv, err := o.gatherWith(cmd, o.clients, cluster.Options{ClusterIPs: true, Claims: cluster.ClaimsAddresses})
	if err != nil {
		return err
	}
	ips := inv.ClusterIPs
	u := report.BuildCIDRUsage(inv, netmodel.Resolve(inv), ips, report.CIDRUsageConfig{WarnAt: o.WarnAt, FailAt: o.FailAt, NodeSubnet: o.NodeSubnet,
		PlanNodes: o.PlanNodes, PlanMax: o.PlanMax, PlanMask: o.PlanMask})
	if err := report.CheckPlanMask(u, o.PlanMask); err != nil {
		return err
	}
	// said last, taken now: the inventory (every pod) is not held while the report is printed
	gaps := append(inv.Gaps(), ips.Unknown...)
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	render.Notes(o.Streams.ErrOut, u.Notes, errPal)
	render.Warnings(o.Streams.ErrOut, u.Warnings, errPal)
	switch {
	case o.printer != nil:
		err = o.printer.Print(o.Streams.Out, render.Printable{Report: u, Kind: "node", Items: u.Nodes})
	case o.Output == "prometheus":
		err = render.Prometheus(o.Streams.Out, u)
	default:
		err = render.CIDRUsage(o.Streams.Out, u, render.TableOptions{NoHeaders: o.NoHeaders, Palette: render.NewPalette(o.Streams.Out, o.Color)})
	}
	if err != nil {
		return err
	}
	if err := o.usageFinding(u); err != nil {
		return finding(err)
	}
	// a monitor must not read "fine" from what it could not see
	return incomplete(gaps)
}

// usageFinding is what makes cidr-usage exit 2: a utilisation at or past --fail-at, a plan that
// does not fit.
func (o *CIDRUsageOptions) usageFinding(u *report.CIDRUsage) error {
	if o.FailAt > 0 && u.Max*100 >= o.FailAt {
		return fmt.Errorf("utilisation %.0f%% (%s) is at or past --fail-at %g%%", u.Max*100, u.Hottest, o.FailAt)
	}
	if u.Plan != nil && !u.Plan.Holds {
		return fmt.Errorf("the plan of %d nodes of %d pods does not fit: %s", u.Plan.Nodes, u.Plan.MaxPods, u.Plan.Shortfall())
	}
	return nil
}

// runFleet reads every context at once and prints one row per cluster, hottest first.
func (o *CIDRUsageOptions) runFleet(cmd *cobra.Command) error {
	cfg := report.CIDRUsageConfig{WarnAt: o.WarnAt, FailAt: o.FailAt, PlanNodes: o.PlanNodes, PlanMax: o.PlanMax, PlanMask: o.PlanMask}
	f := readFleet(cmd.Context(), o.GlobalOptions, &o.FleetOptions, func(ctx context.Context, c *Clients) (*report.CIDRUsage, []string, error) {
		inv, err := gatherQuiet(ctx, c, cluster.Options{ClusterIPs: true, Claims: cluster.ClaimsAddresses})
		if err != nil {
			return nil, nil, err
		}
		u := report.BuildCIDRUsage(inv, netmodel.Resolve(inv), inv.ClusterIPs, cfg)
		return u, append(inv.Gaps(), inv.ClusterIPs.Unknown...), nil
	})
	// a --node-cidr-mask a cluster cannot take is the user's input, not the cluster failing
	var bad []string
	for _, m := range f.Clusters {
		if m.Status.Answered() {
			if err := report.CheckPlanMask(m.Report, o.PlanMask); err != nil {
				bad = append(bad, "context "+m.Context+": "+err.Error())
			}
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	render.FleetNotes(o.Streams.ErrOut, f, func(u *report.CIDRUsage) ([]string, []report.Warning) { return u.Notes, u.Warnings }, errPal)
	render.FleetErrors(o.Streams.ErrOut, f, errPal)
	var err error
	if o.printer != nil {
		err = o.printer.Print(o.Streams.Out, render.Printable{Report: f, Kind: "context", Items: f.Clusters, NameField: "context"})
	} else {
		err = render.FleetCIDRUsage(o.Streams.Out, f, render.TableOptions{NoHeaders: o.NoHeaders, Palette: render.NewPalette(o.Streams.Out, o.Color)})
	}
	if err != nil {
		return err
	}
	var findings []string
	for _, m := range f.Clusters {
		if m.Status.Answered() {
			if e := o.usageFinding(m.Report); e != nil {
				findings = append(findings, "context "+m.Context+": "+e.Error())
			}
		}
	}
	return fleetExit(f, findings, true)
}
