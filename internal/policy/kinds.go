package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kind is one policy kind's descriptor: where it is read and how its objects become Policies.
// Callers ask it; they never switch on its name.
type Kind interface {
	// Name is the kind as users write it ("NetworkPolicy", "CiliumNetworkPolicy").
	Name() string
	// Resources are the API resources serving the kind, preferred first: the first one discovery
	// shows is read.
	Resources() []schema.GroupVersionResource
	// ObjectKind is the kind objects of it carry in their "kind" field.
	ObjectKind() string
	// Namespaced reports whether the kind's objects live in namespaces.
	Namespaced() bool
	// Aliases are the other names users give the kind on the command line (resource names, short
	// names), lower case.
	Aliases() []string
	// Decode turns one object into the policies it holds (a Cilium object may hold several
	// specs). An object the engine cannot evaluate becomes a policy with a Problem, never an
	// error: it still applies, the verdicts it may touch are unknown.
	Decode(obj *unstructured.Unstructured, env *Env) []*Policy
}

// Env is what decoding needs beyond the object: the tiers of the plugins that have them.
type Env struct {
	// CalicoTiers and AntreaTiers are the tiers read from the API, by name.
	CalicoTiers map[string]CalicoTier
	AntreaTiers map[string]float64
	// TiersUnread says why tiers could not be read; policies in tiers other than the built-in
	// ones then cannot be ordered.
	TiersUnread string
}

// CalicoTier is a Calico Tier's order and default action.
type CalicoTier struct {
	Order         float64
	DefaultAction Action
}

// Kind names the engine knows.
const (
	KindNetworkPolicy = "NetworkPolicy"
)

// Kinds are every policy kind's descriptor, in the order they are read.
func Kinds() []Kind {
	return []Kind{networkPolicyKind{}, adminNetworkPolicyKind{}, baselineAdminNetworkPolicyKind{}, clusterNetworkPolicyKind{},
		calicoKind{global: false}, calicoKind{global: true}, ciliumKind{clusterwide: false}, ciliumKind{clusterwide: true},
		antreaKind{cluster: true}, antreaKind{cluster: false}}
}

// KindFor finds a kind by name, resource name or alias, case-insensitively.
func KindFor(name string) (Kind, bool) {
	n := strings.ToLower(name)
	for _, k := range Kinds() {
		if strings.ToLower(k.Name()) == n {
			return k, true
		}
		for _, a := range k.Aliases() {
			if a == n {
				return k, true
			}
		}
		for _, r := range k.Resources() {
			if r.Resource == n || r.Resource+"."+r.Group == n {
				return k, true
			}
		}
	}
	return nil, false
}

// KindOf finds the kind of an object by its apiVersion and kind.
func KindOf(apiVersion, kind string) (Kind, bool) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, false
	}
	for _, k := range Kinds() {
		if k.ObjectKind() != kind {
			continue
		}
		for _, r := range k.Resources() {
			if r.Group == gv.Group {
				return k, true
			}
		}
	}
	return nil, false
}

// problem is a policy that cannot be evaluated: it may apply to the pods of its namespace (every
// pod for a cluster-scoped kind).
func problem(ref Ref, stage Stage, format string, args ...any) *Policy {
	ns := ref.Namespace
	return &Policy{Ref: ref, Stage: stage, Problem: fmt.Sprintf(format, args...),
		Subject: func(e *Endpoint) Match { return matchOf(e.IsPod && (ns == "" || e.Namespace == ns)) }}
}

// decodeSpec decodes the object's spec into v, refusing fields v does not know: a field of a newer
// API version the engine does not evaluate must not be silently ignored.
func decodeSpec(obj *unstructured.Unstructured, v any) error {
	return decodeStrict(obj.Object["spec"], v)
}

// decodeStrict decodes an unstructured value into v, refusing unknown fields.
func decodeStrict(in any, v any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("its spec is not understood (%v)", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// refOf names the object.
func refOf(k Kind, obj *unstructured.Unstructured) Ref {
	return Ref{Kind: k.Name(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// labelMatcher compiles a Kubernetes label selector; nil selects everything.
func labelMatcher(sel *metav1.LabelSelector) (func(map[string]string) bool, error) {
	if sel == nil {
		return func(map[string]string) bool { return true }, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	return func(l map[string]string) bool { return s.Matches(labels.Set(l)) }, nil
}

// podsIn matches pods whose namespace is ns ("" for any) and whose labels match.
func podsIn(ns string, podSel func(map[string]string) bool) Matcher {
	return func(e *Endpoint) Match {
		return matchOf(e.IsPod && (ns == "" || e.Namespace == ns) && podSel(e.Labels))
	}
}

// podsInNamespaces matches pods whose namespace's labels match nsSel and whose labels match podSel.
func podsInNamespaces(nsSel, podSel func(map[string]string) bool) Matcher {
	return func(e *Endpoint) Match {
		if !e.IsPod || !podSel(e.Labels) {
			return no
		}
		if !e.NSLabelsKnown {
			return maybe("the labels of namespace " + e.Namespace + " could not be read")
		}
		return matchOf(nsSel(e.NSLabels))
	}
}

// cidrMatcher matches addresses in cidr but not in except.
func cidrMatcher(cidr string, except []string) (Matcher, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("bad CIDR %q", cidr)
	}
	var ex []netip.Prefix
	for _, e := range except {
		q, err := netip.ParsePrefix(e)
		if err != nil {
			return nil, fmt.Errorf("bad CIDR %q", e)
		}
		ex = append(ex, q)
	}
	return func(e *Endpoint) Match {
		if !e.IP.IsValid() || !p.Contains(e.IP) {
			return no
		}
		for _, q := range ex {
			if q.Contains(e.IP) {
				return no
			}
		}
		return yes
	}, nil
}

// anyOf is the union of matchers; none matches nothing.
func anyOf(ms []Matcher) Matcher {
	switch len(ms) {
	case 0:
		return noEndpoint
	case 1:
		return ms[0]
	}
	return func(e *Endpoint) Match {
		out := no
		for _, m := range ms {
			if r := m(e); r.Tri == Yes {
				return yes
			} else if r.Tri == Maybe && out.Tri == No {
				out = r
			}
		}
		return out
	}
}

// anyPortOf is the union of port matchers; none matches no port.
func anyPortOf(ms []PortMatcher) PortMatcher {
	switch len(ms) {
	case 0:
		return func(Port, *Endpoint) Match { return no }
	case 1:
		return ms[0]
	}
	return func(p Port, dst *Endpoint) Match {
		out := no
		for _, m := range ms {
			if r := m(p, dst); r.Tri == Yes {
				return yes
			} else if r.Tri == Maybe && out.Tri == No {
				out = r
			}
		}
		return out
	}
}

// portRange matches a protocol ("" for any) and a port range (0-0 for any port).
func portRange(proto string, lo, hi int32) PortMatcher {
	return func(p Port, _ *Endpoint) Match {
		if proto != "" && !strings.EqualFold(proto, string(p.Protocol)) {
			return no
		}
		return matchOf(lo == 0 && hi == 0 || p.Number >= lo && p.Number <= hi)
	}
}

// namedPort matches a named container port of the destination pod.
func namedPort(proto, name string) PortMatcher {
	return func(p Port, dst *Endpoint) Match {
		if proto != "" && !strings.EqualFold(proto, string(p.Protocol)) {
			return no
		}
		cp, ok := dst.Ports[name]
		if !ok {
			return no
		}
		return matchOf(cp.ContainerPort == p.Number && (cp.Protocol == "" || cp.Protocol == p.Protocol))
	}
}
