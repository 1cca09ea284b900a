//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podnet/kubectl-podnet/internal/trace"
)

// TestTraceProbeOnRealNode checks a path live on the real node (kubelet, containerd, bridge CNI):
// ip route get in the source pod's namespace (an ephemeral container) and on the node (a
// host-network pod), expected against seen, and real TCP connections to a listening pod.
func TestTraceProbeOnRealNode(t *testing.T) {
	c := realNodeCluster(t)
	manifest := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"server","namespace":"default","labels":{"app":"server"}},"spec":{"nodeName":"` + nodeName + `",
"securityContext":{"runAsNonRoot":true,"runAsUser":65534,"seccompProfile":{"type":"RuntimeDefault"}},
"containers":[{"name":"httpd","image":"` + testImage + `","imagePullPolicy":"Never","command":["httpd","-f","-p","8080","-h","/"],
"ports":[{"name":"http","containerPort":8080}],
"securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}`
	f := filepath.Join(t.TempDir(), "server.json")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	c.kubectl(t, "apply", "-f", f)
	c.kubectl(t, "wait", "--for=condition=Ready", "pod/server", "--timeout=60s")
	t.Cleanup(func() { c.kubectl(t, "delete", "pod", "server", "--grace-period=0", "--ignore-not-found") })

	run := func(args ...string) (result, *trace.Path) {
		t.Helper()
		r := c.podnet(t, append(append([]string{"trace"}, args...), probeArgs("--probe-namespace", "default", "-o", "json")...)...)
		var p trace.Path
		if r.stdout != "" {
			if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
				t.Fatalf("trace %v: %v\n%s", args, err, r.stdout)
			}
		}
		return r, &p
	}

	t.Run("pod to pod, probed and connected", func(t *testing.T) {
		r, p := run("default/app", "default/server", "--probe", "--connect", "--port", "8080")
		if r.code != 0 || p.Probe == nil {
			t.Fatalf("exit %d, stderr %s, probe %+v", r.code, r.stderr, p.Probe)
		}
		if len(p.Probe.Checks) == 0 {
			t.Fatalf("no checks: %+v", p.Probe)
		}
		for _, ch := range p.Probe.Checks {
			if ch.Status != "ok" {
				t.Errorf("hop %d in %s: expected %s, seen %s: %s (%s)", ch.Hop, ch.In, ch.Expected, ch.Seen, ch.Status, ch.Reason)
			}
		}
		if p.Probe.Connect == nil || p.Probe.Connect.Result != "connected" {
			t.Errorf("connect: %+v", p.Probe.Connect)
		}
	})

	t.Run("node to pod, probed on the node", func(t *testing.T) {
		r, p := run("node/"+nodeName, "default/server", "--probe")
		if r.code != 0 || p.Probe == nil || len(p.Probe.Checks) == 0 {
			t.Fatalf("exit %d, stderr %s, probe %+v", r.code, r.stderr, p.Probe)
		}
		for _, ch := range p.Probe.Checks {
			if ch.Status != "ok" || !strings.HasPrefix(ch.In, "node ") {
				t.Errorf("hop %d in %s: expected %s, seen %s: %s (%s)", ch.Hop, ch.In, ch.Expected, ch.Seen, ch.Status, ch.Reason)
			}
		}
		left := c.kubectl(t, "get", "pods", "-n", "default", "-l", "app.kubernetes.io/managed-by=kubectl-podnet", "-o", "name")
		if strings.TrimSpace(left) != "" {
			t.Errorf("node probe pods left behind: %s", left)
		}
	})

	t.Run("refused", func(t *testing.T) {
		r, p := run("default/app", "default/server", "--connect", "--port", "8081")
		if r.code != 3 || p.Probe == nil || p.Probe.Connect == nil || p.Probe.Connect.Result != "refused" {
			t.Fatalf("exit %d, stderr %s, probe %+v", r.code, r.stderr, p.Probe)
		}
		if !strings.Contains(r.stderr, "the live check disagrees with the model") {
			t.Errorf("stderr = %q", r.stderr)
		}
	})
}
