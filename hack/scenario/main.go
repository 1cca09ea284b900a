// Command scenario applies a network-model scenario (testdata/scenarios/NAME, format in
// testdata/scenarios/README.md) to the local control plane and waits until it has settled.
// It is a test fixture loader, run by hack/cluster; it is not part of the plugin.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	fieldManager   = "podnet-scenario"
	kwokAnnotation = "kwok.x-k8s.io/node"
	completeAnno   = "scenario.podnet.dev/complete"
	nodeStatusAnno = "scenario.podnet.dev/node-status"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	dir := flag.String("dir", "", "scenario directory")
	allocate := flag.Bool("allocate-node-cidrs", true, "whether node IPAM runs")
	timeout := flag.Duration("timeout", 120*time.Second, "how long to wait for the scenario to settle")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if err := run(ctx, *kubeconfig, *dir, *allocate, *timeout); err != nil {
		fmt.Fprintf(os.Stderr, "scenario: error: %v\n", err)
		cancel()
		os.Exit(1)
	}
}

type loader struct {
	kube   kubernetes.Interface
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func run(ctx context.Context, kubeconfig, dir string, allocate bool, timeout time.Duration) error {
	start := time.Now()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 500, 1000
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	l := &loader{kube: kube, dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}

	objs, err := readDir(dir)
	if err != nil {
		return err
	}
	var crds, first, rest []*unstructured.Unstructured
	for _, o := range objs {
		switch {
		case o.GetKind() == "CustomResourceDefinition":
			crds = append(crds, o)
		case o.GetKind() == "Namespace" || o.GetKind() == "Node":
			first = append(first, o)
		default:
			rest = append(rest, o)
		}
	}
	if err := l.applyAll(ctx, crds); err != nil {
		return err
	}
	if err := l.waitCRDs(ctx, crds); err != nil {
		return err
	}
	if err := l.applyAll(ctx, first); err != nil {
		return err
	}
	deadline, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := l.waitNodes(deadline, allocate, first); err != nil {
		return err
	}
	if err := l.applyAll(ctx, rest); err != nil {
		return err
	}
	if err := l.waitPods(deadline); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "scenario: %s loaded (%d objects) and settled in %.1fs\n", filepath.Base(dir), len(objs), time.Since(start).Seconds())
	return nil
}

func readDir(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("scenario directory %s has no *.yaml files", dir)
	}
	sort.Strings(files)
	var out []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if len(m) == 0 {
				continue
			}
			u := &unstructured.Unstructured{Object: m}
			if u.GetKind() == "" || u.GetName() == "" {
				return nil, fmt.Errorf("%s: an object without kind or metadata.name", f)
			}
			out = append(out, u)
		}
	}
	return out, nil
}

func (l *loader) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, *meta.RESTMapping, error) {
	gvk := o.GroupVersionKind()
	m, err := l.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		l.mapper.Reset()
		if m, err = l.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", gvk, o.GetName(), err)
		}
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := o.GetNamespace()
		if ns == "" {
			ns = "default"
			o.SetNamespace(ns)
		}
		return l.dyn.Resource(m.Resource).Namespace(ns), m, nil
	}
	return l.dyn.Resource(m.Resource), m, nil
}

func (l *loader) applyAll(ctx context.Context, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if err := l.apply(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) apply(ctx context.Context, o *unstructured.Unstructured) error {
	ri, _, err := l.resource(o)
	if err != nil {
		return err
	}
	status, hasStatus := o.Object["status"]
	body := o.DeepCopy()
	delete(body.Object, "status")
	if o.GetKind() == "Node" && hasStatus {
		// kwok's node-initialize stage then leaves the node's addresses, capacity and nodeInfo alone
		// (hack/cluster.d/kwok.yaml): its view of a new node may predate the status patched below
		ann := body.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[nodeStatusAnno] = "scenario"
		body.SetAnnotations(ann)
	}
	data, err := json.Marshal(body.Object)
	if err != nil {
		return err
	}
	force := true
	if _, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: fieldManager, Force: &force}); err != nil {
		return fmt.Errorf("apply %s %s: %w", o.GetKind(), o.GetName(), err)
	}
	if !hasStatus || o.GetKind() == "Pod" {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	// A JSON merge patch replaces lists whole: a strategic merge would fold a dual-stack node's two
	// InternalIP addresses into one (addresses merge by type). kwok re-adds the conditions it owns.
	_, err = ri.Patch(ctx, o.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager}, "status")
	if apierrors.IsNotFound(err) {
		// A custom resource without a status subresource keeps status in the main object.
		_, err = ri.Patch(ctx, o.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager})
	}
	if err != nil {
		return fmt.Errorf("status of %s %s: %w", o.GetKind(), o.GetName(), err)
	}
	return nil
}

func (l *loader) waitCRDs(ctx context.Context, crds []*unstructured.Unstructured) error {
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, c := range crds {
		err := poll(ctx, 30*time.Second, func() (bool, string, error) {
			got, err := l.dyn.Resource(gvr).Get(ctx, c.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, ci := range conds {
				cm, _ := ci.(map[string]any)
				if cm["type"] == "Established" && cm["status"] == "True" {
					return true, "", nil
				}
			}
			return false, "CRD " + c.GetName() + " not established", nil
		})
		if err != nil {
			return err
		}
	}
	l.mapper.Reset()
	return nil
}

// waitNodes waits until kwok has made its nodes Ready, keeping the addresses the scenario gave
// (kwok initialises a node from its cache and may overwrite a status patch that raced it), and
// until node IPAM has given each node a CIDR or said why not.
func (l *loader) waitNodes(ctx context.Context, allocate bool, objs []*unstructured.Unstructured) error {
	want := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if o.GetKind() == "Node" {
			want[o.GetName()] = o
		}
	}
	return poll(ctx, 0, func() (bool, string, error) {
		nodes, err := l.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		var events *corev1.EventList
		for _, n := range nodes.Items {
			if n.Annotations[kwokAnnotation] == "fake" && !nodeReady(&n) {
				return false, "node " + n.Name + " not Ready", nil
			}
			if o := want[n.Name]; o != nil && !sameAddresses(o, &n) {
				if err := l.apply(ctx, o); err != nil {
					return false, "", err
				}
				return false, "node " + n.Name + " lost its scenario addresses; patched again", nil
			}
			if allocate && len(n.Spec.PodCIDRs) == 0 {
				if events == nil {
					if events, err = l.kube.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "reason=CIDRNotAvailable"}); err != nil {
						return false, "", err
					}
				}
				if !hasEventFor(events, n.Name) {
					return false, "node " + n.Name + " has neither a pod CIDR nor a CIDRNotAvailable event", nil
				}
			}
		}
		return true, "", nil
	})
}

// sameAddresses: the node has exactly the scenario's addresses, none missing, none added.
func sameAddresses(o *unstructured.Unstructured, n *corev1.Node) bool {
	addrs, _, _ := unstructured.NestedSlice(o.Object, "status", "addresses")
	if len(addrs) != len(n.Status.Addresses) {
		return false
	}
	for _, a := range addrs {
		am, _ := a.(map[string]any)
		found := false
		for _, got := range n.Status.Addresses {
			if string(got.Type) == am["type"] && got.Address == am["address"] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func hasEventFor(events *corev1.EventList, node string) bool {
	for _, e := range events.Items {
		if e.InvolvedObject.Kind == "Node" && e.InvolvedObject.Name == node {
			return true
		}
	}
	return false
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (l *loader) waitPods(ctx context.Context) error {
	return poll(ctx, 0, func() (bool, string, error) {
		nodes, err := l.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		fake := map[string]bool{}
		for _, n := range nodes.Items {
			if n.Annotations[kwokAnnotation] == "fake" && nodeReady(&n) {
				fake[n.Name] = true
			}
		}
		dss, err := l.kube.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		for _, ds := range dss.Items {
			if ds.Status.ObservedGeneration < ds.Generation || ds.Status.NumberReady < ds.Status.DesiredNumberScheduled {
				return false, fmt.Sprintf("daemonset %s/%s: %d of %d ready", ds.Namespace, ds.Name, ds.Status.NumberReady, ds.Status.DesiredNumberScheduled), nil
			}
		}
		deps, err := l.kube.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		for _, d := range deps.Items {
			want := int32(1)
			if d.Spec.Replicas != nil {
				want = *d.Spec.Replicas
			}
			if d.Status.ReadyReplicas < want {
				return false, fmt.Sprintf("deployment %s/%s: %d of %d ready", d.Namespace, d.Name, d.Status.ReadyReplicas, want), nil
			}
		}
		pods, err := l.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		for _, p := range pods.Items {
			if !fake[p.Spec.NodeName] {
				continue
			}
			if p.Annotations[completeAnno] == "true" {
				if p.Status.Phase != corev1.PodSucceeded {
					return false, "pod " + p.Namespace + "/" + p.Name + " not Succeeded", nil
				}
				continue
			}
			if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
				return false, "pod " + p.Namespace + "/" + p.Name + " not Running with an IP", nil
			}
		}
		return true, "", nil
	})
}

// poll calls f every 100ms until it reports done, ctx ends or (if limit > 0) limit passes.
func poll(ctx context.Context, limit time.Duration, f func() (bool, string, error)) error {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	var last string
	for {
		done, why, err := f()
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if done {
			return nil
		}
		if why != "" {
			last = why
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the scenario did not settle: %s", strings.TrimSpace(last))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
