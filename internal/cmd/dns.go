package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/inspect"
	"github.com/podnet/kubectl-podnet/internal/render"
)

// DNSOptions are the options of `kubectl podnet dns`.
type DNSOptions struct {
	*GlobalOptions
	Output string

	podNS, podName string
	clients        *Clients
}

// dnsReport is what -o json|yaml emit.
type dnsReport struct {
	ClusterDNS *inspect.ClusterDNS `json:"clusterDNS"`
	Pod        *inspect.ResolvConf `json:"pod,omitempty"`
}

// NewCmdDNS builds `kubectl podnet dns [POD]`.
func NewCmdDNS(g *GlobalOptions) *cobra.Command {
	o := &DNSOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "dns [POD]",
		Short: "Show the cluster DNS Service, its endpoints and upstreams, and the resolv.conf a pod gets",
		Long: `Without a pod: the cluster DNS Service (kube-system/kube-dns, or one labelled k8s-app=kube-dns),
its endpoints and their readiness, and where CoreDNS forwards (from its Corefile). With a pod
(NAME in -n, NS/NAME or pod/NAME): its dnsPolicy and dnsConfig and the resolv.conf kubelet writes for it.`,
		Example: `  kubectl podnet dns
  kubectl podnet dns shop/web-0 -o yaml`,
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
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: json or yaml")
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
func (o *DNSOptions) Validate() error { return validateOutput(o.Output, "json", "yaml") }

// Run reads the cluster DNS and, when asked, computes the pod's resolv.conf.
func (o *DNSOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
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
	dns, err := inspect.GatherDNS(ctx, o.clients.Kube, nil)
	if err != nil {
		return o.apiErrorFor(o.clients, err)
	}
	rep := dnsReport{ClusterDNS: dns}
	if pod != nil {
		rep.Pod = inspect.PodResolvConf(pod, dns)
	}
	errPal := render.NewPalette(o.Streams.ErrOut, o.Color)
	for _, u := range dns.Unknown {
		render.Notes(o.Streams.ErrOut, []string{"could not read " + u}, errPal)
	}
	if o.Output != "" {
		if err := render.Structured(o.Streams.Out, o.Output, rep); err != nil {
			return err
		}
	} else if err := render.DNS(o.Streams.Out, dns, rep.Pod); err != nil {
		return err
	}
	if dns.Service == "" && len(dns.Unknown) == 0 {
		return fmt.Errorf("no cluster DNS Service: neither kube-system/kube-dns nor a Service labelled k8s-app=kube-dns exists; pods with dnsPolicy ClusterFirst cannot resolve names (install CoreDNS)")
	}
	if dns.Service != "" && dns.Ready == 0 {
		return fmt.Errorf("the cluster DNS Service %s has no ready endpoint: name resolution fails in every pod; check the CoreDNS pods", dns.Service)
	}
	return nil
}
