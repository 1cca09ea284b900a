package policy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Discovery is the part of discovery the reader needs.
type Discovery interface {
	ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error)
}

// Object is a policy object as read (or given in a file), with its kind.
type Object struct {
	Kind Kind
	Obj  *unstructured.Unstructured
}

// Ref names the object.
func (o Object) Ref() Ref { return refOf(o.Kind, o.Obj) }

// Snapshot is what was read of a cluster's policies.
type Snapshot struct {
	Objects []Object
	Env     Env
	// Unread are the reads that failed, each naming what could not be read and why: every verdict
	// they could touch is unknown.
	Unread []string
	// Served are the kinds the cluster serves, by name, with the resource read.
	Served map[string]schema.GroupVersionResource
}

// Set decodes the snapshot's objects into an ordered set.
func (s *Snapshot) Set() *Set {
	var ps []*Policy
	for _, o := range s.Objects {
		ps = append(ps, o.Kind.Decode(o.Obj, &s.Env)...)
	}
	return NewSet(ps, s.Unread)
}

// Counts are the number of objects per kind, for a summary line.
func (s *Snapshot) Counts() map[string]int {
	out := map[string]int{}
	for _, o := range s.Objects {
		out[o.Kind.Name()]++
	}
	return out
}

// Source is where policies are read: NetworkPolicies through the typed client, every other kind
// through the dynamic client where Served says the cluster has it.
type Source struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Served reports whether discovery shows a resource, or why that cannot be told.
	Served func(schema.GroupVersionResource) (bool, string)
}

// Read reads the policies of every kind the cluster serves: the namespaced kinds in namespaces
// (every namespace when nil), the cluster-scoped ones whole, and the tiers of the plugins that have
// them.
func Read(ctx context.Context, src Source, namespaces []string) *Snapshot {
	s := &Snapshot{Served: map[string]schema.GroupVersionResource{}}
	untold := map[string][]string{}
	defer func() {
		for _, why := range slices.Sorted(maps.Keys(untold)) {
			s.Unread = append(s.Unread, fmt.Sprintf("cannot tell whether the cluster has %s (%s)", strings.Join(untold[why], ", "), why))
		}
	}()
	for _, k := range Kinds() {
		var gvr schema.GroupVersionResource
		if _, builtin := k.(networkPolicyKind); builtin {
			gvr = k.Resources()[0]
		} else {
			var ok bool
			var err string
			gvr, ok, err = firstServed(src.Served, k.Resources())
			if err != "" {
				untold[err] = append(untold[err], plural(k))
				continue
			}
			if !ok {
				continue
			}
		}
		s.Served[k.Name()] = gvr
		scopes := []string{""}
		if k.Namespaced() && namespaces != nil {
			scopes = namespaces
		}
		for _, ns := range scopes {
			items, err := list(ctx, src, k, gvr, ns)
			if err != nil {
				s.Unread = append(s.Unread, readFailure(k, gvr, ns, err))
				continue
			}
			for _, o := range items {
				s.Objects = append(s.Objects, Object{Kind: k, Obj: o})
			}
		}
	}
	s.readTiers(ctx, src.Dynamic, src.Served)
	return s
}

// list reads one kind in one namespace ("" for all, or for a cluster-scoped kind).
func list(ctx context.Context, src Source, k Kind, gvr schema.GroupVersionResource, ns string) ([]*unstructured.Unstructured, error) {
	if _, builtin := k.(networkPolicyKind); builtin {
		l, err := src.Kube.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		out := make([]*unstructured.Unstructured, 0, len(l.Items))
		for i := range l.Items {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&l.Items[i])
			if err != nil {
				return nil, err
			}
			u := &unstructured.Unstructured{Object: m}
			u.SetAPIVersion("networking.k8s.io/v1")
			u.SetKind(KindNetworkPolicy)
			out = append(out, u)
		}
		return out, nil
	}
	var l *unstructured.UnstructuredList
	var err error
	if k.Namespaced() {
		l, err = src.Dynamic.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	} else {
		l, err = src.Dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
	}
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out, nil
}

// readTiers reads Calico's and Antrea's Tiers when their policies are served.
func (s *Snapshot) readTiers(ctx context.Context, dyn dynamic.Interface, served func(schema.GroupVersionResource) (bool, string)) {
	var unread []string
	if gvr, ok, _ := firstServed(served, CalicoTierResources); ok {
		s.Env.CalicoTiers = map[string]CalicoTier{}
		list, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			unread = append(unread, "Calico Tiers: "+reason(err))
		} else {
			for _, t := range list.Items {
				ct := CalicoTier{Order: inf, DefaultAction: ActionDeny}
				if o, ok, _ := unstructured.NestedFloat64(t.Object, "spec", "order"); ok {
					ct.Order = o
				} else if o, ok, _ := unstructured.NestedInt64(t.Object, "spec", "order"); ok {
					ct.Order = float64(o)
				}
				if a, _, _ := unstructured.NestedString(t.Object, "spec", "defaultAction"); a == "Pass" {
					ct.DefaultAction = ActionPass
				}
				s.Env.CalicoTiers[t.GetName()] = ct
			}
		}
	}
	if gvr, ok, _ := firstServed(served, AntreaTierResources); ok {
		s.Env.AntreaTiers = map[string]float64{}
		list, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			unread = append(unread, "Antrea Tiers: "+reason(err))
		} else {
			for _, t := range list.Items {
				if p, ok, _ := unstructured.NestedInt64(t.Object, "spec", "priority"); ok {
					s.Env.AntreaTiers[t.GetName()] = float64(p)
				}
			}
		}
	}
	s.Env.TiersUnread = strings.Join(unread, "; ")
}

// DiscoveryServed asks discovery, once per group version, which resources it serves.
func DiscoveryServed(disc Discovery) func(schema.GroupVersionResource) (bool, string) {
	lists := map[string]map[string]bool{}
	failed := map[string]string{}
	return func(gvr schema.GroupVersionResource) (bool, string) {
		gv := gvr.GroupVersion().String()
		if why, ok := failed[gv]; ok {
			return false, why
		}
		rs, ok := lists[gv]
		if !ok {
			list, err := disc.ServerResourcesForGroupVersion(gv)
			switch {
			case apierrors.IsNotFound(err):
				rs = map[string]bool{}
			case err != nil:
				failed[gv] = "discovery of " + gv + ": " + reason(err)
				return false, failed[gv]
			default:
				rs = map[string]bool{}
				for _, r := range list.APIResources {
					rs[r.Name] = true
				}
			}
			lists[gv] = rs
		}
		return rs[gvr.Resource], ""
	}
}

func firstServed(served func(schema.GroupVersionResource) (bool, string), gvrs []schema.GroupVersionResource) (schema.GroupVersionResource, bool, string) {
	var why []string
	for _, g := range gvrs {
		ok, err := served(g)
		if ok {
			return g, true, ""
		}
		if err != "" && !slices.Contains(why, err) {
			why = append(why, err)
		}
	}
	if len(why) > 0 {
		return schema.GroupVersionResource{}, false, strings.Join(why, "; ")
	}
	return schema.GroupVersionResource{}, false, ""
}

func readFailure(k Kind, gvr schema.GroupVersionResource, ns string, err error) string {
	where := ""
	if ns != "" {
		where = " in namespace " + ns
	}
	what := fmt.Sprintf("cannot read the %s%s (%s)", plural(k), where, reason(err))
	if apierrors.IsForbidden(err) {
		verb := "list " + gvr.Resource
		if gvr.Group != "" {
			verb += "." + gvr.Group
		}
		what += ": you need '" + verb + "'"
	}
	return what
}

func plural(k Kind) string {
	n := k.Name()
	if strings.HasSuffix(n, "y") {
		return n[:len(n)-1] + "ies"
	}
	return n + "s"
}

// reason is an API error in a few words.
func reason(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "forbidden"
	case apierrors.IsNotFound(err):
		return "not served"
	case apierrors.IsUnauthorized(err):
		return "unauthorized"
	}
	return err.Error()
}

// SortObjects orders objects by kind, namespace and name.
func SortObjects(objs []Object) {
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].Ref().String() < objs[j].Ref().String() })
}
