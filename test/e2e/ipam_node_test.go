//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podnet/kubectl-podnet/internal/report"
)

// nodeEnv is what hack/cluster node-env says of the cluster's real node.
func nodeEnv(t *testing.T, c *cluster) map[string]string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "node-env", "--name", c.name)
	cmd.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/cluster node-env: %v", err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env
}

// waitFor polls cond every 200 ms until it holds or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestIPAMCheckHostLocalLeak: a real leak made by a real failure on the real node. A plugin of
// the node's CNI chain disappears while a pod runs (a CNI upgrade or uninstall that removes a
// binary); the pod is deleted, the runtime stops its sandbox, the CNI DEL fails ("failed to find
// plugin"), and host-local keeps the address. `ipam check --nodes` finds it and names the sandbox;
// without --nodes it says the store was not read and claims nothing. Once the plugin is back, the
// kubelet's retry releases the address and the check finds nothing.
func TestIPAMCheckHostLocalLeak(t *testing.T) {
	c := realNodeCluster(t)
	env := nodeEnv(t, c)
	confPath, link := env["CNI_CONF"], filepath.Join(env["CNI_BIN_DIR"], "podnet-leaktest")
	orig, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	var conf map[string]any
	if err := json.Unmarshal(orig, &conf); err != nil {
		t.Fatal(err)
	}
	conf["plugins"] = append(conf["plugins"].([]any), map[string]any{"type": "podnet-leaktest"})
	chained, _ := json.MarshalIndent(conf, "", "  ")
	// the extra plugin is Debian's tuning plugin under a name of its own: it passes ADD through
	if err := os.Symlink("/usr/lib/cni/tuning", link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = os.WriteFile(confPath, orig, 0o644)
		_ = os.Remove(link)
	})
	if err := os.WriteFile(confPath, chained, 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // containerd reloads its CNI configuration on the file's change

	manifest := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"leaky","namespace":"default"},"spec":{"nodeName":"` + nodeName + `",
"terminationGracePeriodSeconds":0,"containers":[{"name":"app","image":"` + testImage + `","imagePullPolicy":"Never","command":["sleep","3600"]}]}}`
	f := filepath.Join(t.TempDir(), "leaky.json")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	c.kubectl(t, "apply", "-f", f)
	c.kubectl(t, "wait", "--for=condition=Ready", "-n", "default", "pod/leaky", "--timeout=60s")
	ip := strings.TrimSpace(c.kubectl(t, "get", "pod", "-n", "default", "leaky", "-o", "jsonpath={.status.podIP}"))
	resFile := filepath.Join(env["CNI_DATA_DIR"], env["CNI_NETWORK"], ip)
	content, err := os.ReadFile(resFile)
	if err != nil {
		t.Fatalf("host-local's reservation of %s: %v", ip, err)
	}
	sandbox, _, _ := strings.Cut(string(content), "\r\n")
	task := filepath.Join(env["RUNTIME_STATE_DIR"], "io.containerd.runtime.v2.task", "k8s.io", sandbox)
	if _, err := os.Stat(task); err != nil {
		t.Fatalf("the sandbox's task directory: %v", err)
	}

	// the plugin goes, then the pod
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	c.kubectl(t, "delete", "pod", "-n", "default", "leaky", "--grace-period=0", "--force", "--wait=true")
	if !waitFor(60*time.Second, func() bool { _, err := os.Stat(task); return os.IsNotExist(err) }) {
		t.Fatalf("the sandbox of the deleted pod still runs after 60 s")
	}
	if _, err := os.Stat(resFile); err != nil {
		t.Fatalf("the failed CNI DEL released the address after all: %v", err)
	}

	args := probeArgs("--nodes", nodeName, "--probe-namespace", "default", "--runtime-state-dir", env["RUNTIME_STATE_DIR"], "--min-age", "1s")
	rep, r := ipamCheck(t, c, args...)
	var leak *report.IPAMFinding
	for i, f := range rep.Findings {
		if f.Kind == report.FindLeaked && f.Address == ip {
			leak = &rep.Findings[i]
		} else {
			t.Errorf("unexpected finding: %+v", f)
		}
	}
	if r.code != 2 || leak == nil {
		t.Fatalf("exit %d, no leak of %s found: %+v\n%s", r.code, ip, rep.Findings, r.stderr)
	}
	wantStore := "host-local " + nodeName + ":" + resFile
	if leak.Store != wantStore || leak.ClaimedFor != "sandbox "+sandbox[:13]+" (eth0)" || leak.HeldBy != "nobody" || leak.Since == "" {
		t.Errorf("leak: %+v (want store %q, sandbox %s)", leak, wantStore, sandbox[:13])
	}
	stored := false
	for _, s := range rep.Stores {
		if strings.HasPrefix(s.Name, "host-local reservations on node "+nodeName) {
			stored = s.State == "read" && s.Objects >= 1
		}
	}
	if !stored {
		t.Errorf("the node's store is not listed as read: %+v", rep.Stores)
	}
	// the table names the leak and the file to remove, the summary goes to stderr
	tr := c.podnet(t, append([]string{"ipam", "check"}, args...)...)
	if tr.code != 2 || !strings.Contains(tr.stdout, "leaked") || !strings.Contains(tr.stdout, "remove the file "+resFile+" on the node") ||
		!strings.Contains(tr.stderr, "host-local reservations on node "+nodeName) {
		t.Errorf("table: exit %d\n%s\n%s", tr.code, tr.stdout, tr.stderr)
	}

	// without --nodes the store is not read, and nothing is claimed of it
	rep, r = ipamCheck(t, c)
	for _, f := range rep.Findings {
		if f.Address == ip {
			t.Errorf("without the probe: %+v", f)
		}
	}
	unread := false
	for _, s := range rep.Stores {
		unread = unread || strings.HasPrefix(s.Name, "host-local reservations on ") && s.State == "not visible through the API" && strings.Contains(s.Reason, "--nodes")
	}
	if !unread || r.code != 0 {
		t.Errorf("exit %d, stores %+v", r.code, rep.Stores)
	}

	// recovery: the plugin comes back, the kubelet's retry tears the sandbox's network down
	if err := os.Symlink("/usr/lib/cni/tuning", link); err != nil {
		t.Fatal(err)
	}
	if !waitFor(180*time.Second, func() bool { _, err := os.Stat(resFile); return os.IsNotExist(err) }) {
		t.Fatalf("the kubelet did not release %s within 180 s of the plugin's return", ip)
	}
	rep, r = ipamCheck(t, c, args...)
	if r.code != 0 || len(rep.Findings) != 0 {
		t.Errorf("after the recovery: exit %d, findings %+v\n%s", r.code, rep.Findings, r.stderr)
	}
	if left := c.kubectl(t, "get", "pods", "-A", "-l", "app.kubernetes.io/managed-by=kubectl-podnet", "-o", "name"); left != "" {
		t.Errorf("node probe pods left behind: %s", left)
	}
}
