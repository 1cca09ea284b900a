package cluster

import (
	"context"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AddressHolders are the pods and Services that may hold a set of addresses.
type AddressHolders struct {
	Pods []Pod
	// Services are those whose ClusterIPs are among the addresses, with their endpoints (by
	// "namespace/name"), or why these could not be read.
	Services       []corev1.Service
	Endpoints      map[string][]DNSEndpoint
	EndpointErrors map[string]error
	// Notes say what could not be read.
	Notes []string
}

// ReadAddressHolders reads the pods holding the addresses, with the server-side field selector
// status.podIP (one LIST per address), or, with allPods (an address of a dual-stack cluster's
// second family is only in status.podIPs), by listing pods once; and the Services holding them.
func ReadAddressHolders(ctx context.Context, c Clients, addrs []netip.Addr, allPods bool) (*AddressHolders, error) {
	h := &AddressHolders{Endpoints: map[string][]DNSEndpoint{}, EndpointErrors: map[string]error{}}
	g := &gatherer{rest: c.CoreREST, kube: c.Kube}
	var err error
	if allPods {
		h.Pods, err = g.listPods(ctx, "")
	} else {
		in := newInterner()
		seen := map[string]bool{}
		for _, a := range addrs {
			var list *corev1.PodList
			list, err = c.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.podIP=" + a.String()})
			if err != nil {
				break
			}
			for i := range list.Items {
				if k := list.Items[i].Namespace + "/" + list.Items[i].Name; !seen[k] {
					seen[k] = true
					h.Pods = append(h.Pods, reducePod(&list.Items[i], in))
				}
			}
		}
	}
	if apierrors.IsForbidden(err) {
		h.Notes = append(h.Notes, "cannot list pods (forbidden): pods holding these addresses are not shown")
		err = nil
	}
	if err != nil {
		return nil, err
	}
	svcs, err := c.Kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		h.Notes = append(h.Notes, "cannot list Services (forbidden): ClusterIPs are not shown")
		svcs, err = &corev1.ServiceList{}, nil
	}
	if err != nil {
		return nil, err
	}
	for _, s := range svcs.Items {
		if !slices.ContainsFunc(ClusterIPsOf(&s), func(a netip.Addr) bool { return slices.Contains(addrs, a) }) {
			continue
		}
		h.Services = append(h.Services, s)
		key := s.Namespace + "/" + s.Name
		es, err := c.Kube.DiscoveryV1().EndpointSlices(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + s.Name})
		if err != nil {
			h.EndpointErrors[key] = err
			continue
		}
		h.Endpoints[key] = endpointsOf(es.Items)
	}
	return h, nil
}

// ClusterIPsOf are the Service's ClusterIPs (every family).
func ClusterIPsOf(s *corev1.Service) []netip.Addr {
	ips := s.Spec.ClusterIPs
	if len(ips) == 0 && s.Spec.ClusterIP != "" {
		ips = []string{s.Spec.ClusterIP}
	}
	var out []netip.Addr
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip); err == nil {
			out = append(out, a)
		}
	}
	return out
}
