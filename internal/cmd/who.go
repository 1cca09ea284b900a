package cmd

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// WhoOptions are the options of `kubectl podnet who`.
type WhoOptions struct {
	*GlobalOptions
	Output    string
	NoHeaders bool

	addrs   []netip.Addr
	clients *Clients
	printer render.Printer
}

// NewCmdWho builds `kubectl podnet who ADDRESS...`.
func NewCmdWho(g *GlobalOptions) *cobra.Command {
	o := &WhoOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "who ADDRESS...",
		Short: "Say who owns an IP address: pod, node, Service or range",
		Long: `For each IPv4 or IPv6 address (one seen in a log, a firewall or a flow record) list everything
that owns or contains it: pods (host-network pods share their node's address), nodes (InternalIP,
ExternalIP, tunnel device, cilium_host), Services (with their endpoints), the node pod CIDR or IPAM
block it falls in ("free" when no pod holds it), the cluster pod and service CIDRs, or "outside every
known range". Several addresses cost one look-up of the cluster.`,
		Example: `  kubectl podnet who 10.244.3.17
  kubectl podnet who 10.244.3.17 10.0.0.10 fd00:10:244:1::5 -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(args); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", outputHelp())
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "print no headers")
	return cmd
}

// Validate parses the addresses; it runs before any client is built.
func (o *WhoOptions) Validate(args []string) error {
	var err error
	if o.printer, err = parseOutput(o.Output, o.NoHeaders); err != nil {
		return err
	}
	var bad []string
	for _, a := range args {
		ip, err := netip.ParseAddr(strings.TrimSpace(a))
		if err != nil || ip.Zone() != "" {
			bad = append(bad, fmt.Sprintf("%q", a))
			continue
		}
		o.addrs = append(o.addrs, ip.Unmap())
	}
	if len(bad) > 0 {
		return fmt.Errorf("not an IP address: %s (give IPv4 like 10.244.3.17 or IPv6 like fd00::5, without a prefix length)", strings.Join(bad, ", "))
	}
	return nil
}

// Complete builds the clients.
func (o *WhoOptions) Complete() error {
	c, err := o.NewClients(o.ConfigFlags)
	o.clients = c
	return err
}

// Run looks the addresses up and prints who owns them.
func (o *WhoOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	inv, err := cluster.Gather(ctx, o.clients.Clients, cluster.Options{Namespace: o.clients.Namespace, SkipPods: true})
	if err != nil {
		return o.apiErrorFor(o.clients, err)
	}
	v := netmodel.Resolve(inv)
	holders, err := cluster.ReadAddressHolders(ctx, o.clients.Clients, o.addrs, report.NeedsAllPods(o.addrs, &inv.Evidence, v))
	if err != nil {
		return o.apiErrorFor(o.clients, err)
	}
	rep := report.BuildWho(o.addrs, inv, v, holders)
	render.Notes(o.Streams.ErrOut, rep.Notes, render.NewPalette(o.Streams.ErrOut, o.Color))
	if o.printer != nil {
		return o.printer.Print(o.Streams.Out, render.Printable{Report: rep, Kind: "address", Items: rep.Results, NameField: "address"})
	}
	return render.Who(o.Streams.Out, rep, o.NoHeaders)
}
