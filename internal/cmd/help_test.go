package cmd

import (
	"strings"
	"testing"
)

// TestHelpLeavesGlobalFlagsToOptions: a command's help shows its own flags and the exit codes;
// the flags every command takes are listed once, by `kubectl podnet options`.
func TestHelpLeavesGlobalFlagsToOptions(t *testing.T) {
	for _, c := range []string{"nodes", "cidr-usage", "summary", "who", "dns", "ip", "trace", "cleanup"} {
		out, _, err := runCmd(t, nil, c, "--help")
		if err != nil {
			t.Fatalf("%s --help: %v", c, err)
		}
		if strings.Contains(out, "--kubeconfig string") || strings.Contains(out, "Global Flags") {
			t.Errorf("%s --help lists the global flags:\n%s", c, out)
		}
		if !strings.Contains(out, `Use "kubectl podnet options"`) || !strings.Contains(out, "Exit codes: 0 ok; 1 error") {
			t.Errorf("%s --help lacks the options pointer or the exit codes:\n%s", c, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if len(line) > 110 && !strings.Contains(line, "@sha256:") { // an image digest cannot wrap
				t.Errorf("%s --help has a %d-character line: %q", c, len(line), line)
			}
		}
	}
	out, _, err := runCmd(t, nil, "options")
	if err != nil || !strings.Contains(out, "--kubeconfig") || !strings.Contains(out, "--context") || !strings.Contains(out, "--color") {
		t.Errorf("options: %v\n%s", err, out)
	}
}
