package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// FleetOptions are the flags of a command that can read several clusters at once.
type FleetOptions struct {
	Contexts    []string
	AllContexts bool
	Parallel    int

	// members are the clusters to read, with their clients, in the order given.
	members []fleetMember
}

// fleetMember is one context to read and its clients (or why they could not be built).
type fleetMember struct {
	context string
	clients *Clients
	err     error
}

const defaultParallel = 8

// addFleetFlags adds --contexts, --all-contexts and --parallel to cmd.
func (f *FleetOptions) addFleetFlags(cmd *cobra.Command) {
	f.Parallel = defaultParallel
	cmd.Flags().StringSliceVar(&f.Contexts, "contexts", nil, "read these kubeconfig contexts (comma-separated) at once, each result tagged with its context")
	cmd.Flags().BoolVar(&f.AllContexts, "all-contexts", false, "read every context of the kubeconfig at once")
	cmd.Flags().IntVar(&f.Parallel, "parallel", f.Parallel, "with --contexts or --all-contexts: how many clusters are read at the same time")
}

// fleet reports whether several clusters were asked for.
func (f *FleetOptions) fleet() bool { return len(f.Contexts) > 0 || f.AllContexts }

// validateFleet checks the fleet flags against each other and against the global flags that
// would point every context at one server or user.
func (f *FleetOptions) validateFleet(flags *genericclioptions.ConfigFlags) error {
	if f.Parallel < 1 {
		return fmt.Errorf("--parallel must be at least 1 (got %d)", f.Parallel)
	}
	if !f.fleet() {
		return nil
	}
	if f.AllContexts && len(f.Contexts) > 0 {
		return fmt.Errorf("--contexts and --all-contexts both given: name the contexts, or take them all, not both")
	}
	for _, c := range f.Contexts {
		if strings.TrimSpace(c) == "" {
			return fmt.Errorf("--contexts has an empty name: give context names separated by commas, e.g. --contexts prod-eu,prod-us")
		}
	}
	set := func(p *string) bool { return p != nil && *p != "" }
	for _, g := range []struct {
		name string
		set  bool
	}{
		{"--context", set(flags.Context)}, {"--cluster", set(flags.ClusterName)}, {"--user", set(flags.AuthInfoName)},
		{"--server", set(flags.APIServer)}, {"--tls-server-name", set(flags.TLSServerName)}, {"--certificate-authority", set(flags.CAFile)},
		{"--token", set(flags.BearerToken)}, {"--client-certificate", set(flags.CertFile)}, {"--client-key", set(flags.KeyFile)},
		{"--username", set(flags.Username)}, {"--password", set(flags.Password)},
	} {
		if g.set {
			return fmt.Errorf("%s cannot be combined with --contexts or --all-contexts: each context brings its own cluster, server and credentials; drop %s", g.name, g.name)
		}
	}
	return nil
}

// completeFleet resolves the contexts against the kubeconfig and builds each one's clients. A
// context whose clients cannot be built is a member that failed, not an error of the command.
func (g *GlobalOptions) completeFleet(f *FleetOptions) error {
	if err := f.validateFleet(g.ConfigFlags); err != nil {
		return err
	}
	raw, err := g.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return kubeconfigError(err)
	}
	known := make([]string, 0, len(raw.Contexts))
	for name := range raw.Contexts {
		known = append(known, name)
	}
	sort.Strings(known)
	names := f.Contexts
	if f.AllContexts {
		if len(known) == 0 {
			return fmt.Errorf("--all-contexts: the kubeconfig has no contexts: point KUBECONFIG or --kubeconfig at one that has")
		}
		names = known
	}
	var seen []string
	for _, name := range names {
		name = strings.TrimSpace(name)
		if slices.Contains(seen, name) {
			continue
		}
		if _, ok := raw.Contexts[name]; !ok {
			return fmt.Errorf("context %q is not in the kubeconfig: use one of %s (kubectl config get-contexts)", name, strings.Join(known, ", "))
		}
		seen = append(seen, name)
	}
	f.members = f.members[:0]
	for _, name := range seen {
		c, err := g.NewClients(contextFlags(g.ConfigFlags, name))
		f.members = append(f.members, fleetMember{context: name, clients: c, err: err})
	}
	return nil
}

// contextFlags are flags pointing at one context: the kubeconfig and the settings that hold for
// every context (timeout, impersonation, TLS verification, cache) are the user's.
func contextFlags(src *genericclioptions.ConfigFlags, name string) *genericclioptions.ConfigFlags {
	f := genericclioptions.NewConfigFlags(true)
	f.KubeConfig, f.CacheDir, f.Timeout, f.Namespace = src.KubeConfig, src.CacheDir, src.Timeout, src.Namespace
	f.Impersonate, f.ImpersonateUID, f.ImpersonateGroup, f.ImpersonateUserExtra = src.Impersonate, src.ImpersonateUID, src.ImpersonateGroup, src.ImpersonateUserExtra
	f.Insecure, f.DisableCompression = src.Insecure, src.DisableCompression
	f.Context = &name
	return f
}

// fleetRead reads one cluster: its report, and the reads that failed when it still answered.
type fleetRead[R any] func(ctx context.Context, c *Clients) (R, []string, error)

// readFleet reads every member with read, at most parallel at a time, and gives the results in
// the members' order. One cluster failing is its member's status, never the others'.
func readFleet[R any](ctx context.Context, g *GlobalOptions, f *FleetOptions, read fleetRead[R]) *report.Fleet[R] {
	out := &report.Fleet[R]{Clusters: make([]report.FleetMember[R], len(f.members))}
	sem := make(chan struct{}, f.Parallel)
	var wg sync.WaitGroup
	// on a terminal, after a second: "listing clusters of 9: 4" (read so far)
	p := newProgress(g.Streams.ErrOut)
	kind := fmt.Sprintf("clusters of %d", len(f.members))
	var mu sync.Mutex
	done := 0
	for i, m := range f.members {
		out.Clusters[i] = report.FleetMember[R]{Context: m.context}
		if m.clients != nil {
			out.Clusters[i].Server = m.clients.Server
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			mem := &out.Clusters[i]
			err := m.err
			if err == nil {
				mem.Report, mem.Unread, err = read(ctx, m.clients)
			}
			switch {
			case err != nil:
				mem.Status = clusterStatus(err)
				mem.Error = explain(err, g.apiServer(m.clients)).Error()
			case len(mem.Unread) > 0:
				mem.Status = report.StatusIncomplete
			default:
				mem.Status = report.StatusOK
			}
			mu.Lock()
			done++
			p.Update(kind, done)
			mu.Unlock()
		}()
	}
	wg.Wait()
	p.Done()
	return out
}

// clusterStatus classifies why a cluster did not answer.
func clusterStatus(err error) report.ClusterStatus {
	var ue *url.Error
	var certErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var dnsErr *net.DNSError
	var nothing *nothingReadError
	switch {
	case errors.As(err, &nothing):
		return report.StatusForbidden
	case apierrors.IsUnauthorized(err), strings.Contains(err.Error(), "getting credentials: "):
		return report.StatusUnauthorized
	case apierrors.IsForbidden(err):
		return report.StatusForbidden
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err), errors.Is(err, syscall.ECONNREFUSED),
		errors.As(err, &dnsErr), errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &ue):
		return report.StatusUnreachable
	}
	return report.StatusFailed
}

// gatherQuiet reads the inventory of one cluster of a fleet: gatherWith without the progress line
// (several clusters are read at once) and without turning errors into sentences (readFleet does,
// with the cluster's server).
func gatherQuiet(ctx context.Context, c *Clients, opts cluster.Options) (*cluster.Inventory, error) {
	read, err := podRead()
	if err != nil {
		return nil, err
	}
	opts.Namespace, opts.PodRead = c.Namespace, read
	inv, err := cluster.Gather(ctx, c.Clients, opts)
	if err != nil {
		return nil, err
	}
	if inv.NodesUnknown && len(inv.Nodes) == 0 {
		// one cluster alone degrades to what it can read; beside others, a cluster of which not
		// one node could be read has nothing to show and is said so, as forbidden
		return nil, &nothingReadError{user: c.User, unread: inv.Gaps()}
	}
	keepSelectedPods(inv, opts.NodeSelector)
	return inv, nil
}

// nothingReadError: neither nodes nor pods (not one node) could be read.
type nothingReadError struct {
	user   string
	unread []string
}

func (e *nothingReadError) Error() string {
	who := "the user"
	if e.user != "" {
		who = fmt.Sprintf("user %q", e.user)
	}
	return fmt.Sprintf("%s may not list nodes, nor pods that would name them (403 Forbidden): nothing of the cluster could be read; ask for the reads listed under Permissions in the README ('kubectl auth can-i list nodes'), or use another context", who)
}

// fleetExit is the exit code of a fleet: 1 when no cluster answered, 2 on findings (the
// command's own, one per cluster that has one), 4 when a cluster did not answer or answered
// incompletely (and incomplete counts for the command), else 0.
func fleetExit[R any](f *report.Fleet[R], findings []string, incompleteCounts bool) error {
	var failed, partial []string
	answered := 0
	for _, m := range f.Clusters {
		switch {
		case m.Status.Answered():
			answered++
			if m.Status == report.StatusIncomplete && incompleteCounts {
				partial = append(partial, fmt.Sprintf("context %s answered without %d of its reads", m.Context, len(m.Unread)))
			}
		default:
			failed = append(failed, fmt.Sprintf("context %s is %s", m.Context, m.Status))
		}
	}
	switch {
	case answered == 0:
		return fmt.Errorf("no cluster answered: %s (see the errors above)", strings.Join(failed, ", "))
	case len(findings) > 0:
		return finding(errors.New(strings.Join(findings, "; ")))
	case len(failed)+len(partial) > 0:
		return &ExitError{Code: exitIncomplete, Err: fmt.Errorf("the answer is incomplete: %s (see the errors above); the other clusters answered", strings.Join(append(failed, partial...), "; "))}
	}
	return nil
}
