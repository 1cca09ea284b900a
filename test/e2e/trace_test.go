//go:build e2e

package e2e

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podnet/kubectl-podnet/internal/trace"
)

// TestTraceOnScenarios traces between two application pods on different nodes of each model and
// checks the model, the case and the step between the nodes.
func TestTraceOnScenarios(t *testing.T) {
	tests := []struct {
		scenario, src, dst string
		encap, where       string // the encapsulation kind, or the "where" of the hop between the nodes
	}{
		{"flannel-vxlan", "shop/web-0-0", "shop/web-1-0", "vxlan", ""},
		{"calico-ipip", "shop/web-0-1", "shop/web-1-1", "ipip", ""},
		{"calico-vxlan", "shop/web-0-1", "shop/web-1-1", "vxlan", ""},
		{"cilium-vxlan", "shop/web-0-1", "shop/web-1-1", "vxlan", ""},
		{"aks-kubenet", "shop/web-0-0", "shop/web-1-0", "", "cloud"},
		{"aws-vpc-cni", "shop/web-0-0", "shop/web-1-0", "", "cloud"},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			c := clusterFor(t, tt.scenario)
			p := c.tracePath(t, tt.src, tt.dst)
			var src corev1.Pod
			c.kubectlJSON(t, &src, "get", "pod", "-n", "shop", p.Src.Name)
			if p.Case != "cross-node" || p.Src.IP.String() != src.Status.PodIP || p.Src.Node != src.Spec.NodeName {
				t.Errorf("path %s from %s on %s; the API says %s on %s", p.Case, p.Src.IP, p.Src.Node, src.Status.PodIP, src.Spec.NodeName)
			}
			found := false
			for _, h := range p.Hops {
				if tt.encap != "" && h.Encap != nil && h.Encap.Kind == tt.encap || tt.where != "" && h.Where == tt.where {
					found = true
				}
			}
			if !found {
				t.Errorf("no %q hop between the nodes: %+v", tt.encap+tt.where, p.Hops)
			}
		})
	}
}

func TestTraceToServiceE2E(t *testing.T) {
	for _, tt := range []struct{ scenario, impl string }{{"aks-kubenet", "kube-proxy (iptables)"}, {"cilium-vxlan", "Cilium eBPF (kube-proxy replacement)"}} {
		t.Run(tt.scenario, func(t *testing.T) {
			c := clusterFor(t, tt.scenario)
			p := c.tracePath(t, "shop/web-0-1", "svc/kube-system/kube-dns")
			var svc corev1.Service
			c.kubectlJSON(t, &svc, "get", "service", "-n", "kube-system", "kube-dns")
			if p.Service == nil || p.Service.ClusterIP != svc.Spec.ClusterIP || p.Service.Implementation != tt.impl || len(p.Service.Ready) != 2 || p.Dst.IP.String() != p.Service.Chosen {
				t.Errorf("service step %+v, destination %s", p.Service, p.Dst.IP)
			}
		})
	}
}

// tracePath runs trace -o json.
func (c *cluster) tracePath(t *testing.T, src, dst string, extra ...string) *trace.Path {
	t.Helper()
	r := c.podnet(t, append([]string{"trace", src, dst, "-o", "json"}, extra...)...)
	if r.code != 0 {
		t.Fatalf("trace %s %s: exit %d: %s", src, dst, r.code, r.stderr)
	}
	var p trace.Path
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}
