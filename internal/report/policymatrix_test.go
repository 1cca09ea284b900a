package report

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/podnet/kubectl-podnet/internal/policy"
)

func mpod(ns, name, workload string, ip string, lbl ...string) MatrixPod {
	l := map[string]string{}
	for i := 0; i+1 < len(lbl); i += 2 {
		l[lbl[i]] = lbl[i+1]
	}
	return MatrixPod{Namespace: ns, Name: name, Workload: workload, Labels: l, ServiceAccount: "default", IP: netip.MustParseAddr(ip),
		Named: map[string]corev1.ContainerPort{}, Declared: []policy.Port{{Number: 80, Protocol: corev1.ProtocolTCP}}, Source: true, Destination: true}
}

func npSet(t *testing.T, nps ...*networkingv1.NetworkPolicy) *policy.Set {
	t.Helper()
	var ps []*policy.Policy
	for _, np := range nps {
		p, err := policy.FromNetworkPolicy(np)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return policy.NewSet(ps, nil)
}

// dbFromWeb isolates app=db and admits app=web on 80.
func dbFromWeb() *networkingv1.NetworkPolicy {
	tcp := corev1.ProtocolTCP
	port := intstr.FromInt32(80)
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db-from-web"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}}}}}
}

func shopPods() []MatrixPod {
	return []MatrixPod{
		mpod("shop", "web-1", "web", "10.244.0.2", "app", "web", "pod-template-hash", "abc"),
		mpod("shop", "web-2", "web", "10.244.1.2", "app", "web", "pod-template-hash", "abc"),
		mpod("shop", "db-0", "db", "10.244.0.3", "app", "db"),
		mpod("shop", "job-x", "", "10.244.0.4", "app", "batch"),
	}
}

func TestMatrixGroupsAndVerdicts(t *testing.T) {
	in := MatrixInput{Pods: shopPods(), NSLabels: map[string]map[string]string{"shop": {}}}
	m, err := BuildMatrix(in, npSet(t, dbFromWeb()), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range m.Groups {
		names = append(names, fmt.Sprintf("%d %s %v", g.ID, g.Title(), g.Pods))
	}
	want := []string{"0 shop/web (2 pods) [web-1 web-2]", "1 shop/db [db-0]", "2 shop/job-x [job-x]"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	got := map[string]policy.Result{}
	for _, c := range m.Cells() {
		got[fmt.Sprintf("%d->%d %s", c.From, c.To, c.Port)] = c.Verdict
	}
	wantCells := map[string]policy.Result{
		"0->0 80/TCP": policy.NoPolicy, "0->1 80/TCP": policy.Allowed, "0->2 80/TCP": policy.NoPolicy,
		"1->0 80/TCP": policy.NoPolicy, "1->1 80/TCP": policy.Denied, "1->2 80/TCP": policy.NoPolicy,
		"2->0 80/TCP": policy.NoPolicy, "2->1 80/TCP": policy.Denied, "2->2 80/TCP": policy.NoPolicy,
	}
	if diff := cmp.Diff(wantCells, got); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
}

// Pods whose labels differ in a way no policy reads stay one group; an ipBlock that covers one
// pod's address but not the other's splits them.
func TestMatrixGroupsByWhatPoliciesSee(t *testing.T) {
	pods := []MatrixPod{
		mpod("shop", "a-1", "a", "10.244.0.2", "app", "a", "version", "1"),
		mpod("shop", "a-2", "a", "10.244.1.2", "app", "a", "version", "2"),
	}
	in := MatrixInput{Pods: pods, NSLabels: map[string]map[string]string{"shop": {}}}
	m, err := BuildMatrix(in, npSet(t, dbFromWeb()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Groups) != 1 || !cmp.Equal(m.Groups[0].Labels, map[string]string{"app": "a"}) {
		t.Fatalf("groups %+v, want one with the common labels", m.Groups)
	}
	block := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "block"},
		Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.244.1.0/24"}}}}}}}
	m, err = BuildMatrix(in, npSet(t, block), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Groups) != 2 {
		t.Fatalf("%d groups, want the ipBlock to split the pods", len(m.Groups))
	}
}

func TestMatrixWhatIfBreaksService(t *testing.T) {
	pods := shopPods()
	in := MatrixInput{Pods: pods, NSLabels: map[string]map[string]string{"shop": {}},
		Services: []ServiceBackends{{Service: "shop/db", Port: "5432/TCP", Backends: []ServiceBackend{{Pod: 2, Target: policy.Port{Number: 80, Protocol: corev1.ProtocolTCP}}}}}}
	denyAll := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny-all"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	m, err := BuildMatrix(in, npSet(t, dbFromWeb()), npSet(t, denyAll))
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 0 {
		t.Errorf("a what-if keeps only changes, got %d cells", m.Len())
	}
	var changes []string
	for _, c := range m.WhatIf.Changes {
		changes = append(changes, fmt.Sprintf("%d->%d %s %s->%s %s", c.From, c.To, c.Port, c.Was, c.Is, strings.Join(c.DecidedBy, ",")))
	}
	want := []string{
		"0->0 80/TCP no policy->denied NetworkPolicy/shop/deny-all (network-policy)",
		"0->1 80/TCP allowed->denied NetworkPolicy/shop/deny-all (network-policy)",
		"0->2 80/TCP no policy->denied NetworkPolicy/shop/deny-all (network-policy)",
		"1->0 80/TCP no policy->denied NetworkPolicy/shop/deny-all (network-policy)",
		"1->2 80/TCP no policy->denied NetworkPolicy/shop/deny-all (network-policy)",
		"2->0 80/TCP no policy->denied NetworkPolicy/shop/deny-all (network-policy)",
		"2->2 80/TCP no policy->denied NetworkPolicy/shop/deny-all (network-policy)",
	}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	wantConn := []ServiceConnection{{Client: 0, Service: "shop/db", Port: "5432/TCP", Backend: 1, Before: 1, After: 0, State: ConnectionBroken}}
	if diff := cmp.Diff(wantConn, m.WhatIf.Connections); diff != "" {
		t.Errorf("connections (-want +got):\n%s", diff)
	}
}

func TestMatrixNeedsPorts(t *testing.T) {
	pods := shopPods()
	for i := range pods {
		pods[i].Declared = nil
	}
	_, err := BuildMatrix(MatrixInput{Pods: pods}, npSet(t), nil)
	if err == nil || !strings.Contains(err.Error(), "--port") {
		t.Fatalf("err %v, want one naming --port", err)
	}
}

// An Antrea rule on the same namespace's pods with some labels sets apart pods that differ only
// in those labels.
func TestMatrixGroupsByPairRules(t *testing.T) {
	acnp := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: clients-only}
spec:
  priority: 1
  appliedTo: [{podSelector: {matchLabels: {app: db}}}]
  ingress:
  - {action: Allow, from: [{namespaces: {match: Self}, podSelector: {matchLabels: {role: client}}}]}
  - {action: Drop, from: [{namespaceSelector: {}}]}
`), &acnp.Object); err != nil {
		t.Fatal(err)
	}
	k, _ := policy.KindOf("crd.antrea.io/v1beta1", "ClusterNetworkPolicy")
	set := policy.NewSet(k.Decode(acnp, &policy.Env{}), nil)
	pods := []MatrixPod{
		mpod("shop", "web", "", "10.244.0.2", "role", "client"),
		mpod("shop", "batch", "", "10.244.0.3", "role", "batch"),
		mpod("shop", "db", "", "10.244.0.4", "app", "db"),
	}
	m, err := BuildMatrix(MatrixInput{Pods: pods, NSLabels: map[string]map[string]string{"shop": {}}}, set, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]policy.Result{}
	for _, c := range m.Cells() {
		if m.Groups[c.To].Name == "db" {
			got[m.Groups[c.From].Name] = c.Verdict
		}
	}
	if want := map[string]policy.Result{"web": policy.Allowed, "batch": policy.Denied, "db": policy.Denied}; !cmp.Equal(want, got) {
		t.Errorf("verdicts to db %v, want %v", got, want)
	}
}

// A change whose verdict is unknown is reported as such, never as broken.
func TestMatrixWhatIfUnknownIsNotBroken(t *testing.T) {
	in := MatrixInput{Pods: shopPods(), NSLabels: map[string]map[string]string{"shop": {}},
		Services: []ServiceBackends{{Service: "shop/db", Port: "5432/TCP", Backends: []ServiceBackend{{Pod: 2, Target: policy.Port{Number: 80, Protocol: corev1.ProtocolTCP}}}}}}
	p := &policy.Policy{Ref: policy.Ref{Kind: "CiliumNetworkPolicy", Namespace: "shop", Name: "l7"}, Stage: policy.StageNetwork, Problem: "an L7 rule",
		Subject: func(e *policy.Endpoint) policy.Match { return policy.Match{Tri: policy.Yes} }}
	m, err := BuildMatrix(in, npSet(t, dbFromWeb()), policy.NewSet([]*policy.Policy{p}, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.WhatIf.Connections {
		if c.State != ConnectionUnknown {
			t.Errorf("connection %+v, want unknown", c)
		}
	}
	if len(m.WhatIf.Connections) == 0 {
		t.Error("no connection reported")
	}
}
