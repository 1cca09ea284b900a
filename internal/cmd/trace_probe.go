package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/policy"
	"github.com/podnet/kubectl-podnet/internal/probe"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

// pathProber runs one path probe in a namespace ("pod NS/NAME" or "node NAME") and returns its
// output and the name of what ran it. Tests swap it.
var pathProber = func(ctx context.Context, o *TraceOptions, runner *probe.Runner, in string, opts probe.Options) (string, string, error) {
	var res *probe.Result
	var err error
	if node, ok := strings.CutPrefix(in, "node "); ok {
		res, err = runner.ProbeNodeRaw(ctx, node, o.ProbeNamespace, opts)
	} else {
		ns, name, _ := strings.Cut(strings.TrimPrefix(in, "pod "), "/")
		res, err = runner.ProbePodRaw(ctx, ns, name, opts, o.Limit, o.Force)
	}
	if err != nil {
		return "", "", err
	}
	return res.Raw, res.Container, nil
}

// verify probes the namespaces the path goes through (--probe) and connects from the source
// (--connect), then puts expected against seen into the path.
func (o *TraceOptions) verify(ctx context.Context, p *trace.Path, nodes map[string]*netmodel.NodeNetwork) error {
	probes := map[string]*probe.PathProbe{}
	if o.Probe {
		probes = p.Probes()
	}
	from := "node " + p.Src.Node
	if p.Src.Kind == "pod" && !p.Src.HostNetwork {
		from = "pod " + p.Src.Namespace + "/" + p.Src.Name
	}
	if o.Connect {
		if probes[from] == nil {
			probes[from] = &probe.PathProbe{}
		}
		to, port := p.Dst.IP, int(o.port.Number)
		if p.Service != nil {
			to = netip.MustParseAddr(p.Service.ClusterIP)
		}
		probes[from].Connect = &probe.ConnectTo{IP: to, Port: port, TimeoutSeconds: min(5, max(1, int(o.Timeout.Seconds())/2))}
	}
	if o.ProbeNamespace == "" {
		o.ProbeNamespace = o.clients.Namespace
	}
	names := make([]string, 0, len(probes))
	for in := range probes {
		names = append(names, in)
	}
	sort.Strings(names)
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	for _, in := range names {
		if strings.HasPrefix(in, "node ") {
			if err := warnLeftovers(ctx, o.clients, o.ProbeNamespace, o.Streams.ErrOut, errPal); err != nil {
				return o.apiErrorFor(o.clients, err)
			}
			break
		}
	}
	runner, st := o.runner(o.clients, o.Streams.ErrOut)
	obs := map[string]*trace.Observation{}
	var mu sync.Mutex
	eg := &errgroup.Group{}
	eg.SetLimit(4)
	for _, in := range names {
		eg.Go(func() error {
			ob := &trace.Observation{In: in}
			if n := nodes[strings.TrimPrefix(in, "node ")]; n != nil && strings.HasPrefix(in, "node ") {
				// the node's interfaces: those holding its InternalIPs or its transport addresses
				for _, a := range append(slices.Clone(n.Node().InternalIPs), n.Transport...) {
					if s := a.String(); !slices.Contains(ob.NodeAddresses, s) {
						ob.NodeAddresses = append(ob.NodeAddresses, s)
					}
				}
			}
			script, err := probe.PathScript(*probes[in])
			if err == nil {
				opts := o.options()
				opts.Script = script
				pctx, cancel := context.WithTimeout(ctx, o.Timeout)
				var raw string
				raw, ob.Probe, err = pathProber(pctx, o, runner, in, opts)
				cancel()
				if err == nil {
					ob.Result, err = probe.ParsePath(raw)
				}
			}
			ob.Err = err
			mu.Lock()
			obs[in] = ob
			mu.Unlock()
			return nil
		})
	}
	_ = eg.Wait()
	st.done()
	if err := ctx.Err(); err != nil {
		return err
	}
	var failed []error
	for _, in := range names {
		if err := obs[in].Err; err != nil && !errors.Is(err, probe.ErrDryRun) {
			failed = append(failed, fmt.Errorf("%s: %w", in, err))
		}
	}
	if o.dryRun() {
		o.planned = append(o.planned, runner.Planned()...)
		return errors.Join(failed...)
	}
	if len(failed) == len(names) && len(names) > 0 {
		return errors.Join(failed...) // nothing ran: say why, plainly
	}
	v := &trace.Verification{Checks: []trace.Check{}}
	if o.Probe {
		v = p.Verify(obs)
	}
	if o.Connect {
		v.Connect = connectCheck(p, obs[from], from, v.Mismatches)
	}
	p.Probe = v
	return nil
}

// expectation is what the model predicts of the connection: blocked when a policy the plugin
// enforces denies it, connected when nothing does, nothing when the verdict or the enforcement is
// unknown.
func expectation(p *trace.Path) trace.Expectation {
	v := p.Policy
	switch {
	case v == nil || v.Enforced.State == netmodel.NotEnforced:
		return trace.ExpectConnected
	case v.Verdict.Verdict == policy.Unknown:
		return ""
	case v.Verdict.Verdict == policy.Denied && v.Enforced.State == netmodel.Enforced:
		return trace.ExpectBlocked
	case v.Verdict.Verdict == policy.Denied:
		return ""
	}
	return trace.ExpectConnected
}

// connectCheck turns the source's connection attempt into the report, with a likely cause.
func connectCheck(p *trace.Path, ob *trace.Observation, from string, mismatches int) *trace.ConnectCheck {
	c := &trace.ConnectCheck{From: from}
	switch {
	case ob == nil || ob.Err != nil:
		c.Result = probe.ConnectFailed
		if ob != nil {
			c.Output = ob.Err.Error()
		}
		return c
	case ob.Result.Connect == nil:
		c.Result, c.Output = probe.ConnectFailed, "the probe's output has no connection result"
		return c
	}
	r := ob.Result.Connect
	c.To, c.Result, c.Output = r.To, r.Result, r.Output
	denied := p.Policy != nil && p.Policy.Verdict.Verdict == policy.Denied && p.Policy.Enforced.State != netmodel.NotEnforced
	c.Expected = expectation(p)
	switch c.Expected {
	case trace.ExpectConnected:
		c.Agrees = r.Result == probe.Connected
	case trace.ExpectBlocked:
		// a dropping policy times out, a rejecting one is refused or unreachable
		c.Agrees = r.Result == probe.TimedOut || r.Result == probe.Refused || r.Result == probe.Unreachable
	default:
		c.Agrees = true
	}
	switch r.Result {
	case probe.Refused:
		c.Cause = "the path works but nothing listens there: the destination has no socket on that port"
		if p.Service != nil {
			c.Cause = "nothing listens on the endpoint's target port " + p.Service.TargetPort + ", or the Service has no endpoint for this port"
		}
	case probe.TimedOut:
		switch {
		case denied:
			c.Cause = "a NetworkPolicy drops it (see the verdict above)"
		case mismatches > 0:
			c.Cause = "packets are lost on the way: see the mismatches above"
		default:
			c.Cause = "packets are dropped on the way and the routes look right: a firewall or security group between the nodes, a tunnel port blocked (UDP), or an MTU too small for the encapsulation"
		}
	case probe.Unreachable:
		c.Cause = "a router on the way answered that it has no route: a missing route (see the checks above)"
	}
	return c
}
