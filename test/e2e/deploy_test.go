//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

const (
	// promOperatorVersion is the prometheus-operator module whose CRDs the manifests are checked
	// against (example/prometheus-operator-crd in its module zip).
	promOperatorVersion = "v0.85.0"
	releaseImage        = "ghcr.io/podnet/kubectl-podnet:v0.1.0"
	devImage            = "podnet.local/kubectl-podnet:dev"
	exporterSA          = "system:serviceaccount:podnet-system:podnet-exporter"
)

var (
	exporterManifest = filepath.Join("deploy", "kubernetes", "exporter.yaml")
	serviceMonitor   = filepath.Join("deploy", "prometheus-operator", "servicemonitor.yaml")
	prometheusRule   = filepath.Join("deploy", "prometheus-operator", "prometheusrule.yaml")
	rulesFile        = filepath.Join("deploy", "prometheus", "podnet-rules.yaml")
	rulesTestFile    = filepath.Join("deploy", "prometheus", "podnet-rules.test.yaml")
)

var (
	promOnce sync.Once
	promDir  string
	promErr  error
)

// prometheusBin is the path of prometheus or promtool from hack/cluster prometheus-path (Debian's
// package, unpacked into the cache on first use).
func prometheusBin(t *testing.T, name string) string {
	t.Helper()
	promOnce.Do(func() {
		out, err := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), "prometheus-path").Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = errors.New(err.Error() + ": " + string(ee.Stderr))
			}
			promErr = err
			return
		}
		promDir = strings.TrimSpace(lastLine(string(out)))
	})
	if promErr != nil {
		t.Fatalf("hack/cluster prometheus-path: %v", promErr)
	}
	return filepath.Join(promDir, name)
}

// yamlDocs decodes every document of a multi-document YAML file of the repository.
func yamlDocs(t *testing.T, rel string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(b), -1) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if m != nil {
			docs = append(docs, m)
		}
	}
	return docs
}

// docOf is the one document of that kind (and name, if given).
func docOf(t *testing.T, docs []map[string]any, kind, name string) map[string]any {
	t.Helper()
	for _, d := range docs {
		if d["kind"] == kind && (name == "" || dig[string](d, "metadata", "name") == name) {
			return d
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return nil
}

// dig follows keys (and list indexes) into a decoded document; the zero T when the path is missing.
func dig[T any](v any, path ...any) T {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				v = nil
			} else {
				v = l[k]
			}
		}
	}
	t, _ := v.(T)
	return t
}

// TestAlertRules checks the rules file with promtool, runs its unit tests, and that the
// PrometheusRule holds exactly its groups.
func TestAlertRules(t *testing.T) {
	promtool := prometheusBin(t, "promtool")
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	rules := yamlDocs(t, rulesFile)
	pr := yamlDocs(t, prometheusRule)
	if len(rules) != 1 || len(pr) != 1 {
		t.Fatalf("want one document in each of %s and %s, got %d and %d", rulesFile, prometheusRule, len(rules), len(pr))
	}
	if diff := cmp.Diff(rules[0]["groups"], dig[any](pr[0], "spec", "groups")); diff != "" {
		t.Errorf("%s spec.groups differ from %s (-rules +PrometheusRule); regenerate it as its header says:\n%s", prometheusRule, rulesFile, diff)
	}
	// every alert carries a severity and both annotations the README promises
	for _, g := range dig[[]any](rules[0], "groups") {
		for _, r := range dig[[]any](g, "rules") {
			name := dig[string](r, "alert")
			if s := dig[string](r, "labels", "severity"); s != "warning" && s != "critical" {
				t.Errorf("alert %s: severity %q", name, s)
			}
			if dig[string](r, "annotations", "summary") == "" || dig[string](r, "annotations", "description") == "" {
				t.Errorf("alert %s: no summary or description", name)
			}
		}
	}
}

// clusterRoleRules are the ClusterRole's rules as group/resource -> verbs.
func clusterRoleRules(t *testing.T, role map[string]any) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for _, r := range dig[[]any](role, "rules") {
		rule := r.(map[string]any)
		for k := range rule {
			if k != "apiGroups" && k != "resources" && k != "verbs" {
				t.Errorf("ClusterRole rule has %s: want apiGroups, resources and verbs only", k)
			}
		}
		var verbs []string
		for _, v := range dig[[]any](rule, "verbs") {
			verbs = append(verbs, v.(string))
		}
		for _, g := range dig[[]any](rule, "apiGroups") {
			for _, res := range dig[[]any](rule, "resources") {
				got[g.(string)+"/"+res.(string)] = append(got[g.(string)+"/"+res.(string)], verbs...)
			}
		}
	}
	return got
}

// notReadByExporter are API reads in internal/cluster that the exporter's inventory (cidr-usage's:
// address claims, not Calico's handles and affinities) does not make, with where they are made.
var notReadByExporter = map[string]string{
	"crd.projectcalico.org/ipamhandles":     "ipam check (ClaimsAll)",
	"projectcalico.org/ipamhandles":         "ipam check (ClaimsAll)",
	"crd.projectcalico.org/blockaffinities": "ipam check (ClaimsAll)",
	"projectcalico.org/blockaffinities":     "ipam check (ClaimsAll)",
	"whereabouts.cni.cncf.io/ippools":       "ipam check (ClaimsAll)",
	"discovery.k8s.io/endpointslices":       "dns and who",
}

// clusterReads scans internal/cluster for the resources it reads: the GroupVersionResources it
// declares, the typed clients' lists and gets, and the raw REST reads (group/resource keys).
func clusterReads(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "internal", "cluster", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	gvr := regexp.MustCompile(`schema\.GroupVersionResource\{Group: "([^"]*)", Version: "[^"]*", Resource: "([^"]*)"\}`)
	typed := regexp.MustCompile(`\.(CoreV1|AppsV1|NetworkingV1|DiscoveryV1)\(\)\.(\w+)\(`)
	rest := regexp.MustCompile(`\.Get\(\)\.Resource\("(\w+)"\)`)
	groups := map[string]string{"CoreV1": "", "AppsV1": "apps", "NetworkingV1": "networking.k8s.io", "DiscoveryV1": "discovery.k8s.io"}
	reads := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range gvr.FindAllStringSubmatch(string(b), -1) {
			reads[m[1]+"/"+m[2]] = true
		}
		for _, m := range typed.FindAllStringSubmatch(string(b), -1) {
			reads[groups[m[1]]+"/"+strings.ToLower(m[2])] = true
		}
		for _, m := range rest.FindAllStringSubmatch(string(b), -1) {
			reads["/"+m[1]] = true
		}
	}
	return reads
}

// TestDeployClusterRoleCoversReads checks the ClusterRole against the reads in internal/cluster:
// get, list and watch only, on every resource the exporter reads and on nothing else.
func TestDeployClusterRoleCoversReads(t *testing.T) {
	role := clusterRoleRules(t, docOf(t, yamlDocs(t, exporterManifest), "ClusterRole", "podnet-exporter"))
	for res, verbs := range role {
		slices.Sort(verbs)
		if !slices.Equal(verbs, []string{"get", "list", "watch"}) {
			t.Errorf("ClusterRole grants %v on %s: want get, list, watch only", verbs, res)
		}
		if strings.Contains(res, "*") {
			t.Errorf("ClusterRole has a wildcard: %s", res)
		}
	}
	reads := clusterReads(t)
	if len(reads) < 10 {
		t.Fatalf("found only %d reads in internal/cluster: %v", len(reads), reads)
	}
	for res := range reads {
		if _, ok := role[res]; !ok && notReadByExporter[res] == "" {
			t.Errorf("internal/cluster reads %s and the ClusterRole does not grant it (or add it to notReadByExporter)", res)
		}
	}
	for res := range role {
		if !reads[res] {
			t.Errorf("the ClusterRole grants %s, which internal/cluster never reads", res)
		}
		if why := notReadByExporter[res]; why != "" {
			t.Errorf("the ClusterRole grants %s, read only by %s", res, why)
		}
	}
}

// promOperatorCRDs are the ServiceMonitor and PrometheusRule CRDs from the prometheus-operator
// module on the Go module proxy (kept in the module cache).
func promOperatorCRDs(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/prometheus-operator/prometheus-operator@"+promOperatorVersion)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download prometheus-operator@%s: %v\n%s", promOperatorVersion, err, out)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download -json: %v: %s", err, out)
	}
	var crds []string
	for _, kind := range []string{"servicemonitors", "prometheusrules"} {
		f := filepath.Join(mod.Dir, "example", "prometheus-operator-crd", "monitoring.coreos.com_"+kind+".yaml")
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the prometheus-operator module %s has no CRD for %s: %v", promOperatorVersion, kind, err)
		}
		crds = append(crds, f)
	}
	return crds
}

// writeJSON writes v to a file of the test's and returns its path.
func writeJSON(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// podFromDeployment is a Pod of the Deployment's template, as its ReplicaSet would create.
func podFromDeployment(deploy map[string]any, name string) map[string]any {
	tmpl := dig[map[string]any](deploy, "spec", "template")
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": dig[string](deploy, "metadata", "namespace"), "labels": dig[map[string]any](tmpl, "metadata", "labels")},
		"spec":     dig[map[string]any](tmpl, "spec"),
	}
}

// allowed asks the API server (a SubjectAccessReview) whether the exporter's ServiceAccount may
// do verb on group/resource cluster-wide: discovery need not know the resource, as for CRDs not installed.
func (c *cluster) allowed(t *testing.T, verb, group, resource string) bool {
	t.Helper()
	sar := map[string]any{
		"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
		"spec": map[string]any{
			"user":               exporterSA,
			"groups":             []string{"system:serviceaccounts", "system:serviceaccounts:podnet-system", "system:authenticated"},
			"resourceAttributes": map[string]any{"verb": verb, "group": group, "resource": resource},
		},
	}
	return c.kubectl(t, "create", "-f", writeJSON(t, "sar.json", sar), "-o", "jsonpath={.status.allowed}") == "true"
}

// TestDeployManifests checks the manifests against a real API server: server-side dry-run of
// every object (with the prometheus-operator CRDs installed), the Deployment's pod admitted
// by Pod Security restricted, the selectors, and the ServiceAccount's rights once applied.
func TestDeployManifests(t *testing.T) {
	docs := yamlDocs(t, exporterManifest)
	deploy := docOf(t, docs, "Deployment", "podnet-exporter")
	svc := docOf(t, docs, "Service", "podnet-exporter")
	sm := yamlDocs(t, serviceMonitor)[0]
	ctr := dig[map[string]any](deploy, "spec", "template", "spec", "containers", 0)

	t.Run("shape", func(t *testing.T) {
		if got := dig[string](ctr, "image"); got != releaseImage {
			t.Errorf("image %s, want %s", got, releaseImage)
		}
		if got := dig[[]any](ctr, "args"); !cmp.Equal(got, []any{"exporter", "--listen=:9847"}) {
			t.Errorf("args %v", got)
		}
		sc := dig[map[string]any](ctr, "securityContext")
		if !dig[bool](sc, "readOnlyRootFilesystem") || dig[float64](sc, "runAsUser") != 65532 || dig[float64](sc, "runAsGroup") != 65532 {
			t.Errorf("container securityContext %v: want readOnlyRootFilesystem, user and group 65532", sc)
		}
		if dig[string](ctr, "livenessProbe", "httpGet", "path") != "/healthz" || dig[string](ctr, "readinessProbe", "httpGet", "path") != "/readyz" ||
			dig[string](ctr, "livenessProbe", "httpGet", "port") != "metrics" || dig[string](ctr, "readinessProbe", "httpGet", "port") != "metrics" {
			t.Errorf("probes: want /healthz and /readyz on port metrics: %v %v", ctr["livenessProbe"], ctr["readinessProbe"])
		}
		if dig[string](ctr, "ports", 0, "name") != "metrics" || dig[float64](ctr, "ports", 0, "containerPort") != 9847 {
			t.Errorf("container ports %v", ctr["ports"])
		}
		if dig[string](ctr, "resources", "limits", "memory") == "" || dig[string](ctr, "resources", "requests", "memory") == "" {
			t.Errorf("resources %v: want memory requests and limits", ctr["resources"])
		}
		podLabels := dig[map[string]any](deploy, "spec", "template", "metadata", "labels")
		for k, v := range dig[map[string]any](svc, "spec", "selector") {
			if podLabels[k] != v {
				t.Errorf("the Service selects %s=%v, the pods are labelled %v", k, v, podLabels)
			}
		}
		if p := dig[map[string]any](svc, "spec", "ports", 0); p["name"] != "metrics" || p["port"] != 9847.0 || p["targetPort"] != "metrics" {
			t.Errorf("Service port %v", p)
		}
		svcLabels := dig[map[string]any](svc, "metadata", "labels")
		for k, v := range dig[map[string]any](sm, "spec", "selector", "matchLabels") {
			if svcLabels[k] != v {
				t.Errorf("the ServiceMonitor selects %s=%v, the Service is labelled %v", k, v, svcLabels)
			}
		}
		if ns := dig[[]any](sm, "spec", "namespaceSelector", "matchNames"); !slices.Contains(ns, any("podnet-system")) {
			t.Errorf("the ServiceMonitor looks in namespaces %v", ns)
		}
		if dig[string](sm, "spec", "endpoints", 0, "port") != "metrics" {
			t.Errorf("the ServiceMonitor scrapes port %v", dig[any](sm, "spec", "endpoints", 0))
		}
	})

	crds := promOperatorCRDs(t)
	c := ownCluster(t, "deploy-manifests", "")
	for _, f := range crds {
		c.kubectl(t, "create", "-f", f)
	}
	c.kubectl(t, "wait", "--for=condition=Established", "--timeout=60s", "crd/servicemonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com")
	// the namespace first: the API server refuses a dry-run into a namespace that does not exist
	c.kubectl(t, "apply", "-f", writeJSON(t, "ns.json", docOf(t, docs, "Namespace", "podnet-system")))

	files := []string{exporterManifest, serviceMonitor, prometheusRule}
	args := []string{"apply", "--dry-run=server", "--validate=strict"}
	for _, f := range files {
		args = append(args, "-f", filepath.Join(repoRoot, f))
	}
	r := runBin(t, kubectlBin, c.kubeconfig, args...)
	if r.code != 0 || strings.Contains(r.stderr, "Warning") {
		t.Fatalf("kubectl apply --dry-run=server: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stdout, "(server dry run)"); n != len(docs)+2 {
		t.Errorf("dry run: %d objects, want %d:\n%s", n, len(docs)+2, r.stdout)
	}

	// applied for real: the exporter's ServiceAccount may read what the ClusterRole grants,
	// cluster-wide, and write nothing
	c.kubectl(t, "apply", "-f", filepath.Join(repoRoot, exporterManifest))
	role := clusterRoleRules(t, docOf(t, docs, "ClusterRole", "podnet-exporter"))
	for res := range role {
		group, resource, _ := strings.Cut(res, "/")
		for _, verb := range []string{"get", "list", "watch"} {
			if !c.allowed(t, verb, group, resource) {
				t.Errorf("the exporter may not %s %s cluster-wide", verb, res)
			}
		}
	}
	for _, q := range [][2]string{{"create", "/pods"}, {"delete", "/pods"}, {"patch", "/nodes"}, {"update", "/configmaps"},
		{"create", "/events"}, {"get", "/secrets"}, {"list", "/secrets"}, {"list", "/namespaces"},
		{"list", "discovery.k8s.io/endpointslices"}, {"update", "crd.projectcalico.org/ipamblocks"}} {
		group, resource, _ := strings.Cut(q[1], "/")
		if c.allowed(t, q[0], group, resource) {
			t.Errorf("the exporter may %s %s", q[0], q[1])
		}
	}
	// and as kubectl says it
	canI := func(args ...string) string {
		r := runBin(t, kubectlBin, c.kubeconfig, append([]string{"auth", "can-i", "--as=" + exporterSA}, args...)...)
		return strings.TrimSpace(r.stdout)
	}
	for _, q := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "pods", "-A"}, "yes"}, {[]string{"watch", "pods", "-A"}, "yes"}, {[]string{"list", "nodes"}, "yes"},
		{[]string{"create", "pods"}, "no"}, {[]string{"create", "pods", "-n", "podnet-system"}, "no"}, {[]string{"delete", "nodes"}, "no"},
	} {
		if got := canI(q.args...); got != q.want {
			t.Errorf("kubectl auth can-i %v as the exporter: %q, want %s", q.args, got, q.want)
		}
	}

	// the pods the Deployment makes are admitted at Pod Security restricted, which the namespace
	// enforces: a privileged pod is not
	pod := podFromDeployment(deploy, "podnet-exporter-check")
	if r := runBin(t, kubectlBin, c.kubeconfig, "apply", "--dry-run=server", "-f", writeJSON(t, "pod.json", pod)); r.code != 0 || r.stderr != "" {
		t.Errorf("the Deployment's pod, dry-run in podnet-system: exit %d: %s", r.code, r.stderr)
	}
	bad := podFromDeployment(deploy, "podnet-exporter-privileged")
	bad["spec"] = map[string]any{"containers": []any{map[string]any{"name": "c", "image": releaseImage, "securityContext": map[string]any{"privileged": true}}}}
	if r := runBin(t, kubectlBin, c.kubeconfig, "apply", "--dry-run=server", "-f", writeJSON(t, "bad.json", bad)); r.code == 0 || !strings.Contains(r.stderr, "restricted") {
		t.Errorf("a privileged pod in podnet-system was not refused by Pod Security restricted: exit %d: %s", r.code, r.stderr)
	}

	c.kubectl(t, "delete", "--wait", "-f", filepath.Join(repoRoot, exporterManifest))
	if c.allowed(t, "list", "", "pods") {
		t.Errorf("after the delete, the exporter may still list pods")
	}
}

// buildImage runs make image with VERSION into dir and returns the tarball's path.
func buildImage(t *testing.T, dir, version string) string {
	t.Helper()
	out := filepath.Join(dir, "image.tar")
	cmd := exec.Command("make", "-s", "-C", repoRoot, "image", "VERSION="+version, "OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, b)
	}
	return out
}

type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTar(t *testing.T, b []byte) map[string]tarEntry {
	t.Helper()
	entries := map[string]tarEntry{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = tarEntry{h, data}
	}
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestDeployImage builds the image tarball twice and checks that it is reproducible, holds only
// the static binary, runs it as 65532:65532 and carries both tags.
func TestDeployImage(t *testing.T) {
	const version = "v0.0.0-e2e"
	a, err := os.ReadFile(buildImage(t, t.TempDir(), version))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(buildImage(t, t.TempDir(), version))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("two builds of the image differ: %s and %s", sha256hex(a), sha256hex(b))
	}
	outer := readTar(t, a)
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(outer["manifest.json"].data, &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v: %s", err, outer["manifest.json"].data)
	}
	m := manifest[0]
	if want := []string{"ghcr.io/podnet/kubectl-podnet:" + version, devImage}; !cmp.Equal(m.RepoTags, want) {
		t.Errorf("tags %v, want %v", m.RepoTags, want)
	}
	cfgBytes := outer[m.Config].data
	if m.Config != sha256hex(cfgBytes)+".json" {
		t.Errorf("config %s is not named by its digest", m.Config)
	}
	var cfg struct {
		Architecture, OS string
		Config           struct {
			Entrypoint []string
			User       string
		}
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		}
	}
	if err := json.Unmarshal(cfgBytes, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH || !cmp.Equal(cfg.Config.Entrypoint, []string{"/kubectl-podnet"}) || cfg.Config.User != "65532:65532" {
		t.Errorf("config: %s", cfgBytes)
	}
	if len(m.Layers) != 1 || len(cfg.RootFS.DiffIDs) != 1 {
		t.Fatalf("want one layer: %v, %v", m.Layers, cfg.RootFS.DiffIDs)
	}
	layer := outer[m.Layers[0]].data
	if cfg.RootFS.DiffIDs[0] != "sha256:"+sha256hex(layer) {
		t.Errorf("diff_id %s is not the layer's digest", cfg.RootFS.DiffIDs[0])
	}
	files := readTar(t, layer)
	var names []string
	for n, e := range files {
		names = append(names, n)
		if e.hdr.Uid != 0 || e.hdr.Gid != 0 || e.hdr.ModTime.Unix() != 0 || e.hdr.Mode&0o7777 != 0o755 {
			t.Errorf("layer entry %s: uid %d gid %d mtime %v mode %o", n, e.hdr.Uid, e.hdr.Gid, e.hdr.ModTime, e.hdr.Mode)
		}
	}
	slices.Sort(names)
	if !cmp.Equal(names, []string{"./", "./kubectl-podnet"}) {
		t.Fatalf("layer holds %v, want the binary only", names)
	}
	bin := filepath.Join(t.TempDir(), "kubectl-podnet")
	if err := os.WriteFile(bin, files["./kubectl-podnet"].data, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary is dynamically linked")
		}
	}
	f.Close()
	if out, err := exec.Command(bin, "version").Output(); err != nil || !strings.Contains(string(out), version) {
		t.Errorf("the image's binary: version: %v: %s", err, out)
	}
}

// TestDeployImageOnNode imports the image into a real node (hack/cluster image-import) and runs
// the Deployment's container from each tag under Pod Security restricted: the binary starts as
// user 65532 on a read-only root file system.
func TestDeployImageOnNode(t *testing.T) {
	const version = "v0.0.0-e2e"
	tarball := buildImage(t, t.TempDir(), version)
	c, nodes, hc := flannelNodes(t, "deploy-image", "flannel-host-gw", 1)
	hc("image-import", tarball)
	docs := yamlDocs(t, exporterManifest)
	for _, kind := range []string{"Namespace", "ServiceAccount"} {
		c.kubectl(t, "apply", "-f", writeJSON(t, kind+".json", docOf(t, docs, kind, "")))
	}
	deploy := docOf(t, docs, "Deployment", "podnet-exporter")
	for i, image := range []string{devImage, "ghcr.io/podnet/kubectl-podnet:" + version} {
		pod := podFromDeployment(deploy, "podnet-image-"+string(rune('a'+i)))
		spec := pod["spec"].(map[string]any)
		spec["nodeName"] = nodes[0].name
		spec["restartPolicy"] = "Never"
		ctr := dig[map[string]any](spec, "containers", 0)
		ctr["image"], ctr["imagePullPolicy"], ctr["args"] = image, "Never", []any{"version"}
		delete(ctr, "livenessProbe")
		delete(ctr, "readinessProbe")
		name := dig[string](pod, "metadata", "name")
		c.kubectl(t, "apply", "-f", writeJSON(t, name+".json", pod))
		r := runBin(t, kubectlBin, c.kubeconfig, "wait", "-n", "podnet-system", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=90s", "pod/"+name)
		if r.code != 0 {
			t.Errorf("pod %s (%s) did not succeed: %s\n%s", name, image, r.stderr, c.kubectl(t, "get", "pod", "-n", "podnet-system", name, "-o", "yaml"))
			continue
		}
		if logs := c.kubectl(t, "logs", "-n", "podnet-system", name); !strings.Contains(logs, version) {
			t.Errorf("pod %s (%s) printed %q, want the version %s", name, image, logs, version)
		}
	}
}
