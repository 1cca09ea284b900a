package policy

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// networkPolicyKind is upstream networking.k8s.io/v1 NetworkPolicy.
type networkPolicyKind struct{}

func (networkPolicyKind) Name() string { return KindNetworkPolicy }
func (networkPolicyKind) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{networkingv1.SchemeGroupVersion.WithResource("networkpolicies")}
}
func (networkPolicyKind) ObjectKind() string { return KindNetworkPolicy }
func (networkPolicyKind) Namespaced() bool   { return true }
func (networkPolicyKind) Aliases() []string  { return []string{"netpol", "networkpolicies"} }

func (k networkPolicyKind) Decode(obj *unstructured.Unstructured, _ *Env) []*Policy {
	var np networkingv1.NetworkPolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &np); err != nil {
		return []*Policy{problem(refOf(k, obj), StageNetwork, "it cannot be decoded (%v)", err)}
	}
	p, err := FromNetworkPolicy(&np)
	if err != nil {
		return []*Policy{problem(refOf(k, obj), StageNetwork, "%v", err)}
	}
	return []*Policy{p}
}

// FromNetworkPolicy is an upstream NetworkPolicy as the engine evaluates it (Kubernetes
// documentation, "Network Policies": a pod selected for a direction is isolated; the union of the
// rules of the policies selecting it is allowed).
func FromNetworkPolicy(np *networkingv1.NetworkPolicy) (*Policy, error) {
	ref := Ref{Kind: KindNetworkPolicy, Namespace: np.Namespace, Name: np.Name}
	subj, err := labelMatcher(&np.Spec.PodSelector)
	if err != nil {
		return nil, fmt.Errorf("its podSelector is invalid: %v", err)
	}
	p := &Policy{Ref: ref, Stage: StageNetwork, Subject: podsIn(np.Namespace, subj)}
	ingress, egress := len(np.Spec.PolicyTypes) == 0, len(np.Spec.PolicyTypes) == 0 && len(np.Spec.Egress) > 0
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		}
	}
	if ingress {
		p.Ingress = &Section{Isolates: true}
		for _, r := range np.Spec.Ingress {
			rule, err := npRule(np.Namespace, r.From, r.Ports)
			if err != nil {
				return nil, err
			}
			p.Ingress.Rules = append(p.Ingress.Rules, rule)
		}
	}
	if egress {
		p.Egress = &Section{Isolates: true}
		for _, r := range np.Spec.Egress {
			rule, err := npRule(np.Namespace, r.To, r.Ports)
			if err != nil {
				return nil, err
			}
			p.Egress.Rules = append(p.Egress.Rules, rule)
		}
	}
	return p, nil
}

func npRule(ns string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) (Rule, error) {
	r := Rule{Action: ActionAllow, Peer: anyEndpoint, Ports: anyPort}
	if len(peers) > 0 {
		var ms []Matcher
		for _, peer := range peers {
			m, err := npPeer(ns, peer)
			if err != nil {
				return r, err
			}
			ms = append(ms, m)
		}
		r.Peer = anyOf(ms)
	}
	if len(ports) > 0 {
		var pms []PortMatcher
		for _, p := range ports {
			proto := string(corev1.ProtocolTCP)
			if p.Protocol != nil {
				proto = string(*p.Protocol)
			}
			switch {
			case p.Port == nil:
				pms = append(pms, portRange(proto, 0, 0))
			case p.Port.Type == intstr.String:
				pms = append(pms, namedPort(proto, p.Port.StrVal))
			default:
				hi := p.Port.IntVal
				if p.EndPort != nil {
					hi = *p.EndPort
				}
				pms = append(pms, portRange(proto, p.Port.IntVal, hi))
			}
		}
		r.Ports = anyPortOf(pms)
	}
	return r, nil
}

func npPeer(ns string, p networkingv1.NetworkPolicyPeer) (Matcher, error) {
	if p.IPBlock != nil {
		return cidrMatcher(p.IPBlock.CIDR, p.IPBlock.Except)
	}
	pods, err := labelMatcher(p.PodSelector)
	if err != nil {
		return nil, fmt.Errorf("a podSelector is invalid: %v", err)
	}
	if p.NamespaceSelector == nil {
		return podsIn(ns, pods), nil
	}
	nss, err := labelMatcher(p.NamespaceSelector)
	if err != nil {
		return nil, fmt.Errorf("a namespaceSelector is invalid: %v", err)
	}
	return podsInNamespaces(nss, pods), nil
}
