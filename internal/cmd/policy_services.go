package cmd

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/policy"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// readServices reads the Services of the matrix's namespaces with their EndpointSlices: each
// Service port with the destination pods behind it and the port each listens on.
func (o *PolicyMatrixOptions) readServices(ctx context.Context, pods []report.MatrixPod) ([]report.ServiceBackends, error) {
	index := map[string]int{}
	for i, p := range pods {
		if p.Destination {
			index[p.Namespace+"/"+p.Name] = i
		}
	}
	type backend struct {
		pod    string
		target int32
	}
	scopes := o.scope
	if scopes == nil {
		scopes = []string{""}
	}
	var out []report.ServiceBackends
	for _, ns := range scopes {
		svcs, err := o.clients.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, o.servicesError(err, "services", ns)
		}
		slices, err := o.clients.Kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, o.servicesError(err, "endpointslices.discovery.k8s.io", ns)
		}
		bySvc := map[string][]*discoveryv1.EndpointSlice{}
		for i := range slices.Items {
			s := &slices.Items[i]
			if name := s.Labels[discoveryv1.LabelServiceName]; name != "" {
				bySvc[s.Namespace+"/"+name] = append(bySvc[s.Namespace+"/"+name], s)
			}
		}
		for _, svc := range svcs.Items {
			key := svc.Namespace + "/" + svc.Name
			for _, sp := range svc.Spec.Ports {
				proto := sp.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				sb := report.ServiceBackends{Service: key, Port: fmt.Sprintf("%d/%s", sp.Port, proto)}
				// a dual-stack Service has a slice per family: each pod counts once
				seen := map[backend]bool{}
				for _, sl := range bySvc[key] {
					target := int32(0)
					for _, p := range sl.Ports {
						if p.Name != nil && *p.Name == sp.Name && p.Port != nil {
							target = *p.Port
						}
					}
					if target == 0 {
						continue
					}
					for _, ep := range sl.Endpoints {
						if ep.TargetRef == nil || ep.TargetRef.Kind != "Pod" || ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
							continue // only ready endpoints take connections
						}
						b := backend{ep.TargetRef.Namespace + "/" + ep.TargetRef.Name, target}
						if seen[b] {
							continue
						}
						seen[b] = true
						if i, ok := index[b.pod]; ok {
							sb.Backends = append(sb.Backends, report.ServiceBackend{Pod: i, Target: policy.Port{Number: target, Protocol: proto}})
						} else {
							sb.Outside++
						}
					}
				}
				if len(sb.Backends) > 0 {
					out = append(out, sb)
				}
			}
		}
	}
	return out, nil
}

func (o *PolicyMatrixOptions) servicesError(err error, resource, ns string) error {
	if apierrors.IsForbidden(err) {
		where := "namespace " + ns
		if ns == "" {
			where = "every namespace"
		}
		return fmt.Errorf("cannot list %s in %s: forbidden: the what-if needs 'list %s' to find the connections a change breaks", resource, where, resource)
	}
	return o.apiErrorFor(o.clients, err)
}
