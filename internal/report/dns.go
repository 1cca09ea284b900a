package report

import (
	"fmt"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	corev1 "k8s.io/api/core/v1"
)

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
func PodResolvConf(pod *corev1.Pod, dns *cluster.ClusterDNS) *ResolvConf {
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
