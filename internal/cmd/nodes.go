package cmd

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// NodesOptions are the options of `kubectl podnet nodes`.
type NodesOptions struct {
	*GlobalOptions
	FleetOptions
	Output    string
	Selector  string
	NoHeaders bool
	SortBy    string

	clients *Clients
	printer render.Printer
}

var nodesSortKeys = []string{"NAME", "STATUS", "INTERNAL-IP", "POD-CIDRS", "PODS", "NETWORK", "ZONE"}

// NewCmdNodes builds `kubectl podnet nodes`.
func NewCmdNodes(g *GlobalOptions) *cobra.Command {
	o := &NodesOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "nodes",
		Short: "List nodes with IPs, pod CIDRs, tunnels and network model",
		Long: `List every node joined with its addresses, pod CIDRs, tunnel device address, the pods it runs on
the pod network against its allocatable pods, and the network model detected for it. Warnings
(nodes without a pod CIDR, Calico's autodetected address differing from the InternalIP, overlapping
CIDRs, pods outside their node's CIDR, NotReady nodes) go to stderr and into -o json|yaml.`,
		Example: `  kubectl podnet nodes
  kubectl podnet nodes -o wide --sort-by PODS
  kubectl podnet nodes -l kubernetes.azure.com/agentpool=nodepool1 -o json
  kubectl podnet nodes --contexts aks-prod-weu,aks-prod-neu   # several clusters, one table`,
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
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", outputHelp("wide"))
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "label selector to filter nodes (e.g. kubernetes.io/os=linux)")
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "print no headers (and no summary line on stderr)")
	cmd.Flags().StringVar(&o.SortBy, "sort-by", "NAME", "column to sort by: "+strings.Join(nodesSortKeys, ", "))
	o.addFleetFlags(cmd)
	return cmd
}

// Complete builds the clients.
func (o *NodesOptions) Complete() error {
	if o.fleet() {
		return o.completeFleet(&o.FleetOptions)
	}
	c, err := o.NewClients(o.ConfigFlags)
	if err != nil {
		return err
	}
	o.clients = c
	return nil
}

// Validate checks the flags.
func (o *NodesOptions) Validate() error {
	var err error
	if err := o.validateFleet(o.ConfigFlags); err != nil {
		return err
	}
	if o.printer, err = parseOutput(o.Output, o.NoHeaders, "wide"); err != nil {
		return err
	}
	key := strings.ToUpper(o.SortBy)
	for _, k := range nodesSortKeys {
		if k == key {
			o.SortBy = key
			return nil
		}
	}
	return fmt.Errorf("cannot sort by %q: use one of %s", o.SortBy, strings.Join(nodesSortKeys, ", "))
}

// Run gathers the inventory and prints the report.
func (o *NodesOptions) Run(cmd *cobra.Command) error {
	if o.fleet() {
		return o.runFleet(cmd)
	}
	inv, err := o.gather(cmd, o.clients, o.Selector)
	if err != nil {
		return err
	}
	rep := report.BuildNodes(inv, netmodel.Resolve(inv))
	sortNodes(rep.Nodes, o.SortBy)
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	render.Notes(o.Streams.ErrOut, rep.Notes, errPal)
	render.Warnings(o.Streams.ErrOut, rep.Warnings, errPal)
	if o.printer != nil {
		return o.printer.Print(o.Streams.Out, render.Printable{Report: rep, Kind: "node", Items: rep.Nodes})
	}
	if err := render.Nodes(o.Streams.Out, rep, render.NodesOptions{Wide: o.Output == "wide", NoHeaders: o.NoHeaders, Palette: render.NewPalette(o.Streams.Out, o.Color)}); err != nil {
		return err
	}
	if !o.NoHeaders {
		// stdout carries the table alone, for awk and wc -l; the cluster's summary line goes beside it
		_, err := fmt.Fprintln(o.Streams.ErrOut, render.NodesFooter(rep))
		return err
	}
	return nil
}

// runFleet reads the nodes of every context at once and prints them in one table.
func (o *NodesOptions) runFleet(cmd *cobra.Command) error {
	f := readFleet(cmd.Context(), o.GlobalOptions, &o.FleetOptions, func(ctx context.Context, c *Clients) (*report.NodesReport, []string, error) {
		inv, err := gatherQuiet(ctx, c, cluster.Options{NodeSelector: o.Selector})
		if err != nil {
			return nil, nil, err
		}
		rep := report.BuildNodes(inv, netmodel.Resolve(inv))
		sortNodes(rep.Nodes, o.SortBy)
		return rep, inv.Gaps(), nil
	})
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	render.FleetNotes(o.Streams.ErrOut, f, func(r *report.NodesReport) ([]string, []report.Warning) { return r.Notes, r.Warnings }, errPal)
	render.FleetErrors(o.Streams.ErrOut, f, errPal)
	var err error
	if o.printer != nil {
		err = o.printer.Print(o.Streams.Out, render.Printable{Report: f, Kind: "node", Items: f.NodeRows(func(r *report.NodesReport) []report.NodeRow { return r.Nodes })})
	} else {
		err = render.FleetNodes(o.Streams.Out, f, render.NodesOptions{Wide: o.Output == "wide", NoHeaders: o.NoHeaders, Palette: render.NewPalette(o.Streams.Out, o.Color)})
		if err == nil && !o.NoHeaders {
			for _, l := range render.FleetNodesFooters(f) {
				fmt.Fprintln(o.Streams.ErrOut, l)
			}
		}
	}
	if err != nil {
		return err
	}
	// nodes reads what it can, as for one cluster: only a cluster that did not answer is a gap
	return fleetExit(f, nil, false)
}

// gather reads the inventory with a progress line on a terminal, and turns API failures into
// sentences.
func (g *GlobalOptions) gather(cmd *cobra.Command, c *Clients, selector string) (*cluster.Inventory, error) {
	return g.gatherWith(cmd, c, cluster.Options{NodeSelector: selector})
}

// gatherWith is gather with more to read beside the inventory (opts' ClusterIPs, DNS).
func (g *GlobalOptions) gatherWith(cmd *cobra.Command, c *Clients, opts cluster.Options) (*cluster.Inventory, error) {
	selector := opts.NodeSelector
	read, err := podRead()
	if err != nil {
		return nil, err
	}
	p := newProgress(g.Streams.ErrOut)
	ns := c.Namespace
	opts.Namespace, opts.Progress, opts.PodRead = ns, p.Update, read
	inv, err := cluster.Gather(cmd.Context(), c.Clients, opts)
	p.Done()
	if err != nil {
		return nil, g.apiErrorFor(c, err)
	}
	keepSelectedPods(inv, selector)
	return inv, nil
}

// keepSelectedPods keeps only the pods of the selected nodes when nodes were selected, so that
// counts and footers speak of them.
func keepSelectedPods(inv *cluster.Inventory, selector string) {
	if selector == "" {
		return
	}
	keep := map[string]bool{}
	for _, n := range inv.Nodes {
		keep[n.Name] = true
	}
	pods := inv.Pods[:0]
	for _, p := range inv.Pods {
		if keep[p.Node] {
			pods = append(pods, p)
		}
	}
	inv.Pods = pods
}

// podReadEnv chooses how pods are read: auto (the default: a stream for large clusters, pages for
// small ones), stream or paged. It is for benchmarks and for working around a proxy that breaks
// long-lived responses, so it is an environment variable rather than a flag in every command's help.
const podReadEnv = "PODNET_POD_READ"

func podRead() (cluster.PodRead, error) {
	switch v := cluster.PodRead(os.Getenv(podReadEnv)); v {
	case "", cluster.PodReadAuto:
		return cluster.PodReadAuto, nil
	case cluster.PodReadStream, cluster.PodReadPaged:
		return v, nil
	default:
		return "", fmt.Errorf("%s=%q is not a pod read: use auto, stream or paged (or unset it)", podReadEnv, v)
	}
}

// apiErrorFor turns a failed API call into a sentence naming the server and the timeout.
func (g *GlobalOptions) apiErrorFor(c *Clients, err error) error {
	return explain(err, g.apiServer(c))
}

// apiServer is what error messages say of the server c talks to.
func (g *GlobalOptions) apiServer(c *Clients) apiServer {
	s := apiServer{}
	if g.ConfigFlags.Timeout != nil {
		s.Timeout = *g.ConfigFlags.Timeout
	}
	if c != nil {
		s.URL, s.Context, s.User, s.ExecCommand, s.ExecInstallHint = c.Server, c.Context, c.User, c.ExecCommand, c.ExecInstallHint
	}
	return s
}

func sortNodes(rows []report.NodeRow, key string) {
	firstAddr := func(ss []string) netip.Addr {
		if len(ss) == 0 {
			return netip.Addr{}
		}
		a, _ := netip.ParseAddr(strings.SplitN(ss[0], "/", 2)[0])
		return a
	}
	less := func(i, j int) int {
		a, b := rows[i], rows[j]
		switch key {
		case "STATUS":
			return strings.Compare(a.Status, b.Status)
		case "INTERNAL-IP":
			return firstAddr(a.InternalIPs).Compare(firstAddr(b.InternalIPs))
		case "POD-CIDRS":
			return firstAddr(a.PodCIDRs).Compare(firstAddr(b.PodCIDRs))
		case "PODS":
			return b.Pods - a.Pods // busiest first
		case "NETWORK":
			return strings.Compare(a.Network.String(), b.Network.String())
		case "ZONE":
			return strings.Compare(a.Zone, b.Zone)
		}
		return 0
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if c := less(i, j); c != 0 {
			return c < 0
		}
		return rows[i].Name < rows[j].Name
	})
}
