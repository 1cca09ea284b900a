package cmd

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// runForbidding runs the command with the fake clients refusing to list pods.
func runForbidding(t *testing.T, objs []runtime.Object, args ...string) (string, error) {
	t.Helper()
	base := fakeFactory(objs)
	factory := func(f *genericclioptions.ConfigFlags) (*Clients, error) {
		c, err := base(f)
		if err == nil {
			c.Kube.(*fake.Clientset).PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", nil)
			})
		}
		return c, err
	}
	streams, _, _, errOut := genericiooptions.NewTestIOStreams()
	root := newCmdRoot(genericclioptions.NewConfigFlags(false), streams, factory)
	root.SetArgs(args)
	err := root.Execute()
	return errOut.String(), err
}

// TestExitCodes: one table for every command.
func TestExitCodes(t *testing.T) {
	ok := append(flannelCluster(), dnsObjects(true)...)
	tests := []struct {
		name string
		objs []runtime.Object
		args []string
		want int
		msg  string
	}{
		{"summary, all read", ok, []string{"summary"}, 0, ""},
		{"summary, no cluster DNS: a finding", flannelCluster(), []string{"summary"}, 2, "no cluster DNS Service"},
		{"summary, DNS without a ready endpoint", append(flannelCluster(), dnsObjects(false)...), []string{"summary"}, 2, "has no ready endpoint"},
		{"dns, no cluster DNS", nil, []string{"dns"}, 2, "no cluster DNS Service"},
		{"cidr-usage, all read", ok, []string{"cidr-usage"}, 0, ""},
		{"cidr-usage past --fail-at", ok, []string{"cidr-usage", "--fail-at", "1"}, 2, "is at or past --fail-at 1%"},
		{"bad flag", ok, []string{"cidr-usage", "-o", "xml"}, 1, "unknown output format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCmd(t, tt.objs, tt.args...)
			if code := ExitCode(err); code != tt.want || tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("exit %d (%v), want %d saying %q", code, err, tt.want, tt.msg)
			}
		})
	}
	// monitoring commands never read "fine" from what they could not see
	for _, args := range [][]string{{"cidr-usage"}, {"summary"}} {
		errOut, err := runForbidding(t, ok, args...)
		if code := ExitCode(err); code != 4 || !strings.Contains(err.Error(), "the answer is incomplete: could not read pods") {
			t.Errorf("%v with pods forbidden: exit %d (%v), want 4 naming the pods", args, code, err)
		}
		if !strings.Contains(errOut, "cannot list pods") {
			t.Errorf("%v with pods forbidden: stderr lacks the note:\n%s", args, errOut)
		}
	}
	if _, err := runForbidding(t, ok, "nodes"); err != nil {
		t.Errorf("nodes degrades with pods forbidden, it does not fail: %v", err)
	}
}
