package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/policy"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

// TraceOptions are the options of `kubectl podnet trace`.
type TraceOptions struct {
	*GlobalOptions
	ProbeFlags
	Output   string
	Port     string
	Endpoint string
	Probe    bool
	Connect  bool
	// NoHeaders drops the tables' header lines.
	NoHeaders bool
	// AllPods traces from or to each running pod of a workload end, not one.
	AllPods bool

	port policy.Port

	src, dst string
	// planned are the probe objects of --dry-run
	planned []corev1.Pod
	clients *Clients
	printer render.Printer
}

// NewCmdTrace builds `kubectl podnet trace SRC DST`.
func NewCmdTrace(g *GlobalOptions) *cobra.Command {
	o := &TraceOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "trace SRC DST",
		Short: "Explain the path between two endpoints, hop by hop",
		Long: `Explain the path a packet takes from SRC to DST as the detected network model builds it: the
pod's eth0 and default gateway, the host veth (named the way the CNI names it), bridge or host
routes, the tunnel (device, outer addresses, UDP port, VNI), the cloud route table (kubenet on AKS)
or native routing, and the delivery on the destination node. SRC and DST are pods (NAME in -n,
NS/NAME, pod/NAME), node/NAME, or IP addresses of pods or nodes; DST may be svc/NAME (or
svc/NS/NAME): the Service's translation (kube-proxy's mode or Cilium), then the path to one of its
ready endpoints (--endpoint picks it). It reads only the two endpoints,
their nodes and the network plugin's evidence.

--probe checks the path live: ip route get in the source pod (an ephemeral container, which stays
in the pod's spec until the pod is deleted) and on the nodes of both ends (short-lived
host-network pods, deleted after),
the tunnel devices there, then expected against seen per hop, with the likely cause of each
mismatch. --connect makes a TCP connection from the source to DST:--port (with the probe image's
nc: busybox has it) and says whether it connected, was refused or timed out. Both exit 3 when the
live check disagrees with the model. They need 'patch' on 'pods/ephemeralcontainers', 'create' and
'delete' on pods (node probes) and 'get' on 'pods/log'. With --dry-run=client they print the
probe objects they would create instead, and send nothing that writes.`,
		Example: `  kubectl podnet trace web-0 shop/db-0
  kubectl podnet trace 10.244.1.5 node/aks-nodepool1-38195521-vmss000002 -o yaml
  kubectl podnet trace web-0 svc/db --port 5432 --probe --connect --probe-namespace podnet-system
  kubectl podnet trace deploy/frontend deploy/api --all-pods -n shop --no-headers`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.src, o.dst = args[0], args[1]
			if err := o.Validate(); err != nil {
				return err
			}
			c, err := o.NewClients(o.ConfigFlags)
			if err != nil {
				return err
			}
			o.clients = c
			return o.Run(cmd)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", outputHelp("dot", "mermaid"))
	cmd.Flags().StringVar(&o.Endpoint, "endpoint", "", "for a Service destination: the endpoint (pod name or address) to follow")
	cmd.Flags().StringVar(&o.Port, "port", "", "destination port, N[/tcp|udp|sctp], to get the NetworkPolicy verdict (for a Service: its port)")
	cmd.Flags().BoolVar(&o.Probe, "probe", false, "check the path live: ip route get in the source pod and on both nodes, and their tunnel devices")
	cmd.Flags().BoolVar(&o.AllPods, "all-pods", false, "for a workload end (deploy/, sts/, ...): trace each of its running pods (-o json: a list of paths)")
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "print the hop and live-check tables without their header lines")
	cmd.Flags().BoolVar(&o.Connect, "connect", false, "make a TCP connection from the source to the destination's --port")
	o.ProbeFlags.add(cmd)
	return cmd
}

// Validate checks the flags and the endpoints' form.
func (o *TraceOptions) Validate() error {
	var err error
	if o.printer, err = parseOutput(o.Output, o.NoHeaders, "dot", "mermaid"); err != nil {
		return err
	}
	if o.Port != "" {
		if o.port, err = parsePort(o.Port, "--port"); err != nil {
			return err
		}
	}
	if isService(o.src) {
		return fmt.Errorf("%s: a Service is only a destination; trace from a pod, a node or an address", o.src)
	}
	if o.AllPods {
		if !isKind(o.src, refWorkload) && !isKind(o.dst, refWorkload) {
			return fmt.Errorf("--all-pods traces each pod of a workload: make SRC or DST one (deploy/NAME, sts/NAME, ds/NAME, job/NAME, rs/NAME)")
		}
		if o.Output == "dot" || o.Output == "mermaid" {
			return fmt.Errorf("-o %s draws one path: name one pod, or drop --all-pods", o.Output)
		}
	}
	if o.Connect && (o.Port == "" || o.port.Protocol != corev1.ProtocolTCP) {
		return fmt.Errorf("--connect makes a TCP connection: give the port with --port N (TCP)")
	}
	if err := o.checkDryRun(); err != nil {
		return err
	}
	if o.dryRun() && !o.Probe && !o.Connect {
		return fmt.Errorf("--dry-run shows the probes of --probe and --connect: give one of them (trace alone creates nothing)")
	}
	if o.dryRun() && (o.Output == "dot" || o.Output == "mermaid") {
		return fmt.Errorf("--dry-run prints the probe objects: use -o yaml, -o json or another kubectl format, not -o %s", o.Output)
	}
	if o.Probe || o.Connect {
		return o.ProbeFlags.validate()
	}
	return nil
}

// maxProbedPaths bounds --all-pods with --probe or --connect: each source pod gets an ephemeral
// container for good.
const maxProbedPaths = 10

// Run resolves the endpoints, reads the evidence and prints the path (with --all-pods, one path
// per pair of pods).
func (o *TraceOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	type pair struct{ src, dst string }
	pairs := []pair{{o.src, o.dst}}
	if o.AllPods {
		srcs, err := o.eachPod(ctx, o.src)
		if err != nil {
			return err
		}
		dsts, err := o.eachPod(ctx, o.dst)
		if err != nil {
			return err
		}
		same := func(a, b string) bool {
			ra, ea := parseRef(a, o.clients.Namespace)
			rb, eb := parseRef(b, o.clients.Namespace)
			return ea == nil && eb == nil && ra == rb
		}
		pairs = nil
		for _, s := range srcs {
			for _, d := range dsts {
				if !same(s, d) { // a pod of the workload to itself is no path
					pairs = append(pairs, pair{s, d})
				}
			}
		}
		if (o.Probe || o.Connect) && len(pairs) > maxProbedPaths {
			return fmt.Errorf("--all-pods makes %d paths, and --probe/--connect checks at most %d at once (each source pod keeps its probe container): narrow the workload or trace without the live check", len(pairs), maxProbedPaths)
		}
	}
	list := &trace.List{Items: []*trace.Path{}}
	for _, pr := range pairs {
		p, err := o.trace(ctx, pr.src, pr.dst)
		if err != nil {
			if o.AllPods {
				err = fmt.Errorf("%s -> %s: %w", pr.src, pr.dst, err)
			}
			return err
		}
		list.Items = append(list.Items, p)
	}
	if o.dryRun() {
		return printPlanned(o.Streams.Out, o.printer, o.planned)
	}
	if o.AllPods && o.printer != nil {
		return errors.Join(o.printer.Print(o.Streams.Out, render.Printable{Report: list, Kind: "path", Items: list.Items, NameField: "dst.name"}), mismatch(list.Items...))
	}
	for i, p := range list.Items {
		if i > 0 {
			fmt.Fprintln(o.Streams.Out)
		}
		if err := o.print(p); err != nil {
			return err
		}
	}
	return mismatch(list.Items...)
}

// eachPod is the argument as it is, or, for a workload, each of its running pods as pod/NS/NAME.
func (o *TraceOptions) eachPod(ctx context.Context, arg string) ([]string, error) {
	r, err := parseRef(arg, o.clients.Namespace)
	if err != nil || r.Kind != refWorkload {
		return []string{arg}, nil
	}
	pods, err := workloadPods(ctx, o.clients.Kube, r)
	if err != nil {
		return nil, o.apiErrorFor(o.clients, err)
	}
	var args []string
	for _, p := range pods {
		args = append(args, "pod/"+p.Namespace+"/"+p.Name)
	}
	return args, nil
}

// mismatch is exit 3 when a live check of the paths disagrees with the model.
func mismatch(paths ...*trace.Path) error {
	for _, p := range paths {
		if v := p.Probe; v != nil && (v.Mismatches > 0 || v.Connect != nil && !v.Connect.Agrees) {
			return &ExitError{Code: exitMismatch, Err: fmt.Errorf("the live check disagrees with the model: see the probe section above")}
		}
	}
	return nil
}

// trace resolves two endpoints, reads the evidence and builds the path, checked live when asked.
func (o *TraceOptions) trace(ctx context.Context, srcArg, dstArg string) (*trace.Path, error) {
	src, srcPod, err := o.resolve(ctx, srcArg)
	if err != nil {
		return nil, err
	}
	var svc *trace.ServiceStep
	var dst trace.Endpoint
	var dstPod *corev1.Pod
	if isService(dstArg) {
		svc, dst, dstPod, err = o.resolveService(ctx, dstArg, src.IP.Is4())
	} else {
		dst, dstPod, err = o.resolve(ctx, dstArg)
	}
	if err != nil {
		return nil, err
	}
	if src.IP.Is4() != dst.IP.Is4() {
		// dual-stack: the end named by its address keeps it, the other takes one of its family
		if _, err := netip.ParseAddr(dstArg); err == nil || svc != nil {
			src, _ = src.InFamily(dst.IP.Is4())
		} else {
			dst, _ = dst.InFamily(src.IP.Is4())
		}
	}
	raw := map[string]*cluster.Node{}
	var names []string
	for _, name := range []string{src.Node, dst.Node} {
		if _, ok := raw[name]; ok {
			continue
		}
		n, err := o.clients.Kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsForbidden(err):
			return nil, fmt.Errorf("cannot read node %s: you need 'get nodes' to trace a path", name)
		case err != nil:
			return nil, o.apiErrorFor(o.clients, err)
		}
		red := cluster.ReduceNode(n)
		raw[name] = &red
		names = append(names, name)
	}
	nodes, ev := o.resolveNodes(ctx, raw, names, svc != nil)
	var p *trace.Path
	if svc != nil {
		kp := report.KubeProxyMode(ev)
		svc.Implementation, svc.SocketLB = kp.Implementation(), kp.EBPF()
		p, err = trace.BuildService(src, dst, svc, nodes, ev)
	} else {
		p, err = trace.Build(src, dst, nodes, ev)
	}
	if err != nil {
		return nil, err
	}
	if o.Port != "" {
		p.Port = o.Port
		v, notes := o.policyVerdict(ctx, ev, src, dst, srcPod, dstPod, nodes[src.Node].Model().Policy(ev))
		p.Policy = v
		p.Notes = append(p.Notes, notes...)
	} else {
		p.Notes = append(p.Notes, "give --port N to check NetworkPolicies along the path")
	}
	if o.Probe || o.Connect {
		if err := o.verify(ctx, p, nodes); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// print writes the path in the chosen format.
func (o *TraceOptions) print(p *trace.Path) error {
	if o.printer != nil {
		return o.printer.Print(o.Streams.Out, render.Printable{Report: p, Kind: "hop", Items: p.Hops, NameField: "where"})
	}
	switch o.Output {
	case "dot":
		return render.TraceDot(o.Streams.Out, p)
	case "mermaid":
		return render.TraceMermaid(o.Streams.Out, p)
	}
	if err := render.Trace(o.Streams.Out, p, render.TableOptions{NoHeaders: o.NoHeaders, Palette: render.NewPalette(o.Streams.Out, o.Color)}); err != nil {
		return err
	}
	render.Notes(o.Streams.ErrOut, p.Notes, render.NewPalette(o.Streams.ErrOut, o.Color))
	return nil
}

// isKind: the argument reads as an object of that kind.
func isKind(arg string, kind refKind) bool {
	r, err := parseRef(arg, "")
	return err == nil && r.Kind == kind
}

func isService(arg string) bool { return isKind(arg, refService) }
