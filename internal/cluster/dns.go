package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

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
