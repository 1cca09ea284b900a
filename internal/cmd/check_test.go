package cmd

import (
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/podnet/kubectl-podnet/internal/overlay"
)

// TestCheckOverlayDryRun: --dry-run=client plans one netraw probe pod per chosen node, running the
// overlay script with netshoot, and sends nothing that writes.
func TestCheckOverlayDryRun(t *testing.T) {
	out, actions, err := runWithActions(t, "check", "overlay", "--nodes", "node-1,node-2", "--dry-run=client", "--probe-namespace", "podnet")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range actions {
		if !slices.Contains([]string{"get", "list", "watch"}, a.GetVerb()) {
			t.Errorf("a dry run sent %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
	var list plannedList
	if err := yaml.UnmarshalStrict([]byte(out), &list); err != nil {
		t.Fatalf("the output is no List of pods: %v\n%s", err, out)
	}
	var nodes []string
	for _, p := range list.Items {
		nodes = append(nodes, p.Spec.NodeName)
		c := p.Spec.Containers[0]
		sc := c.SecurityContext
		if p.Namespace != "podnet" || !p.Spec.HostNetwork || c.Image != overlay.DefaultImage || *sc.RunAsUser != 0 || len(sc.Capabilities.Add) != 1 || sc.Capabilities.Add[0] != "NET_RAW" {
			t.Errorf("probe pod %s/%s: image %s, security %+v", p.Namespace, p.Name, c.Image, sc)
		}
		if script := c.Command[2]; !strings.Contains(script, "$BRIDGE -j fdb show dev flannel.1") {
			t.Errorf("the probe script does not read flannel.1's FDB:\n%s", script)
		}
	}
	slices.Sort(nodes)
	if !slices.Equal(nodes, []string{"node-1", "node-2"}) {
		t.Errorf("probe pods on %v, want node-1 and node-2", nodes)
	}
}

// TestCheckOverlayBadInput: bad flags and nodes exit 1 with a sentence naming the remedy.
func TestCheckOverlayBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "overlay", "--nodes", "node-1,nope"}, `node "nope" not found: check the name (kubectl get nodes)`},
		{[]string{"check", "overlay", "--nodes", "node-1"}, "--nodes names 1 node: the check runs between pairs, name at least two"},
		{[]string{"check", "overlay", "--parallel", "0"}, "--parallel must be at least 1 (got 0)"},
		{[]string{"check"}, "check needs a subcommand: 'kubectl podnet check overlay'"},
	} {
		_, _, err := runWithActions(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || ExitCode(err) != exitError {
			t.Errorf("%v: error %v (exit %d), want %q and exit 1", tc.args, err, ExitCode(err), tc.want)
		}
	}
}

// TestCheckOverlayHelp: the subcommand's help has the exit codes and lines that fit.
func TestCheckOverlayHelp(t *testing.T) {
	out, _, err := runCmd(t, nil, "check", "overlay", "--help")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Exit codes: 0 ok; 1 error") || !strings.Contains(out, "check overlay when a pair of nodes fails a check") {
		t.Errorf("help lacks the exit codes:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 110 {
			t.Errorf("a %d-character line: %q", len(line), line)
		}
	}
}
