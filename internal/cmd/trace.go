package cmd

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
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

	port trace.Port

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
NS/NAME, pod/NAME), node/NAME, or IP addresses of pods or nodes; DST may be svc/NAME (or
svc/NS/NAME): the Service's translation (kube-proxy's mode or Cilium), then the path to one of its
ready endpoints (--endpoint picks it). It reads only the two endpoints,
their nodes and the network plugin's evidence.

--probe checks the path live: ip route get in the source pod (an ephemeral container, which can
never be removed) and on the nodes of both ends (short-lived host-network pods, deleted after),
the tunnel devices there, then expected against seen per hop, with the likely cause of each
mismatch. --connect makes a TCP connection from the source to DST:--port (with the probe image's
nc: busybox has it) and says whether it connected, was refused or timed out. Both exit 3 when the
live check disagrees with the model. They need 'patch' on 'pods/ephemeralcontainers', 'create' and
'delete' on pods (node probes) and 'get' on 'pods/log'.`,
		Example: `  kubectl podnet trace web-0 shop/db-0
  kubectl podnet trace 10.244.1.5 node/aks-nodepool1-38195521-vmss000002 -o yaml
  kubectl podnet trace web-0 svc/db --port 5432 --probe --connect --probe-namespace podnet-system`,
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
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: json, yaml, dot (Graphviz) or mermaid")
	cmd.Flags().StringVar(&o.Endpoint, "endpoint", "", "for a Service destination: the endpoint (pod name or address) to follow")
	cmd.Flags().StringVar(&o.Port, "port", "", "destination port, N[/tcp|udp|sctp], to get the NetworkPolicy verdict (for a Service: its port)")
	cmd.Flags().BoolVar(&o.Probe, "probe", false, "check the path live: ip route get in the source pod and on both nodes, and their tunnel devices")
	cmd.Flags().BoolVar(&o.Connect, "connect", false, "make a TCP connection from the source to the destination's --port")
	o.ProbeFlags.add(cmd)
	return cmd
}

// Validate checks the flags and the endpoints' form.
func (o *TraceOptions) Validate() error {
	if err := validateOutput(o.Output, "json", "yaml", "dot", "mermaid"); err != nil {
		return err
	}
	if o.Port != "" {
		num, proto, _ := strings.Cut(o.Port, "/")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("--port %q: give a port number from 1 to 65535, optionally /tcp, /udp or /sctp", o.Port)
		}
		o.port = trace.Port{Number: int32(n), Protocol: corev1.ProtocolTCP}
		switch strings.ToLower(proto) {
		case "", "tcp":
		case "udp":
			o.port.Protocol = corev1.ProtocolUDP
		case "sctp":
			o.port.Protocol = corev1.ProtocolSCTP
		default:
			return fmt.Errorf("--port %q: the protocol must be tcp, udp or sctp", o.Port)
		}
	}
	if isService(o.src) {
		return fmt.Errorf("%s: a Service is only a destination; trace from a pod, a node or an address", o.src)
	}
	if o.Connect && (o.Port == "" || o.port.Protocol != corev1.ProtocolTCP) {
		return fmt.Errorf("--connect makes a TCP connection: give the port with --port N (TCP)")
	}
	if o.Probe || o.Connect {
		return o.ProbeFlags.validate()
	}
	return nil
}

// Run resolves the endpoints, reads the evidence and prints the path.
func (o *TraceOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	src, srcPod, err := o.resolve(ctx, o.src)
	if err != nil {
		return err
	}
	var svc *trace.ServiceStep
	var dst trace.Endpoint
	var dstPod *corev1.Pod
	if isService(o.dst) {
		svc, dst, dstPod, err = o.resolveService(ctx, o.dst, src.IP.Is4())
	} else {
		dst, dstPod, err = o.resolve(ctx, o.dst)
	}
	if err != nil {
		return err
	}
	if src.IP.Is4() != dst.IP.Is4() {
		// dual-stack: the end named by its address keeps it, the other takes one of its family
		if _, err := netip.ParseAddr(o.dst); err == nil || svc != nil {
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
			return fmt.Errorf("cannot read node %s: you need 'get nodes' to trace a path", name)
		case err != nil:
			return o.apiErrorFor(o.clients, err)
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
		return err
	}
	if o.Port != "" {
		p.Port = o.Port
		v, notes := o.policyVerdict(ctx, src, dst, srcPod, dstPod, nodes[src.Node].Model().Policy(ev))
		notes = append(notes, ownPolicyKinds(ev)...)
		p.Policy = v
		p.Notes = append(p.Notes, notes...)
	} else {
		p.Notes = append(p.Notes, "give --port N to check NetworkPolicies along the path")
	}
	if o.Probe || o.Connect {
		if err := o.verify(ctx, p, nodes); err != nil {
			return err
		}
	}
	if err := o.print(p); err != nil {
		return err
	}
	if v := p.Probe; v != nil && (v.Mismatches > 0 || v.Connect != nil && v.Connect.Result != probe.Connected) {
		return &ExitError{Code: 3, Err: fmt.Errorf("the live check disagrees with the model: see the probe section above")}
	}
	return nil
}

// print writes the path in the chosen format.
func (o *TraceOptions) print(p *trace.Path) error {
	switch o.Output {
	case "json", "yaml":
		return render.Structured(o.Streams.Out, o.Output, p)
	case "dot":
		return render.TraceDot(o.Streams.Out, p)
	case "mermaid":
		return render.TraceMermaid(o.Streams.Out, p)
	}
	return render.Trace(o.Streams.Out, p, render.NewPalette(o.Streams.Out, o.Color))
}

func isService(arg string) bool {
	return strings.HasPrefix(arg, "svc/") || strings.HasPrefix(arg, "service/")
}

// resolveNodes reads what the nodes' network models need (a handful of API calls: discovery, the
// DaemonSets, the models' own evidence for these nodes) and resolves the nodes.
func (o *TraceOptions) resolveNodes(ctx context.Context, raw map[string]*cluster.Node, names []string, service bool) (map[string]*netmodel.NodeNetwork, *cluster.Evidence) {
	ev := cluster.GatherBase(ctx, o.clients.Clients)
	needs := cluster.Needs{KubeProxy: service}
	for _, name := range names {
		n := raw[name]
		needs = needs.Merge(netmodel.Detect(n, ev).Descriptor().Needs(n))
	}
	cluster.GatherNeeds(ctx, o.clients.Clients, ev, needs, names)
	nodes := make(map[string]*netmodel.NodeNetwork, len(names))
	for _, name := range names {
		nn := netmodel.ResolveNode(raw[name], ev, nil)
		nodes[name] = &nn
	}
	return nodes, ev
}

// ownPolicyKinds notes the policy kinds of the network plugins' own that the cluster has: the
// verdict covers upstream NetworkPolicy only.
func ownPolicyKinds(ev *cluster.Evidence) []string {
	var have []string
	for _, m := range netmodel.Models() {
		for _, g := range m.PolicyKinds() {
			if ev.Offers(g) {
				have = append(have, g.Resource+"."+g.Group)
			}
		}
	}
	if len(have) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the cluster also has policy kinds of its network plugin (%s): the verdict above covers upstream NetworkPolicy only", strings.Join(have, ", "))}
}

// resolveService reads svc/NAME (or svc/NS/NAME): its ClusterIP of the source's family and its
// ready endpoints, and picks the endpoint the path goes on to (--endpoint, else the first ready).
func (o *TraceOptions) resolveService(ctx context.Context, arg string, v4 bool) (*trace.ServiceStep, trace.Endpoint, *corev1.Pod, error) {
	ref := strings.TrimPrefix(strings.TrimPrefix(arg, "svc/"), "service/")
	ns, name := o.clients.Namespace, ref
	if a, b, ok := strings.Cut(ref, "/"); ok {
		ns, name = a, b
	}
	s, err := o.clients.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, trace.Endpoint{}, nil, fmt.Errorf("service %s/%s not found: check the name and the namespace (-n)", ns, name)
	case err != nil:
		return nil, trace.Endpoint{}, nil, o.apiErrorFor(o.clients, err)
	case s.Spec.Type == corev1.ServiceTypeExternalName:
		return nil, trace.Endpoint{}, nil, fmt.Errorf("service %s/%s is an ExternalName (%s): DNS answers a name, no packet goes through the cluster", ns, name, s.Spec.ExternalName)
	case s.Spec.ClusterIP == corev1.ClusterIPNone:
		return nil, trace.Endpoint{}, nil, fmt.Errorf("service %s/%s is headless: clients get its pods' addresses from DNS; trace to one of its pods", ns, name)
	}
	step := &trace.ServiceStep{Name: ns + "/" + name, SessionAffinity: string(s.Spec.SessionAffinity)}
	if s.Spec.InternalTrafficPolicy != nil {
		step.InternalTrafficPolicy = string(*s.Spec.InternalTrafficPolicy)
	}
	for _, ip := range append([]string{s.Spec.ClusterIP}, s.Spec.ClusterIPs...) {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() == v4 {
			step.ClusterIP = a.String()
			break
		}
	}
	if step.ClusterIP == "" {
		return nil, trace.Endpoint{}, nil, fmt.Errorf("service %s/%s has no ClusterIP of the source's address family", ns, name)
	}
	slices, err := o.clients.Kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + name})
	if err != nil {
		return nil, trace.Endpoint{}, nil, o.apiErrorFor(o.clients, err)
	}
	pods := map[string]string{} // address -> pod name
	for _, sl := range slices.Items {
		for _, e := range sl.Endpoints {
			ready := e.Conditions.Ready == nil || *e.Conditions.Ready
			for _, a := range e.Addresses {
				if ip, err := netip.ParseAddr(a); err != nil || ip.Is4() != v4 {
					continue
				}
				if ready {
					step.Ready = append(step.Ready, a)
				} else {
					step.NotReady = append(step.NotReady, a)
				}
				if e.TargetRef != nil && e.TargetRef.Kind == "Pod" {
					pods[a] = e.TargetRef.Name
				}
			}
		}
	}
	sort.Strings(step.Ready)
	if len(step.Ready) == 0 {
		return nil, trace.Endpoint{}, nil, fmt.Errorf("service %s/%s has no ready endpoint: connections to %s are refused or time out", ns, name, step.ClusterIP)
	}
	step.Chosen = step.Ready[0]
	if o.Endpoint != "" {
		step.Chosen = ""
		for _, a := range step.Ready {
			if a == o.Endpoint || pods[a] == o.Endpoint {
				step.Chosen = a
			}
		}
		if step.Chosen == "" {
			return nil, trace.Endpoint{}, nil, fmt.Errorf("--endpoint %s is not a ready endpoint of service %s/%s (ready: %s)", o.Endpoint, ns, name, strings.Join(step.Ready, ", "))
		}
	}
	pod, ok := pods[step.Chosen]
	if !ok {
		return nil, trace.Endpoint{}, nil, fmt.Errorf("endpoint %s of service %s/%s is not a pod: trace to it as an address", step.Chosen, ns, name)
	}
	e, p, err := o.resolve(ctx, ns+"/"+pod)
	if err != nil || o.Port == "" {
		return step, e, p, err
	}
	// --port names the Service's port; the policy and the endpoint see its target port
	var ports []string
	for _, sp := range s.Spec.Ports {
		ports = append(ports, fmt.Sprintf("%d/%s", sp.Port, sp.Protocol))
		if sp.Port != o.port.Number || sp.Protocol != o.port.Protocol {
			continue
		}
		step.Port = fmt.Sprintf("%d/%s", sp.Port, sp.Protocol)
		target := sp.TargetPort.IntVal
		switch {
		case sp.TargetPort.Type == intstr.String:
			for _, c := range p.Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Name == sp.TargetPort.StrVal && cp.Protocol == sp.Protocol {
						target = cp.ContainerPort
					}
				}
			}
			if target == 0 {
				return nil, trace.Endpoint{}, nil, fmt.Errorf("service %s/%s: port %s targets the named port %q, which pod %s/%s does not declare: the Service cannot reach it", ns, name, step.Port, sp.TargetPort.StrVal, ns, pod)
			}
		case target == 0:
			target = sp.Port // an unset targetPort is the port itself
		}
		step.TargetPort = fmt.Sprintf("%d/%s", target, sp.Protocol)
		o.port.Number = target
		return step, e, p, nil
	}
	return nil, trace.Endpoint{}, nil, fmt.Errorf("service %s/%s has no port %s (its ports: %s): give --port one of them", ns, name, fmt.Sprintf("%d/%s", o.port.Number, o.port.Protocol), strings.Join(ports, ", "))
}

// resolve turns an argument into an endpoint: a pod, node/NAME, or the address of a pod or node.
func (o *TraceOptions) resolve(ctx context.Context, arg string) (trace.Endpoint, *corev1.Pod, error) {
	if n, ok := strings.CutPrefix(arg, "node/"); ok {
		node, err := o.clients.Kube.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return trace.Endpoint{}, nil, fmt.Errorf("node %s not found: check the name (kubectl get nodes)", n)
		} else if err != nil {
			return trace.Endpoint{}, nil, o.apiErrorFor(o.clients, err)
		}
		red := cluster.ReduceNode(node)
		if len(red.InternalIPs) == 0 {
			return trace.Endpoint{}, nil, fmt.Errorf("node %s has no InternalIP: nothing to trace to", n)
		}
		return trace.Endpoint{Kind: "node", Name: n, Node: n, IP: red.InternalIPs[0], Others: red.InternalIPs[1:]}, nil, nil
	}
	if ip, err := netip.ParseAddr(arg); err == nil {
		pods, err := o.clients.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.podIP=" + ip.String()})
		var finished *corev1.Pod
		if err == nil {
			for i := range pods.Items {
				p := &pods.Items[i]
				switch {
				case p.Spec.HostNetwork || !holds(p, ip):
				case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
					finished = p
				default:
					e, err := podEndpoint(p, ip)
					return e, p, err
				}
			}
		}
		nodes, err := o.clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		var owner string
		if err != nil {
			return trace.Endpoint{}, nil, fmt.Errorf("no running pod has address %s, and the nodes cannot be read (%s) to say whose it is: 'kubectl podnet who %s' may tell", ip, cluster.Reason(err), ip)
		}
		inv := &cluster.Inventory{}
		for i := range nodes.Items {
			red := cluster.ReduceNode(&nodes.Items[i])
			if slices.Contains(red.InternalIPs, ip) {
				return trace.Endpoint{Kind: "node", Name: red.Name, Node: red.Name, IP: ip, Others: without(red.InternalIPs, ip)}, nil, nil
			}
			inv.Nodes = append(inv.Nodes, red)
		}
		// whose range it is in, as each node's model hands out addresses
		inv.Evidence = *cluster.GatherBase(ctx, o.clients.Clients)
		needs := cluster.Needs{}
		for i := range inv.Nodes {
			needs = needs.Merge(netmodel.Detect(&inv.Nodes[i], &inv.Evidence).Descriptor().Needs(&inv.Nodes[i]))
		}
		cluster.GatherNeeds(ctx, o.clients.Clients, &inv.Evidence, needs, nil)
		for _, nn := range netmodel.Resolve(inv).Nodes {
			for _, c := range nn.PodCIDRs {
				switch {
				case !c.Contains(ip):
				case nn.Source == netmodel.SourceSpec:
					owner = fmt.Sprintf("it is in node %s's pod CIDR %s", nn.Name, c)
				default:
					owner = fmt.Sprintf("it is in node %s's pod CIDR %s (%s)", nn.Name, c, nn.Source)
				}
			}
		}
		if owner == "" {
			for _, sc := range netmodel.ServiceCIDRs(cluster.ReadServiceEvidence(ctx, o.clients.Clients)) {
				if pfx, err := netip.ParsePrefix(sc.CIDR); err == nil && pfx.Contains(ip) {
					return trace.Endpoint{}, nil, fmt.Errorf("%s is in the service CIDR %s (%s): a ClusterIP is no pod; trace to the Service as svc/NAME ('kubectl podnet who %s' names it)", ip, sc.CIDR, sc.Source, ip)
				}
			}
		}
		switch {
		case finished != nil:
			return trace.Endpoint{}, nil, fmt.Errorf("%s was held by pod %s/%s, which has finished (%s): no pod holds it now", ip, finished.Namespace, finished.Name, finished.Status.Phase)
		case owner != "":
			return trace.Endpoint{}, nil, fmt.Errorf("no running pod has address %s: %s, but it is free (or its pod is gone); find what used it with 'kubectl podnet who %s'", ip, owner, ip)
		}
		return trace.Endpoint{}, nil, fmt.Errorf("no pod and no node has address %s, and it is in no node's pod CIDR nor the service CIDR: it is outside the cluster's known ranges ('kubectl podnet who %s' says more)", ip, ip)
	}
	ns, name, err := parsePodRef(arg, o.clients.Namespace)
	if err != nil {
		return trace.Endpoint{}, nil, err
	}
	p, err := o.clients.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return trace.Endpoint{}, nil, fmt.Errorf("pod %s/%s not found: check the name and the namespace (-n)", ns, name)
	case err != nil:
		return trace.Endpoint{}, nil, o.apiErrorFor(o.clients, err)
	}
	e, err := podEndpoint(p, netip.Addr{})
	return e, p, err
}

// policyVerdict reads the NetworkPolicies of the two namespaces and the namespaces' labels, and
// applies them to the traffic.
func (o *TraceOptions) policyVerdict(ctx context.Context, src, dst trace.Endpoint, srcPod, dstPod *corev1.Pod, enforced netmodel.Enforcement) (*trace.PolicyVerdict, []string) {
	var notes []string
	var policies []networkingv1.NetworkPolicy
	nsLabels := map[string]map[string]string{}
	seen := map[string]bool{}
	for _, p := range []*corev1.Pod{srcPod, dstPod} {
		if p == nil || p.Spec.HostNetwork || seen[p.Namespace] {
			continue
		}
		seen[p.Namespace] = true
		list, err := o.clients.Kube.NetworkingV1().NetworkPolicies(p.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			notes = append(notes, fmt.Sprintf("cannot read the NetworkPolicies of namespace %s (%s): the verdict ignores them", p.Namespace, cluster.Reason(err)))
		} else {
			policies = append(policies, list.Items...)
		}
		if ns, err := o.clients.Kube.CoreV1().Namespaces().Get(ctx, p.Namespace, metav1.GetOptions{}); err == nil {
			nsLabels[p.Namespace] = ns.Labels
		}
	}
	peer := func(e trace.Endpoint, p *corev1.Pod) trace.PolicyPeer {
		pp := trace.PolicyPeer{IP: e.IP}
		if p != nil && !p.Spec.HostNetwork {
			pp.IsPod, pp.Namespace, pp.Labels = true, p.Namespace, p.Labels
			pp.Ports = map[string]corev1.ContainerPort{}
			for _, c := range p.Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Name != "" {
						pp.Ports[cp.Name] = cp
					}
				}
			}
		}
		return pp
	}
	v := trace.Verdict(peer(src, srcPod), peer(dst, dstPod), o.port, policies, nsLabels, enforced)
	if len(policies) > 0 && v.Enforced.State == netmodel.NotEnforced {
		notes = append(notes, fmt.Sprintf("%d NetworkPolicies exist in these namespaces but %s", len(policies), v.Enforced.Reason))
	}
	return &v, notes
}

func without(as []netip.Addr, a netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, x := range as {
		if x != a {
			out = append(out, x)
		}
	}
	return out
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
	e := trace.Endpoint{Kind: "pod", Namespace: p.Namespace, Name: p.Name, IP: ip, Node: p.Spec.NodeName, HostNetwork: p.Spec.HostNetwork}
	for _, a := range p.Status.PodIPs {
		if o, err := netip.ParseAddr(a.IP); err == nil && o != ip {
			e.Others = append(e.Others, o)
		}
	}
	return e, nil
}
