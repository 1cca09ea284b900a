package policy

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The network-policy-api's v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy
// (sigs.k8s.io/network-policy-api apis/v1alpha1): the admin tier by priority, rules first-match in
// order, Pass handing over to NetworkPolicy; the baseline tier after NetworkPolicy.

var policyAPIv1alpha1 = schema.GroupVersion{Group: "policy.networking.k8s.io", Version: "v1alpha1"}

type anpSubject struct {
	Namespaces *metav1.LabelSelector `json:"namespaces,omitempty"`
	Pods       *anpPods              `json:"pods,omitempty"`
}

type anpPods struct {
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`
	PodSelector       metav1.LabelSelector `json:"podSelector"`
}

type anpPeer struct {
	Namespaces  *metav1.LabelSelector `json:"namespaces,omitempty"`
	Pods        *anpPods              `json:"pods,omitempty"`
	Nodes       *metav1.LabelSelector `json:"nodes,omitempty"`
	Networks    []string              `json:"networks,omitempty"`
	DomainNames []string              `json:"domainNames,omitempty"`
}

type anpPort struct {
	PortNumber *struct {
		Protocol string `json:"protocol"`
		Port     int32  `json:"port"`
	} `json:"portNumber,omitempty"`
	NamedPort *string `json:"namedPort,omitempty"`
	PortRange *struct {
		Protocol string `json:"protocol"`
		Start    int32  `json:"start"`
		End      int32  `json:"end"`
	} `json:"portRange,omitempty"`
}

type anpRule struct {
	Name   string     `json:"name,omitempty"`
	Action string     `json:"action"`
	From   []anpPeer  `json:"from,omitempty"`
	To     []anpPeer  `json:"to,omitempty"`
	Ports  *[]anpPort `json:"ports,omitempty"`
}

type anpSpec struct {
	Priority *int32     `json:"priority,omitempty"`
	Subject  anpSubject `json:"subject"`
	Ingress  []anpRule  `json:"ingress,omitempty"`
	Egress   []anpRule  `json:"egress,omitempty"`
}

type adminNetworkPolicyKind struct{}

func (adminNetworkPolicyKind) Name() string { return "AdminNetworkPolicy" }
func (adminNetworkPolicyKind) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{policyAPIv1alpha1.WithResource("adminnetworkpolicies")}
}
func (adminNetworkPolicyKind) ObjectKind() string { return "AdminNetworkPolicy" }
func (adminNetworkPolicyKind) Namespaced() bool   { return false }
func (adminNetworkPolicyKind) Aliases() []string  { return []string{"anp"} }
func (k adminNetworkPolicyKind) Decode(obj *unstructured.Unstructured, _ *Env) []*Policy {
	return []*Policy{decodeANP(k, obj, StageAdmin)}
}

type baselineAdminNetworkPolicyKind struct{}

func (baselineAdminNetworkPolicyKind) Name() string { return "BaselineAdminNetworkPolicy" }
func (baselineAdminNetworkPolicyKind) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{policyAPIv1alpha1.WithResource("baselineadminnetworkpolicies")}
}
func (baselineAdminNetworkPolicyKind) ObjectKind() string { return "BaselineAdminNetworkPolicy" }
func (baselineAdminNetworkPolicyKind) Namespaced() bool   { return false }
func (baselineAdminNetworkPolicyKind) Aliases() []string  { return []string{"banp"} }
func (k baselineAdminNetworkPolicyKind) Decode(obj *unstructured.Unstructured, _ *Env) []*Policy {
	return []*Policy{decodeANP(k, obj, StageBaseline)}
}

func decodeANP(k Kind, obj *unstructured.Unstructured, stage Stage) *Policy {
	ref := refOf(k, obj)
	var spec anpSpec
	if err := decodeSpec(obj, &spec); err != nil {
		return problem(ref, stage, "%v", err)
	}
	subj, err := adminSubject(spec.Subject.Namespaces, spec.Subject.Pods)
	if err != nil {
		return problem(ref, stage, "its subject is invalid: %v", err)
	}
	p := &Policy{Ref: ref, Stage: stage, Subject: subj}
	if spec.Priority != nil {
		p.Order = float64(*spec.Priority)
	}
	allowed := []string{"Allow", "Deny", "Pass"}
	if stage == StageBaseline {
		allowed = allowed[:2]
	}
	for _, d := range []struct {
		rules []anpRule
		sec   **Section
		dir   Direction
	}{{spec.Ingress, &p.Ingress, Ingress}, {spec.Egress, &p.Egress, Egress}} {
		if len(d.rules) == 0 {
			continue
		}
		sec := &Section{}
		for i, r := range d.rules {
			rule, err := anpRuleOf(r, d.dir, allowed)
			if err != nil {
				return problem(ref, stage, "%s rule %s: %v", strings.ToLower(string(d.dir)), ruleName(r.Name, i), err)
			}
			sec.Rules = append(sec.Rules, rule)
		}
		*d.sec = sec
	}
	return p
}

func ruleName(name string, i int) string {
	if name != "" {
		return fmt.Sprintf("%q", name)
	}
	return fmt.Sprintf("#%d", i+1)
}

// adminSubject is the pods an admin policy's subject (or a pods/namespaces peer) selects.
func adminSubject(namespaces *metav1.LabelSelector, pods *anpPods) (Matcher, error) {
	switch {
	case namespaces != nil:
		nss, err := labelMatcher(namespaces)
		if err != nil {
			return nil, err
		}
		return podsInNamespaces(nss, func(map[string]string) bool { return true }), nil
	case pods != nil:
		nss, err := labelMatcher(&pods.NamespaceSelector)
		if err != nil {
			return nil, err
		}
		ps, err := labelMatcher(&pods.PodSelector)
		if err != nil {
			return nil, err
		}
		return podsInNamespaces(nss, ps), nil
	}
	return nil, fmt.Errorf("it selects neither namespaces nor pods")
}

func anpRuleOf(r anpRule, d Direction, allowed []string) (Rule, error) {
	action := Action(r.Action)
	if !slices.Contains(allowed, r.Action) {
		return Rule{}, fmt.Errorf("action %q is none of %s", r.Action, strings.Join(allowed, ", "))
	}
	peers := r.From
	if d == Egress {
		peers = r.To
	}
	var ms []Matcher
	for _, pe := range peers {
		switch {
		case pe.Namespaces != nil || pe.Pods != nil:
			m, err := adminSubject(pe.Namespaces, pe.Pods)
			if err != nil {
				return Rule{}, err
			}
			ms = append(ms, m)
		case pe.Nodes != nil:
			ms = append(ms, nodesPeer)
		case len(pe.Networks) > 0:
			for _, n := range pe.Networks {
				m, err := cidrMatcher(n, nil)
				if err != nil {
					return Rule{}, err
				}
				ms = append(ms, m)
			}
		case len(pe.DomainNames) > 0:
			ms = append(ms, domainPeer)
		default:
			return Rule{}, fmt.Errorf("a peer selects nothing the engine knows")
		}
	}
	rule := Rule{Action: action, Peer: anyOf(ms), Ports: anyPort}
	if r.Ports != nil {
		var pms []PortMatcher
		for _, p := range *r.Ports {
			switch {
			case p.PortNumber != nil:
				pms = append(pms, portRange(defaultProto(p.PortNumber.Protocol), p.PortNumber.Port, p.PortNumber.Port))
			case p.NamedPort != nil:
				pms = append(pms, namedPort("", *p.NamedPort))
			case p.PortRange != nil:
				pms = append(pms, portRange(defaultProto(p.PortRange.Protocol), p.PortRange.Start, p.PortRange.End))
			}
		}
		rule.Ports = anyPortOf(pms)
	}
	return rule, nil
}

// nodesPeer: a node selector selects nodes, never a pod on the pod network; whether an address
// that is no pod is a selected node's is not evaluated.
func nodesPeer(e *Endpoint) Match {
	if e.IsPod {
		return no
	}
	return maybe("a nodes peer selects nodes by their labels, which the engine does not evaluate")
}

// domainPeer: domain names match the addresses they resolve to outside the cluster.
func domainPeer(e *Endpoint) Match {
	if e.IsPod {
		return no
	}
	return maybe("a domainNames peer depends on DNS answers")
}

func defaultProto(p string) string {
	if p == "" {
		return "TCP"
	}
	return p
}

// The network-policy-api's v1alpha2 ClusterNetworkPolicy (sigs.k8s.io/network-policy-api
// apis/v1alpha2/clusternetworkpolicy_types.go): one kind for both tiers, spec.tier Admin or
// Baseline; actions Accept, Deny, Pass; ports as protocols.

var policyAPIv1alpha2 = schema.GroupVersion{Group: "policy.networking.k8s.io", Version: "v1alpha2"}

type cnpPortMatch struct {
	DestinationPort *struct {
		Number int32 `json:"number,omitempty"`
		Range  *struct {
			Start int32 `json:"start"`
			End   int32 `json:"end"`
		} `json:"range,omitempty"`
	} `json:"destinationPort,omitempty"`
}

type cnpProtocol struct {
	TCP                  *cnpPortMatch `json:"tcp,omitempty"`
	UDP                  *cnpPortMatch `json:"udp,omitempty"`
	SCTP                 *cnpPortMatch `json:"sctp,omitempty"`
	DestinationNamedPort string        `json:"destinationNamedPort,omitempty"`
}

type cnpRule struct {
	Name      string        `json:"name,omitempty"`
	Action    string        `json:"action"`
	From      []anpPeer     `json:"from,omitempty"`
	To        []anpPeer     `json:"to,omitempty"`
	Protocols []cnpProtocol `json:"protocols,omitempty"`
}

type cnpSpec struct {
	Tier     string     `json:"tier"`
	Priority int32      `json:"priority"`
	Subject  anpSubject `json:"subject"`
	Ingress  []cnpRule  `json:"ingress,omitempty"`
	Egress   []cnpRule  `json:"egress,omitempty"`
}

type clusterNetworkPolicyKind struct{}

func (clusterNetworkPolicyKind) Name() string { return "ClusterNetworkPolicy" }
func (clusterNetworkPolicyKind) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{policyAPIv1alpha2.WithResource("clusternetworkpolicies")}
}
func (clusterNetworkPolicyKind) ObjectKind() string { return "ClusterNetworkPolicy" }
func (clusterNetworkPolicyKind) Namespaced() bool   { return false }
func (clusterNetworkPolicyKind) Aliases() []string {
	return []string{"clusternetworkpolicies.policy.networking.k8s.io"}
}

func (k clusterNetworkPolicyKind) Decode(obj *unstructured.Unstructured, _ *Env) []*Policy {
	ref := refOf(k, obj)
	var spec cnpSpec
	if err := decodeSpec(obj, &spec); err != nil {
		return []*Policy{problem(ref, StageAdmin, "%v", err)}
	}
	var stage Stage
	switch spec.Tier {
	case "Admin":
		stage = StageAdmin
	case "Baseline":
		stage = StageBaseline
	default:
		return []*Policy{problem(ref, StageAdmin, "its tier %q is neither Admin nor Baseline", spec.Tier)}
	}
	subj, err := adminSubject(spec.Subject.Namespaces, spec.Subject.Pods)
	if err != nil {
		return []*Policy{problem(ref, stage, "its subject is invalid: %v", err)}
	}
	p := &Policy{Ref: ref, Stage: stage, Subject: subj, Order: float64(spec.Priority)}
	for _, d := range []struct {
		rules []cnpRule
		sec   **Section
		dir   Direction
	}{{spec.Ingress, &p.Ingress, Ingress}, {spec.Egress, &p.Egress, Egress}} {
		if len(d.rules) == 0 {
			continue
		}
		sec := &Section{}
		for i, r := range d.rules {
			action := map[string]string{"Accept": "Allow", "Deny": "Deny", "Pass": "Pass"}[r.Action]
			if action == "" {
				return []*Policy{problem(ref, stage, "%s rule %s: action %q is none of Accept, Deny, Pass", strings.ToLower(string(d.dir)), ruleName(r.Name, i), r.Action)}
			}
			ports := cnpPorts(r.Protocols)
			rule, err := anpRuleOf(anpRule{Name: r.Name, Action: action, From: r.From, To: r.To}, d.dir, []string{"Allow", "Deny", "Pass"})
			if err != nil {
				return []*Policy{problem(ref, stage, "%s rule %s: %v", strings.ToLower(string(d.dir)), ruleName(r.Name, i), err)}
			}
			rule.Ports = ports
			sec.Rules = append(sec.Rules, rule)
		}
		*d.sec = sec
	}
	return []*Policy{p}
}

// cnpPorts matches a rule's protocols; none matches every port.
func cnpPorts(protos []cnpProtocol) PortMatcher {
	if len(protos) == 0 {
		return anyPort
	}
	var pms []PortMatcher
	for _, pr := range protos {
		for _, pm := range []struct {
			proto string
			m     *cnpPortMatch
		}{{"TCP", pr.TCP}, {"UDP", pr.UDP}, {"SCTP", pr.SCTP}} {
			switch {
			case pm.m == nil:
			case pm.m.DestinationPort == nil:
				pms = append(pms, portRange(pm.proto, 0, 0))
			case pm.m.DestinationPort.Range != nil:
				pms = append(pms, portRange(pm.proto, pm.m.DestinationPort.Range.Start, pm.m.DestinationPort.Range.End))
			default:
				pms = append(pms, portRange(pm.proto, pm.m.DestinationPort.Number, pm.m.DestinationPort.Number))
			}
		}
		if pr.DestinationNamedPort != "" {
			pms = append(pms, namedPort("", pr.DestinationNamedPort))
		}
	}
	return anyPortOf(pms)
}
