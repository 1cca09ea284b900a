package inspect

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ClusterDNS is the cluster DNS Service, its endpoints and CoreDNS's upstream settings.
type ClusterDNS struct {
	// Service is "namespace/name"; empty when no cluster DNS Service was found.
	Service    string        `json:"service,omitempty"`
	ClusterIPs []string      `json:"clusterIPs,omitempty"`
	Ports      []string      `json:"ports,omitempty"`
	Endpoints  []DNSEndpoint `json:"endpoints"`
	Ready      int           `json:"ready"`
	// Corefile settings, when ConfigMap kube-system/coredns is readable.
	Forward []DNSForward `json:"forward,omitempty"`
	Domain  string       `json:"clusterDomain"`
	// Unknown says what could not be read.
	Unknown []string `json:"unknown,omitempty"`
}

// DNSEndpoint is one endpoint of the DNS Service.
type DNSEndpoint struct {
	Address string `json:"address"`
	Pod     string `json:"pod,omitempty"`
	Node    string `json:"node,omitempty"`
	Ready   bool   `json:"ready"`
}

// DNSForward is a Corefile server block's zone and where it forwards queries.
type DNSForward struct {
	Zone string   `json:"zone"`
	To   []string `json:"to"`
}

// GatherDNS reads the cluster DNS Service (kube-system/kube-dns, else a Service labelled
// k8s-app=kube-dns), its EndpointSlices and CoreDNS's Corefile.
func GatherDNS(ctx context.Context, kube kubernetes.Interface, ev *Evidence) (*ClusterDNS, error) {
	d := &ClusterDNS{Domain: "cluster.local", Endpoints: []DNSEndpoint{}}
	if ev != nil && ev.Kubeadm != nil && ev.Kubeadm.DNSDomain != "" {
		d.Domain = ev.Kubeadm.DNSDomain
	}
	svc, err := kube.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		svc = nil
		list, lerr := kube.CoreV1().Services("").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
		if lerr == nil && len(list.Items) > 0 {
			svc = &list.Items[0]
		} else if lerr != nil && !apierrors.IsForbidden(lerr) {
			return nil, lerr
		}
	case apierrors.IsForbidden(err):
		d.Unknown = append(d.Unknown, "Service kube-system/kube-dns: forbidden")
		return d, nil
	case err != nil:
		return nil, err
	}
	if svc == nil {
		return d, nil
	}
	d.Service = svc.Namespace + "/" + svc.Name
	d.ClusterIPs = svc.Spec.ClusterIPs
	if len(d.ClusterIPs) == 0 && svc.Spec.ClusterIP != "" {
		d.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
	for _, p := range svc.Spec.Ports {
		d.Ports = append(d.Ports, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
	}
	slices, err := kube.DiscoveryV1().EndpointSlices(svc.Namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc.Name})
	if err != nil {
		d.Unknown = append(d.Unknown, "EndpointSlices of "+d.Service+": "+reason(err))
	} else {
		d.Endpoints = endpointsOf(slices.Items)
		for _, e := range d.Endpoints {
			if e.Ready {
				d.Ready++
			}
		}
	}
	cm, err := kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	switch {
	case err == nil:
		d.Forward = parseCorefile(cm.Data["Corefile"])
	case !apierrors.IsNotFound(err):
		d.Unknown = append(d.Unknown, "ConfigMap kube-system/coredns: "+reason(err))
	}
	return d, nil
}

func endpointsOf(slices []discoveryv1.EndpointSlice) []DNSEndpoint {
	out := []DNSEndpoint{}
	seen := map[string]bool{}
	for _, s := range slices {
		for _, e := range s.Endpoints {
			ready := e.Conditions.Ready == nil || *e.Conditions.Ready
			for _, a := range e.Addresses {
				if seen[a] {
					continue
				}
				seen[a] = true
				ep := DNSEndpoint{Address: a, Ready: ready}
				if e.TargetRef != nil && e.TargetRef.Kind == "Pod" {
					ep.Pod = e.TargetRef.Namespace + "/" + e.TargetRef.Name
				}
				if e.NodeName != nil {
					ep.Node = *e.NodeName
				}
				out = append(out, ep)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// parseCorefile finds each server block's zone and its forward targets:
//
//	.:53 {
//	    forward . /etc/resolv.conf
//	}
//	example.com:53 {
//	    forward . 10.0.0.53
//	}
func parseCorefile(corefile string) []DNSForward {
	var out []DNSForward
	zone := ""
	depth := 0
	for _, line := range strings.Split(corefile, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		opens := strings.HasSuffix(line, "{")
		if depth == 0 && opens {
			zone = strings.Join(strings.Fields(strings.TrimSuffix(line, "{")), " ")
			depth = 1
			continue
		}
		if line == "}" {
			depth--
			continue
		}
		f := strings.Fields(strings.TrimSuffix(line, "{"))
		if depth == 1 && len(f) >= 3 && (f[0] == "forward" || f[0] == "proxy") {
			out = append(out, DNSForward{Zone: zone, To: f[2:]})
		}
		if opens {
			depth++
		}
	}
	return out
}

// ResolvConf is the resolv.conf a pod gets, as kubelet computes it from the pod spec.
type ResolvConf struct {
	Pod         string   `json:"pod"`
	DNSPolicy   string   `json:"dnsPolicy"`
	HostNetwork bool     `json:"hostNetwork"`
	Nameservers []string `json:"nameservers"`
	Searches    []string `json:"searches"`
	Options     []string `json:"options"`
	// FromNode is set when (part of) the file is the node's own resolv.conf, unknown from the API.
	FromNode bool `json:"fromNode"`
	// Notes explain how the file was computed.
	Notes []string `json:"notes,omitempty"`
}

// PodResolvConf computes the pod's resolv.conf the way kubelet does: ClusterFirst uses the cluster
// DNS (kubelet's --cluster-dns, taken to be the DNS Service's ClusterIP) with the cluster search
// path and ndots:5; a host-network pod with ClusterFirst falls back to Default (the node's file);
// None takes only dnsConfig; dnsConfig is merged last.
func PodResolvConf(pod *corev1.Pod, dns *ClusterDNS) *ResolvConf {
	rc := &ResolvConf{Pod: pod.Namespace + "/" + pod.Name, DNSPolicy: string(pod.Spec.DNSPolicy), HostNetwork: pod.Spec.HostNetwork, Nameservers: []string{}, Searches: []string{}, Options: []string{}}
	if rc.DNSPolicy == "" {
		rc.DNSPolicy = string(corev1.DNSClusterFirst)
	}
	policy := corev1.DNSPolicy(rc.DNSPolicy)
	if policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork {
		policy = corev1.DNSDefault
		rc.Notes = append(rc.Notes, "a host-network pod with dnsPolicy ClusterFirst gets the node's resolv.conf (use ClusterFirstWithHostNet for the cluster DNS)")
	}
	switch policy {
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet:
		if dns != nil && len(dns.ClusterIPs) > 0 {
			rc.Nameservers = append(rc.Nameservers, dns.ClusterIPs[0])
			rc.Notes = append(rc.Notes, "nameserver assumed to be kubelet's --cluster-dns, the ClusterIP of Service "+dns.Service)
		} else {
			rc.Notes = append(rc.Notes, "no cluster DNS Service found: the nameserver is kubelet's --cluster-dns, unknown here")
		}
		domain := "cluster.local"
		if dns != nil {
			domain = dns.Domain
		}
		rc.Searches = append(rc.Searches, pod.Namespace+".svc."+domain, "svc."+domain, domain)
		rc.Options = append(rc.Options, "ndots:5")
		rc.FromNode = true
		rc.Notes = append(rc.Notes, "the node's own search domains follow these")
	case corev1.DNSDefault:
		rc.FromNode = true
	case corev1.DNSNone:
	}
	if c := pod.Spec.DNSConfig; c != nil {
		rc.Nameservers = appendUnique(rc.Nameservers, c.Nameservers...)
		rc.Searches = appendUnique(rc.Searches, c.Searches...)
		for _, o := range c.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			rc.Options = mergeOption(rc.Options, o.Name, opt)
		}
	}
	if len(rc.Nameservers) > 3 {
		rc.Notes = append(rc.Notes, fmt.Sprintf("%d nameservers: the resolver uses only the first 3", len(rc.Nameservers)))
	}
	return rc
}

func appendUnique(list []string, more ...string) []string {
	for _, m := range more {
		found := false
		for _, l := range list {
			if l == m {
				found = true
			}
		}
		if !found {
			list = append(list, m)
		}
	}
	return list
}

// mergeOption replaces an option of the same name (ndots:5 by ndots:2) or appends it.
func mergeOption(opts []string, name, opt string) []string {
	for i, o := range opts {
		if o == name || strings.HasPrefix(o, name+":") {
			opts[i] = opt
			return opts
		}
	}
	return append(opts, opt)
}
