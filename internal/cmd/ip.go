package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// ProbeFlags are the flags every probing command shares.
type ProbeFlags struct {
	Image          string
	PullPolicy     string
	Profile        string
	Timeout        time.Duration
	ProbeNamespace string
	Limit          int
	Force          bool
	DryRun         string
}

func (f *ProbeFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.Image, "image", probe.DefaultImage, "probe image; it needs sh and ip (busybox or iproute2); use a mirror in air-gapped clusters")
	fl.StringVar(&f.PullPolicy, "image-pull-policy", "", "probe image pull policy: Always, IfNotPresent or Never (default: the cluster's)")
	fl.StringVar(&f.Profile, "profile", probe.ProfileRestricted, "probe security profile: restricted (passes Pod Security restricted) or netadmin (NET_ADMIN, NET_RAW)")
	fl.DurationVar(&f.Timeout, "timeout", 60*time.Second, "time limit of each probe, from creation to output")
	fl.StringVar(&f.ProbeNamespace, "probe-namespace", "", "namespace of node probe pods (host network: Pod Security privileged there); default: the current one")
	fl.IntVar(&f.Limit, "limit", 5, "refuse to add a probe to a pod that carries this many (they stay until the pod is deleted)")
	fl.BoolVar(&f.Force, "force", false, "add a probe container even past --limit")
	fl.StringVar(&f.DryRun, "dry-run", string(probe.DryRunNone), "client: print the probe objects, create nothing; server: the API server admits them, stores nothing")
}

// addNodeProbe adds the flags of commands that probe nodes only (no pod, no ephemeral container).
func (f *ProbeFlags) addNodeProbe(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.Image, "image", probe.DefaultImage, "probe image; it needs sh, cat and stat (busybox or a distro image); use a mirror in air-gapped clusters")
	fl.StringVar(&f.PullPolicy, "image-pull-policy", "", "probe image pull policy: Always, IfNotPresent or Never (default: the cluster's)")
	fl.DurationVar(&f.Timeout, "timeout", 60*time.Second, "time limit of each node's probe, from creation to output")
	fl.StringVar(&f.ProbeNamespace, "probe-namespace", "", "namespace of the probe pods (host network and a hostPath: Pod Security privileged there); default: the current one")
	fl.StringVar(&f.DryRun, "dry-run", string(probe.DryRunNone), "client: print the probe pods, create nothing; server: the API server admits them, stores nothing")
	f.Profile, f.Limit = probe.ProfileRestricted, 1
}

func (f *ProbeFlags) validate() error {
	switch f.PullPolicy {
	case "", "Always", "IfNotPresent", "Never":
	default:
		return fmt.Errorf("invalid --image-pull-policy %q: use Always, IfNotPresent or Never", f.PullPolicy)
	}
	switch f.Profile {
	case probe.ProfileRestricted, probe.ProfileNetAdmin:
	default:
		return fmt.Errorf("invalid --profile %q: use restricted or netadmin", f.Profile)
	}
	if f.Timeout <= 0 {
		return fmt.Errorf("--timeout must be positive (got %s)", f.Timeout)
	}
	if f.Limit < 1 {
		return fmt.Errorf("--limit must be at least 1 (got %d)", f.Limit)
	}
	if strings.TrimSpace(f.Image) == "" {
		return fmt.Errorf("--image must name an image")
	}
	return f.checkDryRun()
}

// checkDryRun checks --dry-run's value; commands that probe only on request check it first.
func (f *ProbeFlags) checkDryRun() error {
	switch probe.DryRun(f.DryRun) {
	case probe.DryRunNone, probe.DryRunClient, probe.DryRunServer:
		return nil
	}
	return fmt.Errorf("invalid --dry-run %q: use none, client (print what would be created) or server (admitted by the API server, not stored)", f.DryRun)
}

// dryRun: the probes are only planned (--dry-run=client or server).
func (f *ProbeFlags) dryRun() bool { return probe.DryRun(f.DryRun) != probe.DryRunNone }

// plannedList is what a dry run prints: the probe objects as a v1 List, as kubectl prints several
// objects.
type plannedList struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Items      []corev1.Pod `json:"items"`
}

// printPlanned writes the objects the dry run would create (-o's printer; YAML without one) and
// returns the probes that failed before they could be planned (errors other than ErrDryRun).
func printPlanned(w io.Writer, printer render.Printer, pods []corev1.Pod, errs ...error) error {
	var failed []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, probe.ErrDryRun) {
			failed = append(failed, err)
		}
	}
	if printer == nil {
		printer, _ = render.NewPrinter("yaml", false)
	}
	if len(pods) > 0 {
		list := plannedList{APIVersion: "v1", Kind: "List", Items: pods}
		if err := printer.Print(w, render.Printable{Report: list, Kind: "pod", Items: pods, NameField: "metadata.name"}); err != nil {
			return err
		}
	}
	return errors.Join(failed...)
}

// runner builds the probe runner with a status line on w (a terminal only).
func (f *ProbeFlags) runner(c *Clients, w io.Writer) (*probe.Runner, *statusLine) {
	st := newStatusLine(w)
	return &probe.Runner{Kube: c.Kube, Status: st.set, DeleteTimeout: 15 * time.Second, DryRun: probe.DryRun(f.DryRun)}, st
}

func (f *ProbeFlags) options() probe.Options {
	return probe.Options{Image: f.Image, PullPolicy: corev1.PullPolicy(f.PullPolicy), Profile: f.Profile, TimeoutSeconds: int64(f.Timeout.Seconds())}
}

// IPOptions are the options of `kubectl podnet ip`.
type IPOptions struct {
	*GlobalOptions
	ProbeFlags
	Output   string
	Raw      bool
	Parallel int
	// Selector (-l) adds the running pods it selects in the namespace; AllPods takes every
	// running pod of a workload, not one; MaxTargets bounds how many pods get a probe.
	Selector   string
	AllPods    bool
	MaxTargets int
	NoHeaders  bool

	targets []target
	// refs are the arguments; workloads and addresses become targets when Run reads them
	refs    []objectRef
	clients *Clients
	printer render.Printer
}

type target struct {
	node    string
	ns, pod string
}

func (t target) String() string {
	if t.node != "" {
		return "node/" + t.node
	}
	return "pod/" + t.ns + "/" + t.pod
}

// NewCmdIP builds `kubectl podnet ip POD|node/NAME...`.
func NewCmdIP(g *GlobalOptions) *cobra.Command {
	o := &IPOptions{GlobalOptions: g, Parallel: 5, MaxTargets: 10}
	cmd := &cobra.Command{
		Use:   "ip (POD | TYPE/NAME | ADDRESS)... [-l SELECTOR]",
		Short: "Show a pod's or node's interfaces, routes and neighbours",
		Long: `Read what the network namespace of a pod or a node really holds, with a probe that runs ip there:
- a pod: an ephemeral container (it shares the pod's network namespace). An ephemeral container
  stays in the pod's spec until the pod is deleted: no API removes it. The command says how many
  the pod carries and refuses past --limit. The default probe is admitted in a namespace that
  enforces the restricted Pod Security Standard.
- a node: a short-lived host-network pod on it, deleted on success, error, timeout and Ctrl-C.
--dry-run=client prints the ephemeral containers and node pods it would create and sends nothing
that writes; --dry-run=server has the API server admit them (Pod Security, webhooks) and store
nothing. A probe waits at most --timeout, and gives up at once when the node is not Ready or
when its kubelet shows no sign of starting the container within 20 seconds.
Pods are compared with the API (their IPs on an interface, the default route, the node's pod CIDR);
a node's devices are matched to the pods they serve. Needs 'patch' on 'pods/ephemeralcontainers',
'create' and 'delete' on pods (node probes) and 'get' on 'pods/log'.`,
		Example: `  kubectl podnet ip web-0
  kubectl podnet ip shop/web-0 node/aks-nodepool1-38195521-vmss000001 --probe-namespace podnet-system
  kubectl podnet ip deploy/web --all-pods -n shop
  kubectl podnet ip -l app=web -n shop --image registry.example.com/mirror/busybox:1.36.1 --raw`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && o.Selector == "" {
				return fmt.Errorf("name what to probe: a pod (NAME, NAMESPACE/NAME, pod/NAME), node/NAME, a workload (deploy/NAME, sts/, ds/, job/, rs/), an IP address, or pods by label with -l")
			}
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	o.ProbeFlags.add(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", outputHelp())
	cmd.Flags().BoolVar(&o.Raw, "raw", false, "print the ip commands' output as it came")
	cmd.Flags().IntVar(&o.Parallel, "parallel", o.Parallel, "how many targets to probe at once")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "probe the running pods of the namespace that this label selector selects")
	cmd.Flags().BoolVar(&o.AllPods, "all-pods", false, "for a workload (deploy/, sts/, ...): probe each of its running pods, not one")
	cmd.Flags().IntVar(&o.MaxTargets, "max-targets", o.MaxTargets, "refuse to add probes to more pods than this at once (each probe stays in its pod)")
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "print the tables without their header lines")
	return cmd
}

// Complete builds the clients and reads the targets.
func (o *IPOptions) Complete(args []string) error {
	c, err := o.NewClients(o.ConfigFlags)
	if err != nil {
		return err
	}
	o.clients = c
	if o.ProbeNamespace == "" {
		o.ProbeNamespace = c.Namespace
	}
	for _, a := range args {
		r, err := parseRef(a, c.Namespace)
		if err != nil {
			return err
		}
		if r.Kind == refService {
			return fmt.Errorf("%s: a Service has no network namespace to probe; probe one of its pods (kubectl podnet who shows them)", a)
		}
		o.refs = append(o.refs, r)
	}
	return nil
}

// Validate checks the flags.
func (o *IPOptions) Validate() error {
	var err error
	if o.printer, err = parseOutput(o.Output, o.NoHeaders); err != nil {
		return err
	}
	if o.Selector != "" {
		if _, err := labels.Parse(o.Selector); err != nil {
			return fmt.Errorf("-l %q is not a label selector (%v): give one like app=web or 'tier in (web,api)'", o.Selector, err)
		}
	}
	if o.MaxTargets < 1 {
		return fmt.Errorf("--max-targets must be at least 1 (got %d)", o.MaxTargets)
	}
	if o.AllPods && !slices.ContainsFunc(o.refs, func(r objectRef) bool { return r.Kind == refWorkload }) {
		return fmt.Errorf("--all-pods takes every pod of a workload: name one (deploy/NAME, sts/NAME, ds/NAME, job/NAME, rs/NAME)")
	}
	if o.Raw && o.Output != "" {
		return fmt.Errorf("--raw and -o do not go together: --raw prints the commands' own output")
	}
	if o.Raw && o.dryRun() {
		return fmt.Errorf("--raw and --dry-run do not go together: a dry run prints the probe objects, no output")
	}
	if o.Parallel < 1 {
		return fmt.Errorf("--parallel must be at least 1 (got %d)", o.Parallel)
	}
	return o.ProbeFlags.validate()
}

// Run probes the targets, at most --parallel at once, and prints what they hold.
func (o *IPOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	if err := o.resolveTargets(ctx); err != nil {
		return err
	}
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	if err := warnLeftovers(ctx, o.clients, o.ProbeNamespace, o.Streams.ErrOut, errPal); err != nil {
		return err
	}
	runner, st := o.runner(o.clients, o.Streams.ErrOut)
	results := make([]*probe.Result, len(o.targets))
	errs := make([]error, len(o.targets))
	eg := &errgroup.Group{}
	eg.SetLimit(o.Parallel)
	for i, t := range o.targets {
		eg.Go(func() error {
			pctx, cancel := context.WithTimeout(ctx, o.Timeout)
			defer cancel()
			if t.node != "" {
				results[i], errs[i] = runner.ProbeNode(pctx, t.node, o.ProbeNamespace, o.options())
			} else {
				results[i], errs[i] = runner.ProbePod(pctx, t.ns, t.pod, o.options(), o.Limit, o.Force)
			}
			return nil
		})
	}
	_ = eg.Wait()
	st.done()
	for i, err := range errs {
		if err != nil && len(o.targets) > 1 {
			errs[i] = fmt.Errorf("%s: %w", o.targets[i], err)
		}
	}
	if o.dryRun() {
		return printPlanned(o.Streams.Out, o.printer, runner.Planned(), errs...)
	}
	views := o.views(ctx, results)
	for _, v := range views {
		notes := append(append([]string(nil), v.Result.Notes...), v.Result.Snapshot.Errors...)
		if len(views) > 1 {
			for i, n := range notes {
				notes[i] = v.Result.Target + ": " + n
			}
		}
		render.Notes(o.Streams.ErrOut, notes, errPal)
	}
	if err := o.print(views); err != nil {
		return err
	}
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}

func (o *IPOptions) print(views []*probe.View) error {
	switch {
	case o.printer != nil:
		return o.printer.Print(o.Streams.Out, render.Printable{Report: views, Items: views, NameField: "result.target"})
	case o.Raw:
		for _, v := range views {
			if err := render.IPRaw(o.Streams.Out, v.Result); err != nil {
				return err
			}
		}
		return nil
	}
	to := render.TableOptions{NoHeaders: o.NoHeaders, Palette: render.NewPalette(o.Streams.Out, o.Color)}
	for i, v := range views {
		if i > 0 {
			fmt.Fprintln(o.Streams.Out)
		}
		if err := render.IP(o.Streams.Out, v, to); err != nil {
			return err
		}
	}
	return nil
}

// views adds the API comparisons: pods against their IPs and node CIDR, node devices against pods.
func (o *IPOptions) views(ctx context.Context, results []*probe.Result) []*probe.View {
	var views []*probe.View
	var pods []*probe.Result
	for _, r := range results {
		if r != nil && r.Pod != nil {
			pods = append(pods, r)
		}
	}
	nodes := map[string]*corev1.Node{}
	nodeOf := func(name string) *corev1.Node {
		if n, ok := nodes[name]; ok {
			return n
		}
		n, err := o.clients.Kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			n = nil
		}
		nodes[name] = n
		return n
	}
	for _, r := range results {
		if r == nil {
			continue
		}
		v := &probe.View{Result: r}
		if r.Pod != nil && !r.Pod.Spec.HostNetwork {
			f := probe.PodFacts{Node: r.Node}
			for _, ip := range r.Pod.Status.PodIPs {
				f.IPs = append(f.IPs, ip.IP)
			}
			if n := nodeOf(r.Node); n != nil {
				f.NodeCIDRs = n.Spec.PodCIDRs
				red := cluster.ReduceNode(n)
				nn := netmodel.ResolveNode(&red, &cluster.Evidence{}, nil)
				f.CIDRModel = nn.PodsInNodeCIDR(&cluster.Evidence{})
			}
			v.Checks = probe.CheckPod(r.Snapshot, f)
		}
		if r.Pod == nil {
			podIPs := map[string]string{}
			if list, err := o.clients.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + r.Node}); err == nil {
				for _, p := range list.Items {
					if p.Spec.HostNetwork {
						continue
					}
					for _, ip := range p.Status.PodIPs {
						podIPs[ip.IP] = p.Namespace + "/" + p.Name
					}
				}
			}
			v.Serves = probe.ServesOnNode(r.Snapshot, pods, podIPs)
		}
		views = append(views, v)
	}
	return views
}

// warnLeftovers says on stderr when node probe pods were left behind. Not being allowed to list
// them is no error; a server that does not answer is (the probes would wait on it too, and the
// command's time would be --request-timeout twice).
func warnLeftovers(ctx context.Context, c *Clients, ns string, w io.Writer, p render.Palette) error {
	left, err := probe.Leftovers(ctx, c.Kube, ns)
	if err != nil {
		if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
			return nil
		}
		var se *serverError
		if e := apiError(err, apiServer{URL: c.Server}); errors.As(e, &se) {
			return err
		}
		return nil
	}
	if len(left) == 0 {
		return nil
	}
	names := make([]string, 0, len(left))
	for _, l := range left {
		names = append(names, l.Namespace+"/"+l.Name)
	}
	render.Warnings(w, []report.Warning{{Message: fmt.Sprintf("%d node probe pod(s) left behind (%s): remove them with 'kubectl podnet cleanup -A'", len(left), strings.Join(names, ", "))}}, p)
	return nil
}

// statusLine shows on a terminal what the probes wait for, one line rewritten in place.
type statusLine struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	width int
	// off a terminal: per target, the state it waits in and whether its one line was written
	states  map[string]string
	written map[string]bool
	timers  []*time.Timer
	after   time.Duration
}

// newStatusLine shows what the probes wait for on w: on a terminal one line rewritten in place;
// elsewhere (a log, CI) one line per target that still waits after two seconds, so a slow probe
// says what it waits for without flooding the log.
func newStatusLine(w io.Writer) *statusLine {
	return &statusLine{w: w, on: render.IsTerminal(w), states: map[string]string{}, written: map[string]bool{}, after: 2 * time.Second}
}

// set records target's state; "" means it has finished.
func (s *statusLine) set(target, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.on {
		_, known := s.states[target]
		s.states[target] = state
		if !known && state != "" {
			s.timers = append(s.timers, time.AfterFunc(s.after, func() { s.waiting(target) }))
		}
		return
	}
	if state == "" {
		return
	}
	line := target + ": " + state
	fmt.Fprintf(s.w, "\r%s%*s", line, max(s.width-len(line), 0), "")
	s.width = len(line)
}

// waiting writes the one line of a target that has not finished.
func (s *statusLine) waiting(target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[target]; st != "" && !s.written[target] {
		s.written[target] = true
		fmt.Fprintf(s.w, "%s: %s (still waiting after %s)\n", target, st, s.after)
	}
}

func (s *statusLine) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	if s.on && s.width > 0 {
		fmt.Fprintf(s.w, "\r%*s\r", s.width, "")
		s.width = 0
	}
}

// resolveTargets turns the arguments into pods and nodes to probe: a workload's pod, the pod or
// node holding an address; the same target named twice is probed once.
func (o *IPOptions) resolveTargets(ctx context.Context) error {
	seen := map[target]bool{}
	add := func(t target) {
		if !seen[t] {
			seen[t] = true
			o.targets = append(o.targets, t)
		}
	}
	for _, r := range o.refs {
		switch r.Kind {
		case refNode:
			add(target{node: r.Name})
		case refPod:
			add(target{ns: r.Namespace, pod: r.Name})
		case refWorkload:
			pods, err := workloadPods(ctx, o.clients.Kube, r)
			if err != nil {
				return o.apiErrorFor(o.clients, err)
			}
			if !o.AllPods {
				pods = pods[:1]
			}
			for _, p := range pods {
				add(target{ns: p.Namespace, pod: p.Name})
			}
		case refAddress:
			t, err := o.holderOf(ctx, r.Addr)
			if err != nil {
				return err
			}
			add(t)
		}
	}
	if o.Selector != "" {
		pods, selected, err := runningPods(ctx, o.clients.Kube, o.clients.Namespace, o.Selector)
		if err != nil {
			return o.apiErrorFor(o.clients, err)
		}
		if len(pods) == 0 {
			return fmt.Errorf("-l %s selects no running pod with an address in namespace %s (%d pod(s) selected): check the labels with 'kubectl get pods -n %s -l %s --show-labels'", o.Selector, o.clients.Namespace, selected, o.clients.Namespace, shellQuoteArg(o.Selector))
		}
		for _, p := range pods {
			add(target{ns: p.Namespace, pod: p.Name})
		}
	}
	pods := 0
	for _, t := range o.targets {
		if t.node == "" {
			pods++
		}
	}
	if pods > o.MaxTargets {
		return fmt.Errorf("this would add a probe to %d pods, more than --max-targets %d; an ephemeral container stays in its pod until the pod is deleted: narrow the selector or the targets, or raise --max-targets", pods, o.MaxTargets)
	}
	return nil
}

// holderOf is the running pod (on the pod network) or the node that holds the address.
func (o *IPOptions) holderOf(ctx context.Context, a netip.Addr) (target, error) {
	pods, err := o.clients.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.podIP=" + a.String()})
	switch {
	case apierrors.IsForbidden(err):
		return target{}, fmt.Errorf("cannot find who holds %s: you need 'list' on pods in all namespaces (or name the pod)", a)
	case err != nil:
		return target{}, o.apiErrorFor(o.clients, err)
	}
	for i := range pods.Items {
		if p := &pods.Items[i]; !p.Spec.HostNetwork && p.Status.Phase == corev1.PodRunning && holds(p, a) {
			return target{ns: p.Namespace, pod: p.Name}, nil
		}
	}
	nodes, err := o.clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return target{}, fmt.Errorf("no running pod holds %s, and the nodes cannot be read to find one that does (%s)", a, cluster.Reason(err))
	}
	for i := range nodes.Items {
		if slices.Contains(cluster.ReduceNode(&nodes.Items[i]).InternalIPs, a) {
			return target{node: nodes.Items[i].Name}, nil
		}
	}
	return target{}, fmt.Errorf("no running pod and no node holds %s: 'kubectl podnet who %s' says what range it is in", a, a)
}

// shellQuoteArg quotes s for a shell command the user may paste, when it needs quoting.
func shellQuoteArg(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=._-/,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
