package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func shopPod(name, app, ip string, port int32) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: map[string]string{"app": app}},
		Spec:   corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{Name: "main", ContainerPort: port}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}}
}

// shopApp is web (2 replicas) -> db behind Service db, db admitting web on 5432.
func shopApp() []runtime.Object {
	return []runtime.Object{
		flannelNode("node-1", "192.168.56.11", "10.244.0.0/24", true),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "shop"}}},
		shopPod("web-1", "web", "10.244.0.2", 8080), shopPod("web-2", "web", "10.244.1.2", 8080), shopPod("db-0", "db", "10.244.0.3", 5432),
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db-from-web"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromString("main"))}}}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db-abc", Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
			Ports:     []discoveryv1.EndpointPort{{Name: ptr.To("pg"), Port: ptr.To(int32(5432))}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.244.0.3"}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "db-0"}}}},
	}
}

func TestPolicyMatrixTable(t *testing.T) {
	out, errOut, err := runCmd(t, shopApp(), "policy", "matrix", "-n", "shop", "--port", "5432")
	if err != nil {
		t.Fatalf("policy matrix: %v\n%s", err, errOut)
	}
	want := `GROUP   NAMESPACE   NAME      PODS   SIDE      LABELS
1       shop        db-0      1      from,to   app=db
2       shop        app=web   2      from,to   app=web

5432/TCP  (row: from, column: to)
           1 2
1 db-0     ✗ ·
2 app=web  ✓ ·

✓ allowed  ✗ denied  ? unknown  · no policy (allowed)
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if want := "3 pod(s) in 2 group(s) in namespace shop; ports 5432/TCP; policies: 1 NetworkPolicy\n" +
		"note: flannel alone does not enforce NetworkPolicy; policies have no effect unless a policy engine (e.g. Calico in policy-only mode) runs: the verdicts are what the policies say, nothing enforces them\n"; errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestPolicyMatrixWhatIfBreaks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "deny.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, shopApp(), "policy", "matrix", "-n", "shop", "--with", file)
	if ExitCode(err) != exitFinding || !strings.Contains(err.Error(), "the change breaks 1 client -> Service connection(s): shop/app=web (2 pods) -> shop/db 5432/TCP (broken)") {
		t.Fatalf("err %v (exit %d), want exit 2 naming the broken connection", err, ExitCode(err))
	}
	for _, want := range []string{"with: NetworkPolicy/shop/db-from-web\n", "shop/app=web (2 pods)   shop/db-0   5432/TCP   allowed   denied   NetworkPolicy/shop/db-from-web (network-policy)\n",
		"shop/app=web (2 pods)   shop/db   5432/TCP   1          1                0               broken\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCmd(t, shopApp(), "policy", "matrix", "-n", "shop", "--without", "netpol/db-from-web", "-o", "json")
	if err != nil {
		t.Fatalf("--without: %v", err)
	}
	if !strings.Contains(out, `"removed": [`) || !strings.Contains(out, `"before": "denied"`) {
		t.Errorf("json lacks the removal and a denied-before cell:\n%s", out)
	}
}

func TestPolicyMatrixBadInput(t *testing.T) {
	dir := t.TempDir()
	notPolicy := filepath.Join(dir, "cm.yaml")
	if err := os.WriteFile(notPolicy, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--port", "http"}, `--port "http": give a port number from 1 to 65535`},
		{[]string{"--port", "53/icmp"}, "the protocol must be tcp, udp or sctp"},
		{[]string{"-l", "app in (x"}, `-l "app in (x" is not a label selector`},
		{[]string{"-A", "--namespaces", "a"}, "-A and --namespaces both choose the namespaces"},
		{[]string{"-o", "name"}, "-o name: the cells of a matrix have no names"},
		{[]string{"-o", "table"}, `unknown output format "table"`},
		{[]string{"--without", "deployment/shop/web"}, `"deployment" is no policy kind podnet evaluates`},
		{[]string{"--without", "netpol/shop/nope"}, "--without NetworkPolicy/shop/nope: there is no NetworkPolicy nope in namespace shop"},
		{[]string{"--without", "anp/shop/x"}, "AdminNetworkPolicy is cluster-scoped: write adminnetworkpolicy/NAME"},
		{[]string{"--with", notPolicy}, "document 1 is a ConfigMap of v1, not a policy kind podnet evaluates"},
		{[]string{"--with", filepath.Join(dir, "missing.yaml")}, "no such file or directory"},
		{[]string{"--namespaces", "nowhere"}, "namespace nowhere not found"},
		{[]string{"-l", "app=none"}, "no running pod on the pod network matches"},
	} {
		_, _, err := runCmd(t, shopApp(), append([]string{"policy", "matrix", "-n", "shop"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
	}
}
