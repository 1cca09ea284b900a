package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/podnet/kubectl-podnet/internal/exporter"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// ExporterOptions are the options of `kubectl podnet exporter`.
type ExporterOptions struct {
	*GlobalOptions
	Listen           string
	EvidenceInterval time.Duration
	Debounce         time.Duration
	NodeSubnet       string

	clients  *Clients
	listener net.Listener
}

// NewCmdExporter builds `kubectl podnet exporter`.
func NewCmdExporter(g *GlobalOptions) *cobra.Command {
	o := &ExporterOptions{GlobalOptions: g, Listen: ":9847", EvidenceInterval: 30 * time.Second, Debounce: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "exporter",
		Short: "Serve cidr-usage's figures to Prometheus, kept current",
		Long: `Run until stopped, serving the figures of cidr-usage as Prometheus gauges on /metrics (text and
OpenMetrics), with /healthz and /readyz. Nodes and pods are watched (a lean copy of each, as
cidr-usage reads them); after a change the figures are computed again when scraped, at most once
per --debounce, so a cluster that changes all the time costs one computation per scrape. The IPAM
evidence (Calico pools and blocks, CiliumNodes, ClusterIPs, the config maps) is read again every
--evidence-interval.

It only reads (get, list, watch): deploy/ holds the manifests for running it in the cluster, its
least-privilege ClusterRole, and alert rules. When the API server is unreachable or a watch expires
it keeps serving the last figures and says they are stale (podnet_exporter_up 0); what RBAC
forbids is left out (podnet_exporter_store_forbidden 1) and logged, and read again every few
minutes. The gauges are listed in the README.`,
		Example: `  kubectl podnet exporter --listen 127.0.0.1:9847
  kubectl podnet exporter --listen :9847 --evidence-interval 1m --debounce 5s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", o.Listen, "the address to serve /metrics, /healthz and /readyz on (host:port; :PORT for every interface)")
	f.DurationVar(&o.EvidenceInterval, "evidence-interval", o.EvidenceInterval, "how often the IPAM evidence (pools, blocks, ClusterIPs, config maps) is read again")
	f.DurationVar(&o.Debounce, "debounce", o.Debounce, "the least time between two computations of the figures (after a change, at a scrape)")
	f.StringVar(&o.NodeSubnet, "node-subnet", "", "the Azure CNI node subnet (CIDR), to compute its headroom")
	return cmd
}

// Validate checks the flags before anything is read.
func (o *ExporterOptions) Validate() error {
	if _, port, err := net.SplitHostPort(o.Listen); err != nil {
		return fmt.Errorf("--listen %q is not host:port: give one like :9847 or 127.0.0.1:9847", o.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--listen %q: the port must be a number from 0 to 65535", o.Listen)
	}
	if o.EvidenceInterval < time.Second {
		return fmt.Errorf("--evidence-interval %s is too short: give 1s or more (30s by default)", o.EvidenceInterval)
	}
	if o.Debounce < 0 || o.Debounce > 10*time.Minute {
		return fmt.Errorf("--debounce %s: give a duration from 0 to 10m (2s by default)", o.Debounce)
	}
	if t := o.ConfigFlags.Timeout; t != nil && *t != "" && *t != "0" {
		return fmt.Errorf("--request-timeout %s would cut the exporter's watches, which stay open for minutes: leave it unset (each page and watch has a deadline of its own)", *t)
	}
	if o.NodeSubnet != "" {
		p, err := netip.ParsePrefix(o.NodeSubnet)
		if err != nil {
			return fmt.Errorf("--node-subnet %q is not a CIDR: give one like 10.224.0.0/16", o.NodeSubnet)
		}
		o.NodeSubnet = p.Masked().String()
	}
	return nil
}

// Complete builds the clients and opens the listener, so that a port in use is an error now.
func (o *ExporterOptions) Complete() error {
	c, err := o.NewClients(o.ConfigFlags)
	if err != nil {
		return err
	}
	o.clients = c
	if o.listener, err = net.Listen("tcp", o.Listen); err != nil {
		return fmt.Errorf("cannot serve on --listen %s: %w; give a free port", o.Listen, errors.Unwrap(err))
	}
	return nil
}

// Run serves until SIGINT or SIGTERM. Its log goes to stderr (klog; -v for more).
func (o *ExporterOptions) Run(ctx context.Context) error {
	// a daemon's log is its only voice: klog to stderr even at -v 0
	if err := klogToStderr(o.Verbosity); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := exporter.New(o.clients.Clients, exporter.Config{EvidenceInterval: o.EvidenceInterval, Debounce: o.Debounce,
		Usage: report.CIDRUsageConfig{WarnAt: 100, NodeSubnet: o.NodeSubnet}})
	klog.Infof("serving on http://%s/metrics, reading %s", o.listener.Addr(), o.clients.Server)
	err := e.Run(ctx, o.listener)
	klog.Flush()
	return err
}
