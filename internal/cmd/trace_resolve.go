package cmd

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

// resolveNodes reads what the nodes' network models need (a handful of API calls: discovery, the
// DaemonSets, the models' own evidence for these nodes) and resolves the nodes.
func (o *TraceOptions) resolveNodes(ctx context.Context, raw map[string]*cluster.Node, names []string, service bool) (map[string]*netmodel.NodeNetwork, *cluster.Evidence) {
	ev := cluster.GatherBase(ctx, o.clients.Clients)
	list := make([]*cluster.Node, 0, len(names))
	for _, name := range names {
		list = append(list, raw[name])
	}
	needs := netmodel.Needs(ev, list...)
	needs.KubeProxy = service
	cluster.GatherNeeds(ctx, o.clients.Clients, ev, needs, names)
	nodes := make(map[string]*netmodel.NodeNetwork, len(names))
	for _, name := range names {
		nn := netmodel.ResolveNode(raw[name], ev, nil)
		nodes[name] = &nn
	}
	return nodes, ev
}

// resolveService reads svc/NAME (or svc/NS/NAME): its ClusterIP of the source's family and its
// ready endpoints, and picks the endpoint the path goes on to (--endpoint, else the first ready).
func (o *TraceOptions) resolveService(ctx context.Context, arg string, v4 bool) (*trace.ServiceStep, trace.Endpoint, *corev1.Pod, error) {
	ref, err := parseRef(arg, o.clients.Namespace)
	if err != nil {
		return nil, trace.Endpoint{}, nil, err
	}
	ns, name := ref.Namespace, ref.Name
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
	ref, err := parseRef(arg, o.clients.Namespace)
	if err != nil {
		return trace.Endpoint{}, nil, err
	}
	switch ref.Kind {
	case refService:
		return trace.Endpoint{}, nil, fmt.Errorf("%s: a Service is only a destination; trace from a pod, a node or an address", arg)
	case refWorkload:
		p, err := workloadPod(ctx, o.clients.Kube, ref)
		if err != nil {
			return trace.Endpoint{}, nil, o.apiErrorFor(o.clients, err)
		}
		e, err := podEndpoint(p, netip.Addr{})
		return e, p, err
	}
	if ref.Kind == refNode {
		n := ref.Name
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
	if ref.Kind == refAddress {
		ip := ref.Addr
		pods, err := o.clients.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.podIP=" + ip.String()})
		switch {
		case apierrors.IsForbidden(err):
			return trace.Endpoint{}, nil, fmt.Errorf("cannot find who holds %s: you need 'list' on pods in all namespaces (or trace the pod by name)", ip)
		case err != nil:
			return trace.Endpoint{}, nil, o.apiErrorFor(o.clients, err)
		}
		var finished *corev1.Pod
		{
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
		list := make([]*cluster.Node, len(inv.Nodes))
		for i := range inv.Nodes {
			list[i] = &inv.Nodes[i]
		}
		needs := netmodel.Needs(&inv.Evidence, list...)
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
	ns, name := ref.Namespace, ref.Name
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
