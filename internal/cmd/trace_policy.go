package cmd

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/policy"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

// policyVerdict reads the policies that can apply to the traffic (the namespaced kinds of the two
// pods' namespaces, every cluster-scoped kind) and the namespaces' labels, and applies them.
func (o *TraceOptions) policyVerdict(ctx context.Context, ev *cluster.Evidence, src, dst trace.Endpoint, srcPod, dstPod *corev1.Pod, enforced netmodel.Enforcement) (*trace.PolicyVerdict, []string) {
	var notes []string
	namespaces := []string{}
	nsLabels := map[string]map[string]string{}
	for _, p := range []*corev1.Pod{srcPod, dstPod} {
		if p == nil || p.Spec.HostNetwork || slices.Contains(namespaces, p.Namespace) {
			continue
		}
		namespaces = append(namespaces, p.Namespace)
		ns, err := o.clients.Kube.CoreV1().Namespaces().Get(ctx, p.Namespace, metav1.GetOptions{})
		if err != nil {
			notes = append(notes, fmt.Sprintf("cannot read namespace %s (%s): selectors on its labels are undecided", p.Namespace, cluster.Reason(err)))
			continue
		}
		nsLabels[p.Namespace] = ns.Labels
	}
	snap := policy.Read(ctx, policy.Source{Kube: o.clients.Kube, Dynamic: o.clients.Dynamic, Served: ev.Served}, namespaces)
	v := trace.PolicyVerdict{Enforced: enforced}
	v.Verdict = snap.Set().Verdict(policyEndpoint(src, srcPod, nsLabels), policyEndpoint(dst, dstPod, nsLabels), o.port)
	if n := len(snap.Objects); n > 0 && v.Enforced.State == netmodel.NotEnforced {
		notes = append(notes, fmt.Sprintf("%d policy objects could apply to these pods but %s", n, v.Enforced.Reason))
	}
	notes = append(notes, foreignPolicyNotes(snap, enforced)...)
	return &v, notes
}

// policyEndpoint is a trace endpoint as policies see it: a pod on the pod network with its labels,
// service account, named ports and namespace labels, or an address.
func policyEndpoint(e trace.Endpoint, p *corev1.Pod, nsLabels map[string]map[string]string) *policy.Endpoint {
	pe := &policy.Endpoint{IP: e.IP, Node: e.Kind == "node" || e.HostNetwork}
	if p == nil || p.Spec.HostNetwork {
		return pe
	}
	pe.IsPod, pe.Namespace, pe.Labels, pe.ServiceAccount = true, p.Namespace, p.Labels, p.Spec.ServiceAccountName
	if pe.ServiceAccount == "" {
		pe.ServiceAccount = "default"
	}
	pe.NSLabels, pe.NSLabelsKnown = nsLabels[p.Namespace]
	pe.Ports = namedPorts(p)
	return pe
}

// namedPorts are a pod's named container ports.
func namedPorts(p *corev1.Pod) map[string]corev1.ContainerPort {
	out := map[string]corev1.ContainerPort{}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name != "" {
				out[cp.Name] = cp
			}
		}
	}
	return out
}

// foreignPolicyNotes names the plugin policy kinds present that the cluster's network plugin is
// not the one to enforce.
func foreignPolicyNotes(snap *policy.Snapshot, enforced netmodel.Enforcement) []string {
	var notes []string
	counts := snap.Counts()
	var kinds []string
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		owner := policyKindOwner(snap.Served[k].Group)
		if owner == "" || enforced.State != netmodel.Enforced || strings.Contains(strings.ToLower(enforced.Reason), string(owner)) {
			continue
		}
		notes = append(notes, fmt.Sprintf("%d %s objects exist but the network plugin is %s, not %s: the verdict counts them though nothing may enforce them", counts[k], k, enforced.Reason, owner))
	}
	return notes
}

// policyKindOwner is the model whose own policy kinds the API group holds.
func policyKindOwner(group string) netmodel.Name {
	for _, m := range netmodel.Models() {
		for _, g := range m.PolicyKinds() {
			if g.Group == group {
				return m.Name()
			}
		}
	}
	return ""
}
