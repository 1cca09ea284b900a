//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// podnetRead runs the plugin with pods read as PODNET_POD_READ says, at -v 4 (which says how).
func (c *cluster) podnetRead(t *testing.T, read string, args ...string) result {
	t.Helper()
	return runBinEnv(t, pluginBin, c.kubeconfig, []string{"PODNET_POD_READ=" + read}, append(args, "-v", "4")...)
}

// readsAgree runs args with pods streamed and paged and checks that both give the same output, and
// that the stream was used (wantStream) or refused with the reason wantFallback.
func readsAgree(t *testing.T, c *cluster, wantFallback string, args ...string) {
	t.Helper()
	streamed := c.podnetRead(t, "stream", args...)
	paged := c.podnetRead(t, "paged", args...)
	if streamed.code != paged.code || streamed.stdout != paged.stdout {
		t.Errorf("%v: streamed (exit %d) and paged (exit %d) differ:\n--- streamed\n%s\n--- paged\n%s", args, streamed.code, paged.code, streamed.stdout, paged.stdout)
	}
	if !strings.Contains(paged.stderr, "pods: reading them in pages of 500") {
		t.Errorf("%v paged: -v 4 does not say the pods were paged:\n%s", args, paged.stderr)
	}
	if wantFallback == "" {
		if !strings.Contains(streamed.stderr, "read through one watch-list stream") {
			t.Errorf("%v streamed: -v 4 does not say the stream was used:\n%s", args, streamed.stderr)
		}
		return
	}
	if !strings.Contains(streamed.stderr, "the watch-list stream failed") || !strings.Contains(streamed.stderr, wantFallback) {
		t.Errorf("%v streamed: -v 4 does not say the stream failed with %q:\n%s", args, wantFallback, streamed.stderr)
	}
}

// TestPodReadsAgree: on every scenario the watch-list stream and the paged LIST give the same
// inventory, as every command that reads it shows it.
func TestPodReadsAgree(t *testing.T) {
	for _, scenario := range scenarioNames() {
		t.Run(scenario, func(t *testing.T) {
			c := clusterFor(t, scenario)
			for _, args := range [][]string{{"nodes", "-o", "json"}, {"cidr-usage", "-o", "json"}, {"summary", "-o", "json"}} {
				readsAgree(t, c, "", args...)
			}
		})
	}
}

// TestPodReadFallbacks: where 'watch' on pods is forbidden but 'list' allowed, and on an API server
// without watch-list (the WatchList feature off, as on servers before 1.32), the stream is refused
// and the pods are paged instead, with the same answer.
func TestPodReadFallbacks(t *testing.T) {
	t.Run("watch forbidden", func(t *testing.T) {
		c := clusterFor(t, "flannel-vxlan")
		c.kubectl(t, "create", "clusterrole", "podnet-list-only", "--verb=get,list", "--resource=pods,nodes,namespaces,services,configmaps,daemonsets")
		c.kubectl(t, "create", "clusterrolebinding", "podnet-list-only", "--clusterrole=podnet-list-only", "--user=podnet-lister")
		t.Cleanup(func() {
			c.kubectl(t, "delete", "clusterrolebinding", "podnet-list-only")
			c.kubectl(t, "delete", "clusterrole", "podnet-list-only")
		})
		readsAgree(t, c, `cannot watch resource "pods"`, "nodes", "-o", "json", "--as", "podnet-lister")
		readsAgree(t, c, `cannot watch resource "pods"`, "cidr-usage", "-o", "json", "--as", "podnet-lister")
	})
	t.Run("no watch-list", func(t *testing.T) {
		c := ownCluster(t, "e2e-nowatchlist", "aks-kubenet", "--apiserver-feature-gates", "WatchList=false")
		readsAgree(t, c, "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled", "nodes", "-o", "json")
		readsAgree(t, c, "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled", "summary", "-o", "json")
		// and the automatic choice on a small cluster pages without trying the stream
		auto := c.podnetRead(t, "auto", "nodes")
		if !strings.Contains(auto.stderr, fmt.Sprintf("reading them in pages of %d", 500)) && !strings.Contains(auto.stderr, "all in the first page") {
			t.Errorf("auto on a small cluster: -v 4 says\n%s", auto.stderr)
		}
	})
}
