package cluster

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

type interner map[string]string

func newInterner() interner { return interner{} }

func (in interner) getBytes(b []byte) string {
	if v, ok := in[string(b)]; ok {
		return v
	}
	s := string(b)
	in[s] = s
	return s
}

func (in interner) get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

func reducePod(p *corev1.Pod, in interner) Pod {
	r := Pod{Namespace: in.get(p.Namespace), Name: p.Name, Node: in.get(p.Spec.NodeName), HostNetwork: p.Spec.HostNetwork, Phase: p.Status.Phase}
	for _, ip := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			r.IPs = append(r.IPs, a)
		}
	}
	if len(r.IPs) == 0 && p.Status.PodIP != "" {
		if a, err := netip.ParseAddr(p.Status.PodIP); err == nil {
			r.IPs = append(r.IPs, a)
		}
	}
	for _, ip := range p.Status.HostIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			r.HostIPs = append(r.HostIPs, a)
		}
	}
	if len(r.HostIPs) == 0 && p.Status.HostIP != "" {
		if a, err := netip.ParseAddr(p.Status.HostIP); err == nil {
			r.HostIPs = append(r.HostIPs, a)
		}
	}
	return r
}

// networkAnnotationPrefixes are the node annotations network plugins write; others are dropped.
var networkAnnotationPrefixes = []string{"projectcalico.org/", "flannel.alpha.coreos.com/", "node.antrea.io/", "network.cilium.io/", "io.cilium.network/", "kube-router.io/"}

func reduceNode(n *corev1.Node) Node {
	r := Node{Name: n.Name, Unschedulable: n.Spec.Unschedulable, ProviderID: n.Spec.ProviderID, Labels: n.Labels,
		Kernel: n.Status.NodeInfo.KernelVersion, Runtime: n.Status.NodeInfo.ContainerRuntimeVersion,
		OSImage: n.Status.NodeInfo.OSImage, OS: n.Status.NodeInfo.OperatingSystem, Ready: "Unknown"}
	r.Zone = n.Labels[corev1.LabelTopologyZone]
	if r.Zone == "" {
		r.Zone = n.Labels[corev1.LabelFailureDomainBetaZone]
	}
	r.InstanceType = n.Labels[corev1.LabelInstanceTypeStable]
	if r.InstanceType == "" {
		r.InstanceType = n.Labels[corev1.LabelInstanceType]
	}
	if r.OS == "" {
		r.OS = n.Labels[corev1.LabelOSStable]
	}
	for k, v := range n.Annotations {
		if networkAnnotation(k) {
			if r.Annotations == nil {
				r.Annotations = map[string]string{}
			}
			r.Annotations[k] = v
		}
	}
	for _, a := range n.Status.Addresses {
		ip, err := netip.ParseAddr(a.Address)
		if err != nil {
			continue
		}
		switch a.Type {
		case corev1.NodeInternalIP:
			r.InternalIPs = append(r.InternalIPs, ip)
		case corev1.NodeExternalIP:
			r.ExternalIPs = append(r.ExternalIPs, ip)
		}
	}
	cidrs := n.Spec.PodCIDRs
	if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
		cidrs = []string{n.Spec.PodCIDR}
	}
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			r.PodCIDRs = append(r.PodCIDRs, p)
		}
	}
	for _, c := range n.Status.Conditions {
		cond := &Condition{Status: string(c.Status), Reason: c.Reason, Message: c.Message}
		switch c.Type {
		case corev1.NodeReady:
			r.ReadyCondition = cond
			switch c.Status {
			case corev1.ConditionTrue:
				r.Ready = "Ready"
			case corev1.ConditionFalse:
				r.Ready = "NotReady"
			}
		case corev1.NodeNetworkUnavailable:
			r.NetworkUnavail = cond
		}
	}
	if q, ok := n.Status.Allocatable[corev1.ResourcePods]; ok {
		r.AllocatablePods = q.Value()
	}
	return r
}

// nodesFromPods derives nodes from the pods on them when nodes cannot be read: a name, and the
// node addresses pods report as their host IPs.
func nodesFromPods(pods []Pod) []Node {
	byName := map[string]*Node{}
	for i := range pods {
		p := &pods[i]
		if p.Node == "" {
			continue
		}
		n := byName[p.Node]
		if n == nil {
			n = &Node{Name: p.Node, Ready: "Unknown", FromPods: true}
			byName[p.Node] = n
		}
		for _, ip := range p.HostIPs {
			if !containsAddr(n.InternalIPs, ip) {
				n.InternalIPs = append(n.InternalIPs, ip)
			}
		}
	}
	out := make([]Node, 0, len(byName))
	for _, n := range byName {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// ReduceNode reduces one Node object the way the inventory does, for callers that read a single node.
func ReduceNode(n *corev1.Node) Node { return reduceNode(n) }

// NodesFromPods are the nodes named by the pods, when nodes cannot be read (see Gather).
func NodesFromPods(pods []Pod) []Node { return nodesFromPods(pods) }
