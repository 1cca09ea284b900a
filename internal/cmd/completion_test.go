package cmd

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// completions runs cobra's hidden __complete command and returns the candidates.
func completions(t *testing.T, args ...string) []string {
	t.Helper()
	out, _, err := runCmd(t, flannelCluster(), append([]string{"__complete"}, args...)...)
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

func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		out, _, err := runCmd(t, nil, "completion", sh)
		if err != nil || !strings.Contains(out, "podnet") || len(out) < 500 {
			t.Errorf("completion %s: %v (%d bytes)", sh, err, len(out))
		}
	}
}
