package cmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/policy"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// NewCmdPolicy builds `kubectl podnet policy`.
func NewCmdPolicy(g *GlobalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Evaluate the cluster's network policies of every kind",
		Long: `Commands that apply the cluster's network policies (NetworkPolicy, AdminNetworkPolicy,
BaselineAdminNetworkPolicy, ClusterNetworkPolicy, Calico, Cilium and Antrea policies) the way the
datapath does. One pair at a time: 'kubectl podnet trace SRC DST --port N'.`,
		Example: `  kubectl podnet policy matrix -n shop
  kubectl podnet policy matrix -n shop --with new-policy.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("policy needs a subcommand: 'kubectl podnet policy matrix' (one pair: 'kubectl podnet trace SRC DST --port N')")
		},
	}
	cmd.AddCommand(NewCmdPolicyMatrix(g))
	return cmd
}

// PolicyMatrixOptions are the options of `kubectl podnet policy matrix`.
type PolicyMatrixOptions struct {
	*GlobalOptions
	Output        string
	NoHeaders     bool
	AllNamespaces bool
	Namespaces    []string
	Selector      string
	From, To      string
	Ports         []string
	With          []string
	Without       []string

	clients  *Clients
	printer  render.Printer
	ports    []policy.Port
	scope    []string
	sel      labels.Selector
	from, to labels.Selector
	with     []policy.Object
	without  []policy.Ref
	// stdin is where --with - reads; tests swap it.
	stdin io.Reader
}

// NewCmdPolicyMatrix builds `kubectl podnet policy matrix`.
func NewCmdPolicyMatrix(g *GlobalOptions) *cobra.Command {
	o := &PolicyMatrixOptions{GlobalOptions: g, stdin: os.Stdin}
	cmd := &cobra.Command{
		Use:   "matrix",
		Short: "Which pods may reach which: the policy verdicts of every pair, or what a change does",
		Long: `Apply every network policy the cluster has (NetworkPolicy, the Admin and Baseline tiers of
AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy, Calico (Global)NetworkPolicy
with its tiers, Cilium(Clusterwide)NetworkPolicy, Antrea ClusterNetworkPolicy and NetworkPolicy) to
every pair of pods in the namespaces, on each port. Pods no policy can tell apart (same namespace,
same selection by every policy and rule, same named ports) form one group, so a namespace of 1,000
replicas stays readable.

A cell is allowed, denied, unknown (a rule outside what is evaluated exactly, such as L7, FQDN or a
Group, or a read that failed: -o json says which policy and why) or "no policy".

What-if: --with FILE adds or replaces policies (any kind above; - reads stdin) and --without
KIND/NAMESPACE/NAME (KIND/NAME for cluster-scoped kinds) removes one; the output is then only the
cells that change and, from the Services and their EndpointSlices, the client -> Service
connections the change breaks (no backend takes them any more), degrades (fewer do) or restores.
Nothing is applied to the cluster. Exit 2 when a change breaks or degrades a connection.

Ports: --port, else every port the destination pods declare.`,
		Example: `  kubectl podnet policy matrix -n shop
  kubectl podnet policy matrix --namespaces shop,payments --port 80,5432/tcp
  kubectl podnet policy matrix -n shop --from app=web --to tier=db -o csv
  kubectl podnet policy matrix -n shop --with deny-all.yaml
  kubectl podnet policy matrix -n shop --without networkpolicy/shop/allow-web
  kubectl apply --dry-run=client -o yaml -f policies/ | kubectl podnet policy matrix -n shop --with -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", outputHelp("csv"))
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "omit the table headers")
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "the pods of every namespace")
	cmd.Flags().StringSliceVar(&o.Namespaces, "namespaces", nil, "the pods of these namespaces (default: -n, or the context's)")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "only pods with these labels, on both sides")
	cmd.Flags().StringVar(&o.From, "from", "", "sources: only pods with these labels")
	cmd.Flags().StringVar(&o.To, "to", "", "destinations: only pods with these labels")
	cmd.Flags().StringSliceVar(&o.Ports, "port", nil, "ports to check, N or N/tcp|udp|sctp (default: the ports the destinations declare)")
	cmd.Flags().StringArrayVar(&o.With, "with", nil, "what-if: add or replace the policies in this file (YAML or JSON, several documents; - for stdin)")
	cmd.Flags().StringArrayVar(&o.Without, "without", nil, "what-if: remove this policy, KIND/NAMESPACE/NAME or KIND/NAME")
	return cmd
}

// Complete builds the clients, reads the --with files and resolves the namespaces.
func (o *PolicyMatrixOptions) Complete() error {
	c, err := o.NewClients(o.ConfigFlags)
	if err != nil {
		return err
	}
	o.clients = c
	switch {
	case o.AllNamespaces:
	case len(o.Namespaces) > 0:
		o.scope = o.Namespaces
	default:
		o.scope = []string{c.Namespace}
	}
	for _, f := range o.With {
		objs, err := o.readPolicyFile(f)
		if err != nil {
			return err
		}
		o.with = append(o.with, objs...)
	}
	for _, w := range o.Without {
		ref, err := parsePolicyRef(w, c.Namespace)
		if err != nil {
			return err
		}
		o.without = append(o.without, ref)
	}
	return nil
}

// Validate checks the flags.
func (o *PolicyMatrixOptions) Validate() error {
	var err error
	if o.Output == "name" {
		return fmt.Errorf("-o name: the cells of a matrix have no names; use -o json, yaml, csv, jsonpath= or custom-columns=")
	}
	if o.printer, err = parseOutput(o.Output, o.NoHeaders, "csv"); err != nil {
		return err
	}
	if o.AllNamespaces && len(o.Namespaces) > 0 {
		return fmt.Errorf("-A and --namespaces both choose the namespaces: give one")
	}
	for _, s := range []struct {
		flag, val string
		into      *labels.Selector
	}{{"-l", o.Selector, &o.sel}, {"--from", o.From, &o.from}, {"--to", o.To, &o.to}} {
		sel, err := labels.Parse(s.val)
		if err != nil {
			return fmt.Errorf("%s %q is not a label selector (%v): write it as kubectl -l does, e.g. app=web,tier!=db", s.flag, s.val, err)
		}
		*s.into = sel
	}
	for _, p := range o.Ports {
		port, err := parsePort(p, "--port")
		if err != nil {
			return err
		}
		o.ports = append(o.ports, port)
	}
	return nil
}

// parsePort reads N or N/tcp|udp|sctp.
func parsePort(s, flag string) (policy.Port, error) {
	num, proto, _ := strings.Cut(s, "/")
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 {
		return policy.Port{}, fmt.Errorf("%s %q: give a port number from 1 to 65535, optionally /tcp, /udp or /sctp", flag, s)
	}
	p := policy.Port{Number: int32(n), Protocol: corev1.ProtocolTCP}
	switch strings.ToLower(proto) {
	case "", "tcp":
	case "udp":
		p.Protocol = corev1.ProtocolUDP
	case "sctp":
		p.Protocol = corev1.ProtocolSCTP
	default:
		return policy.Port{}, fmt.Errorf("%s %q: the protocol must be tcp, udp or sctp", flag, s)
	}
	return p, nil
}

// parsePolicyRef reads KIND/NAMESPACE/NAME, or KIND/NAME (a cluster-scoped kind, or a namespaced
// one in the current namespace).
func parsePolicyRef(s, ns string) (policy.Ref, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || slices.Contains(parts, "") {
		return policy.Ref{}, fmt.Errorf("--without %q: write KIND/NAMESPACE/NAME, or KIND/NAME for a cluster-scoped kind (e.g. networkpolicy/shop/allow-web)", s)
	}
	k, ok := policy.KindFor(parts[0])
	if !ok {
		return policy.Ref{}, fmt.Errorf("--without %q: %q is no policy kind podnet evaluates (%s)", s, parts[0], kindNames())
	}
	ref := policy.Ref{Kind: k.Name(), Name: parts[len(parts)-1]}
	switch {
	case k.Namespaced() && len(parts) == 3:
		ref.Namespace = parts[1]
	case k.Namespaced():
		ref.Namespace = ns
	case len(parts) == 3:
		return policy.Ref{}, fmt.Errorf("--without %q: %s is cluster-scoped: write %s/NAME", s, k.Name(), strings.ToLower(k.Name()))
	}
	return ref, nil
}

func kindNames() string {
	var names []string
	for _, k := range policy.Kinds() {
		names = append(names, k.Name())
	}
	return strings.Join(names, ", ")
}

// readPolicyFile reads the policy objects of a YAML or JSON file (several documents, or a List).
func (o *PolicyMatrixOptions) readPolicyFile(name string) ([]policy.Object, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(o.stdin)
		name = "standard input"
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("--with %s: %w", name, err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReader(bytes.NewReader(data)), 4096)
	var out []policy.Object
	for doc := 1; ; doc++ {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("--with %s: document %d is not YAML or JSON (%v)", name, doc, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		items := []unstructured.Unstructured{*u}
		if u.IsList() {
			l, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("--with %s: document %d: %v", name, doc, err)
			}
			items = l.Items
		}
		for i := range items {
			it := &items[i]
			k, ok := policy.KindOf(it.GetAPIVersion(), it.GetKind())
			if !ok {
				return nil, fmt.Errorf("--with %s: document %d is a %s of %s, not a policy kind podnet evaluates (%s)", name, doc, orDash(it.GetKind()), orDash(it.GetAPIVersion()), kindNames())
			}
			if it.GetName() == "" {
				return nil, fmt.Errorf("--with %s: document %d (%s) has no metadata.name", name, doc, k.Name())
			}
			if k.Namespaced() && it.GetNamespace() == "" {
				it.SetNamespace(o.clients.Namespace)
			}
			if !k.Namespaced() {
				it.SetNamespace("")
			}
			out = append(out, policy.Object{Kind: k, Obj: it})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--with %s holds no policy", name)
	}
	return out, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Run reads the pods, namespaces and policies, builds the matrix and prints it.
func (o *PolicyMatrixOptions) Run(ctx context.Context) error {
	nsLabels, notes, err := o.readNamespaces(ctx)
	if err != nil {
		return err
	}
	pods, hostNet, err := o.readPods(ctx)
	if err != nil {
		return err
	}
	ev := cluster.GatherBase(ctx, o.clients.Clients)
	snap := policy.Read(ctx, policy.Source{Kube: o.clients.Kube, Dynamic: o.clients.Dynamic, Served: ev.Served}, o.scope)
	enforced := o.enforcement(ctx, ev, pods)
	in := report.MatrixInput{Pods: pods, NSLabels: nsLabels, Ports: o.ports}
	var after *policy.Set
	var wi *report.WhatIf
	if len(o.with) > 0 || len(o.without) > 0 {
		next, added, removed, err := o.change(snap)
		if err != nil {
			return err
		}
		after = next.Set()
		wi = &report.WhatIf{Added: added, Removed: removed}
		if in.Services, err = o.readServices(ctx, pods); err != nil {
			return err
		}
	}
	m, err := report.BuildMatrix(in, snap.Set(), after)
	if err != nil {
		return err
	}
	// a namespace whose labels could not be read leaves verdicts unknown: the answer is incomplete
	m.Policies, m.Unread, m.Enforced = snap.Counts(), append(snap.Unread, notes...), &enforced
	notes = nil
	switch {
	case len(snap.Objects) == 0:
	case enforced.State == netmodel.NotEnforced:
		notes = append(notes, enforced.Reason+": the verdicts are what the policies say, nothing enforces them")
	case enforced.State == netmodel.EnforcedMaybe:
		notes = append(notes, "whether the network plugin enforces policies is unknown ("+orNone(enforced.Reason)+"): the verdicts are what the policies say")
	}
	notes = append(notes, foreignPolicyNotes(snap, enforced)...)
	if wi != nil {
		m.WhatIf.Added, m.WhatIf.Removed = wi.Added, wi.Removed
	}
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	fmt.Fprintln(o.Streams.ErrOut, matrixSummary(m, len(pods), hostNet, o.scope))
	render.Notes(o.Streams.ErrOut, append(notes, m.Unread...), errPal)
	if err := o.print(m); err != nil {
		return err
	}
	if m.WhatIf != nil {
		var broken []string
		for _, c := range m.WhatIf.Connections {
			if c.State.Breaks() {
				broken = append(broken, fmt.Sprintf("%s -> %s %s (%s)", m.Groups[c.Client].Title(), c.Service, c.Port, c.State))
			}
		}
		if len(broken) > 0 {
			return finding(fmt.Errorf("the change breaks %d client -> Service connection(s): %s", len(broken), strings.Join(broken, "; ")))
		}
	}
	if len(m.Unread) > 0 {
		return &ExitError{Code: exitIncomplete, Err: fmt.Errorf("the verdicts are incomplete: %d read(s) failed (see the notes above), the verdicts they touch are unknown; grant the reads or run with a user who has them", len(m.Unread))}
	}
	return nil
}

func (o *PolicyMatrixOptions) print(m *report.PolicyMatrix) error {
	switch {
	case o.Output == "csv":
		return render.PolicyMatrixCSV(o.Streams.Out, m)
	case o.Output == "json":
		return render.PolicyMatrixJSON(o.Streams.Out, m)
	case o.printer != nil:
		if m.WhatIf != nil {
			return o.printer.Print(o.Streams.Out, render.Printable{Report: m, Kind: "change", Items: m.WhatIf.Changes})
		}
		return o.printer.Print(o.Streams.Out, render.Printable{Report: m, Kind: "cell", Items: m.Cells()})
	}
	opts := render.TableOptions{NoHeaders: o.NoHeaders, Palette: render.NewPalette(o.Streams.Out, o.Color)}
	if m.WhatIf != nil {
		return render.PolicyWhatIf(o.Streams.Out, m, opts)
	}
	return render.PolicyMatrix(o.Streams.Out, m, opts)
}

// matrixSummary is the line on stderr that says what the matrix covers.
func matrixSummary(m *report.PolicyMatrix, pods, hostNet int, scope []string) string {
	where := "every namespace"
	if scope != nil {
		where = "namespace " + strings.Join(scope, ", ")
		if len(scope) > 1 {
			where = "namespaces " + strings.Join(scope, ", ")
		}
	}
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(m.Policies)) {
		kinds = append(kinds, fmt.Sprintf("%d %s", m.Policies[k], k))
	}
	s := fmt.Sprintf("%d pod(s) in %d group(s) in %s; ports %s; policies: %s", pods, len(m.Groups), where, strings.Join(m.Ports, ", "), orNone(strings.Join(kinds, ", ")))
	if hostNet > 0 {
		s += fmt.Sprintf("; %d host-network pod(s) left out (no policy selects them)", hostNet)
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// change applies --with and --without to the policies read.
func (o *PolicyMatrixOptions) change(snap *policy.Snapshot) (*policy.Snapshot, []string, []string, error) {
	next := *snap
	next.Objects = nil
	var removed []string
	gone := map[policy.Ref]bool{}
	for _, r := range o.without {
		if r.Namespace != "" && o.scope != nil && !slices.Contains(o.scope, r.Namespace) {
			return nil, nil, nil, fmt.Errorf("--without %s: namespace %s is outside the namespaces of the matrix (%s): add it with --namespaces or -A", r, r.Namespace, strings.Join(o.scope, ", "))
		}
		found := false
		for _, obj := range snap.Objects {
			if obj.Ref() == r {
				found = true
			}
		}
		if !found {
			where := ""
			if r.Namespace != "" {
				where = " in namespace " + r.Namespace
			}
			res := snap.Served[r.Kind]
			list := res.Resource
			if res.Group != "" {
				list += "." + res.Group
			}
			if list == "" {
				return nil, nil, nil, fmt.Errorf("--without %s: the cluster serves no %s", r, r.Kind)
			}
			if r.Namespace != "" {
				list += " -n " + r.Namespace
			}
			return nil, nil, nil, fmt.Errorf("--without %s: there is no %s %s%s among the policies read (kubectl get %s lists them)", r, r.Kind, r.Name, where, list)
		}
		gone[r] = true
		removed = append(removed, r.String())
	}
	replaced := map[policy.Ref]bool{}
	for _, w := range o.with {
		replaced[w.Ref()] = true
	}
	for _, obj := range snap.Objects {
		if !gone[obj.Ref()] && !replaced[obj.Ref()] {
			next.Objects = append(next.Objects, obj)
		}
	}
	var added []string
	for _, w := range o.with {
		if scoped := w.Kind.Namespaced() && o.scope != nil && !slices.Contains(o.scope, w.Obj.GetNamespace()); scoped {
			return nil, nil, nil, fmt.Errorf("--with: %s is in namespace %s, outside the namespaces of the matrix (%s): add it with --namespaces or -A", w.Ref(), w.Obj.GetNamespace(), strings.Join(o.scope, ", "))
		}
		next.Objects = append(next.Objects, w)
		added = append(added, w.Ref().String())
	}
	return &next, added, removed, nil
}

// readNamespaces reads the namespaces' labels; a namespace that cannot be read leaves its labels
// unknown (a note), one that does not exist is an error.
func (o *PolicyMatrixOptions) readNamespaces(ctx context.Context) (map[string]map[string]string, []string, error) {
	out := map[string]map[string]string{}
	var notes []string
	if o.scope == nil {
		list, err := o.clients.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			if apierrors.IsForbidden(err) {
				return out, []string{"cannot list namespaces (forbidden): selectors on namespace labels are undecided; you need 'list namespaces'"}, nil
			}
			return nil, nil, o.apiErrorFor(o.clients, err)
		}
		for _, ns := range list.Items {
			out[ns.Name] = ns.Labels
		}
		return out, nil, nil
	}
	for _, name := range o.scope {
		ns, err := o.clients.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil, nil, fmt.Errorf("namespace %s not found: check -n or --namespaces", name)
		case apierrors.IsForbidden(err):
			notes = append(notes, fmt.Sprintf("cannot read namespace %s (forbidden): selectors on its labels are undecided; you need 'get namespaces'", name))
		case err != nil:
			return nil, nil, o.apiErrorFor(o.clients, err)
		default:
			out[name] = ns.Labels
		}
	}
	return out, notes, nil
}

// readPods reads the pods on the pod network that are not finished, with their sides.
func (o *PolicyMatrixOptions) readPods(ctx context.Context) ([]report.MatrixPod, int, error) {
	scopes := o.scope
	if scopes == nil {
		scopes = []string{""}
	}
	var out []report.MatrixPod
	hostNet := 0
	for _, ns := range scopes {
		opts := metav1.ListOptions{LabelSelector: o.sel.String(), Limit: 500}
		for {
			list, err := o.clients.Kube.CoreV1().Pods(ns).List(ctx, opts)
			if apierrors.IsForbidden(err) {
				where := "in namespace " + ns
				if ns == "" {
					where = "in every namespace"
				}
				return nil, 0, fmt.Errorf("cannot list pods %s: forbidden: you need 'list pods' there", where)
			}
			if err != nil {
				return nil, 0, o.apiErrorFor(o.clients, err)
			}
			for i := range list.Items {
				p := &list.Items[i]
				if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
					continue
				}
				if p.Spec.HostNetwork {
					hostNet++
					continue
				}
				mp := matrixPod(p)
				mp.Node = p.Spec.NodeName
				l := labels.Set(p.Labels)
				mp.Source, mp.Destination = o.from.Matches(l), o.to.Matches(l)
				if mp.Source || mp.Destination {
					out = append(out, mp)
				}
			}
			if list.Continue == "" {
				break
			}
			opts.Continue = list.Continue
		}
	}
	if len(out) == 0 {
		return nil, 0, fmt.Errorf("no running pod on the pod network matches in %s: check -n/--namespaces/-A and the selectors", scopeText(o.scope))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, hostNet, nil
}

func scopeText(scope []string) string {
	if scope == nil {
		return "any namespace"
	}
	return "namespace(s) " + strings.Join(scope, ", ")
}

// matrixPod is a pod as the matrix sees it.
func matrixPod(p *corev1.Pod) report.MatrixPod {
	mp := report.MatrixPod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, ServiceAccount: p.Spec.ServiceAccountName, Named: namedPorts(p)}
	if mp.ServiceAccount == "" {
		mp.ServiceAccount = "default"
	}
	if ip, err := netip.ParseAddr(p.Status.PodIP); err == nil {
		mp.IP = ip
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			proto := cp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			mp.Declared = append(mp.Declared, policy.Port{Number: cp.ContainerPort, Protocol: proto})
		}
	}
	mp.Workload = workloadOf(p)
	return mp
}

// workloadOf names the pod's owner as users know it: a ReplicaSet's Deployment (the name less the
// pod-template-hash), else the controller's name.
func workloadOf(p *corev1.Pod) string {
	for _, ref := range p.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		if h := p.Labels["pod-template-hash"]; ref.Kind == "ReplicaSet" && h != "" && strings.HasSuffix(ref.Name, "-"+h) {
			return strings.TrimSuffix(ref.Name, "-"+h)
		}
		return ref.Name
	}
	return ""
}

// enforcementNodes caps the nodes whose network model decides whether the policies are enforced:
// a matrix reads a few nodes, not the cluster's thousands.
const enforcementNodes = 20

// enforcement is whether the network plugin of the pods' nodes enforces policies: the nodes' own
// descriptors say, the same as for trace; nodes that disagree make it unknown, naming them.
func (o *PolicyMatrixOptions) enforcement(ctx context.Context, ev *cluster.Evidence, pods []report.MatrixPod) netmodel.Enforcement {
	var names []string
	for _, p := range pods {
		if p.Node != "" && !slices.Contains(names, p.Node) {
			names = append(names, p.Node)
		}
	}
	sort.Strings(names)
	if len(names) > enforcementNodes {
		names = names[:enforcementNodes]
	}
	raw := map[string]*cluster.Node{}
	var list []*cluster.Node
	for _, name := range names {
		n, err := o.clients.Kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return netmodel.Enforcement{State: netmodel.EnforcedMaybe, Reason: fmt.Sprintf("cannot read node %s (%s)", name, cluster.Reason(err))}
		}
		red := cluster.ReduceNode(n)
		raw[name] = &red
		list = append(list, &red)
	}
	if len(list) == 0 {
		return netmodel.Enforcement{State: netmodel.EnforcedMaybe, Reason: "no pod is scheduled"}
	}
	cluster.GatherNeeds(ctx, o.clients.Clients, ev, netmodel.Needs(ev, list...), names)
	var first netmodel.Enforcement
	var differ []string
	for i, name := range names {
		nn := netmodel.ResolveNode(raw[name], ev, nil)
		e := nn.Model().Policy(ev)
		if i == 0 {
			first = e
		} else if e != first {
			differ = append(differ, fmt.Sprintf("node %s: %s", name, e))
		}
	}
	if len(differ) > 0 {
		return netmodel.Enforcement{State: netmodel.EnforcedMaybe, Reason: fmt.Sprintf("the nodes differ: node %s: %s; %s", names[0], first, strings.Join(differ, "; "))}
	}
	return first
}
