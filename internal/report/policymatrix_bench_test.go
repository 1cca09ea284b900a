package report

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/podnet/kubectl-podnet/internal/policy"
)

// benchPolicies are 200 policies across kinds over pods labelled shard (0-199) and slot (0-4):
// 100 NetworkPolicies, 40 CiliumNetworkPolicies (with deny rules), 30 Calico
// GlobalNetworkPolicies, 20 AdminNetworkPolicies and 10 Antrea ClusterNetworkPolicies.
func benchPolicies(b *testing.B) *policy.Set {
	b.Helper()
	var docs []string
	for k := 0; k < 100; k++ {
		docs = append(docs, fmt.Sprintf(`{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: np-%d, namespace: ns-%d},
spec: {podSelector: {matchLabels: {shard: "%d"}}, ingress: [{from: [{podSelector: {matchLabels: {slot: "%d"}}}, {namespaceSelector: {matchLabels: {team: t%d}}}], ports: [{port: 80}]}]}}`, k, k%10, k, k%5, k%3))
	}
	for k := 0; k < 40; k++ {
		docs = append(docs, fmt.Sprintf(`{apiVersion: cilium.io/v2, kind: CiliumNetworkPolicy, metadata: {name: cnp-%d, namespace: ns-%d},
spec: {endpointSelector: {matchLabels: {shard: "%d"}}, ingress: [{fromEndpoints: [{matchLabels: {slot: "%d"}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}],
  ingressDeny: [{fromEndpoints: [{matchLabels: {slot: "%d", "k8s:io.kubernetes.pod.namespace": ns-1}}]}]}}`, k, (100+k)%10, 100+k, k%5, (k+1)%5))
	}
	for k := 0; k < 30; k++ {
		docs = append(docs, fmt.Sprintf(`{apiVersion: crd.projectcalico.org/v1, kind: GlobalNetworkPolicy, metadata: {name: gnp-%d},
spec: {order: %d, selector: "shard == '%d'", ingress: [{action: Deny, protocol: TCP, source: {selector: "slot in {'%d','%d'}"}, destination: {ports: [80]}}, {action: Allow}]}}`, k, k, 140+k, k%5, (k+2)%5))
	}
	for k := 0; k < 20; k++ {
		docs = append(docs, fmt.Sprintf(`{apiVersion: policy.networking.k8s.io/v1alpha1, kind: AdminNetworkPolicy, metadata: {name: anp-%d},
spec: {priority: %d, subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {shard: "%d"}}}},
  ingress: [{action: Pass, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {slot: "%d"}}}}]}, {action: Deny, from: [{namespaces: {}}]}]}}`, k, k, 170+k, k%5))
	}
	for k := 0; k < 10; k++ {
		docs = append(docs, fmt.Sprintf(`{apiVersion: crd.antrea.io/v1beta1, kind: ClusterNetworkPolicy, metadata: {name: acnp-%d},
spec: {tier: securityops, priority: %d, appliedTo: [{podSelector: {matchLabels: {shard: "%d"}}}],
  ingress: [{action: Drop, from: [{podSelector: {matchLabels: {slot: "%d"}}}], ports: [{protocol: TCP, port: 80}]}]}}`, k, k+1, 190+k, k%5))
	}
	var ps []*policy.Policy
	env := &policy.Env{}
	for _, d := range docs {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			b.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		k, ok := policy.KindOf(u.GetAPIVersion(), u.GetKind())
		if !ok {
			b.Fatalf("no kind for %s", u.GetKind())
		}
		for _, p := range k.Decode(u, env) {
			if p.Problem != "" {
				b.Fatalf("%s: %s", p.Ref, p.Problem)
			}
			ps = append(ps, p)
		}
	}
	if len(ps) != 200 {
		b.Fatalf("%d policies, want 200", len(ps))
	}
	return policy.NewSet(ps, nil)
}

// benchPods are 1,000 pods in 10 namespaces that the policies all tell apart (shard x slot).
func benchPods() MatrixInput {
	in := MatrixInput{NSLabels: map[string]map[string]string{}, Ports: []policy.Port{{Number: 80, Protocol: corev1.ProtocolTCP}}}
	for n := 0; n < 10; n++ {
		in.NSLabels[fmt.Sprintf("ns-%d", n)] = map[string]string{"team": fmt.Sprintf("t%d", n%3)}
	}
	for i := 0; i < 1000; i++ {
		shard := i % 200
		in.Pods = append(in.Pods, MatrixPod{Namespace: fmt.Sprintf("ns-%d", shard%10), Name: fmt.Sprintf("pod-%d", i), Workload: fmt.Sprintf("app-%d", i),
			Labels: map[string]string{"shard": fmt.Sprint(shard), "slot": fmt.Sprint(i / 200), "app": fmt.Sprintf("app-%d", i)}, ServiceAccount: "default",
			IP: netip.AddrFrom4([4]byte{10, 244, byte(i / 250), byte(i % 250)}), Named: map[string]corev1.ContainerPort{}, Source: true, Destination: true})
	}
	return in
}

// BenchmarkPolicyMatrix1000 is the matrix of 1,000 x 1,000 pods (no two alike to the policies)
// under 200 policies of five kinds. Targets: 2 s and 200 MB; it reports the fraction of each used
// (x-of-2s, x-of-200MB; below 1 meets the target) and the heap the finished matrix holds.
func BenchmarkPolicyMatrix1000(b *testing.B) {
	set := benchPolicies(b)
	in := benchPods()
	b.ResetTimer()
	var m *PolicyMatrix
	var worst time.Duration
	var heap uint64
	for range b.N {
		runtime.GC()
		start := time.Now()
		var err error
		if m, err = BuildMatrix(in, set, nil); err != nil {
			b.Fatal(err)
		}
		worst = max(worst, time.Since(start))
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = max(heap, ms.HeapInuse)
	}
	b.StopTimer()
	if len(m.Groups) != 1000 || m.Len() != 1_000_000 {
		b.Fatalf("%d groups and %d cells, want 1,000 and 1,000,000", len(m.Groups), m.Len())
	}
	b.ReportMetric(worst.Seconds()/2, "x-of-2s")
	b.ReportMetric(float64(heap)/(200<<20), "x-of-200MB")
	b.ReportMetric(float64(heap)/(1<<20), "MB-heap")
}
