//go:build e2e

package e2e

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podnet/kubectl-podnet/internal/probe"
)

const (
	testImage = "podnet.local/busybox:test" // built and imported by hack/cluster node-up
	nodeName  = "podnet-node-1"
)

var (
	nodeOnce    sync.Once
	nodeCluster *cluster
	nodeErr     string
)

// realNodeCluster is a cluster with one real kubelet node; tests that need it skip without root.
func realNodeCluster(t *testing.T) *cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the real node (kubelet, containerd, network namespaces) needs root; CI runs as root")
	}
	nodeOnce.Do(func() {
		c := clusterFor(t, "")
		cmd := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "node-up", "--name", c.name)
		cmd.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			nodeErr = "hack/cluster node-up: " + err.Error() + "\n" + string(out)
			return
		}
		c.kubectl(t, "create", "namespace", "probes")
		c.kubectl(t, "label", "namespace", "probes", "pod-security.kubernetes.io/enforce=restricted")
		for _, p := range []struct{ ns, name string }{{"probes", "web"}, {"default", "limited"}, {"default", "app"}} {
			manifest := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + p.name + `","namespace":"` + p.ns + `"},"spec":{"nodeName":"` + nodeName + `",
"securityContext":{"runAsNonRoot":true,"runAsUser":65534,"seccompProfile":{"type":"RuntimeDefault"}},
"containers":[{"name":"app","image":"` + testImage + `","imagePullPolicy":"Never","command":["sleep","3600"],
"securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}`
			f := filepath.Join(t.TempDir(), p.name+".json")
			if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
				t.Fatal(err)
			}
			c.kubectl(t, "apply", "-f", f)
			c.kubectl(t, "wait", "--for=condition=Ready", "-n", p.ns, "pod/"+p.name, "--timeout=60s")
		}
		nodeCluster = c
	})
	if nodeCluster == nil {
		t.Fatal(nodeErr)
	}
	return nodeCluster
}

func probeArgs(extra ...string) []string {
	return append([]string{"--image", testImage, "--image-pull-policy", "Never"}, extra...)
}

type hostLink struct {
	Ifname   string `json:"ifname"`
	AddrInfo []struct {
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// linkSet is "name addr/len,addr/len" per link, sorted.
func hostLinkSet(t *testing.T, args ...string) map[string]string {
	t.Helper()
	out, err := exec.Command("ip", append(args, "-j", "addr")...).Output()
	if err != nil {
		t.Fatalf("ip %v -j addr: %v", args, err)
	}
	var links []hostLink
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatal(err)
	}
	set := map[string]string{}
	for _, l := range links {
		var as []string
		for _, a := range l.AddrInfo {
			as = append(as, a.Local+"/"+strconv.Itoa(a.Prefixlen))
		}
		sort.Strings(as)
		set[l.Ifname] = strings.Join(as, ",")
	}
	return set
}

func probeLinkSet(links []probe.Link) map[string]string {
	set := map[string]string{}
	for _, l := range links {
		var as []string
		for _, a := range l.Addrs {
			as = append(as, a.CIDR)
		}
		sort.Strings(as)
		set[l.Name] = strings.Join(as, ",")
	}
	return set
}

func ipViews(t *testing.T, c *cluster, args ...string) []probe.View {
	t.Helper()
	r := c.podnet(t, append([]string{"ip", "-o", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("ip %v: exit %d: %s", args, r.code, r.stderr)
	}
	var views []probe.View
	if err := json.Unmarshal([]byte(r.stdout), &views); err != nil {
		t.Fatalf("ip -o json: %v", err)
	}
	return views
}

// TestIPPodMatchesTheKernel: `ip POD` in a restricted namespace shows what the host sees inside the
// pod's network namespace.
func TestIPPodMatchesTheKernel(t *testing.T) {
	c := realNodeCluster(t)
	views := ipViews(t, c, probeArgs("probes/web")...)
	v := views[0]
	podIP := strings.TrimSpace(c.kubectl(t, "get", "pod", "-n", "probes", "web", "-o", "jsonpath={.status.podIP}"))
	// find the pod's namespace on the host by its address
	var nsName string
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		out, _ := exec.Command("ip", "-n", e.Name(), "-j", "addr").Output()
		if strings.Contains(string(out), `"local":"`+podIP+`"`) {
			nsName = e.Name()
		}
	}
	if nsName == "" {
		t.Fatalf("no network namespace on the host holds %s", podIP)
	}
	host := hostLinkSet(t, "-n", nsName)
	got := probeLinkSet(v.Result.Snapshot.Links)
	for name, want := range host {
		if got[name] != want {
			t.Errorf("link %s: probe says %q, the kernel %q", name, got[name], want)
		}
	}
	if len(got) != len(host) {
		t.Errorf("probe saw %d links, the kernel %d: %v vs %v", len(got), len(host), got, host)
	}
	// routes: every main-table IPv4 route the kernel has, the probe has
	out, err := exec.Command("ip", "-n", nsName, "-4", "route").Output()
	if err != nil {
		t.Fatal(err)
	}
	kernelRoutes := probe.ParseRouteText(string(out), "inet")
	var probeRoutes []string
	for _, r := range v.Result.Snapshot.Routes {
		if r.Table == "main" && r.Family == "inet" {
			probeRoutes = append(probeRoutes, r.Dst+" "+r.Gateway+" "+r.Dev)
		}
	}
	for _, r := range kernelRoutes {
		k := r.Dst + " " + r.Gateway + " " + r.Dev
		if !contains(probeRoutes, k) {
			t.Errorf("kernel route %q missing from the probe's %v", k, probeRoutes)
		}
	}
	for _, ch := range v.Checks {
		if !ch.OK {
			t.Errorf("check failed: %s", ch.Message)
		}
	}
	if len(v.Checks) < 3 {
		t.Errorf("checks = %+v, want pod IP, default route and node CIDR", v.Checks)
	}
}

// TestIPNodeMatchesTheKernel: `ip node/NAME` shows the host's own namespace, and names the veth
// that serves a probed pod.
func TestIPNodeMatchesTheKernel(t *testing.T) {
	c := realNodeCluster(t)
	views := ipViews(t, c, probeArgs("node/"+nodeName, "default/app", "--probe-namespace", "default")...)
	host := hostLinkSet(t)
	node := views[0]
	got := probeLinkSet(node.Result.Snapshot.Links)
	for _, name := range []string{"lo", "cbr0"} {
		if got[name] == "" || got[name] != host[name] {
			t.Errorf("link %s: probe %q, kernel %q", name, got[name], host[name])
		}
	}
	for name := range got {
		if _, ok := host[name]; !ok && !strings.HasPrefix(name, "veth") {
			t.Errorf("probe saw link %s that the host does not have", name)
		}
	}
	served := false
	for dev, pod := range node.Serves {
		if strings.HasPrefix(dev, "veth") && pod == "eth0 of default/app" {
			served = true
		}
	}
	if !served {
		t.Errorf("no veth matched to default/app: %v", node.Serves)
	}
	if left := c.kubectl(t, "get", "pods", "-A", "-l", "app.kubernetes.io/managed-by=kubectl-podnet", "-o", "name"); left != "" {
		t.Errorf("node probe pods left behind: %s", left)
	}
}

func TestIPFailures(t *testing.T) {
	c := realNodeCluster(t)
	start := time.Now()
	r := c.podnet(t, "ip", "default/app", "--image", "podnet.local/nope:1", "--image-pull-policy", "Never")
	if r.code != 1 || !strings.Contains(r.stderr, "ErrImageNeverPull") || time.Since(start) > 5*time.Second {
		t.Errorf("missing image: exit %d after %s: %s", r.code, time.Since(start), r.stderr)
	}
	r = c.podnet(t, append([]string{"ip", "node/" + nodeName, "--probe-namespace", "probes"}, probeArgs()...)...)
	if r.code != 1 || !strings.Contains(r.stderr, `violates PodSecurity "restricted:latest"`) || !strings.Contains(r.stderr, "--probe-namespace") {
		t.Errorf("node probe in a restricted namespace: exit %d: %s", r.code, r.stderr)
	}
	r = c.podnet(t, append([]string{"ip", "default/nope"}, probeArgs()...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "error: pod default/nope not found") {
		t.Errorf("missing pod: exit %d: %s", r.code, r.stderr)
	}
	// the viewer may read pods but not add ephemeral containers
	c.kubectl(t, "create", "role", "pod-reader", "-n", "default", "--verb=get,list,watch", "--resource=pods")
	c.kubectl(t, "create", "rolebinding", "viewer-pods", "-n", "default", "--role=pod-reader", "--user=podnet-viewer")
	r = c.podnet(t, append([]string{"ip", "default/app", "--context", c.name + "-viewer"}, probeArgs()...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "you need 'patch' on 'pods/ephemeralcontainers' in namespace default") {
		t.Errorf("viewer: exit %d: %s", r.code, r.stderr)
	}
}

func TestIPEphemeralLimit(t *testing.T) {
	c := realNodeCluster(t)
	for i := 0; i < 2; i++ {
		if r := c.podnet(t, append([]string{"ip", "default/limited", "--limit", "2"}, probeArgs()...)...); r.code != 0 {
			t.Fatalf("probe %d: %s", i, r.stderr)
		}
	}
	r := c.podnet(t, append([]string{"ip", "default/limited", "--limit", "2"}, probeArgs()...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "already carries 2 podnet ephemeral containers (limit 2)") {
		t.Errorf("past the limit: exit %d: %s", r.code, r.stderr)
	}
	if r := c.podnet(t, append([]string{"ip", "default/limited", "--limit", "2", "--force"}, probeArgs()...)...); r.code != 0 {
		t.Errorf("--force: exit %d: %s", r.code, r.stderr)
	}
	cl := c.podnet(t, "cleanup", "--dry-run")
	found := false
	for _, line := range strings.Split(cl.stdout, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "default" && f[1] == "limited" && f[2] == "3" {
			found = true
		}
	}
	if !found {
		t.Errorf("cleanup does not report the probe containers of default/limited:\n%s", cl.stdout)
	}
}

// TestIPInterruptLeavesNoPod sends SIGINT 20 times at random moments of a node probe.
func TestIPInterruptLeavesNoPod(t *testing.T) {
	c := realNodeCluster(t)
	for i := 0; i < 20; i++ {
		cmd := exec.Command(pluginBin, append([]string{"ip", "node/" + nodeName, "--probe-namespace", "default"}, probeArgs()...)...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+rand.IntN(900)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}
	if left := c.kubectl(t, "get", "pods", "-A", "-l", "app.kubernetes.io/managed-by=kubectl-podnet", "-o", "name"); left != "" {
		t.Errorf("after 20 interrupts, node probe pods are left: %s", left)
	}
}

// TestDNSProbe reads a pod's resolv.conf from inside it (no lookup: this machine has no DNS server
// for the pod to ask, and the test sends no traffic off its own namespaces).
func TestDNSProbe(t *testing.T) {
	c := realNodeCluster(t)
	r := c.podnet(t, append([]string{"dns", "default/app", "--probe"}, probeArgs()...)...)
	for _, want := range []string{"# resolv.conf read from inside the pod (probe podnet-", "nameserver 10.96.0.10\n", "search default.svc.cluster.local svc.cluster.local cluster.local"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dns --probe stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// this cluster has no DNS Service: the command says so, a finding (exit 2)
	if r.code != 2 || !strings.Contains(r.stderr, "no cluster DNS Service") {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}
	if bad := c.podnet(t, "dns", "default/app", "--lookup", "x;rm"); bad.code != 1 || !strings.Contains(bad.stderr, "--lookup runs from inside the pod: add --probe") {
		t.Errorf("--lookup without --probe: exit %d: %s", bad.code, bad.stderr)
	}
}
