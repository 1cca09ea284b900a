package cmd

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// refKind is what a command-line argument names.
type refKind string

// Argument kinds.
const (
	refPod      refKind = "pod"
	refNode     refKind = "node"
	refService  refKind = "service"
	refWorkload refKind = "workload"
	refAddress  refKind = "address"
)

// objectRef is an argument as kubectl names objects: NAME and NS/NAME (pods), TYPE/NAME
// (pod/, node/, svc/, deploy/, sts/, ds/, job/, rs/) or an IP address.
type objectRef struct {
	Kind      refKind
	Namespace string
	Name      string
	// Resource is the workload's kind, singular (deployment, statefulset, ...).
	Resource string
	Addr     netip.Addr
}

// String names the reference as the user would.
func (r objectRef) String() string {
	switch r.Kind {
	case refNode:
		return "node/" + r.Name
	case refAddress:
		return r.Addr.String()
	case refService:
		return "service " + r.Namespace + "/" + r.Name
	case refWorkload:
		return r.Resource + " " + r.Namespace + "/" + r.Name
	}
	return "pod " + r.Namespace + "/" + r.Name
}

// typeAliases maps kubectl's type names and short names to the kinds they name.
var typeAliases = map[string]struct {
	kind     refKind
	resource string
}{
	"pod": {refPod, ""}, "pods": {refPod, ""}, "po": {refPod, ""},
	"node": {refNode, ""}, "nodes": {refNode, ""}, "no": {refNode, ""},
	"svc": {refService, ""}, "service": {refService, ""}, "services": {refService, ""},
	"deploy": {refWorkload, "deployment"}, "deployment": {refWorkload, "deployment"}, "deployments": {refWorkload, "deployment"},
	"sts": {refWorkload, "statefulset"}, "statefulset": {refWorkload, "statefulset"}, "statefulsets": {refWorkload, "statefulset"},
	"ds": {refWorkload, "daemonset"}, "daemonset": {refWorkload, "daemonset"}, "daemonsets": {refWorkload, "daemonset"},
	"rs": {refWorkload, "replicaset"}, "replicaset": {refWorkload, "replicaset"}, "replicasets": {refWorkload, "replicaset"},
	"job": {refWorkload, "job"}, "jobs": {refWorkload, "job"},
}

const refForms = "use NAME or NAMESPACE/NAME (a pod), TYPE/NAME (pod/, node/, svc/, deploy/, sts/, ds/, job/, rs/; -n for the namespace) or an IP address"

// parseRef reads an argument; ns is the namespace of -n (or the context's). Anything made of
// digits and dots, or with a colon, is read as an IP address and nothing else.
func parseRef(arg, ns string) (objectRef, error) {
	if looksLikeAddress(arg) {
		a, err := netip.ParseAddr(arg)
		if err != nil {
			return objectRef{}, fmt.Errorf("%q is not an IP address: give a valid IPv4 or IPv6 address, or %s", arg, refForms)
		}
		return objectRef{Kind: refAddress, Addr: a}, nil
	}
	parts := strings.Split(arg, "/")
	for _, p := range parts {
		if p == "" {
			return objectRef{}, fmt.Errorf("bad argument %q: %s", arg, refForms)
		}
	}
	if t, ok := typeAliases[strings.ToLower(parts[0])]; ok && len(parts) > 1 {
		r := objectRef{Kind: t.kind, Resource: t.resource, Namespace: ns}
		switch {
		case len(parts) == 2:
			r.Name = parts[1]
		case len(parts) == 3 && t.kind != refNode:
			r.Namespace, r.Name = parts[1], parts[2] // svc/NS/NAME, deploy/NS/NAME
		default:
			return objectRef{}, fmt.Errorf("bad argument %q: %s", arg, refForms)
		}
		if t.kind == refNode {
			r.Namespace = ""
		}
		return r, nil
	}
	switch len(parts) {
	case 1:
		return objectRef{Kind: refPod, Namespace: ns, Name: parts[0]}, nil
	case 2:
		return objectRef{Kind: refPod, Namespace: parts[0], Name: parts[1]}, nil
	}
	return objectRef{}, fmt.Errorf("bad argument %q: %s", arg, refForms)
}

// looksLikeAddress: only digits and dots (an IPv4 address, maybe a wrong one), or a colon (IPv6;
// no Kubernetes name has one).
func looksLikeAddress(s string) bool {
	if strings.Contains(s, ":") && !strings.Contains(s, "/") {
		return true
	}
	if s == "" || !strings.Contains(s, ".") {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// workloadPod picks the pod of a workload a probe or a trace uses: a running pod that holds an
// address, the first by name, so that the same command picks the same pod again.
func workloadPod(ctx context.Context, kube kubernetes.Interface, r objectRef) (*corev1.Pod, error) {
	pods, err := workloadPods(ctx, kube, r)
	if err != nil {
		return nil, err
	}
	return pods[0], nil
}

// workloadPods are the running pods with an address that the workload's selector selects, by
// name; none is an error that says how many pods it selects.
func workloadPods(ctx context.Context, kube kubernetes.Interface, r objectRef) ([]*corev1.Pod, error) {
	var sel *metav1.LabelSelector
	var err error
	switch r.Resource {
	case "deployment":
		obj, e := kube.AppsV1().Deployments(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err = e; e == nil {
			sel = obj.Spec.Selector
		}
	case "statefulset":
		obj, e := kube.AppsV1().StatefulSets(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err = e; e == nil {
			sel = obj.Spec.Selector
		}
	case "daemonset":
		obj, e := kube.AppsV1().DaemonSets(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err = e; e == nil {
			sel = obj.Spec.Selector
		}
	case "replicaset":
		obj, e := kube.AppsV1().ReplicaSets(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err = e; e == nil {
			sel = obj.Spec.Selector
		}
	case "job":
		obj, e := kube.BatchV1().Jobs(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err = e; e == nil {
			sel = obj.Spec.Selector
		}
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("%s not found: check the name and the namespace (-n)", r)
	case err != nil:
		return nil, err
	case sel == nil:
		return nil, fmt.Errorf("%s has no pod selector", r)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return nil, fmt.Errorf("%s has a pod selector that selects nothing usable (%v)", r, err)
	}
	running, selected, err := runningPods(ctx, kube, r.Namespace, s.String())
	if err != nil {
		return nil, err
	}
	if len(running) == 0 {
		return nil, fmt.Errorf("%s has no running pod with an address (%d pod(s) selected by %s)", r, selected, s)
	}
	return running, nil
}

// runningPods lists the pods of namespace ns that the label selector selects and keeps the
// running ones that hold an address, by name; selected is how many the selector matched.
func runningPods(ctx context.Context, kube kubernetes.Interface, ns, selector string) (running []*corev1.Pod, selected int, err error) {
	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, 0, err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase == corev1.PodRunning && len(p.Status.PodIPs) > 0 {
			running = append(running, p)
		}
	}
	sort.Slice(running, func(i, j int) bool { return running[i].Name < running[j].Name })
	return running, len(pods.Items), nil
}
