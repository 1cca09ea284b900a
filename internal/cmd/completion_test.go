package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// completions runs cobra's hidden __complete command and returns the candidates.
func completions(t *testing.T, args ...string) []string {
	t.Helper()
	return completionsIn(t, flannelCluster(), args...)
}

func completionsIn(t *testing.T, objs []runtime.Object, args ...string) []string {
	t.Helper()
	out, _, err := runCmd(t, objs, append([]string{"__complete"}, args...)...)
	if err != nil {
		t.Fatalf("__complete %v: %v", args, err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, ":") {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return got
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"n"}, []string{"nodes"}},
		{[]string{"nodes", "-o", ""}, []string{"wide", "json", "yaml", "name", "jsonpath=", "jsonpath-as-json=", "jsonpath-file=", "go-template=", "go-template-file=", "custom-columns=", "custom-columns-file="}},
		{[]string{"cidr-usage", "-o", "p"}, []string{"prometheus"}},
		{[]string{"trace", "a", "b", "-o", "custom"}, []string{"custom-columns=", "custom-columns-file="}},
		{[]string{"nodes", "--sort-by", "P"}, []string{"POD-CIDRS", "PODS"}},
		{[]string{"ip", "-n", "shop", "web-"}, []string{"web-1", "web-2", "web-3"}},
		{[]string{"ip", "node/"}, []string{"node/node-1", "node/node-2", "node/node-3"}},
		{[]string{"ip", "-n", "shop", ""}, []string{"web-1", "web-2", "web-3", "pod/", "node/", "deploy/", "sts/", "ds/", "job/", "rs/"}},
		{[]string{"ip", "-n", "shop", "pod/web-2"}, []string{"pod/web-2"}},
		{[]string{"ip", "shop/"}, []string{"shop/web-1", "shop/web-2", "shop/web-3"}},
		{[]string{"ip", "svc/"}, nil}, // ip probes no Service
		{[]string{"trace", "-n", "shop", "web-1", "s"}, []string{"svc/", "sts/"}},
		{[]string{"dns", "-n", "shop", ""}, []string{"web-1", "web-2", "web-3"}},
		{[]string{"dns", "-n", "kube-system", ""}, []string{"kube-proxy-a"}},
		{[]string{"completion", ""}, []string{"bash", "fish", "powershell", "zsh"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := completions(t, tt.args...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompletionOfNamespacesWorkloadsAndKubeconfig(t *testing.T) {
	objs := append(flannelCluster(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shipping"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "worker"}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"}})
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- {name: prod-eu, cluster: {server: "https://127.0.0.1:1"}}
- {name: staging, cluster: {server: "https://127.0.0.1:2"}}
users:
- {name: admin, user: {token: "t1"}}
- {name: viewer, user: {token: "t2"}}
contexts:
- {name: prod-eu-admin, context: {cluster: prod-eu, user: admin}}
- {name: staging-viewer, context: {cluster: staging, user: viewer}}
current-context: staging-viewer
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"nodes", "-n", ""}, []string{"kube-system", "shipping", "shop"}},
		{[]string{"nodes", "--namespace", "sh"}, []string{"shipping", "shop"}},
		{[]string{"ip", "-n", "shop", "deploy/"}, []string{"deploy/web", "deploy/worker"}},
		{[]string{"ip", "-n", "shop", "sts/"}, []string{"sts/db"}},
		{[]string{"trace", "-n", "shop", "web-1", "svc/"}, []string{"svc/web"}},
		{[]string{"ip", "shi"}, []string{"shipping/"}},
		{[]string{"ip", "sho"}, []string{"shop/"}},
		{[]string{"--kubeconfig", kubeconfig, "nodes", "--context", ""}, []string{"prod-eu-admin", "staging-viewer"}},
		{[]string{"--kubeconfig", kubeconfig, "nodes", "--cluster", "st"}, []string{"staging"}},
		{[]string{"--kubeconfig", kubeconfig, "cidr-usage", "--contexts", ""}, []string{"prod-eu-admin", "staging-viewer"}},
		{[]string{"--kubeconfig", kubeconfig, "overlap", "--contexts", "staging-viewer,"}, []string{"staging-viewer,prod-eu-admin"}},
		{[]string{"--kubeconfig", kubeconfig, "nodes", "--user", ""}, []string{"admin", "viewer"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, completionsIn(t, objs, tt.args...)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// a prefix alone completes without a space after it, so the name can follow
	out, _, _ := runCmd(t, objs, "__complete", "ip", "sho")
	if !strings.HasSuffix(strings.TrimSpace(out), ":6") {
		t.Errorf("NAMESPACE/ should complete with NoSpace|NoFileComp (:6):\n%s", out)
	}
}

func TestCompletionNeedsAShell(t *testing.T) {
	for args, want := range map[string]string{
		"":     "completion needs a shell: give one of bash, fish, powershell, zsh, e.g. 'source <(kubectl podnet completion bash)'",
		"tcsh": `no completion script for shell "tcsh": give one of bash, fish, powershell, zsh`,
	} {
		out, _, err := runCmd(t, nil, strings.Fields("completion "+args)...)
		if err == nil || err.Error() != want || out != "" {
			t.Errorf("completion %s: stdout %q, error %v; want none and %q", args, out, err, want)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		out, _, err := runCmd(t, nil, "completion", sh)
		if err != nil || !strings.Contains(out, "podnet") || len(out) < 500 {
			t.Errorf("completion %s: %v (%d bytes)", sh, err, len(out))
		}
	}
}
