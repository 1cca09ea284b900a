package trace

import (
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

// PolicyPeer is an endpoint as NetworkPolicies see it.
type PolicyPeer struct {
	Namespace string
	Labels    map[string]string
	IP        netip.Addr
	IsPod     bool
	// Ports are the pod's named container ports (name -> number and protocol).
	Ports map[string]corev1.ContainerPort
}

// Port is the destination port of the traffic.
type Port struct {
	Number   int32
	Protocol corev1.Protocol
}

// Direction is the verdict of one side: egress policies of the source, ingress of the destination.
type Direction struct {
	// Selecting are the policies that select the pod for this direction ("ns/name").
	Selecting []string `json:"selecting,omitempty"`
	// Allowing are those of them with a rule that admits the traffic.
	Allowing []string `json:"allowing,omitempty"`
	Verdict  Result   `json:"verdict"`
}

// Result is a policy verdict.
type Result string

// Policy results.
const (
	Allowed  Result = "allowed"
	Denied   Result = "denied"
	NoPolicy Result = "no policy"
)

// PolicyVerdict is what NetworkPolicies say of traffic from src to dst on a port.
type PolicyVerdict struct {
	Egress   Direction            `json:"egress"`
	Ingress  Direction            `json:"ingress"`
	Verdict  Result               `json:"verdict"`
	Enforced netmodel.Enforcement `json:"enforced"`
}

// Verdict applies the policies (of every namespace) to traffic from src to dst on port.
// nsLabels gives each namespace's labels for namespaceSelectors.
func Verdict(src, dst PolicyPeer, port Port, policies []networkingv1.NetworkPolicy, nsLabels map[string]map[string]string, enforced netmodel.Enforcement) PolicyVerdict {
	v := PolicyVerdict{Enforced: enforced}
	if src.IsPod {
		v.Egress = direction(src, dst, port, policies, nsLabels, networkingv1.PolicyTypeEgress)
	} else {
		v.Egress = Direction{Verdict: NoPolicy}
	}
	if dst.IsPod {
		v.Ingress = direction(dst, src, port, policies, nsLabels, networkingv1.PolicyTypeIngress)
	} else {
		v.Ingress = Direction{Verdict: NoPolicy}
	}
	switch {
	case v.Egress.Verdict == Denied || v.Ingress.Verdict == Denied:
		v.Verdict = Denied
	case v.Egress.Verdict == NoPolicy && v.Ingress.Verdict == NoPolicy:
		v.Verdict = NoPolicy
	default:
		v.Verdict = Allowed
	}
	return v
}

// direction evaluates the policies selecting self for one direction; peer is the other end.
func direction(self, peer PolicyPeer, port Port, policies []networkingv1.NetworkPolicy, nsLabels map[string]map[string]string, typ networkingv1.PolicyType) Direction {
	var d Direction
	for i := range policies {
		np := &policies[i]
		if np.Namespace != self.Namespace || !hasType(np, typ) || !selects(&np.Spec.PodSelector, self.Labels) {
			continue
		}
		name := np.Namespace + "/" + np.Name
		d.Selecting = append(d.Selecting, name)
		if ruleAllows(np, self, peer, port, nsLabels, typ) {
			d.Allowing = append(d.Allowing, name)
		}
	}
	sort.Strings(d.Selecting)
	sort.Strings(d.Allowing)
	switch {
	case len(d.Selecting) == 0:
		d.Verdict = NoPolicy
	case len(d.Allowing) > 0:
		d.Verdict = Allowed
	default:
		d.Verdict = Denied
	}
	return d
}

// hasType follows the API defaults: Ingress always, Egress when egress rules exist, or as listed.
func hasType(np *networkingv1.NetworkPolicy, typ networkingv1.PolicyType) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		return typ == networkingv1.PolicyTypeIngress || len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		if t == typ {
			return true
		}
	}
	return false
}

func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(l))
}

func ruleAllows(np *networkingv1.NetworkPolicy, self, peer PolicyPeer, port Port, nsLabels map[string]map[string]string, typ networkingv1.PolicyType) bool {
	// the port is always the destination's: for ingress self's, for egress the peer's
	named := self.Ports
	if typ == networkingv1.PolicyTypeEgress {
		named = peer.Ports
	}
	if typ == networkingv1.PolicyTypeIngress {
		for _, r := range np.Spec.Ingress {
			if portsMatch(r.Ports, port, named) && peersMatch(r.From, np.Namespace, peer, nsLabels) {
				return true
			}
		}
		return false
	}
	for _, r := range np.Spec.Egress {
		if portsMatch(r.Ports, port, named) && peersMatch(r.To, np.Namespace, peer, nsLabels) {
			return true
		}
	}
	return false
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, port Port, named map[string]corev1.ContainerPort) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if proto != port.Protocol {
			continue
		}
		if p.Port == nil {
			return true
		}
		if p.Port.Type == intstr.String { // a named port: resolved on the destination pod's containers
			if cp, ok := named[p.Port.StrVal]; ok && cp.ContainerPort == port.Number && (cp.Protocol == "" || cp.Protocol == port.Protocol) {
				return true
			}
			continue
		}
		lo, hi := p.Port.IntVal, p.Port.IntVal
		if p.EndPort != nil {
			hi = *p.EndPort
		}
		if port.Number >= lo && port.Number <= hi {
			return true
		}
	}
	return false
}

func peersMatch(peers []networkingv1.NetworkPolicyPeer, policyNS string, peer PolicyPeer, nsLabels map[string]map[string]string) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		switch {
		case p.IPBlock != nil:
			if ipBlockMatches(p.IPBlock, peer.IP) {
				return true
			}
		case !peer.IsPod:
			// pod and namespace selectors select pods only
		case p.NamespaceSelector != nil && p.PodSelector != nil:
			if selects(p.NamespaceSelector, nsLabels[peer.Namespace]) && selects(p.PodSelector, peer.Labels) {
				return true
			}
		case p.NamespaceSelector != nil:
			if selects(p.NamespaceSelector, nsLabels[peer.Namespace]) {
				return true
			}
		case p.PodSelector != nil:
			if peer.Namespace == policyNS && selects(p.PodSelector, peer.Labels) {
				return true
			}
		}
	}
	return false
}

func ipBlockMatches(b *networkingv1.IPBlock, ip netip.Addr) bool {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil || !cidr.Contains(ip) {
		return false
	}
	for _, e := range b.Except {
		if ex, err := netip.ParsePrefix(e); err == nil && ex.Contains(ip) {
			return false
		}
	}
	return true
}

// String sums the verdict up in one line.
func (v PolicyVerdict) String() string {
	return fmt.Sprintf("%s (egress: %s, ingress: %s; enforced: %s)", v.Verdict, v.Egress.Verdict, v.Ingress.Verdict, v.Enforced)
}
