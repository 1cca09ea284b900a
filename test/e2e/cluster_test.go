//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// alive reports whether pid runs (a zombie waiting for its reaper does not count).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(f) == 0 || f[0] != "Z"
}

var components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// TestClusterLifecycle starts a cluster of its own, checks that every component listens on
// 127.0.0.1 only, and that down leaves no process and no state behind.
func TestClusterLifecycle(t *testing.T) {
	state := t.TempDir()
	env := append(os.Environ(), "PODNET_CLUSTER_STATE="+state)
	up := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "up", "--name", "lifecycle")
	up.Env = env
	out, err := up.Output()
	if err != nil {
		t.Fatalf("hack/cluster up: %v", err)
	}
	if kc := lastLine(string(out)); kc != filepath.Join(state, "lifecycle", "kubeconfig") {
		t.Errorf("last line = %q, want the kubeconfig path", kc)
	}
	pids := map[int]string{}
	for _, c := range components {
		b, err := os.ReadFile(filepath.Join(state, "lifecycle", c+".pid"))
		if err != nil {
			t.Fatalf("%s has no pid file: %v", c, err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		pids[pid] = c
	}
	ss, err := exec.Command("ss", "-Htlnp").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	listening := map[string]bool{}
	for _, line := range strings.Split(string(ss), "\n") {
		for pid, c := range pids {
			if strings.Contains(line, "pid="+strconv.Itoa(pid)+",") {
				listening[c] = true
				local := strings.Fields(line)[3]
				if !strings.HasPrefix(local, "127.0.0.1:") {
					t.Errorf("%s listens on %s, want 127.0.0.1 only", c, local)
				}
			}
		}
	}
	for _, c := range []string{"etcd", "kube-apiserver", "kwok"} {
		if !listening[c] {
			t.Errorf("%s listens nowhere; ss said:\n%s", c, ss)
		}
	}
	down := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "down", "--name", "lifecycle")
	down.Env = env
	if out, err := down.CombinedOutput(); err != nil {
		t.Fatalf("hack/cluster down: %v\n%s", err, out)
	}
	for pid, c := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) still runs after down", c, pid)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "lifecycle")); !os.IsNotExist(err) {
		t.Errorf("state directory left behind: %v", err)
	}
}
