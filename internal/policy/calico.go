package policy

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Calico's NetworkPolicy and GlobalNetworkPolicy (projectcalico.org/v3 through the Calico API
// server, or crd.projectcalico.org/v1 as stored): tiers by order, policies by order within their
// tier, rules first-match; an endpoint a tier's policy selected and no rule matched gets the tier's
// default action (docs.tigera.io, "Get started with policy tiers" and the NetworkPolicy reference).

var (
	calicoV3    = schema.GroupVersion{Group: "projectcalico.org", Version: "v3"}
	calicoCRDv1 = schema.GroupVersion{Group: "crd.projectcalico.org", Version: "v1"}
)

// CalicoTierResources are where Calico's Tiers are read, preferred first.
var CalicoTierResources = []schema.GroupVersionResource{calicoV3.WithResource("tiers"), calicoCRDv1.WithResource("tiers")}

// calicoBuiltinTiers are the orders of the tiers Calico creates itself, for when Tiers cannot be
// read (Calico's Tier reference: default 1,000,000; the tiers of the admin and baseline admin
// network policies 1,000 and 10,000,000).
var calicoBuiltinTiers = map[string]CalicoTier{
	"default":                    {Order: CalicoDefaultTierOrder, DefaultAction: ActionDeny},
	"adminnetworkpolicy":         {Order: 1_000, DefaultAction: ActionPass},
	"baselineadminnetworkpolicy": {Order: 10_000_000, DefaultAction: ActionPass},
}

// Calico's labels of a workload endpoint besides the pod's own.
const (
	calicoNamespaceLabel    = "projectcalico.org/namespace"
	calicoOrchestratorLabel = "projectcalico.org/orchestrator"
	calicoSALabel           = "projectcalico.org/serviceaccount"
	calicoNameLabel         = "projectcalico.org/name"
	calicoNSPrefix          = "pcns."
	calicoSAPrefix          = "pcsa."
)

type calicoEntity struct {
	Nets              []string `json:"nets,omitempty"`
	NotNets           []string `json:"notNets,omitempty"`
	Selector          string   `json:"selector,omitempty"`
	NotSelector       string   `json:"notSelector,omitempty"`
	NamespaceSelector string   `json:"namespaceSelector,omitempty"`
	Ports             []any    `json:"ports,omitempty"`
	NotPorts          []any    `json:"notPorts,omitempty"`
	ServiceAccounts   *struct {
		Names    []string `json:"names,omitempty"`
		Selector string   `json:"selector,omitempty"`
	} `json:"serviceAccounts,omitempty"`
	Services *struct {
		Name      string `json:"name,omitempty"`
		Namespace string `json:"namespace,omitempty"`
	} `json:"services,omitempty"`
}

type calicoRule struct {
	Action      string         `json:"action"`
	Protocol    any            `json:"protocol,omitempty"`
	NotProtocol any            `json:"notProtocol,omitempty"`
	ICMP        map[string]any `json:"icmp,omitempty"`
	NotICMP     map[string]any `json:"notICMP,omitempty"`
	IPVersion   *int           `json:"ipVersion,omitempty"`
	Source      calicoEntity   `json:"source,omitempty"`
	Destination calicoEntity   `json:"destination,omitempty"`
	HTTP        map[string]any `json:"http,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

type calicoSpec struct {
	Tier                   string       `json:"tier,omitempty"`
	Order                  *float64     `json:"order,omitempty"`
	Selector               string       `json:"selector,omitempty"`
	NamespaceSelector      string       `json:"namespaceSelector,omitempty"`
	ServiceAccountSelector string       `json:"serviceAccountSelector,omitempty"`
	Types                  []string     `json:"types,omitempty"`
	Ingress                []calicoRule `json:"ingress,omitempty"`
	Egress                 []calicoRule `json:"egress,omitempty"`
	DoNotTrack             bool         `json:"doNotTrack,omitempty"`
	PreDNAT                bool         `json:"preDNAT,omitempty"`
	ApplyOnForward         bool         `json:"applyOnForward,omitempty"`
	PerformanceHints       []string     `json:"performanceHints,omitempty"`
}

type calicoKind struct{ global bool }

func (k calicoKind) Name() string {
	if k.global {
		return "GlobalNetworkPolicy"
	}
	return "CalicoNetworkPolicy"
}
func (k calicoKind) Resources() []schema.GroupVersionResource {
	r := "networkpolicies"
	if k.global {
		r = "globalnetworkpolicies"
	}
	return []schema.GroupVersionResource{calicoV3.WithResource(r), calicoCRDv1.WithResource(r)}
}
func (k calicoKind) ObjectKind() string {
	if k.global {
		return "GlobalNetworkPolicy"
	}
	return "NetworkPolicy"
}
func (k calicoKind) Namespaced() bool { return !k.global }
func (k calicoKind) Aliases() []string {
	if k.global {
		return []string{"gnp", "globalnetworkpolicies"}
	}
	return []string{"networkpolicies.projectcalico.org", "cnetpol"}
}

func (k calicoKind) Decode(obj *unstructured.Unstructured, env *Env) []*Policy {
	ref := refOf(k, obj)
	var s calicoSpec
	if err := decodeSpec(obj, &s); err != nil {
		return []*Policy{problem(ref, StageCalico, "%v", err)}
	}
	p, err := k.policy(ref, &s, env)
	if err != nil {
		return []*Policy{problem(ref, StageCalico, "%v", err)}
	}
	return []*Policy{p}
}

func (k calicoKind) policy(ref Ref, s *calicoSpec, env *Env) (*Policy, error) {
	tier := s.Tier
	if tier == "" {
		tier = "default"
	}
	p := &Policy{Ref: ref, Stage: StageCalico, Tier: tier, Order: math.Inf(1)}
	if s.Order != nil {
		p.Order = *s.Order
	}
	t, ok := env.CalicoTiers[tier]
	if !ok {
		t, ok = calicoBuiltinTiers[tier]
	}
	if !ok {
		reason := "it is not among the Tiers read"
		if env.TiersUnread != "" {
			reason = env.TiersUnread
		}
		return nil, fmt.Errorf("the order of its tier %s is unknown (%s)", tier, reason)
	}
	p.TierOrder, p.TierDefault = t.Order, t.DefaultAction
	if s.DoNotTrack || s.PreDNAT {
		// untracked and pre-DNAT policies apply to host endpoints only
		p.Subject = noEndpoint
		return p, nil
	}
	sel, err := calicoMatcher(s.Selector, "")
	if err != nil {
		return nil, fmt.Errorf("its selector: %v", err)
	}
	nsSel := anyEndpoint
	if s.NamespaceSelector != "" {
		if nsSel, err = calicoNamespaceMatcher(s.NamespaceSelector); err != nil {
			return nil, fmt.Errorf("its namespaceSelector: %v", err)
		}
	}
	saSel := anyEndpoint
	if s.ServiceAccountSelector != "" && strings.TrimSpace(s.ServiceAccountSelector) != "all()" {
		saSel = unknownPeer("its serviceAccountSelector selects by ServiceAccount labels, which the engine does not read")
	}
	ns := ref.Namespace
	p.Subject = func(e *Endpoint) Match {
		if !e.IsPod || (ns != "" && e.Namespace != ns) {
			return no
		}
		return andM(sel(e), nsSel(e), saSel(e))
	}
	ingress, egress := len(s.Egress) == 0, len(s.Egress) > 0
	if len(s.Types) > 0 {
		ingress, egress = false, false
		for _, t := range s.Types {
			switch t {
			case "Ingress":
				ingress = true
			case "Egress":
				egress = true
			default:
				return nil, fmt.Errorf("type %q is neither Ingress nor Egress", t)
			}
		}
	} else if len(s.Ingress) > 0 {
		ingress = true
	}
	for _, d := range []struct {
		on    bool
		rules []calicoRule
		sec   **Section
		dir   Direction
	}{{ingress, s.Ingress, &p.Ingress, Ingress}, {egress, s.Egress, &p.Egress, Egress}} {
		if !d.on {
			continue
		}
		sec := &Section{Isolates: true}
		for i, r := range d.rules {
			rule, err := calicoRuleOf(ns, r, d.dir)
			if err != nil {
				return nil, fmt.Errorf("%s rule #%d: %v", strings.ToLower(string(d.dir)), i+1, err)
			}
			sec.Rules = append(sec.Rules, rule)
		}
		*d.sec = sec
	}
	return p, nil
}

func calicoRuleOf(ns string, r calicoRule, d Direction) (Rule, error) {
	var action Action
	switch r.Action {
	case "Allow", "allow":
		action = ActionAllow
	case "Deny", "deny":
		action = ActionDeny
	case "Pass", "pass", "next-tier":
		action = ActionPass
	case "Log", "log":
		action = ActionLog
	default:
		return Rule{}, fmt.Errorf("action %q is none of Allow, Deny, Pass, Log", r.Action)
	}
	peerEnt, selfEnt := r.Source, r.Destination
	if d == Egress {
		peerEnt, selfEnt = r.Destination, r.Source
	}
	peer, err := calicoEntityMatcher(ns, &peerEnt)
	if err != nil {
		return Rule{}, err
	}
	self, err := calicoEntityMatcher(ns, &selfEnt)
	if err != nil {
		return Rule{}, err
	}
	proto, err := calicoProtocol(r.Protocol)
	if err != nil {
		return Rule{}, err
	}
	notProto, err := calicoProtocol(r.NotProtocol)
	if err != nil {
		return Rule{}, err
	}
	dstPorts, dstNotPorts := r.Destination.Ports, r.Destination.NotPorts
	ports, err := calicoPorts(proto, dstPorts)
	if err != nil {
		return Rule{}, err
	}
	notPorts, err := calicoPorts(proto, dstNotPorts)
	if err != nil {
		return Rule{}, err
	}
	srcPorts := len(r.Source.Ports) > 0 || len(r.Source.NotPorts) > 0
	l7 := r.HTTP != nil
	icmp := r.ICMP != nil
	rule := Rule{Action: action, Peer: peer, Self: self}
	rule.Ports = func(p Port, dst *Endpoint) Match {
		if proto != "" && !strings.EqualFold(proto, string(p.Protocol)) {
			return no
		}
		if notProto != "" && strings.EqualFold(notProto, string(p.Protocol)) {
			return no
		}
		if icmp {
			return no
		}
		m := yes
		if len(dstPorts) > 0 {
			m = ports(p, dst)
		}
		if len(dstNotPorts) > 0 {
			m = andM(m, Match{Tri: not(notPorts(p, dst).Tri)})
		}
		if srcPorts {
			m = andM(m, maybe("the rule matches source ports, which the engine does not know"))
		}
		if l7 && action == ActionAllow {
			m = andM(m, maybe("an HTTP rule decides per request"))
		}
		return m
	}
	if r.IPVersion != nil {
		v := *r.IPVersion
		inner := rule.Peer
		rule.Peer = func(e *Endpoint) Match {
			if e.IP.IsValid() && (e.IP.Is4() != (v == 4)) {
				return no
			}
			return inner(e)
		}
	}
	return rule, nil
}

// calicoProtocol is a protocol given by name or number, "" for any.
func calicoProtocol(v any) (string, error) {
	switch p := v.(type) {
	case nil:
		return "", nil
	case string:
		switch strings.ToUpper(p) {
		case "TCP", "UDP", "SCTP", "ICMP", "ICMPV6", "UDPLITE":
			return strings.ToUpper(p), nil
		}
		if n, err := strconv.Atoi(p); err == nil {
			return calicoProtocol(float64(n))
		}
		return "", fmt.Errorf("protocol %q is unknown", p)
	case float64:
		switch p {
		case 6:
			return "TCP", nil
		case 17:
			return "UDP", nil
		case 132:
			return "SCTP", nil
		}
		return "proto-" + strconv.Itoa(int(p)), nil
	case json.Number:
		f, _ := p.Float64()
		return calicoProtocol(f)
	}
	return "", fmt.Errorf("protocol %v is unknown", v)
}

// calicoPorts matches Calico ports: numbers, "lo:hi" ranges, named ports.
func calicoPorts(proto string, ports []any) (PortMatcher, error) {
	var pms []PortMatcher
	for _, pt := range ports {
		switch v := pt.(type) {
		case float64:
			pms = append(pms, portRange("", int32(v), int32(v)))
		case string:
			if lo, hi, ok := strings.Cut(v, ":"); ok {
				l, err1 := strconv.Atoi(lo)
				h, err2 := strconv.Atoi(hi)
				if err1 != nil || err2 != nil || l > h {
					return nil, fmt.Errorf("port range %q is invalid", v)
				}
				pms = append(pms, portRange("", int32(l), int32(h)))
				continue
			}
			if n, err := strconv.Atoi(v); err == nil {
				pms = append(pms, portRange("", int32(n), int32(n)))
				continue
			}
			pms = append(pms, namedPort(proto, v))
		default:
			return nil, fmt.Errorf("port %v is invalid", pt)
		}
	}
	return anyPortOf(pms), nil
}

// calicoEntityMatcher matches an endpoint against a rule's source or destination (ports aside).
func calicoEntityMatcher(ns string, e *calicoEntity) (Matcher, error) {
	var ms []Matcher
	if len(e.Nets) > 0 {
		var nets []Matcher
		for _, n := range e.Nets {
			m, err := cidrMatcher(n, nil)
			if err != nil {
				return nil, err
			}
			nets = append(nets, m)
		}
		ms = append(ms, anyOf(nets))
	}
	for _, n := range e.NotNets {
		m, err := cidrMatcher(n, nil)
		if err != nil {
			return nil, err
		}
		ms = append(ms, func(ep *Endpoint) Match { return Match{Tri: not(m(ep).Tri)} })
	}
	selectsPods := e.Selector != "" || e.NotSelector != "" || e.NamespaceSelector != "" || e.ServiceAccounts != nil
	if selectsPods {
		var inNS Matcher
		switch {
		case e.NamespaceSelector != "":
			m, err := calicoNamespaceMatcher(e.NamespaceSelector)
			if err != nil {
				return nil, fmt.Errorf("namespaceSelector: %v", err)
			}
			inNS = m
		case ns != "":
			inNS = func(ep *Endpoint) Match { return matchOf(ep.Namespace == ns) }
		default:
			inNS = anyEndpoint
		}
		sel, err := calicoMatcher(e.Selector, "")
		if err != nil {
			return nil, fmt.Errorf("selector: %v", err)
		}
		notSel := noEndpoint
		if e.NotSelector != "" {
			if notSel, err = calicoMatcher(e.NotSelector, ""); err != nil {
				return nil, fmt.Errorf("notSelector: %v", err)
			}
		}
		sa := anyEndpoint
		if e.ServiceAccounts != nil {
			names := e.ServiceAccounts.Names
			saSel := e.ServiceAccounts.Selector
			sa = func(ep *Endpoint) Match {
				m := yes
				if len(names) > 0 {
					m = matchOf(slices.Contains(names, ep.ServiceAccount))
				}
				if saSel != "" && strings.TrimSpace(saSel) != "all()" {
					m = andM(m, maybe("a serviceAccounts selector selects by ServiceAccount labels, which the engine does not read"))
				}
				return m
			}
		}
		ms = append(ms, func(ep *Endpoint) Match {
			if !ep.IsPod {
				return maybe("a Calico selector may match a host endpoint or a network set, which the engine does not read")
			}
			return andM(inNS(ep), sel(ep), Match{Tri: not(notSel(ep).Tri), Reason: notSel(ep).Reason}, sa(ep))
		})
	}
	if e.Services != nil {
		ms = append(ms, unknownPeer("a services match depends on the Service's endpoints as Calico resolves them"))
	}
	if len(ms) == 0 {
		return anyEndpoint, nil
	}
	return func(ep *Endpoint) Match {
		out := yes
		for _, m := range ms {
			out = andM(out, m(ep))
			if out.Tri == No {
				return no
			}
		}
		return out
	}, nil
}

// calicoLabels are the labels Calico's selectors see on a pod's workload endpoint.
func calicoLabels(e *Endpoint) map[string]string {
	l := make(map[string]string, len(e.Labels)+len(e.NSLabels)+6)
	for k, v := range e.Labels {
		l[k] = v
	}
	for k, v := range e.NSLabels {
		l[calicoNSPrefix+k] = v
	}
	l[calicoNamespaceLabel] = e.Namespace
	l[calicoNSPrefix+calicoNameLabel] = e.Namespace
	l[calicoOrchestratorLabel] = "k8s"
	if e.ServiceAccount != "" {
		l[calicoSALabel] = e.ServiceAccount
		l[calicoSAPrefix+calicoNameLabel] = e.ServiceAccount
	}
	return l
}

// calicoMatcher compiles a selector over a pod's workload endpoint labels; "" selects all.
func calicoMatcher(expr, _ string) (Matcher, error) {
	sel, err := ParseCalicoSelector(expr)
	if err != nil {
		return nil, err
	}
	readsNS, readsSA := false, false
	for _, k := range sel.Keys() {
		switch {
		case strings.HasPrefix(k, calicoNSPrefix) && k != calicoNSPrefix+calicoNameLabel:
			readsNS = true
		case strings.HasPrefix(k, calicoSAPrefix) && k != calicoSAPrefix+calicoNameLabel:
			readsSA = true
		}
	}
	return func(e *Endpoint) Match {
		m := matchOf(sel.Matches(calicoLabels(e)))
		if readsNS && !e.NSLabelsKnown {
			m = andM(m, maybe("the labels of namespace "+e.Namespace+" could not be read"))
		}
		if readsSA {
			m = andM(m, maybe("the selector reads ServiceAccount labels (pcsa.*), which the engine does not read"))
		}
		return m
	}, nil
}

// calicoNamespaceMatcher compiles a namespaceSelector: it selects namespaces by their labels and
// projectcalico.org/name.
func calicoNamespaceMatcher(expr string) (Matcher, error) {
	sel, err := ParseCalicoSelector(expr)
	if err != nil {
		return nil, err
	}
	if strings.Contains(expr, "global()") {
		// global() selects what has no namespace: host endpoints and global network sets
		return func(e *Endpoint) Match {
			if e.IsPod {
				return no
			}
			return maybe("namespaceSelector global() selects host endpoints and global network sets, which the engine does not read")
		}, nil
	}
	return func(e *Endpoint) Match {
		if !e.IsPod {
			return no
		}
		if !e.NSLabelsKnown {
			return maybe("the labels of namespace " + e.Namespace + " could not be read")
		}
		l := make(map[string]string, len(e.NSLabels)+1)
		for k, v := range e.NSLabels {
			l[k] = v
		}
		l[calicoNameLabel] = e.Namespace
		return matchOf(sel.Matches(l))
	}, nil
}
