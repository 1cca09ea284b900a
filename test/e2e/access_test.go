//go:build e2e

package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
			"error: the kubeconfig /nonexistent/kubeconfig given with --kubeconfig cannot be read (no such file or directory): check the path"},
		{"bad --request-timeout", []string{"ip", "pod/x", "--request-timeout", "abc"},
			`error: invalid --request-timeout "abc": give a duration such as 30s or 2m (a whole number is seconds; 0 waits forever)`},
		{"ip, unreachable server", []string{"ip", "pod/x", "node/y", "--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify"},
			"error: cannot reach the API server at https://127.0.0.1:1: connection refused"},
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
	t.Run("no kubeconfig at all", func(t *testing.T) {
		none := filepath.Join(t.TempDir(), "config")
		r := runBin(t, pluginBin, none, "nodes")
		want := "error: no kubeconfig found (looked at " + none + "): point KUBECONFIG or --kubeconfig at one"
		if r.code != 1 || !strings.HasPrefix(r.stderr, want) || r.stdout != "" {
			t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", r.code, r.stdout, r.stderr, want)
		}
	})
	t.Run("missing credential plugin", func(t *testing.T) {
		server := strings.TrimSpace(c.kubectl(t, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"))
		kc := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: aks, cluster: {server: "`+server+`", insecure-skip-tls-verify: true}}]
users:
- name: clusterUser_rg_aks
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin-not-installed, args: [get-token], interactiveMode: Never}
contexts: [{name: aks, context: {cluster: aks, user: clusterUser_rg_aks}}]
current-context: aks
`), 0o600); err != nil {
			t.Fatal(err)
		}
		want := `error: the kubeconfig's user "clusterUser_rg_aks" gets its credentials from the command "kubelogin-not-installed", which failed: executable kubelogin-not-installed not found: install it or put it on PATH`
		for _, cmd := range [][]string{{"nodes"}, {"ip", "pod/x", "pod/y"}} {
			r := runBin(t, pluginBin, kc, cmd...)
			if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("%v: exit %d, stderr %q; want 1 and one line starting %q", cmd, r.code, r.stderr, want)
			}
		}
	})
	// a server that accepts connections and never answers: ip gives up after one --request-timeout
	// (not one per request it would have made), and says so once for all its targets
	t.Run("ip, silent server", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			var held []net.Conn
			for {
				conn, err := l.Accept()
				if err != nil {
					for _, c := range held {
						c.Close()
					}
					return
				}
				held = append(held, conn)
			}
		}()
		server := "https://" + l.Addr().String()
		start := time.Now()
		r := c.podnet(t, "ip", "pod/a", "pod/b", "node/c", "-n", "default", "--server", server, "--insecure-skip-tls-verify", "--request-timeout", "3s")
		took := time.Since(start)
		want := "error: the API server at " + server + " did not answer within --request-timeout 3s: check that it is reachable\n"
		if r.code != 1 || r.stderr != want {
			t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
		}
		if took >= 6*time.Second {
			t.Errorf("ip took %s: that is --request-timeout twice or more", took.Round(time.Millisecond))
		}
	})
	// -v brings client-go's request log back, as kubectl -v does, ahead of the same error.
	t.Run("bad token -v 6", func(t *testing.T) {
		r := c.podnet(t, "nodes", "-v", "6", "--context", c.name+"-viewer", "--token", "not-a-real-token")
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 1 || !strings.Contains(r.stderr, "/api/v1/nodes") || !strings.Contains(lines[len(lines)-1], "rejected the credentials (401 Unauthorized)") {
			t.Errorf("exit %d, stderr:\n%s\nwant client-go's request lines naming /api/v1/nodes, then the error", r.code, r.stderr)
		}
	})
}
