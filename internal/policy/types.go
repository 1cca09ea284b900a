// Package policy evaluates network policies of every kind a cluster may carry (upstream
// NetworkPolicy, the admin and baseline tiers of the network-policy-api, Calico, Cilium, Antrea)
// on traffic between two endpoints, the way their datapaths apply them. What it cannot evaluate
// exactly it reports as unknown, with the policy and the reason, never as a definite answer.
package policy

import (
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Endpoint is one end of the traffic as policies see it.
type Endpoint struct {
	// Namespace, Labels and ServiceAccount are the pod's; empty for an address that is no pod.
	Namespace      string
	Labels         map[string]string
	ServiceAccount string
	// NSLabels are the labels of the pod's namespace; NSLabelsKnown is false when they could not
	// be read, so that namespace selectors cannot be decided.
	NSLabels      map[string]string
	NSLabelsKnown bool
	IP            netip.Addr
	// IsPod is set for a pod on the pod network; host-network pods, nodes and outside addresses
	// are not selected by pod or namespace selectors.
	IsPod bool
	// Node is set for an address of a node (a host-network pod's too).
	Node bool
	// Ports are the pod's named container ports, for named ports in rules.
	Ports map[string]corev1.ContainerPort
}

// Port is the destination port of the traffic.
type Port struct {
	Number   int32
	Protocol corev1.Protocol
}

// String is "80/TCP".
func (p Port) String() string { return strconv.Itoa(int(p.Number)) + "/" + string(p.Protocol) }

// Tri is a three-valued answer: no, yes, or cannot be decided.
type Tri uint8

// Tri values.
const (
	No Tri = iota
	Yes
	Maybe
)

func tri(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

// and is Kleene conjunction.
func and(a, b Tri) Tri {
	switch {
	case a == No || b == No:
		return No
	case a == Maybe || b == Maybe:
		return Maybe
	}
	return Yes
}

// or is Kleene disjunction.
func or(a, b Tri) Tri {
	switch {
	case a == Yes || b == Yes:
		return Yes
	case a == Maybe || b == Maybe:
		return Maybe
	}
	return No
}

// not is Kleene negation.
func not(a Tri) Tri {
	switch a {
	case Yes:
		return No
	case No:
		return Yes
	}
	return Maybe
}

// Match is a Tri with the reason it is Maybe.
type Match struct {
	Tri    Tri
	Reason string
}

var (
	yes = Match{Tri: Yes}
	no  = Match{Tri: No}
)

func maybe(reason string) Match { return Match{Tri: Maybe, Reason: reason} }

func matchOf(b bool) Match { return Match{Tri: tri(b)} }

// andM is the conjunction of matches, keeping the reason of a Maybe.
func andM(ms ...Match) Match {
	out := yes
	for _, m := range ms {
		switch {
		case m.Tri == No:
			return no
		case m.Tri == Maybe && out.Tri == Yes:
			out = m
		}
	}
	return out
}

// orM is the disjunction of matches, keeping the reason of a Maybe.
func orM(ms ...Match) Match {
	out := no
	for _, m := range ms {
		switch {
		case m.Tri == Yes:
			return yes
		case m.Tri == Maybe && out.Tri == No:
			out = m
		}
	}
	return out
}

// Matcher decides whether an endpoint is selected.
type Matcher func(e *Endpoint) Match

// PortMatcher decides whether the traffic's port (on dst, for named ports) is covered.
type PortMatcher func(p Port, dst *Endpoint) Match

func anyEndpoint(*Endpoint) Match   { return yes }
func noEndpoint(*Endpoint) Match    { return no }
func anyPort(Port, *Endpoint) Match { return yes }
func unknownPeer(reason string) Matcher {
	return func(*Endpoint) Match { return maybe(reason) }
}

// Action is what a rule does with the traffic it matches.
type Action string

// Actions, named as the APIs name them where they agree.
const (
	ActionAllow Action = "Allow"
	ActionDeny  Action = "Deny"
	ActionPass  Action = "Pass"
	// ActionLog records and goes on (Calico).
	ActionLog Action = "Log"
)

// Stage is where in the datapath's order a policy is applied.
type Stage int

// Stages, in the order the datapath applies them.
const (
	// StageAdmin is the admin tier of the network-policy-api (AdminNetworkPolicy,
	// ClusterNetworkPolicy tier Admin), by priority.
	StageAdmin Stage = iota
	// StageAntrea is Antrea's tiers before NetworkPolicy, by tier and policy priority.
	StageAntrea
	// StageCalico is Calico's tiers, by order; its default tier holds the NetworkPolicies.
	StageCalico
	// StageNetwork is upstream NetworkPolicy and Cilium's policies: allow rules add up, deny rules
	// win, a selected endpoint is isolated.
	StageNetwork
	// StageBaseline is the baseline tier (BaselineAdminNetworkPolicy, ClusterNetworkPolicy tier
	// Baseline, Antrea's baseline tier).
	StageBaseline
)

var stageNames = [...]string{"admin", "antrea", "calico", "network-policy", "baseline"}

// String is the stage's name.
func (s Stage) String() string { return stageNames[s] }

// Direction is ingress (policies of the destination) or egress (of the source).
type Direction string

// Directions.
const (
	Ingress Direction = "Ingress"
	Egress  Direction = "Egress"
)

// Ref names a policy object.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String is "Kind/ns/name" or "Kind/name".
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Rule is one rule of a policy in one direction.
type Rule struct {
	Action Action
	// Peer matches the other end: the source for ingress, the destination for egress.
	Peer Matcher
	// Ports match the destination port.
	Ports PortMatcher
	// Self, when set, further restricts the endpoint the policy selected (a Calico rule's
	// destination in ingress, its source in egress).
	Self Matcher
	// Pair, when set, replaces Peer for rules whose match depends on both ends (Antrea's
	// namespaces match Self).
	Pair func(self, peer *Endpoint) Match
}

// Section is a policy's part for one direction.
type Section struct {
	Rules []Rule
	// Isolates: selecting an endpoint denies what no rule allows (NetworkPolicy, Cilium with
	// default deny on, every Calico policy at the end of its tier).
	Isolates bool
}

// Policy is one policy object in the form the engine evaluates.
type Policy struct {
	Ref   Ref
	Stage Stage
	// Tier and TierOrder place the policy's tier within its stage (Calico, Antrea); Order places
	// the policy within its tier or stage (priority, order; lower first).
	Tier      string
	TierOrder float64
	Order     float64
	// Subject selects the endpoints the policy applies to.
	Subject Matcher
	// Ingress and Egress are nil when the policy does not apply in that direction.
	Ingress, Egress *Section
	// TierDefault is what happens at the end of the policy's tier to an endpoint a policy of the
	// tier selected and no rule matched (Calico: Deny unless the Tier says Pass).
	TierDefault Action
	// Problem, when set, is why the policy cannot be evaluated at all: any verdict on an endpoint
	// it may apply to is unknown.
	Problem string

	label string
	// label1 is the label as a one-element list, shared by every verdict it alone decides
	label1 []string
}

func (p *Policy) section(d Direction) *Section {
	if d == Ingress {
		return p.Ingress
	}
	return p.Egress
}

// Label returns the policy as the verdict lists it: "Kind/ns/name (tier)".
func (p *Policy) Label() string {
	if p.label != "" {
		return p.label
	}
	return p.makeLabel()
}

func (p *Policy) makeLabel() string {
	s := p.Ref.String()
	if p.Tier != "" {
		return s + " (" + p.Stage.String() + " tier " + p.Tier + ")"
	}
	return s + " (" + p.Stage.String() + ")"
}

// uniq are the distinct non-empty strings, in order.
func uniq(rs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
