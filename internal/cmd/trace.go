package cmd

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/inspect"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

// TraceOptions are the options of `kubectl podnet trace`.
type TraceOptions struct {
	*GlobalOptions
	Output string

	src, dst string
	clients  *Clients
}

// NewCmdTrace builds `kubectl podnet trace SRC DST`.
func NewCmdTrace(g *GlobalOptions) *cobra.Command {
	o := &TraceOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "trace SRC DST",
		Short: "Explain the path between two pods (or nodes, or addresses), hop by hop",
		Long: `Explain the path a packet takes from SRC to DST as the detected network model builds it: the
pod's eth0 and default gateway, the host veth (named the way the CNI names it), bridge or host
routes, the tunnel (device, outer addresses, UDP port, VNI), the cloud route table (kubenet on AKS)
or native routing, and the delivery on the destination node. SRC and DST are pods (NAME in -n,
NS/NAME, pod/NAME), node/NAME, or IP addresses of pods or nodes. It reads only the two endpoints,
their nodes and the network plugin's evidence.`,
		Example: `  kubectl podnet trace web-0 shop/db-0
  kubectl podnet trace 10.244.1.5 node/aks-nodepool1-38195521-vmss000002 -o yaml`,
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
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: json or yaml")
	return cmd
}

// Validate checks the flags and the endpoints' form.
func (o *TraceOptions) Validate() error {
	if err := validateOutput(o.Output, "json", "yaml"); err != nil {
		return err
	}
	for _, e := range []string{o.src, o.dst} {
		if strings.HasPrefix(e, "svc/") || strings.HasPrefix(e, "service/") {
			return fmt.Errorf("%s: tracing to a Service is not supported by this version: trace to one of its endpoint pods (kubectl podnet who CLUSTER-IP lists them)", e)
		}
	}
	return nil
}

// Run resolves the endpoints, reads the evidence and prints the path.
func (o *TraceOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	src, err := o.resolve(ctx, o.src)
	if err != nil {
		return err
	}
	dst, err := o.resolve(ctx, o.dst)
	if err != nil {
		return err
	}
	nodes := map[string]*inspect.Node{}
	var list []*inspect.Node
	for _, name := range []string{src.Node, dst.Node} {
		if _, ok := nodes[name]; ok {
			continue
		}
		n, err := o.clients.Kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsForbidden(err):
			return fmt.Errorf("cannot read node %s: you need 'get nodes' to trace a path", name)
		case err != nil:
			return o.apiErrorFor(o.clients, err)
		}
		red := inspect.ReduceNode(n)
		nodes[name] = &red
		list = append(list, &red)
	}
	ev := inspect.GatherFor(ctx, o.clients.Clients, list)
	p, err := trace.Build(src, dst, nodes, &ev)
	if err != nil {
		return err
	}
	if o.Output != "" {
		return render.Structured(o.Streams.Out, o.Output, p)
	}
	return render.Trace(o.Streams.Out, p, render.NewPalette(o.Streams.Out, o.Color))
}

// resolve turns an argument into an endpoint: a pod, node/NAME, or the address of a pod or node.
func (o *TraceOptions) resolve(ctx context.Context, arg string) (trace.Endpoint, error) {
	if n, ok := strings.CutPrefix(arg, "node/"); ok {
		node, err := o.clients.Kube.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return trace.Endpoint{}, fmt.Errorf("node %s not found: check the name (kubectl get nodes)", n)
		} else if err != nil {
			return trace.Endpoint{}, o.apiErrorFor(o.clients, err)
		}
		red := inspect.ReduceNode(node)
		if len(red.InternalIPs) == 0 {
			return trace.Endpoint{}, fmt.Errorf("node %s has no InternalIP: nothing to trace to", n)
		}
		return trace.Endpoint{Kind: "node", Name: n, Node: n, IP: red.InternalIPs[0]}, nil
	}
	if ip, err := netip.ParseAddr(arg); err == nil {
		pods, err := o.clients.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.podIP=" + ip.String()})
		if err == nil {
			for i := range pods.Items {
				if p := &pods.Items[i]; !p.Spec.HostNetwork && p.Status.Phase == corev1.PodRunning && holds(p, ip) {
					return podEndpoint(p, ip)
				}
			}
		}
		nodes, err := o.clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range nodes.Items {
				red := inspect.ReduceNode(&nodes.Items[i])
				for _, a := range red.InternalIPs {
					if a == ip {
						return trace.Endpoint{Kind: "node", Name: red.Name, Node: red.Name, IP: ip}, nil
					}
				}
			}
		}
		return trace.Endpoint{}, fmt.Errorf("no running pod and no node has address %s: find what it is with 'kubectl podnet who %s'", ip, ip)
	}
	ns, name, err := parsePodRef(arg, o.clients.Namespace)
	if err != nil {
		return trace.Endpoint{}, err
	}
	p, err := o.clients.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return trace.Endpoint{}, fmt.Errorf("pod %s/%s not found: check the name and the namespace (-n)", ns, name)
	case err != nil:
		return trace.Endpoint{}, o.apiErrorFor(o.clients, err)
	}
	return podEndpoint(p, netip.Addr{})
}

// holds reports whether the pod's status lists the address.
func holds(p *corev1.Pod, ip netip.Addr) bool {
	for _, a := range p.Status.PodIPs {
		if a.IP == ip.String() {
			return true
		}
	}
	return p.Status.PodIP == ip.String()
}

func podEndpoint(p *corev1.Pod, want netip.Addr) (trace.Endpoint, error) {
	ref := p.Namespace + "/" + p.Name
	switch {
	case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
		return trace.Endpoint{}, fmt.Errorf("pod %s has finished (%s): it holds no address any more", ref, p.Status.Phase)
	case p.Spec.NodeName == "":
		return trace.Endpoint{}, fmt.Errorf("pod %s is not scheduled to a node yet: it has no path", ref)
	case len(p.Status.PodIPs) == 0 && p.Status.PodIP == "":
		return trace.Endpoint{}, fmt.Errorf("pod %s has no IP yet (phase %s): wait until it runs", ref, p.Status.Phase)
	}
	ip := want
	if !ip.IsValid() {
		s := p.Status.PodIP
		if len(p.Status.PodIPs) > 0 {
			s = p.Status.PodIPs[0].IP
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return trace.Endpoint{}, fmt.Errorf("pod %s has an unreadable IP %q", ref, s)
		}
		ip = a
	}
	return trace.Endpoint{Kind: "pod", Namespace: p.Namespace, Name: p.Name, IP: ip, Node: p.Spec.NodeName, HostNetwork: p.Spec.HostNetwork}, nil
}
