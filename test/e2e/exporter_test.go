//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The exporter is checked against the independent reading: `cidr-usage -o json` of the same
// cluster, figure by figure, through a real Prometheus (Debian's package) scraping it.

// exporterProc is a running `kubectl-podnet exporter`.
type exporterProc struct {
	addr   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
}

func (e *exporterProc) log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stderr.String()
}

type lockedWriter struct{ e *exporterProc }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.stderr.Write(p)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startExporter runs the exporter with the kubeconfig until the test ends, and waits for /readyz.
func startExporter(t *testing.T, kubeconfig string, args ...string) *exporterProc {
	t.Helper()
	e := &exporterProc{addr: freeAddr(t)}
	e.cmd = exec.Command(pluginBin, append([]string{"exporter", "--kubeconfig", kubeconfig, "--listen", e.addr}, args...)...)
	e.cmd.Stderr = lockedWriter{e}
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- e.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the exporter did not stop cleanly on SIGINT: %v\n%s", err, e.log())
			}
		case <-time.After(10 * time.Second):
			_ = e.cmd.Process.Kill()
			t.Errorf("the exporter did not stop within 10 s of SIGINT\n%s", e.log())
		}
	})
	eventually(t, 60*time.Second, "the exporter's /readyz", func() (bool, string) {
		code, body := httpGet("http://" + e.addr + "/readyz")
		return code == 200, fmt.Sprintf("%d %s\n%s", code, body, e.log())
	})
	return e
}

func httpGet(u string) (int, string) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls ok (waitFor) until it holds, and says how long that took; past the timeout it
// fails the test with what ok said last.
func eventually(t *testing.T, timeout time.Duration, what string, ok func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	if !waitFor(timeout, func() bool {
		var done bool
		done, last = ok()
		return done
	}) {
		t.Fatalf("%s: not within %s; last:\n%s", what, timeout, last)
	}
	return time.Since(start)
}

// prometheusBin is Debian's prometheus and promtool, unpacked by hack/cluster.
func prometheusDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "prometheus-path").Output()
	if err != nil {
		t.Fatalf("hack/cluster prometheus-path: %v", err)
	}
	return strings.TrimSpace(lastLine(string(out)))
}

// startPrometheus runs a real Prometheus scraping the targets every second, until the test ends.
func startPrometheus(t *testing.T, targets ...string) string {
	t.Helper()
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = strconv.Quote(tg)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: podnet
  static_configs:
  - targets: [%s]
`, strings.Join(quoted, ", "))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(filepath.Join(prometheusDir(t), "prometheus"), "--config.file", filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path", filepath.Join(dir, "data"), "--web.listen-address", addr, "--log.level", "warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base := "http://" + addr
	eventually(t, 60*time.Second, "Prometheus scraping the exporter", func() (bool, string) {
		s, err := promQuery(base, `up{job="podnet"}`)
		if err != nil || len(s) != len(targets) {
			return false, fmt.Sprintf("%v %v\n%s", s, err, logs.String())
		}
		for _, x := range s {
			if x.value != 1 {
				return false, fmt.Sprintf("%v", s)
			}
		}
		return true, ""
	})
	return base
}

type promSample struct {
	labels map[string]string
	value  float64
}

// promQuery runs an instant PromQL query through Prometheus's HTTP API.
func promQuery(base, q string) ([]promSample, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, r.Error)
	}
	out := make([]promSample, 0, len(r.Data.Result))
	for _, x := range r.Data.Result {
		s, _ := x.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %q", q, s)
		}
		out = append(out, promSample{x.Metric, v})
	}
	return out, nil
}

// figures are gauges by "name{label=value,...}" (labels sorted, job and instance left out).
type figures map[string]float64

func seriesKey(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		switch k {
		case "__name__", "job", "instance":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// comparedFamilies are the gauges compared with cidr-usage -o json.
var comparedFamilies = []string{
	"podnet_node_pod_ips_used", "podnet_node_pod_ips_capacity", "podnet_node_pod_ips_usable", "podnet_node_max_pods",
	"podnet_cluster_cidr_node_cidrs", "podnet_cluster_cidr_node_cidrs_allocated", "podnet_cluster_cidr_node_cidrs_free",
	"podnet_nodes_without_pod_cidr", "podnet_ippool_addresses", "podnet_ippool_addresses_allocated", "podnet_ippool_blocks",
	"podnet_ippool_blocks_claimed", "podnet_service_cidr_addresses", "podnet_service_cidr_addresses_allocated",
	"podnet_platform_limit", "podnet_platform_limit_used",
}

// cidrUsageFigures are the compared gauges as `cidr-usage -o json` gives them, independently of
// the exporter's code.
func cidrUsageFigures(t *testing.T, c *cluster, args ...string) figures {
	t.Helper()
	r := c.podnet(t, append([]string{"cidr-usage", "-o", "json"}, args...)...)
	if r.code != 0 && r.code != 2 {
		t.Fatalf("cidr-usage -o json: exit %d: %s", r.code, r.stderr)
	}
	var u struct {
		Nodes []struct {
			Name     string `json:"name"`
			Used     int    `json:"used"`
			Usable   uint64 `json:"usable"`
			Capacity uint64 `json:"capacity"`
			MaxPods  int64  `json:"maxPods"`
		} `json:"nodes"`
		Ranges []struct {
			CIDR      string `json:"cidr"`
			NodeMask  int    `json:"nodeMask"`
			Slots     uint64 `json:"slots"`
			Allocated int    `json:"allocated"`
			Free      uint64 `json:"free"`
		} `json:"clusterCIDRs"`
		Pools []struct {
			Name      string `json:"name"`
			CIDR      string `json:"cidr"`
			Addresses uint64 `json:"addresses"`
			Allocated int    `json:"allocated"`
			Blocks    int    `json:"blocks"`
			MaxBlocks uint64 `json:"maxBlocks"`
		} `json:"ipPools"`
		Services []struct {
			CIDR      string `json:"cidr"`
			Usable    uint64 `json:"usable"`
			Allocated int    `json:"allocated"`
		} `json:"serviceCIDRs"`
		Limits []struct {
			Name  string `json:"name"`
			Limit uint64 `json:"limit"`
			Used  uint64 `json:"used"`
		} `json:"platformLimits"`
		Starved []struct{} `json:"nodesWithoutCIDR"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &u); err != nil {
		t.Fatalf("cidr-usage -o json: %v", err)
	}
	f := figures{}
	for _, n := range u.Nodes {
		l := map[string]string{"node": n.Name}
		f[seriesKey("podnet_node_pod_ips_used", l)] = float64(n.Used)
		f[seriesKey("podnet_node_pod_ips_capacity", l)] = float64(n.Capacity)
		f[seriesKey("podnet_node_max_pods", l)] = float64(n.MaxPods)
		if n.Usable > 0 {
			f[seriesKey("podnet_node_pod_ips_usable", l)] = float64(n.Usable)
		}
	}
	for _, x := range u.Ranges {
		l := map[string]string{"cidr": x.CIDR, "mask": fmt.Sprint(x.NodeMask)}
		f[seriesKey("podnet_cluster_cidr_node_cidrs", l)] = float64(x.Slots)
		f[seriesKey("podnet_cluster_cidr_node_cidrs_allocated", l)] = float64(x.Allocated)
		f[seriesKey("podnet_cluster_cidr_node_cidrs_free", l)] = float64(x.Free)
	}
	f[seriesKey("podnet_nodes_without_pod_cidr", nil)] = float64(len(u.Starved))
	for _, p := range u.Pools {
		l := map[string]string{"pool": p.Name, "cidr": p.CIDR}
		f[seriesKey("podnet_ippool_addresses", l)] = float64(p.Addresses)
		f[seriesKey("podnet_ippool_addresses_allocated", l)] = float64(p.Allocated)
		f[seriesKey("podnet_ippool_blocks", l)] = float64(p.MaxBlocks)
		f[seriesKey("podnet_ippool_blocks_claimed", l)] = float64(p.Blocks)
	}
	for _, s := range u.Services {
		l := map[string]string{"cidr": s.CIDR}
		f[seriesKey("podnet_service_cidr_addresses", l)] = float64(s.Usable)
		f[seriesKey("podnet_service_cidr_addresses_allocated", l)] = float64(s.Allocated)
	}
	for _, x := range u.Limits {
		if x.Limit > 0 {
			l := map[string]string{"limit": x.Name}
			f[seriesKey("podnet_platform_limit", l)] = float64(x.Limit)
			f[seriesKey("podnet_platform_limit_used", l)] = float64(x.Used)
		}
	}
	return f
}

// promFigures are the compared gauges as Prometheus has them now.
func promFigures(base string) (figures, error) {
	s, err := promQuery(base, `{__name__=~"`+strings.Join(comparedFamilies, "|")+`"}`)
	if err != nil {
		return nil, err
	}
	f := figures{}
	for _, x := range s {
		f[seriesKey(x.labels["__name__"], x.labels)] = x.value
	}
	return f, nil
}

// scrapeFigures are the compared gauges as the exporter's /metrics serves them now.
func scrapeFigures(t *testing.T, addr string) figures {
	t.Helper()
	code, body := httpGet("http://" + addr + "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	compared := map[string]bool{}
	for _, n := range comparedFamilies {
		compared[n] = true
	}
	f := figures{}
	for name, series := range parseExposition(t, body) {
		if compared[name] {
			for _, s := range series {
				f[seriesKey(name, s.labels)] = s.value
			}
		}
	}
	return f
}

// parseExposition reads the text format's samples by family.
func parseExposition(t *testing.T, body string) map[string][]promSample {
	t.Helper()
	out := map[string][]promSample{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest := line, ""
		labels := map[string]string{}
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			name, rest = line[:i], strings.TrimSpace(line[j+1:])
			for _, kv := range splitLabels(line[i+1 : j]) {
				k, v, _ := strings.Cut(kv, "=")
				uq, err := strconv.Unquote(v)
				if err != nil {
					t.Fatalf("label %q of %q: %v", kv, line, err)
				}
				labels[k] = uq
			}
		} else {
			name, rest, _ = strings.Cut(line, " ")
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			t.Fatalf("value of %q: %v", line, err)
		}
		out[name] = append(out[name], promSample{labels, v})
	}
	return out
}

// splitLabels splits k="v",k2="v2" at the commas outside quotes.
func splitLabels(s string) []string {
	var out []string
	inq, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inq:
			i++
		case s[i] == '"':
			inq = !inq
		case s[i] == ',' && !inq:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// diffFigures says how got differs from want ("" when equal).
func diffFigures(want, got figures) string {
	var d []string
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("missing %s (cidr-usage: %g)", k, v))
		case math.Abs(g-v) > 1e-9:
			d = append(d, fmt.Sprintf("%s = %g, cidr-usage says %g", k, g, v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("extra %s = %g (not in cidr-usage)", k, v))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}

// TestExporterWithPrometheus: a real Prometheus scrapes the exporter (a process with a
// kubeconfig); its queries equal cidr-usage's figures, nodes and pods added or removed show up
// within seconds, and an API server restart is followed without a restart of the exporter and
// without a false figure meanwhile.
func TestExporterWithPrometheus(t *testing.T) {
	c := ownCluster(t, "e2e-exporter", "aks-kubenet")
	exp := startExporter(t, c.kubeconfig)
	prom := startPrometheus(t, exp.addr)

	same := func(t *testing.T, what string) time.Duration {
		t.Helper()
		return eventually(t, 20*time.Second, what, func() (bool, string) {
			got, err := promFigures(prom)
			if err != nil {
				return false, err.Error()
			}
			d := diffFigures(cidrUsageFigures(t, c), got)
			return d == "", d
		})
	}
	t.Run("queries equal cidr-usage", func(t *testing.T) {
		same(t, "Prometheus's figures equal cidr-usage's")
		up, err := promQuery(prom, "podnet_exporter_up")
		if err != nil || len(up) != 1 || up[0].value != 1 {
			t.Errorf("podnet_exporter_up: %v %v", up, err)
		}
	})

	node := "aks-nodepool1-38195521-vmss000009"
	t.Run("a node added shows up within seconds", func(t *testing.T) {
		manifest := `{"apiVersion":"v1","kind":"Node","metadata":{"name":"` + node + `","annotations":{"kwok.x-k8s.io/node":"fake"},
"labels":{"kubernetes.io/os":"linux","node.kubernetes.io/instance-type":"Standard_D4s_v5"}},
"status":{"allocatable":{"pods":"30","cpu":"4","memory":"16Gi"},"capacity":{"pods":"30","cpu":"4","memory":"16Gi"},
"addresses":[{"type":"InternalIP","address":"10.224.0.40"}]}}`
		start := time.Now()
		applyJSON(t, c, manifest)
		d := eventually(t, 15*time.Second, "the new node's max pods in Prometheus", func() (bool, string) {
			s, err := promQuery(prom, `podnet_node_max_pods{node="`+node+`"}`)
			return err == nil && len(s) == 1 && s[0].value == 30, fmt.Sprintf("%v %v", s, err)
		})
		t.Logf("a new node reached Prometheus %s after it was created", (time.Since(start) - 0).Round(100*time.Millisecond))
		if d > 10*time.Second {
			t.Errorf("the new node took %s to show up, want a few seconds (debounce 2 s, scrape 1 s)", d)
		}
		same(t, "with the new node, Prometheus's figures equal cidr-usage's")
	})

	t.Run("pods added and removed show up within seconds", func(t *testing.T) {
		before := promValue(t, prom, `podnet_node_pod_ips_used{node="`+node+`"}`)
		for i := range 3 {
			applyJSON(t, c, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-`+fmt.Sprint(i)+`","namespace":"default"},
"spec":{"nodeName":"`+node+`","containers":[{"name":"web","image":"nginx"}]}}`)
		}
		start := time.Now()
		eventually(t, 30*time.Second, "3 more pod IPs in use on the new node", func() (bool, string) {
			v := promValue(t, prom, `podnet_node_pod_ips_used{node="`+node+`"}`)
			return v == before+3, fmt.Sprintf("%g (before %g)", v, before)
		})
		t.Logf("3 pods (scheduled, given addresses by kwok) reached Prometheus %s after creation", time.Since(start).Round(100*time.Millisecond))
		same(t, "with the pods, Prometheus's figures equal cidr-usage's")
		c.kubectl(t, "delete", "pod", "web-0", "web-1", "--wait=false", "--grace-period=0", "--force")
		start = time.Now()
		d := eventually(t, 15*time.Second, "2 pod IPs fewer", func() (bool, string) {
			v := promValue(t, prom, `podnet_node_pod_ips_used{node="`+node+`"}`)
			return v == before+1, fmt.Sprintf("%g", v)
		})
		t.Logf("2 pods removed reached Prometheus %s after deletion", d.Round(100*time.Millisecond))
		if d > 10*time.Second {
			t.Errorf("deleted pods took %s to show up", d)
		}
		same(t, "after the deletion, Prometheus's figures equal cidr-usage's")
	})

	t.Run("API server restart: stale, never zero, recovered", func(t *testing.T) {
		steady := promValue(t, prom, `sum(podnet_node_max_pods)`)
		restartsBefore := promValue(t, prom, `sum(podnet_exporter_watch_restarts_total) or vector(0)`)
		// a write elsewhere moves the cluster's resourceVersion past the pods' last one: a resumed pod
		// watch is then older than the restarted server's cache, which answers 410
		c.kubectl(t, "create", "configmap", "moves-the-resource-version", "-n", "default")
		hc := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "restart-apiserver", "--name", c.name, "--down", "6")
		hc.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
		outageStart := time.Now()
		if out, err := hc.CombinedOutput(); err != nil {
			t.Fatalf("hack/cluster restart-apiserver: %v\n%s", err, out)
		}
		eventually(t, 60*time.Second, "podnet_exporter_up back to 1", func() (bool, string) {
			v := promValue(t, prom, "podnet_exporter_up")
			return v == 1, fmt.Sprint(v)
		})
		window := fmt.Sprintf("[%ds:1s]", int(time.Since(outageStart).Seconds())+3)
		if v := promValue(t, prom, "min_over_time(podnet_exporter_up"+window+")"); v != 0 {
			t.Errorf("podnet_exporter_up never went to 0 during the outage (min %g): stale figures were served as current", v)
		}
		if v := promValue(t, prom, "min_over_time(sum(podnet_node_max_pods)"+window+")"); v != steady {
			t.Errorf("during the outage the summed max pods fell to %g (steady %g): a false figure", v, steady)
		}
		if v := promValue(t, prom, "min_over_time(count(podnet_node_pod_ips_used)"+window+")"); v != promValue(t, prom, "count(podnet_node_pod_ips_used)") {
			t.Errorf("during the outage nodes' gauges disappeared (min count %g)", v)
		}
		if v := promValue(t, prom, "min_over_time(up{job=\"podnet\"}"+window+")"); v != 1 {
			t.Errorf("a scrape failed during the outage: the exporter stopped serving")
		}
		expired := promValue(t, prom, `sum(podnet_exporter_watch_restarts_total{reason="expired"}) or vector(0)`)
		after := promValue(t, prom, `sum(podnet_exporter_watch_restarts_total)`)
		t.Logf("watch restarts: %g before, %g after (%g expired: read again from the start); exporter log:\n%s", restartsBefore, after, expired, lastLines(exp.log(), 12))
		if after <= restartsBefore {
			t.Errorf("no watch restart counted across the API server restart")
		}
		if expired < 1 {
			t.Errorf("no watch expired (410) across the API server restart: the relist path was not taken")
		}
		// the watches work again: a change after the restart shows up
		c.kubectl(t, "delete", "pod", "web-2", "--wait=false", "--grace-period=0", "--force")
		eventually(t, 15*time.Second, "a pod deleted after the restart", func() (bool, string) {
			v := promValue(t, prom, `podnet_node_pod_ips_used{node="`+node+`"}`)
			return v == 0, fmt.Sprint(v)
		})
		same(t, "after the restart, Prometheus's figures equal cidr-usage's")
		if exp.cmd.ProcessState != nil {
			t.Fatalf("the exporter exited")
		}
	})

	t.Run("RBAC missing for pods: their gauges absent, a log line, the rest served", func(t *testing.T) {
		role := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"podnet-no-pods"},"rules":[
{"apiGroups":[""],"resources":["nodes","services","configmaps","events"],"verbs":["get","list","watch"]},
{"apiGroups":["apps"],"resources":["daemonsets"],"verbs":["get","list","watch"]},
{"apiGroups":["networking.k8s.io"],"resources":["servicecidrs","ipaddresses"],"verbs":["get","list","watch"]}]}`
		applyJSON(t, c, role)
		c.kubectl(t, "create", "clusterrolebinding", "podnet-no-pods", "--clusterrole=podnet-no-pods", "--user=podnet-limited")
		limited := startExporter(t, c.kubeconfig, "--as", "podnet-limited")
		eventually(t, 20*time.Second, "pods forbidden in the limited exporter's health", func() (bool, string) {
			f := parseExposition(t, mustGet(t, "http://"+limited.addr+"/metrics"))
			return sampleOf(f, "podnet_exporter_store_forbidden", "store", "pods") == 1, limited.log()
		})
		body := mustGet(t, "http://"+limited.addr+"/metrics")
		f := parseExposition(t, body)
		for _, gone := range []string{"podnet_node_pod_ips_used", "podnet_node_utilisation_ratio", "podnet_max_utilisation_ratio"} {
			if len(f[gone]) > 0 {
				t.Errorf("%s served without pods: a false figure", gone)
			}
		}
		for _, kept := range []string{"podnet_node_max_pods", "podnet_cluster_cidr_node_cidrs_allocated", "podnet_service_cidr_addresses_allocated"} {
			if len(f[kept]) == 0 {
				t.Errorf("%s missing: what was readable is not served", kept)
			}
		}
		if sampleOf(f, "podnet_exporter_up", "", "") != 1 {
			t.Errorf("podnet_exporter_up is not 1 with only a forbidden store (forbidden is not stale)")
		}
		if !strings.Contains(limited.log(), "pods: cannot list or watch them") {
			t.Errorf("no log line about the forbidden pods:\n%s", limited.log())
		}
		// granted later: read again without a restart of the exporter
		c.kubectl(t, "create", "clusterrole", "podnet-pods", "--verb=get,list,watch", "--resource=pods")
		c.kubectl(t, "create", "clusterrolebinding", "podnet-pods", "--clusterrole=podnet-pods", "--user=podnet-limited")
		d := eventually(t, 60*time.Second, "pods read once RBAC allows them", func() (bool, string) {
			f := parseExposition(t, mustGet(t, "http://"+limited.addr+"/metrics"))
			return len(f["podnet_node_pod_ips_used"]) > 0 && sampleOf(f, "podnet_exporter_store_forbidden", "store", "pods") == 0, limited.log()
		})
		t.Logf("pods were read %s after RBAC allowed them", d.Round(time.Second))
		if diff := diffFigures(cidrUsageFigures(t, c), scrapeFigures(t, limited.addr)); diff != "" {
			t.Errorf("once allowed, the limited exporter's figures differ from cidr-usage's:\n%s", diff)
		}
	})
}

func mustGet(t *testing.T, u string) string {
	t.Helper()
	code, body := httpGet(u)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", u, code, body)
	}
	return body
}

// sampleOf is the value of the family's sample whose label k is v (any sample when k is ""), -1
// when there is none.
func sampleOf(f map[string][]promSample, name, k, v string) float64 {
	for _, s := range f[name] {
		if k == "" || s.labels[k] == v {
			return s.value
		}
	}
	return -1
}

// promValue is the single value of an instant query (NaN when it has no single result).
func promValue(t *testing.T, base, q string) float64 {
	t.Helper()
	s, err := promQuery(base, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 {
		return math.NaN()
	}
	return s[0].value
}

func applyJSON(t *testing.T, c *cluster, manifest string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "object.json")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	c.kubectl(t, "apply", "-f", f)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestExporterPagedServer: against an API server without watch-list streams (WatchList off, as
// before 1.32) the exporter reads in pages and watches from the list's resourceVersion; on a
// Calico cluster its pools, blocks and node figures equal cidr-usage's.
func TestExporterPagedServer(t *testing.T) {
	c := ownCluster(t, "e2e-exporter-paged", "calico-vxlan", "--apiserver-feature-gates", "WatchList=false")
	exp := startExporter(t, c.kubeconfig, "--debounce", "200ms", "-v", "2")
	eventually(t, 20*time.Second, "the exporter's figures equal cidr-usage's", func() (bool, string) {
		d := diffFigures(cidrUsageFigures(t, c), scrapeFigures(t, exp.addr))
		return d == "", d
	})
	if !strings.Contains(exp.log(), "reading them in pages, then watching") {
		t.Errorf("the exporter did not fall back to pages on a server without watch-list:\n%s", exp.log())
	}
	f := parseExposition(t, mustGet(t, "http://"+exp.addr+"/metrics"))
	if len(f["podnet_ippool_addresses_allocated"]) == 0 {
		t.Errorf("no IP pool gauges on a Calico cluster")
	}
	// a change is followed on the paged path too
	applyJSON(t, c, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"late","namespace":"default"},"spec":{"nodeName":"calico-node-1","containers":[{"name":"a","image":"a"}]}}`)
	eventually(t, 15*time.Second, "a pod added on the paged path", func() (bool, string) {
		d := diffFigures(cidrUsageFigures(t, c), scrapeFigures(t, exp.addr))
		return d == "", d
	})
	// OpenMetrics when asked for it
	req, _ := http.NewRequest("GET", "http://"+exp.addr+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/openmetrics-text") || !strings.HasSuffix(strings.TrimSpace(string(b)), "# EOF") {
		t.Errorf("no OpenMetrics answer: %s\n%s", resp.Header.Get("Content-Type"), lastLines(string(b), 3))
	}
}

// TestExporterPodOnRealNode: the exporter as users run it, a pod of deploy/'s Deployment from the
// locally built image (make image, imported into the real node's containerd), with deploy/'s
// ServiceAccount and least-privilege ClusterRole; a real Prometheus scrapes it and its figures
// equal cidr-usage's. The one change for this machine: the local node has no Service routing
// (no kube-proxy) and the API server listens on 127.0.0.1 only, so the pod runs on the host
// network with the API server's address in KUBERNETES_SERVICE_HOST/PORT, which needs its
// namespace's Pod Security level lowered from restricted to privileged; it listens on the node's
// address (the downward API's status.hostIP), not on every interface.
func TestExporterPodOnRealNode(t *testing.T) {
	c := realNodeCluster(t)
	tarball := buildImage(t, t.TempDir(), "v0.0.0-e2e")
	hc := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "image-import", "--name", c.name, tarball)
	hc.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("hack/cluster image-import: %v\n%s", err, out)
	}
	server := c.kubectl(t, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	portN, _ := strconv.Atoi(port)
	docs := yamlDocs(t, exporterManifest)
	t.Cleanup(func() {
		r := runBin(t, kubectlBin, c.kubeconfig, "delete", "-f", filepath.Join(repoRoot, exporterManifest), "--ignore-not-found", "--wait=true", "--timeout=90s")
		if r.code != 0 {
			t.Errorf("deleting the exporter: %s", r.stderr)
		}
	})
	for _, doc := range docs {
		kind := dig[string](doc, "kind")
		switch kind {
		case "Namespace":
			dig[map[string]any](doc, "metadata", "labels")["pod-security.kubernetes.io/enforce"] = "privileged"
		case "Deployment":
			spec := dig[map[string]any](doc, "spec", "template", "spec")
			spec["hostNetwork"], spec["dnsPolicy"] = true, "ClusterFirstWithHostNet"
			ctr := dig[map[string]any](spec, "containers", 0)
			ctr["image"], ctr["imagePullPolicy"] = devImage, "Never"
			// on the node's own address, where the kubelet's probes and Prometheus reach it
			ctr["args"] = []any{"exporter", "--listen=$(NODE_IP):" + port, "--debounce=500ms"}
			ctr["env"] = append(ctr["env"].([]any),
				map[string]any{"name": "NODE_IP", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "status.hostIP"}}},
				map[string]any{"name": "KUBERNETES_SERVICE_HOST", "value": u.Hostname()},
				map[string]any{"name": "KUBERNETES_SERVICE_PORT", "value": u.Port()})
			ctr["ports"] = []any{map[string]any{"name": "metrics", "containerPort": portN, "protocol": "TCP"}}
		}
		c.kubectl(t, "apply", "-f", writeJSON(t, strings.ToLower(kind)+".json", doc))
	}
	r := runBin(t, kubectlBin, c.kubeconfig, "rollout", "status", "-n", "podnet-system", "deployment/podnet-exporter", "--timeout=120s")
	if r.code != 0 {
		t.Fatalf("the exporter's Deployment did not become available: %s\n%s\n%s", r.stderr,
			c.kubectl(t, "get", "pods", "-n", "podnet-system", "-o", "wide"),
			runBin(t, kubectlBin, c.kubeconfig, "logs", "-n", "podnet-system", "deployment/podnet-exporter").stdout)
	}
	hostIP := c.kubectl(t, "get", "pods", "-n", "podnet-system", "-l", "app.kubernetes.io/component=exporter", "-o", "jsonpath={.items[0].status.hostIP}")
	prom := startPrometheus(t, net.JoinHostPort(hostIP, port))
	eventually(t, 20*time.Second, "the pod's figures in Prometheus equal cidr-usage's", func() (bool, string) {
		got, err := promFigures(prom)
		if err != nil {
			return false, err.Error()
		}
		d := diffFigures(cidrUsageFigures(t, c), got)
		return d == "", d
	})
	// its ServiceAccount may read everything it needs: nothing forbidden, nothing stale
	for _, q := range []string{`sum(podnet_exporter_store_forbidden)`, `podnet_exporter_up`} {
		want := map[string]float64{`sum(podnet_exporter_store_forbidden)`: 0, `podnet_exporter_up`: 1}[q]
		if v := promValue(t, prom, q); v != want {
			t.Errorf("%s = %g, want %g; its log:\n%s", q, v, want, runBin(t, kubectlBin, c.kubeconfig, "logs", "-n", "podnet-system", "deployment/podnet-exporter").stdout)
		}
	}
	logs := runBin(t, kubectlBin, c.kubeconfig, "logs", "-n", "podnet-system", "deployment/podnet-exporter").stdout
	if strings.Contains(logs, "forbidden") || strings.Contains(logs, "could not read") {
		t.Errorf("the exporter in its pod could not read something with deploy/'s RBAC:\n%s", logs)
	}
}
