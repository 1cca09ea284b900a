package cmd

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

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
