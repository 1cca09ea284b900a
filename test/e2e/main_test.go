//go:build e2e

// Package e2e drives the built kubectl-podnet binary against real local control planes
// (hack/cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok), one per
// scenario under testdata/scenarios. Run with: make e2e (or go test -tags e2e ./test/e2e/...).
package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	repoRoot   string
	pluginBin  string
	kubectlBin string
	stateDir   string

	clustersMu sync.Mutex
	clusters   = map[string]*cluster{}
)

type cluster struct {
	name, scenario, kubeconfig string
	err                        error
}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	pluginBin = os.Getenv("PODNET_BIN")
	if pluginBin == "" {
		pluginBin = filepath.Join(repoRoot, "bin", "kubectl-podnet")
		if out, err := exec.Command("make", "-C", repoRoot, "build").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "make build: %v\n%s", err, out)
			return 1
		}
	}
	out, err := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "build").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "hack/cluster build: %v\n", err)
		return 1
	}
	kubectlBin = filepath.Join(strings.TrimSpace(lastLine(string(out))), "kubectl")
	stateDir, err = os.MkdirTemp("", "podnet-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	down := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "down", "--all")
	down.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
	if out, err := down.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "hack/cluster down --all: %v\n%s", err, out)
		code = 1
	}
	_ = os.RemoveAll(stateDir)
	return code
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// ownCluster starts a cluster of the test's own (hack/cluster up --name NAME ARGS...), which it
// may change as it likes, and removes it when the test ends.
func ownCluster(t *testing.T, name, scenario string, args ...string) *cluster {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), append([]string{"up", "--name", name, "--scenario", scenario}, args...)...)
	cmd.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/cluster up --name %s: %v\n%s", name, err, stderr.String())
	}
	t.Cleanup(func() {
		down := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "down", "--name", name)
		down.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
		if out, err := down.CombinedOutput(); err != nil {
			t.Errorf("hack/cluster down --name %s: %v\n%s", name, err, out)
		}
	})
	return &cluster{name: name, scenario: scenario, kubeconfig: lastLine(string(out))}
}

// clusterFor returns a running cluster with the scenario loaded, starting it on first use.
func clusterFor(t *testing.T, scenario string) *cluster {
	t.Helper()
	clustersMu.Lock()
	defer clustersMu.Unlock()
	c := clusters[scenario]
	if c == nil {
		c = &cluster{name: "e2e-" + scenario, scenario: scenario}
		args := []string{"up", "--name", c.name, "--scenario", scenario}
		if scenario == "" {
			c.name = "e2e-empty" // no scenario: no nodes, no DNS
			args = []string{"up", "--name", c.name}
		}
		cmd := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), args...)
		cmd.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			c.err = fmt.Errorf("hack/cluster up --scenario %s: %v\n%s", scenario, err, stderr.String())
		} else {
			c.kubeconfig = lastLine(string(out))
		}
		clusters[scenario] = c
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c
}

// result is what a run of the plugin gave.
type result struct {
	stdout, stderr string
	code           int
}

// podnet runs the built plugin with KUBECONFIG pointing at the cluster.
func (c *cluster) podnet(t *testing.T, args ...string) result {
	t.Helper()
	return runBin(t, pluginBin, c.kubeconfig, args...)
}

func runBin(t *testing.T, bin, kubeconfig string, args ...string) result {
	t.Helper()
	return runBinEnv(t, bin, kubeconfig, nil, args...)
}

// runBinEnv is runBin with more environment.
func runBinEnv(t *testing.T, bin, kubeconfig string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig, "NO_COLOR=1"), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s %v: %v", bin, args, err)
	}
	return r
}

// kubectl runs the control plane's kubectl and returns its stdout; it fails the test on error.
func (c *cluster) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	r := runBin(t, kubectlBin, c.kubeconfig, args...)
	if r.code != 0 {
		t.Fatalf("kubectl %v: exit %d: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

// kubectlJSON decodes the JSON output of kubectl ARGS -o json into v.
func (c *cluster) kubectlJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	if err := json.Unmarshal([]byte(c.kubectl(t, append(args, "-o", "json")...)), v); err != nil {
		t.Fatalf("kubectl %v -o json: %v", args, err)
	}
}
