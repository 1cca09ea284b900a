package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/probe"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// DNSOptions are the options of `kubectl podnet dns`.
type DNSOptions struct {
	*GlobalOptions
	ProbeFlags
	Output string
	Probe  bool
	Lookup string

	podNS, podName string
	clients        *Clients
	printer        render.Printer
}

// dnsReport is what -o json|yaml emit.
type dnsReport struct {
	ClusterDNS *cluster.ClusterDNS `json:"clusterDNS"`
	Pod        *report.ResolvConf  `json:"pod,omitempty"`
	Probe      *render.DNSProbe    `json:"probe,omitempty"`
}

// NewCmdDNS builds `kubectl podnet dns [POD]`.
func NewCmdDNS(g *GlobalOptions) *cobra.Command {
	o := &DNSOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "dns [POD]",
		Short: "Show cluster DNS, its upstreams and a pod's resolv.conf",
		Long: `Without a pod: the cluster DNS Service (kube-system/kube-dns, or one labelled k8s-app=kube-dns),
its endpoints and their readiness, and where CoreDNS forwards (from its Corefile). With a pod
(NAME in -n, NS/NAME or pod/NAME): its dnsPolicy and dnsConfig and the resolv.conf kubelet writes for it;
with --probe, the resolv.conf read from inside the pod by an ephemeral container (it stays in the
pod's spec until the pod is deleted; --dry-run=client prints it and sends nothing), and with
--lookup NAME a lookup of that name from inside the pod.`,
		Example: `  kubectl podnet dns
  kubectl podnet dns shop/web-0 -o yaml
  kubectl podnet dns shop/web-0 --probe --lookup kubernetes.default.svc.cluster.local
  kubectl podnet dns shop/web-0 --probe --dry-run=client -o yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", outputHelp())
	cmd.Flags().BoolVar(&o.Probe, "probe", false, "read the pod's resolv.conf from inside it (adds an ephemeral container)")
	cmd.Flags().StringVar(&o.Lookup, "lookup", "", "with --probe: resolve this name from inside the pod")
	o.ProbeFlags.add(cmd)
	return cmd
}

// Complete builds the clients and resolves the pod argument.
func (o *DNSOptions) Complete(args []string) error {
	c, err := o.NewClients(o.ConfigFlags)
	if err != nil {
		return err
	}
	o.clients = c
	if len(args) == 1 {
		o.podNS, o.podName, err = parsePodRef(args[0], c.Namespace)
	}
	return err
}

// probeDNS reads the pod's resolv.conf, and resolves --lookup, from an ephemeral container.
func (o *DNSOptions) probeDNS(cmd *cobra.Command) (*render.DNSProbe, error) {
	runner, st := o.runner(o.clients, o.Streams.ErrOut)
	defer st.done()
	return o.probeDNSWith(cmd.Context(), runner)
}

func (o *DNSOptions) probeDNSWith(ctx context.Context, runner *probe.Runner) (*render.DNSProbe, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	opts := o.options()
	opts.Script = probe.DNSScript(o.Lookup)
	res, err := runner.ProbePodRaw(ctx, o.podNS, o.podName, opts, o.Limit, o.Force)
	if err != nil {
		return nil, err
	}
	secs, err := probe.Sections(res.Raw)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: %w", o.podNS, o.podName, err)
	}
	p := &render.DNSProbe{Container: res.Container, Lookup: o.Lookup}
	for _, s := range secs {
		switch {
		case s.Name == "resolv.conf":
			p.ResolvConf = s.Output
		case strings.HasPrefix(s.Name, "lookup "):
			p.LookupOutput, p.LookupOK = s.Output, s.Exit == "0"
		}
	}
	return p, nil
}

// parsePodRef reads NAME, NS/NAME or pod/NAME (pods/NAME) against the current namespace.
func parsePodRef(ref, ns string) (string, string, error) {
	for _, p := range []string{"pod/", "pods/"} {
		if strings.HasPrefix(ref, p) {
			ref = strings.TrimPrefix(ref, p)
			if strings.Contains(ref, "/") {
				return "", "", fmt.Errorf("bad pod %q: use NAME, NAMESPACE/NAME or pod/NAME (with -n for the namespace)", p+ref)
			}
			return ns, ref, nil
		}
	}
	parts := strings.Split(ref, "/")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return ns, parts[0], nil
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("bad pod %q: use NAME, NAMESPACE/NAME or pod/NAME (with -n for the namespace)", ref)
}

// Validate checks the flags.
func (o *DNSOptions) Validate() error {
	var err error
	if o.printer, err = parseOutput(o.Output, false); err != nil {
		return err
	}
	if err := o.checkDryRun(); err != nil {
		return err
	}
	switch {
	case o.dryRun() && !o.Probe:
		return fmt.Errorf("--dry-run shows the probe of --probe: add it (dns alone creates nothing)")
	case o.Probe && o.podName == "":
		return fmt.Errorf("--probe reads a pod's resolv.conf: name the pod (kubectl podnet dns POD --probe)")
	case o.Lookup != "" && !o.Probe:
		return fmt.Errorf("--lookup runs from inside the pod: add --probe")
	case o.Lookup != "" && !probe.ValidName(o.Lookup):
		return fmt.Errorf("--lookup %q is not a DNS name (letters, digits, dots and dashes)", o.Lookup)
	}
	if o.Probe {
		return o.ProbeFlags.validate()
	}
	return nil
}

// Run reads the cluster DNS and, when asked, computes the pod's resolv.conf.
func (o *DNSOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	if o.dryRun() {
		runner, _ := o.runner(o.clients, io.Discard)
		_, err := o.probeDNSWith(ctx, runner)
		return printPlanned(o.Streams.Out, o.printer, runner.Planned(), err)
	}
	var pod *corev1.Pod
	if o.podName != "" {
		p, err := o.clients.Kube.CoreV1().Pods(o.podNS).Get(ctx, o.podName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Errorf("pod %s/%s not found: check the name and the namespace (-n)", o.podNS, o.podName)
		case apierrors.IsForbidden(err):
			return fmt.Errorf("cannot read pod %s/%s: forbidden: you need 'get pods' in namespace %s", o.podNS, o.podName, o.podNS)
		case err != nil:
			return o.apiErrorFor(o.clients, err)
		}
		pod = p
	}
	dns, err := cluster.GatherDNS(ctx, o.clients.Kube, nil)
	if err != nil {
		return o.apiErrorFor(o.clients, err)
	}
	rep := dnsReport{ClusterDNS: dns}
	if pod != nil {
		rep.Pod = report.PodResolvConf(pod, dns)
	}
	if o.Probe {
		if rep.Probe, err = o.probeDNS(cmd); err != nil {
			return err
		}
	}
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	for _, u := range dns.Unknown {
		render.Notes(o.Streams.ErrOut, []string{"could not read " + u}, errPal)
	}
	if o.printer != nil {
		if err := o.printer.Print(o.Streams.Out, render.Printable{Report: rep, Kind: "endpoint", Items: dns.Endpoints, NameField: "address"}); err != nil {
			return err
		}
	} else if err := render.DNS(o.Streams.Out, dns, rep.Pod); err != nil {
		return err
	} else if rep.Probe != nil {
		if err := render.DNSProbeResult(o.Streams.Out, rep.Probe); err != nil {
			return err
		}
	}
	if l := rep.Probe; l != nil && l.Lookup != "" && !l.LookupOK {
		return finding(fmt.Errorf("looking up %s from inside pod %s/%s failed: the pod's DNS does not resolve it (see the output above)", l.Lookup, o.podNS, o.podName))
	}
	if err := dnsFinding(dns); err != nil {
		return err
	}
	return incomplete(dns.Unknown)
}

// dnsFinding is the finding (exit 2) when the cluster DNS is broken, nil when it is not or could
// not be read.
func dnsFinding(dns *cluster.ClusterDNS) error {
	switch {
	case dns.Service == "" && len(dns.Unknown) == 0:
		return finding(fmt.Errorf("no cluster DNS Service: neither kube-system/kube-dns nor a Service labelled k8s-app=kube-dns exists; pods with dnsPolicy ClusterFirst cannot resolve names (install CoreDNS)"))
	case dns.Service != "" && dns.Ready == 0:
		return finding(fmt.Errorf("the cluster DNS Service %s has no ready endpoint: name resolution fails in every pod; check the CoreDNS pods", dns.Service))
	}
	return nil
}
