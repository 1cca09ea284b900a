package policy

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// objects decodes YAML documents into policies.
func objects(t *testing.T, env *Env, docs string) []*Policy {
	t.Helper()
	if env == nil {
		env = &Env{}
	}
	var out []*Policy
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("bad YAML: %v\n%s", err, doc)
		}
		obj := &unstructured.Unstructured{Object: m}
		k, ok := KindOf(obj.GetAPIVersion(), obj.GetKind())
		if !ok {
			t.Fatalf("no kind for %s %s", obj.GetAPIVersion(), obj.GetKind())
		}
		out = append(out, k.Decode(obj, env)...)
	}
	return out
}

// pod is an endpoint: "ns/app=a,tier=b@10.0.0.1" with namespace labels nsl (nil: unknown).
func pod(spec string, nsl map[string]string) *Endpoint {
	ns, rest, _ := strings.Cut(spec, "/")
	lbl, ip, _ := strings.Cut(rest, "@")
	e := &Endpoint{Namespace: ns, Labels: map[string]string{}, IsPod: true, NSLabels: nsl, NSLabelsKnown: nsl != nil,
		Ports: map[string]corev1.ContainerPort{"http": {Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}, ServiceAccount: "default"}
	if lbl != "" {
		for _, kv := range strings.Split(lbl, ",") {
			k, v, _ := strings.Cut(kv, "=")
			e.Labels[k] = v
		}
	}
	if ip == "" {
		ip = "10.244.0.10"
	}
	e.IP = netip.MustParseAddr(ip)
	return e
}

func ns(name string, kv ...string) map[string]string {
	m := map[string]string{"kubernetes.io/metadata.name": name}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func tcp(n int32) Port { return Port{Number: n, Protocol: corev1.ProtocolTCP} }
