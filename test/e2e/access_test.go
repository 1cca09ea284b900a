//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

func TestUnprivilegedUser(t *testing.T) {
	c := clusterFor(t, "aks-kubenet")
	viewer := c.name + "-viewer"

	t.Run("no RBAC at all", func(t *testing.T) {
		r := c.podnet(t, "nodes", "--context", viewer)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for _, want := range []string{
			"note: cannot list pods, not even in namespace default (forbidden)",
			"note: cannot list nodes (forbidden): nodes are derived from their pods",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	})

	// grant the viewer the pods of namespace shop only
	c.kubectl(t, "create", "role", "pod-reader", "-n", "shop", "--verb=list,get", "--resource=pods")
	c.kubectl(t, "create", "rolebinding", "viewer-pods", "-n", "shop", "--role=pod-reader", "--user=podnet-viewer")

	t.Run("pods of one namespace", func(t *testing.T) {
		r := c.podnet(t, "nodes", "--context", viewer, "-n", "shop")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "note: cannot list pods in all namespaces (forbidden): showing pods of namespace shop only") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
		// nodes derived from the shop pods: the four nodes with their InternalIPs from hostIPs
		for _, ip := range []string{"10.224.0.4", "10.224.0.5", "10.224.0.6", "10.224.0.7"} {
			if !strings.Contains(r.stdout, ip) {
				t.Errorf("stdout lacks node address %s:\n%s", ip, r.stdout)
			}
		}
		if !strings.Contains(r.stderr, "in namespace shop") {
			t.Errorf("footer does not say the pods are of namespace shop:\n%s", r.stderr)
		}
	})

	c.kubectl(t, "create", "clusterrole", "node-reader", "--verb=list,get", "--resource=nodes")
	c.kubectl(t, "create", "clusterrolebinding", "viewer-nodes", "--clusterrole=node-reader", "--user=podnet-viewer")

	t.Run("nodes and one namespace", func(t *testing.T) {
		r := c.podnet(t, "nodes", "--context", viewer, "-n", "shop")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "cannot list nodes") || !strings.Contains(r.stdout, "10.244.") || !strings.Contains(r.stdout, "kubenet") {
			t.Errorf("with nodes readable the table shows pod CIDRs and the model:\n%s\n%s", r.stdout, r.stderr)
		}
	})
}

func TestConnectionFailures(t *testing.T) {
	c := clusterFor(t, "aks-kubenet")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unreachable server", []string{"nodes", "--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify", "--request-timeout", "5s"},
			"error: cannot reach the API server at https://127.0.0.1:1: connection refused"},
		{"bad token", []string{"nodes", "--context", c.name + "-viewer", "--token", "not-a-real-token"},
			"rejected the credentials (401 Unauthorized)"},
		{"missing kubeconfig", []string{"nodes", "--kubeconfig", "/nonexistent/kubeconfig"},
			"error: kubeconfig: "},
		{"unknown context", []string{"nodes", "--context", "nope"},
			`context "nope" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.podnet(t, tt.args...)
			if r.code != 1 {
				t.Errorf("exit code = %d, want 1", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("stderr = %q, want one line containing %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
	// -v brings client-go's request log back, as kubectl -v does, ahead of the same error.
	t.Run("bad token -v 6", func(t *testing.T) {
		r := c.podnet(t, "nodes", "-v", "6", "--context", c.name+"-viewer", "--token", "not-a-real-token")
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 1 || !strings.Contains(r.stderr, "/api/v1/nodes") || !strings.Contains(lines[len(lines)-1], "rejected the credentials (401 Unauthorized)") {
			t.Errorf("exit %d, stderr:\n%s\nwant client-go's request lines naming /api/v1/nodes, then the error", r.code, r.stderr)
		}
	})
}
