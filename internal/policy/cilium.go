package policy

import (
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Cilium's CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2), the L3/L4
// subset: endpoint selectors over Cilium's labels of a pod, CIDRs, entities, ports; deny rules win
// over allow rules (docs.cilium.io, "Policy Enforcement Modes", "Deny Policies").

var ciliumV2 = schema.GroupVersion{Group: "cilium.io", Version: "v2"}

// Cilium's labels of a pod besides its own (pkg/k8s/apis/cilium.io/const.go).
const (
	ciliumNamespaceLabel = "io.kubernetes.pod.namespace"
	ciliumNSLabelsPrefix = "io.cilium.k8s.namespace.labels."
	ciliumSALabel        = "io.cilium.k8s.policy.serviceaccount"
	ciliumClusterLabel   = "io.cilium.k8s.policy.cluster"
)

type ciliumCIDRSet struct {
	CIDR              string                `json:"cidr,omitempty"`
	Except            []string              `json:"except,omitempty"`
	CIDRGroupRef      string                `json:"cidrGroupRef,omitempty"`
	CIDRGroupSelector *metav1.LabelSelector `json:"cidrGroupSelector,omitempty"`
}

type ciliumPortRule struct {
	Ports []struct {
		Port     string `json:"port,omitempty"`
		EndPort  int32  `json:"endPort,omitempty"`
		Protocol string `json:"protocol,omitempty"`
	} `json:"ports,omitempty"`
	Rules          map[string]any `json:"rules,omitempty"`
	TerminatingTLS map[string]any `json:"terminatingTLS,omitempty"`
	OriginatingTLS map[string]any `json:"originatingTLS,omitempty"`
	ServerNames    []string       `json:"serverNames,omitempty"`
	Listener       map[string]any `json:"listener,omitempty"`
}

// ciliumRule holds the fields of ingress, ingressDeny, egress and egressDeny rules.
type ciliumRule struct {
	FromEndpoints  []metav1.LabelSelector `json:"fromEndpoints,omitempty"`
	ToEndpoints    []metav1.LabelSelector `json:"toEndpoints,omitempty"`
	FromRequires   []metav1.LabelSelector `json:"fromRequires,omitempty"`
	ToRequires     []metav1.LabelSelector `json:"toRequires,omitempty"`
	FromCIDR       []string               `json:"fromCIDR,omitempty"`
	ToCIDR         []string               `json:"toCIDR,omitempty"`
	FromCIDRSet    []ciliumCIDRSet        `json:"fromCIDRSet,omitempty"`
	ToCIDRSet      []ciliumCIDRSet        `json:"toCIDRSet,omitempty"`
	FromEntities   []string               `json:"fromEntities,omitempty"`
	ToEntities     []string               `json:"toEntities,omitempty"`
	FromGroups     []map[string]any       `json:"fromGroups,omitempty"`
	ToGroups       []map[string]any       `json:"toGroups,omitempty"`
	FromNodes      []metav1.LabelSelector `json:"fromNodes,omitempty"`
	ToNodes        []metav1.LabelSelector `json:"toNodes,omitempty"`
	ToServices     []map[string]any       `json:"toServices,omitempty"`
	ToFQDNs        []map[string]any       `json:"toFQDNs,omitempty"`
	ToPorts        []ciliumPortRule       `json:"toPorts,omitempty"`
	ICMPs          []map[string]any       `json:"icmps,omitempty"`
	Authentication map[string]any         `json:"authentication,omitempty"`
}

type ciliumSpec struct {
	EndpointSelector  *metav1.LabelSelector `json:"endpointSelector,omitempty"`
	NodeSelector      *metav1.LabelSelector `json:"nodeSelector,omitempty"`
	Ingress           *[]ciliumRule         `json:"ingress,omitempty"`
	IngressDeny       *[]ciliumRule         `json:"ingressDeny,omitempty"`
	Egress            *[]ciliumRule         `json:"egress,omitempty"`
	EgressDeny        *[]ciliumRule         `json:"egressDeny,omitempty"`
	Labels            []map[string]any      `json:"labels,omitempty"`
	Description       string                `json:"description,omitempty"`
	EnableDefaultDeny *struct {
		Ingress *bool `json:"ingress,omitempty"`
		Egress  *bool `json:"egress,omitempty"`
	} `json:"enableDefaultDeny,omitempty"`
	Log map[string]any `json:"log,omitempty"`
}

type ciliumKind struct{ clusterwide bool }

func (k ciliumKind) Name() string {
	if k.clusterwide {
		return "CiliumClusterwideNetworkPolicy"
	}
	return "CiliumNetworkPolicy"
}
func (k ciliumKind) Resources() []schema.GroupVersionResource {
	if k.clusterwide {
		return []schema.GroupVersionResource{ciliumV2.WithResource("ciliumclusterwidenetworkpolicies")}
	}
	return []schema.GroupVersionResource{ciliumV2.WithResource("ciliumnetworkpolicies")}
}
func (k ciliumKind) ObjectKind() string { return k.Name() }
func (k ciliumKind) Namespaced() bool   { return !k.clusterwide }
func (k ciliumKind) Aliases() []string {
	if k.clusterwide {
		return []string{"ccnp"}
	}
	return []string{"ciliumnetworkpolicies"}
}

// Decode: an object holds spec, specs, or both; each is a policy of its own.
func (k ciliumKind) Decode(obj *unstructured.Unstructured, _ *Env) []*Policy {
	ref := refOf(k, obj)
	var specs []ciliumSpec
	var one struct {
		Spec  *ciliumSpec  `json:"spec,omitempty"`
		Specs []ciliumSpec `json:"specs,omitempty"`
	}
	if err := decodeStrict(map[string]any{"spec": obj.Object["spec"], "specs": obj.Object["specs"]}, &one); err != nil {
		return []*Policy{problem(ref, StageNetwork, "%v", err)}
	}
	if one.Spec != nil {
		specs = append(specs, *one.Spec)
	}
	specs = append(specs, one.Specs...)
	var out []*Policy
	for i, s := range specs {
		r := ref
		if len(specs) > 1 {
			r.Name = fmt.Sprintf("%s[%d]", ref.Name, i)
		}
		out = append(out, k.decodeSpec(r, &s))
	}
	return out
}

func (k ciliumKind) decodeSpec(ref Ref, s *ciliumSpec) *Policy {
	p := &Policy{Ref: ref, Stage: StageNetwork}
	if s.NodeSelector != nil || s.EndpointSelector == nil {
		// a host policy: it selects nodes, never a pod on the pod network
		p.Subject = noEndpoint
		return p
	}
	sel, err := ciliumSelector(s.EndpointSelector)
	if err != nil {
		return problem(ref, StageNetwork, "its endpointSelector is invalid: %v", err)
	}
	ns := ref.Namespace
	p.Subject = func(e *Endpoint) Match {
		if !e.IsPod || (ns != "" && e.Namespace != ns) {
			return no
		}
		return sel(e)
	}
	defaultDeny := func(set *bool) bool { return set == nil || *set }
	var ddIn, ddOut *bool
	if s.EnableDefaultDeny != nil {
		ddIn, ddOut = s.EnableDefaultDeny.Ingress, s.EnableDefaultDeny.Egress
	}
	for _, d := range []struct {
		allow, deny *[]ciliumRule
		dd          *bool
		sec         **Section
		dir         Direction
	}{{s.Ingress, s.IngressDeny, ddIn, &p.Ingress, Ingress}, {s.Egress, s.EgressDeny, ddOut, &p.Egress, Egress}} {
		if d.allow == nil && d.deny == nil {
			continue
		}
		// default deny comes with at least one rule in the direction: an empty list enforces
		// nothing (pkg/policy/api rule_validation.go)
		n := 0
		for _, l := range []*[]ciliumRule{d.allow, d.deny} {
			if l != nil {
				n += len(*l)
			}
		}
		sec := &Section{Isolates: defaultDeny(d.dd) && n > 0}
		for _, set := range []struct {
			rules  *[]ciliumRule
			action Action
		}{{d.allow, ActionAllow}, {d.deny, ActionDeny}} {
			if set.rules == nil {
				continue
			}
			for i, r := range *set.rules {
				rule, err := ciliumRuleOf(ns, r, d.dir, set.action)
				if err != nil {
					return problem(ref, StageNetwork, "%s rule #%d: %v", strings.ToLower(string(d.dir)), i+1, err)
				}
				sec.Rules = append(sec.Rules, rule)
			}
		}
		*d.sec = sec
	}
	return p
}

func ciliumRuleOf(ns string, r ciliumRule, d Direction, action Action) (Rule, error) {
	eps, requires, cidrs, cidrSets, entities, groups, nodes := r.FromEndpoints, r.FromRequires, r.FromCIDR, r.FromCIDRSet, r.FromEntities, r.FromGroups, r.FromNodes
	if d == Egress {
		eps, requires, cidrs, cidrSets, entities, groups, nodes = r.ToEndpoints, r.ToRequires, r.ToCIDR, r.ToCIDRSet, r.ToEntities, r.ToGroups, r.ToNodes
	}
	var ms []Matcher
	l3 := eps != nil || cidrs != nil || cidrSets != nil || entities != nil || groups != nil || nodes != nil || r.ToServices != nil || r.ToFQDNs != nil
	for _, sel := range eps {
		m, err := ciliumPeerSelector(ns, &sel)
		if err != nil {
			return Rule{}, err
		}
		ms = append(ms, m)
	}
	for _, c := range cidrs {
		m, err := ciliumCIDR(c, nil)
		if err != nil {
			return Rule{}, err
		}
		ms = append(ms, m)
	}
	for _, c := range cidrSets {
		if c.CIDR == "" {
			ms = append(ms, unknownPeer("a CIDR set refers to a CiliumCIDRGroup, which the engine does not read"))
			continue
		}
		m, err := ciliumCIDR(c.CIDR, c.Except)
		if err != nil {
			return Rule{}, err
		}
		ms = append(ms, m)
	}
	for _, ent := range entities {
		ms = append(ms, ciliumEntity(ent))
	}
	if groups != nil {
		ms = append(ms, unknownPeer("a groups peer names cloud provider groups, which the engine does not resolve"))
	}
	if nodes != nil {
		ms = append(ms, nodesPeer)
	}
	if r.ToServices != nil {
		ms = append(ms, unknownPeer("a toServices peer depends on the Service's backends as Cilium resolves them"))
	}
	if r.ToFQDNs != nil {
		ms = append(ms, domainPeer)
	}
	rule := Rule{Action: action, Peer: anyOf(ms), Ports: anyPort}
	if !l3 {
		// an L4-only rule applies to every peer; an empty rule to none (it only turns on default
		// deny)
		rule.Peer = anyEndpoint
		if r.ToPorts == nil && r.ICMPs == nil {
			rule.Peer = noEndpoint
		}
	}
	if requires != nil {
		peer := rule.Peer
		rule.Peer = func(e *Endpoint) Match {
			return andM(peer(e), maybe("fromRequires/toRequires add conditions across policies, which the engine does not evaluate"))
		}
	}
	switch {
	case r.ToPorts != nil:
		var pms []PortMatcher
		for _, pr := range r.ToPorts {
			l7 := pr.Rules != nil || pr.TerminatingTLS != nil || pr.OriginatingTLS != nil || pr.ServerNames != nil || pr.Listener != nil
			for _, pp := range pr.Ports {
				pm, err := ciliumPort(pp.Port, pp.EndPort, pp.Protocol)
				if err != nil {
					return Rule{}, err
				}
				if l7 && action == ActionAllow {
					inner := pm
					pm = func(p Port, dst *Endpoint) Match {
						return andM(inner(p, dst), maybe("an L7 rule (HTTP, DNS, Kafka, TLS) decides per request on this port"))
					}
				}
				pms = append(pms, pm)
			}
			if len(pr.Ports) == 0 {
				pms = append(pms, anyPort)
			}
		}
		rule.Ports = anyPortOf(pms)
	case r.ICMPs != nil:
		// ICMP rules allow ICMP, not the port traffic the engine evaluates
		rule.Ports = func(Port, *Endpoint) Match { return no }
	}
	return rule, nil
}

// ciliumPort matches Cilium's port: a number, "0" for every port, or a named port.
func ciliumPort(port string, end int32, proto string) (PortMatcher, error) {
	if strings.EqualFold(proto, "ANY") {
		proto = ""
	}
	if port == "" || port == "0" {
		return portRange(proto, 0, 0), nil
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return namedPort(proto, port), nil
	}
	if n < 1 || n > 65535 {
		return nil, fmt.Errorf("port %q is out of range", port)
	}
	hi := int32(n)
	if end > hi {
		hi = end
	}
	return portRange(proto, int32(n), hi), nil
}

// ciliumCIDR: CIDR rules select addresses outside the cluster, never a pod's or, in Cilium's
// default policy-cidr-match-mode, a node's.
func ciliumCIDR(cidr string, except []string) (Matcher, error) {
	m, err := cidrMatcher(cidr, except)
	if err != nil {
		return nil, err
	}
	return func(e *Endpoint) Match {
		if e.IsPod {
			return no
		}
		if e.Node {
			return maybe("Cilium matches a CIDR rule on a node's address only with policy-cidr-match-mode=nodes")
		}
		return m(e)
	}, nil
}

// ciliumEntity: the entities a pod on the pod network can be are all and cluster; what an address
// that is no pod is, the engine does not know for every entity.
func ciliumEntity(ent string) Matcher {
	switch ent {
	case "all":
		return anyEndpoint
	case "cluster":
		return func(e *Endpoint) Match {
			if e.IsPod || e.Node {
				return yes
			}
			return maybe("entity cluster: whether the address is the cluster's depends on Cilium's identities")
		}
	case "world", "world-ipv4", "world-ipv6":
		return func(e *Endpoint) Match {
			if e.IsPod || e.Node {
				return no
			}
			return maybe("entity " + ent + ": whether the address is outside the cluster depends on Cilium's identities")
		}
	}
	return func(e *Endpoint) Match {
		if e.IsPod {
			return no
		}
		return maybe("entity " + ent + " is not evaluated for an address that is no pod")
	}
}

// ciliumPeerSelector: in a namespaced policy, endpoints selectors select the policy's namespace
// unless they name the namespace label themselves.
func ciliumPeerSelector(ns string, sel *metav1.LabelSelector) (Matcher, error) {
	m, err := ciliumSelector(sel)
	if err != nil {
		return nil, err
	}
	// Cilium adds the policy's namespace unless the selector names a namespace or namespace labels
	// (pkg/k8s/apis/cilium.io/utils/utils.go); a selector on reserved labels is left alone
	restrict := ns != "" && !selectorReads(sel, func(k string) bool {
		return k == ciliumNamespaceLabel || strings.HasPrefix(k, ciliumNSLabelsPrefix)
	})
	return func(e *Endpoint) Match {
		if !e.IsPod || (restrict && e.Namespace != ns) {
			return no
		}
		return m(e)
	}, nil
}

// ciliumKey strips a label source ("k8s:", "any:") from a selector key; other sources
// ("reserved:", "cidr:") never label a pod.
func ciliumKey(k string) (string, bool) {
	if i := strings.Index(k, ":"); i >= 0 {
		switch k[:i] {
		case "k8s", "any":
			return k[i+1:], true
		}
		return "", false
	}
	return k, true
}

func selectorReads(sel *metav1.LabelSelector, key func(string) bool) bool {
	for k := range sel.MatchLabels {
		if s, ok := ciliumKey(k); ok && key(s) {
			return true
		}
	}
	for _, r := range sel.MatchExpressions {
		if s, ok := ciliumKey(r.Key); ok && key(s) {
			return true
		}
	}
	return false
}

// ciliumSelector matches a pod's Cilium labels: its own, its namespace's name and labels, its
// service account.
func ciliumSelector(sel *metav1.LabelSelector) (Matcher, error) {
	norm := metav1.LabelSelector{MatchLabels: map[string]string{}}
	foreign := false
	readsNS, readsCluster := false, false
	note := func(k string) {
		readsNS = readsNS || strings.HasPrefix(k, ciliumNSLabelsPrefix)
		readsCluster = readsCluster || k == ciliumClusterLabel
	}
	for k, v := range sel.MatchLabels {
		s, ok := ciliumKey(k)
		if !ok {
			foreign = true
			continue
		}
		note(s)
		norm.MatchLabels[s] = v
	}
	for _, r := range sel.MatchExpressions {
		s, ok := ciliumKey(r.Key)
		if !ok {
			if r.Operator == metav1.LabelSelectorOpIn || r.Operator == metav1.LabelSelectorOpExists {
				foreign = true
			}
			continue
		}
		note(s)
		r.Key = s
		norm.MatchExpressions = append(norm.MatchExpressions, r)
	}
	m, err := labelMatcher(&norm)
	if err != nil {
		return nil, err
	}
	return func(e *Endpoint) Match {
		if foreign {
			return no
		}
		l := make(map[string]string, len(e.Labels)+len(e.NSLabels)+3)
		for k, v := range e.Labels {
			l[k] = v
		}
		l[ciliumNamespaceLabel] = e.Namespace
		if e.ServiceAccount != "" {
			l[ciliumSALabel] = e.ServiceAccount
		}
		for k, v := range e.NSLabels {
			l[ciliumNSLabelsPrefix+k] = v
		}
		r := matchOf(m(l))
		switch {
		case readsNS && !e.NSLabelsKnown:
			return andM(r, maybe("the labels of namespace "+e.Namespace+" could not be read"))
		case readsCluster:
			return andM(r, maybe("the selector reads the Cilium cluster name, which the engine does not know"))
		}
		return r
	}, nil
}
