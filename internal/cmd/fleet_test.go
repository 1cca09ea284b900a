package cmd

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fleetKubeconfig writes a kubeconfig with the contexts named, each its own cluster and user.
func fleetKubeconfig(t *testing.T, contexts ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for _, c := range contexts {
		b.WriteString("- name: " + c + "\n  cluster:\n    server: https://" + c + ".example:6443\n")
	}
	b.WriteString("users:\n")
	for _, c := range contexts {
		b.WriteString("- name: " + c + "-user\n  user:\n    token: t\n")
	}
	b.WriteString("contexts:\n")
	for _, c := range contexts {
		b.WriteString("- name: " + c + "\n  context:\n    cluster: " + c + "\n    user: " + c + "-user\n")
	}
	b.WriteString("current-context: " + contexts[0] + "\n")
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fleetFactory serves each context its own objects; "down" is unreachable, "locked" refuses
// every read.
func fleetFactory(clusters map[string][]runtime.Object) ClientFactory {
	return func(f *genericclioptions.ConfigFlags) (*Clients, error) {
		name := *f.Context
		c, err := fakeFactory(clusters[name])(f)
		if err != nil {
			return nil, err
		}
		c.Server, c.Context, c.User = "https://"+name+".example:6443", name, name+"-user"
		kube := c.Kube.(*fake.Clientset)
		switch name {
		case "down":
			kube.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, &url.Error{Op: "Get", URL: "https://down.example:6443/api/v1/nodes", Err: syscall.ECONNREFUSED}
			})
		case "expired":
			kube.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewUnauthorized("Unauthorized")
			})
		case "locked":
			kube.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: a.GetResource().Resource}, "", nil)
			})
		}
		return c, nil
	}
}

func runFleetCmd(t *testing.T, clusters map[string][]runtime.Object, kubeconfig string, args ...string) (string, string, error) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := newCmdRoot(genericclioptions.NewConfigFlags(false), streams, fleetFactory(clusters))
	root.SetArgs(append(args, "--kubeconfig", kubeconfig))
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func TestFleetNodes(t *testing.T) {
	kc := fleetKubeconfig(t, "prod", "down", "locked")
	clusters := map[string][]runtime.Object{"prod": flannelCluster()}
	out, errOut, err := runFleetCmd(t, clusters, kc, "nodes", "--all-contexts", "--parallel", "2")
	want := `CONTEXT   NAME     STATUS     INTERNAL-IP     EXTERNAL-IP   POD-CIDRS       TUNNEL             PODS    NETWORK
prod      node-1   Ready      192.168.56.11   -             10.244.0.0/24   vxlan 10.244.0.0   2/110   flannel/vxlan
prod      node-2   Ready      192.168.56.12   -             10.244.1.0/24   vxlan 10.244.1.0   1/110   flannel/vxlan
prod      node-3   NotReady   192.168.56.13   -             -               vxlan              0/110   flannel/vxlan
`
	if d := cmp.Diff(want, out); d != "" {
		t.Errorf("stdout (-want +got):\n%s", d)
	}
	for _, line := range []string{
		"warning: prod: node node-3 is NotReady",
		"error: context down (unreachable): cannot reach the API server at https://down.example:6443: connection refused",
		`error: context locked (forbidden): user "locked-user" may not list nodes, nor pods that would name them (403 Forbidden)`,
		"prod: network flannel/vxlan · pod CIDR 10.244.0.0/16 (kubeadm-config)",
	} {
		if !strings.Contains(errOut, line) {
			t.Errorf("stderr lacks %q:\n%s", line, errOut)
		}
	}
	if code := ExitCode(err); code != exitIncomplete || !strings.Contains(err.Error(), "context down is unreachable; context locked is forbidden") {
		t.Errorf("exit %d (%v), want 4 naming both failed contexts", code, err)
	}
}

func TestFleetExitCodes(t *testing.T) {
	kc := fleetKubeconfig(t, "a", "b", "down", "locked", "expired")
	ok := append(flannelCluster(), dnsObjects(true)...)
	clusters := map[string][]runtime.Object{"a": ok, "b": ok}
	for _, tc := range []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"all answer", []string{"summary", "--contexts", "a,b"}, 0, ""},
		{"one without cluster DNS", []string{"summary", "--contexts", "a,down"}, 4, "context down is unreachable"},
		{"a finding wins over a cluster down", []string{"cidr-usage", "--contexts", "a,down", "--fail-at", "1"}, 2, "context a: utilisation"},
		{"expired credentials", []string{"cidr-usage", "--contexts", "a,expired"}, 4, "context expired is unauthorized"},
		{"none answers", []string{"cidr-usage", "--contexts", "down,locked"}, 1, "no cluster answered: context down is unreachable, context locked is forbidden"},
		{"a context not in the kubeconfig", []string{"nodes", "--contexts", "a,nope"}, 1, `context "nope" is not in the kubeconfig: use one of a, b, down, expired, locked`},
		{"--context beside --contexts", []string{"nodes", "--contexts", "a", "--context", "b"}, 1, "--context cannot be combined with --contexts"},
		{"a CA file for every context", []string{"nodes", "--all-contexts", "--certificate-authority", "/tmp/ca.crt"}, 1, "--certificate-authority cannot be combined with --contexts"},
		{"both ways of naming", []string{"summary", "--contexts", "a", "--all-contexts"}, 1, "--contexts and --all-contexts both given"},
		{"parallel zero", []string{"cidr-usage", "--all-contexts", "--parallel", "0"}, 1, "--parallel must be at least 1"},
		{"prometheus for many", []string{"cidr-usage", "--all-contexts", "-o", "prometheus"}, 1, "-o prometheus writes one cluster's gauges"},
		{"an empty name", []string{"nodes", "--contexts", "a,,b"}, 1, "--contexts has an empty name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runFleetCmd(t, clusters, kc, tc.args...)
			if code := ExitCode(err); code != tc.want || tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)) {
				t.Errorf("exit %d (%v), want %d saying %q", code, err, tc.want, tc.msg)
			}
		})
	}
}

func TestFleetSummaryAndUsageTables(t *testing.T) {
	kc := fleetKubeconfig(t, "a", "down")
	clusters := map[string][]runtime.Object{"a": append(flannelCluster(), dnsObjects(true)...)}
	out, _, _ := runFleetCmd(t, clusters, kc, "summary", "--all-contexts")
	want := `CONTEXT   STATUS        NETWORK         NODES   NODE-RANGES       POD-CIDRS       SERVICE-CIDRS   KUBE-PROXY                                      DNS         FINDINGS
a         ok            flannel/vxlan   3       192.168.56.8/29   10.244.0.0/16   10.96.0.0/12    absent (no kube-proxy DaemonSet or ConfigMap)   1/2 ready   2
down      unreachable   -               -       -                 -               -               -                                               -           -

FINDINGS
  ! a: node node-3 has no pod CIDR, and flannel hands out pod addresses from it: pods scheduled there cannot get an address
  ! a: node node-3 is NotReady: kubelet stopped posting node status
`
	if d := cmp.Diff(want, out); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}
	out, _, _ = runFleetCmd(t, clusters, kc, "cidr-usage", "--all-contexts", "-o", "jsonpath={range .clusters[*]}{.context} {.status} {.report.hottest}{\"\\n\"}{end}")
	if d := cmp.Diff("a ok node node-3 without a pod CIDR\ndown unreachable \n", out); d != "" {
		t.Errorf("cidr-usage jsonpath (-want +got):\n%s", d)
	}
}

func TestOverlapFlags(t *testing.T) {
	kc := fleetKubeconfig(t, "a", "b")
	clusters := map[string][]runtime.Object{"a": flannelCluster(), "b": flannelCluster()}
	for _, tc := range []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"--contexts", "a,b"}, 0, ""},
		{[]string{"--context", "a", "--for", "submariner"}, 0, ""}, // one cluster: its own ranges are apart
		{[]string{"--context", "a", "--network", "10.244.8.0/24=onprem", "--for", "peering"}, 2, "peering is broken: by overlap 1"},
		{[]string{"--contexts", "a,b", "--for", "mesh"}, 2, "mesh is broken: by overlap"},
		{[]string{"--contexts", "a,b", "--for", "peering"}, 2, "peering is broken"},
		{[]string{"--for", "world-peace"}, 1, `--for "world-peace" is not a goal: use peering, mesh or submariner`},
		{[]string{"--network", "10.0.0.1/8"}, 1, "has bits set past its /8 prefix: did you mean 10.0.0.0/8?"},
		{[]string{"--network", "vnet=10.0.0.0/8"}, 1, `"vnet" is not a CIDR`},
		{[]string{"--network", "10.0.0.0/8=x", "--network", "10.1.0.0/16=x"}, 1, `the name "x" is given twice`},
		{[]string{"--network", "10.0.0.0/8="}, 1, "the name after = is empty"},
		{[]string{"--contexts", "a,b", "--network", "10.0.0.0/8=a"}, 1, `"a" is also a context`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runFleetCmd(t, clusters, kc, append([]string{"overlap"}, tc.args...)...)
			if code := ExitCode(err); code != tc.want || tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)) {
				t.Errorf("exit %d (%v), want %d saying %q", code, err, tc.want, tc.msg)
			}
		})
	}
}
