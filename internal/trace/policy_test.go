package trace

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

func np(ns, name string, sel map[string]string, types []networkingv1.PolicyType, in []networkingv1.NetworkPolicyIngressRule, eg []networkingv1.NetworkPolicyEgressRule) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: sel}, PolicyTypes: types, Ingress: in, Egress: eg}}
}

func tcp(p int) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(int32(p)))}
}

func TestPolicyVerdicts(t *testing.T) {
	web := PolicyPeer{Namespace: "shop", Labels: map[string]string{"app": "web"}, IP: netip.MustParseAddr("10.244.0.5"), IsPod: true}
	db := PolicyPeer{Namespace: "shop", Labels: map[string]string{"app": "db"}, IP: netip.MustParseAddr("10.244.1.7"), IsPod: true,
		Ports: map[string]corev1.ContainerPort{"pg": {Name: "pg", ContainerPort: 5432, Protocol: corev1.ProtocolTCP}}}
	other := PolicyPeer{Namespace: "tools", Labels: map[string]string{"app": "web"}, IP: netip.MustParseAddr("10.244.2.9"), IsPod: true}
	ns := map[string]map[string]string{"shop": {"team": "shop"}, "tools": {"team": "ops"}}
	pg := Port{Number: 5432, Protocol: corev1.ProtocolTCP}
	ingress := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egress := []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	denyAll := np("shop", "deny-all", nil, ingress, nil, nil)
	allowWebPG := np("shop", "db-from-web", map[string]string{"app": "db"}, ingress, []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
		Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromString("pg"))}}}}, nil)
	fromTeamOps := np("shop", "db-from-ops", map[string]string{"app": "db"}, ingress, []networkingv1.NetworkPolicyIngressRule{{
		From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "ops"}}}}}}, nil)
	webEgressOnlyDNS := np("shop", "web-egress", map[string]string{"app": "web"}, egress, nil, []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{
		{Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(intstr.FromInt32(53))}}}})
	webEgressBlock := np("shop", "web-egress-block", map[string]string{"app": "web"}, egress, nil, []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{
		{IPBlock: &networkingv1.IPBlock{CIDR: "10.244.0.0/16", Except: []string{"10.244.1.0/24"}}}}}})
	rangePorts := np("shop", "db-range", map[string]string{"app": "db"}, ingress, []networkingv1.NetworkPolicyIngressRule{{
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(5000)), EndPort: ptr.To(int32(6000))}}}}, nil)
	calico := netmodel.Network{Model: netmodel.Calico}.Descriptor().Policy(&cluster.Evidence{})
	tests := []struct {
		name     string
		src, dst PolicyPeer
		port     Port
		policies []networkingv1.NetworkPolicy
		want     string
	}{
		{"no policy", web, db, pg, nil, "no policy"},
		{"deny all ingress", web, db, pg, []networkingv1.NetworkPolicy{denyAll}, "denied"},
		{"named port from web", web, db, pg, []networkingv1.NetworkPolicy{denyAll, allowWebPG}, "allowed"},
		{"named port, other port", web, db, Port{Number: 5433, Protocol: corev1.ProtocolTCP}, []networkingv1.NetworkPolicy{denyAll, allowWebPG}, "denied"},
		{"pod selector is namespace-local", other, db, pg, []networkingv1.NetworkPolicy{allowWebPG}, "denied"},
		{"namespace selector", other, db, pg, []networkingv1.NetworkPolicy{allowWebPG, fromTeamOps}, "allowed"},
		{"egress allows only DNS", web, db, pg, []networkingv1.NetworkPolicy{webEgressOnlyDNS}, "denied"},
		{"egress ipBlock except", web, db, pg, []networkingv1.NetworkPolicy{webEgressBlock}, "denied"},
		{"egress ipBlock", web, other, pg, []networkingv1.NetworkPolicy{webEgressBlock}, "allowed"},
		{"port range", web, db, pg, []networkingv1.NetworkPolicy{rangePorts}, "allowed"},
		{"port range, UDP", web, db, Port{Number: 5432, Protocol: corev1.ProtocolUDP}, []networkingv1.NetworkPolicy{rangePorts}, "denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Verdict(tt.src, tt.dst, tt.port, tt.policies, ns, calico)
			if v.Verdict != Result(tt.want) {
				t.Errorf("verdict = %s, want %s", v, tt.want)
			}
		})
	}
	v := Verdict(web, db, pg, []networkingv1.NetworkPolicy{denyAll, allowWebPG}, ns, calico)
	if len(v.Ingress.Selecting) != 2 || len(v.Ingress.Allowing) != 1 || v.Ingress.Allowing[0] != "shop/db-from-web" {
		t.Errorf("ingress = %+v", v.Ingress)
	}
	if got := Verdict(web, db, pg, nil, ns, netmodel.Network{Model: netmodel.Flannel}.Descriptor().Policy(&cluster.Evidence{})).Enforced; got.State != netmodel.NotEnforced {
		t.Errorf("flannel enforcement = %q", got)
	}
}
