package cmd

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func cleanupCluster() []runtime.Object {
	probePod := func(ns, name, node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(time.Now().Add(-90 * time.Minute)),
			Labels:            map[string]string{"app.kubernetes.io/managed-by": "kubectl-podnet", "podnet.dev/probe": "node"}},
			Spec: corev1.PodSpec{NodeName: node, HostNetwork: true}}
	}
	app := func(ns, name string, probes int) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}}}
		for i := 0; i < probes; i++ {
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "podnet-" + string(rune('a'+i))}})
		}
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger-1"}})
		return p
	}
	return []runtime.Object{
		probePod("default", "podnet-node-a1b2c", "node-1"),
		probePod("podnet-system", "podnet-node-x9y8z", "node-2"),
		app("default", "web", 2), app("shop", "cart", 1), app("shop", "plain", 0),
	}
}

func TestCleanup(t *testing.T) {
	tests := []struct {
		args           []string
		stdout, stderr string
	}{
		{[]string{"cleanup", "--dry-run"}, `NAMESPACE   PROBE POD           NODE     AGE       ACTION
default     podnet-node-a1b2c   node-1   1h30m0s   would delete

NAMESPACE   POD WITH PROBE CONTAINERS   COUNT
default     web                         2
`, "note: ephemeral containers cannot be removed: recreate the pod to get rid of them\n"},
		{[]string{"cleanup", "-A", "--dry-run", "--no-headers"}, `default         podnet-node-a1b2c   node-1   1h30m0s   would delete
podnet-system   podnet-node-x9y8z   node-2   1h30m0s   would delete

default   web    2
shop      cart   1
`, "note: ephemeral containers cannot be removed: recreate the pod to get rid of them\n"},
		{[]string{"cleanup", "-n", "shop"}, `NAMESPACE   POD WITH PROBE CONTAINERS   COUNT
shop        cart                        1
`, "no node probe pods left behind in namespace shop\nnote: ephemeral containers cannot be removed: recreate the pod to get rid of them\n"},
		{[]string{"cleanup", "-n", "shop", "-l", "app=plain"}, "", "no node probe pods left behind in namespace shop\n"},
		{[]string{"cleanup", "-A", "-o", "name"}, "pod/podnet-node-a1b2c\npod/podnet-node-x9y8z\n", ""},
		{[]string{"cleanup", "-A", "-o", "jsonpath={range .probePods[*]}{.namespace}/{.name} {.action}{\"\\n\"}{end}"}, "default/podnet-node-a1b2c deleted\npodnet-system/podnet-node-x9y8z deleted\n", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, err := runCmd(t, cleanupCluster(), tt.args...)
			if err != nil {
				t.Fatalf("%v", err)
			}
			if diff := cmp.Diff(tt.stdout, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.stderr, errOut); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCleanupDeletesOnlyProbePods: after a real run, a second one finds nothing to delete, and
// the application pods are all still there.
func TestCleanupDeletesOnlyProbePods(t *testing.T) {
	base := fakeFactory(cleanupCluster())
	var shared *Clients // one fake API for every run, so that deletions stay deleted
	factory := func(f *genericclioptions.ConfigFlags) (*Clients, error) {
		var err error
		if shared == nil {
			shared, err = base(f)
		}
		return shared, err
	}
	run := func(args ...string) string {
		streams, _, out, _ := genericiooptions.NewTestIOStreams()
		root := newCmdRoot(genericclioptions.NewConfigFlags(false), streams, factory)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	run("cleanup", "-A")
	if out := run("cleanup", "-A", "-o", "name"); out != "" {
		t.Errorf("probe pods left after cleanup: %q", out)
	}
	if out := run("cleanup", "-A", "-o", "jsonpath={range .podsWithProbeContainers[*]}{.name} {end}"); out != "web cart " {
		t.Errorf("application pods after cleanup: %q", out)
	}
}

func TestCleanupBadInput(t *testing.T) {
	for args, want := range map[string]string{
		"cleanup -A -n shop": "-A and -n shop do not go together: -A looks in every namespace",
		"cleanup -l =web":    `invalid -l "=web": `,
		"cleanup -o wide":    `unknown output format "wide"`,
		"cleanup extra":      `unknown command "extra" for "kubectl podnet cleanup"`,
	} {
		_, _, err := runCmd(t, cleanupCluster(), strings.Fields(args)...)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
}
