package policy

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Antrea's ClusterNetworkPolicy and (namespaced) NetworkPolicy (crd.antrea.io/v1beta1): tiers by
// priority, policies by priority within a tier, rules first-match; Allow, Drop and Reject are
// final, Pass skips the remaining tiers to the Kubernetes NetworkPolicies; the baseline tier comes
// after them (antrea.io docs, "Antrea Network Policy CRDs": Tier, Rule enforcement).

var antreaV1beta1 = schema.GroupVersion{Group: "crd.antrea.io", Version: "v1beta1"}

// AntreaTierResources are where Antrea's Tiers are read.
var AntreaTierResources = []schema.GroupVersionResource{antreaV1beta1.WithResource("tiers")}

// antreaStaticTiers are the tiers Antrea creates, with their priorities.
var antreaStaticTiers = map[string]float64{
	"emergency": 50, "securityops": 100, "networkops": 150, "platform": 200, "application": 250, "baseline": 253,
}

type antreaNSMatch struct {
	Match      string   `json:"match,omitempty"`
	SameLabels []string `json:"sameLabels,omitempty"`
}

type antreaNamedRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

type antreaPeer struct {
	PodSelector       *metav1.LabelSelector `json:"podSelector,omitempty"`
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	Namespaces        *antreaNSMatch        `json:"namespaces,omitempty"`
	IPBlock           *struct {
		CIDR string `json:"cidr"`
	} `json:"ipBlock,omitempty"`
	Group          string                `json:"group,omitempty"`
	FQDN           string                `json:"fqdn,omitempty"`
	ServiceAccount *antreaNamedRef       `json:"serviceAccount,omitempty"`
	NodeSelector   *metav1.LabelSelector `json:"nodeSelector,omitempty"`
	Scope          string                `json:"scope,omitempty"`
}

type antreaAppliedTo struct {
	PodSelector       *metav1.LabelSelector `json:"podSelector,omitempty"`
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	Group             string                `json:"group,omitempty"`
	ServiceAccount    *antreaNamedRef       `json:"serviceAccount,omitempty"`
	NodeSelector      *metav1.LabelSelector `json:"nodeSelector,omitempty"`
	Service           *antreaNamedRef       `json:"service,omitempty"`
}

type antreaRule struct {
	Action string       `json:"action"`
	From   []antreaPeer `json:"from,omitempty"`
	To     []antreaPeer `json:"to,omitempty"`
	Ports  []struct {
		Protocol      string              `json:"protocol,omitempty"`
		Port          *intstr.IntOrString `json:"port,omitempty"`
		EndPort       *int32              `json:"endPort,omitempty"`
		SourcePort    *int32              `json:"sourcePort,omitempty"`
		SourceEndPort *int32              `json:"sourceEndPort,omitempty"`
	} `json:"ports,omitempty"`
	Protocols     []map[string]any  `json:"protocols,omitempty"`
	L7Protocols   []map[string]any  `json:"l7Protocols,omitempty"`
	ToServices    []map[string]any  `json:"toServices,omitempty"`
	Name          string            `json:"name,omitempty"`
	EnableLogging bool              `json:"enableLogging,omitempty"`
	LogLabel      string            `json:"logLabel,omitempty"`
	AppliedTo     []antreaAppliedTo `json:"appliedTo,omitempty"`
}

type antreaSpec struct {
	Tier      string            `json:"tier,omitempty"`
	Priority  float64           `json:"priority"`
	AppliedTo []antreaAppliedTo `json:"appliedTo,omitempty"`
	Ingress   []antreaRule      `json:"ingress,omitempty"`
	Egress    []antreaRule      `json:"egress,omitempty"`
}

type antreaKind struct{ cluster bool }

func (k antreaKind) Name() string {
	if k.cluster {
		return "AntreaClusterNetworkPolicy"
	}
	return "AntreaNetworkPolicy"
}
func (k antreaKind) Resources() []schema.GroupVersionResource {
	if k.cluster {
		return []schema.GroupVersionResource{antreaV1beta1.WithResource("clusternetworkpolicies")}
	}
	return []schema.GroupVersionResource{antreaV1beta1.WithResource("networkpolicies")}
}
func (k antreaKind) ObjectKind() string {
	if k.cluster {
		return "ClusterNetworkPolicy"
	}
	return "NetworkPolicy"
}
func (k antreaKind) Namespaced() bool { return !k.cluster }
func (k antreaKind) Aliases() []string {
	if k.cluster {
		return []string{"acnp", "clusternetworkpolicies.crd.antrea.io"}
	}
	return []string{"annp", "networkpolicies.crd.antrea.io"}
}

func (k antreaKind) Decode(obj *unstructured.Unstructured, env *Env) []*Policy {
	ref := refOf(k, obj)
	var s antreaSpec
	if err := decodeSpec(obj, &s); err != nil {
		return []*Policy{problem(ref, StageAntrea, "%v", err)}
	}
	p, err := k.policy(ref, &s, env)
	if err != nil {
		return []*Policy{problem(ref, StageAntrea, "%v", err)}
	}
	return []*Policy{p}
}

func (k antreaKind) policy(ref Ref, s *antreaSpec, env *Env) (*Policy, error) {
	tier := strings.ToLower(s.Tier)
	if tier == "" {
		tier = "application"
	}
	prio, ok := env.AntreaTiers[tier]
	if !ok {
		prio, ok = antreaStaticTiers[tier]
	}
	if !ok {
		reason := "it is not among the Tiers read"
		if env.TiersUnread != "" {
			reason = env.TiersUnread
		}
		return nil, fmt.Errorf("the priority of its tier %s is unknown (%s)", tier, reason)
	}
	stage := StageAntrea
	if tier == "baseline" {
		stage = StageBaseline
	}
	p := &Policy{Ref: ref, Stage: stage, Tier: tier, TierOrder: prio, Order: s.Priority}
	ns := ref.Namespace
	subj, err := antreaAppliedToMatcher(ns, s.AppliedTo)
	if err != nil {
		return nil, fmt.Errorf("its appliedTo: %v", err)
	}
	p.Subject = subj
	for _, d := range []struct {
		rules []antreaRule
		sec   **Section
		dir   Direction
	}{{s.Ingress, &p.Ingress, Ingress}, {s.Egress, &p.Egress, Egress}} {
		if len(d.rules) == 0 {
			continue
		}
		sec := &Section{}
		for i, r := range d.rules {
			rule, err := antreaRuleOf(ns, r, d.dir)
			if err != nil {
				return nil, fmt.Errorf("%s rule %s: %v", strings.ToLower(string(d.dir)), ruleName(r.Name, i), err)
			}
			sec.Rules = append(sec.Rules, rule)
		}
		*d.sec = sec
	}
	if len(s.AppliedTo) == 0 {
		// the appliedTo of each rule selects the endpoints
		var ms []Matcher
		for _, sec := range []*Section{p.Ingress, p.Egress} {
			if sec != nil {
				for _, r := range sec.Rules {
					if r.Self != nil {
						ms = append(ms, r.Self)
					}
				}
			}
		}
		p.Subject = anyOf(ms)
	}
	return p, nil
}

// antreaAppliedToMatcher is the endpoints an appliedTo list selects; in a namespaced policy, only
// its namespace's.
func antreaAppliedToMatcher(ns string, ats []antreaAppliedTo) (Matcher, error) {
	var ms []Matcher
	for _, at := range ats {
		switch {
		case at.Group != "":
			ms = append(ms, unknownPeer("appliedTo group "+at.Group+": the engine does not read Antrea's Groups"))
		case at.ServiceAccount != nil:
			ms = append(ms, serviceAccountMatcher(at.ServiceAccount))
		case at.NodeSelector != nil || at.Service != nil:
			ms = append(ms, noEndpoint)
		default:
			m, err := antreaPodsMatcher(ns, at.PodSelector, at.NamespaceSelector)
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
	}
	return anyOf(ms), nil
}

func serviceAccountMatcher(sa *antreaNamedRef) Matcher {
	return func(e *Endpoint) Match {
		return matchOf(e.IsPod && e.Namespace == sa.Namespace && e.ServiceAccount == sa.Name)
	}
}

// antreaPodsMatcher: a pod selector alone selects the policy's namespace in a namespaced policy,
// every namespace in a cluster policy.
func antreaPodsMatcher(ns string, podSel, nsSel *metav1.LabelSelector) (Matcher, error) {
	pods, err := labelMatcher(podSel)
	if err != nil {
		return nil, err
	}
	if nsSel == nil {
		return podsIn(ns, pods), nil
	}
	nss, err := labelMatcher(nsSel)
	if err != nil {
		return nil, err
	}
	return podsInNamespaces(nss, pods), nil
}

func antreaRuleOf(ns string, r antreaRule, d Direction) (Rule, error) {
	var action Action
	switch r.Action {
	case "Allow":
		action = ActionAllow
	case "Drop", "Reject":
		action = ActionDeny
	case "Pass":
		action = ActionPass
	default:
		return Rule{}, fmt.Errorf("action %q is none of Allow, Drop, Reject, Pass", r.Action)
	}
	peers := r.From
	if d == Egress {
		peers = r.To
	}
	rule := Rule{Action: action, Ports: anyPort}
	var ms []Matcher
	var sameNS []func(self, peer *Endpoint) Match
	for _, pe := range peers {
		switch {
		case pe.Scope != "" && !strings.EqualFold(pe.Scope, "Cluster"):
			ms = append(ms, unknownPeer("a peer of scope "+pe.Scope+" selects in other clusters of the ClusterSet"))
		case pe.IPBlock != nil:
			m, err := cidrMatcher(pe.IPBlock.CIDR, nil)
			if err != nil {
				return Rule{}, err
			}
			ms = append(ms, m)
		case pe.Group != "":
			ms = append(ms, unknownPeer("group "+pe.Group+": the engine does not read Antrea's Groups"))
		case pe.FQDN != "":
			ms = append(ms, domainPeer)
		case pe.ServiceAccount != nil:
			ms = append(ms, serviceAccountMatcher(pe.ServiceAccount))
		case pe.NodeSelector != nil:
			ms = append(ms, nodesPeer)
		case pe.Namespaces != nil:
			pods, err := labelMatcher(pe.PodSelector)
			if err != nil {
				return Rule{}, err
			}
			if pe.Namespaces.Match != "Self" || len(pe.Namespaces.SameLabels) > 0 {
				what := "namespaces match " + pe.Namespaces.Match
				if len(pe.Namespaces.SameLabels) > 0 {
					what = "namespaces sameLabels " + strings.Join(pe.Namespaces.SameLabels, ",")
				}
				ms = append(ms, unknownPeer(what+" is not evaluated"))
				continue
			}
			sameNS = append(sameNS, func(self, peer *Endpoint) Match {
				return matchOf(peer.IsPod && peer.Namespace == self.Namespace && pods(peer.Labels))
			})
		default:
			m, err := antreaPodsMatcher(ns, pe.PodSelector, pe.NamespaceSelector)
			if err != nil {
				return Rule{}, err
			}
			ms = append(ms, m)
		}
	}
	rule.Peer = anyOf(ms)
	if len(peers) == 0 {
		rule.Peer = anyEndpoint
	}
	if len(sameNS) > 0 {
		peer := rule.Peer
		rule.Pair = func(self, p *Endpoint) Match {
			out := peer(p)
			for _, f := range sameNS {
				out = orM(out, f(self, p))
			}
			return out
		}
	}
	if len(r.AppliedTo) > 0 {
		m, err := antreaAppliedToMatcher(ns, r.AppliedTo)
		if err != nil {
			return Rule{}, fmt.Errorf("appliedTo: %v", err)
		}
		rule.Self = m
	}
	var pms []PortMatcher
	for _, p := range r.Ports {
		proto := defaultProto(p.Protocol)
		var pm PortMatcher
		switch {
		case p.Port == nil:
			pm = portRange(proto, 0, 0)
		case p.Port.Type == intstr.String:
			pm = namedPort(proto, p.Port.StrVal)
		default:
			hi := p.Port.IntVal
			if p.EndPort != nil {
				hi = *p.EndPort
			}
			pm = portRange(proto, p.Port.IntVal, hi)
		}
		if p.SourcePort != nil {
			inner := pm
			pm = func(pt Port, dst *Endpoint) Match {
				return andM(inner(pt, dst), maybe("the rule matches source ports, which the engine does not know"))
			}
		}
		pms = append(pms, pm)
	}
	switch {
	case len(pms) > 0:
		rule.Ports = anyPortOf(pms)
	case len(r.Protocols) > 0:
		// ICMP and IGMP rules do not match port traffic
		rule.Ports = func(Port, *Endpoint) Match { return no }
	}
	if len(r.L7Protocols) > 0 && action == ActionAllow {
		ports := rule.Ports
		rule.Ports = func(p Port, dst *Endpoint) Match {
			return andM(ports(p, dst), maybe("an L7 rule decides per request"))
		}
	}
	if len(r.ToServices) > 0 {
		rule.Peer = unknownPeer("a toServices rule depends on the Service's endpoints as Antrea resolves them")
		rule.Pair = nil
	}
	return rule, nil
}
