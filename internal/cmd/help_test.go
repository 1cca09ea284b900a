package cmd

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
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
	root, _, err := runCmd(t, nil, "--help")
	if err != nil || strings.Contains(root, "--kubeconfig string") || !strings.Contains(root, `Use "kubectl podnet options"`) {
		t.Errorf("root --help lists the global flags or lacks the options pointer: %v\n%s", err, root)
	}
	out, _, err := runCmd(t, nil, "options")
	if err != nil || !strings.Contains(out, "--kubeconfig") || !strings.Contains(out, "--context") || !strings.Contains(out, "--color") {
		t.Errorf("options: %v\n%s", err, out)
	}
}

// TestHelpIsShortAndShowsExamples: every command's one-line description fits beside its name in
// a listing (under 60 characters), and every command a user runs has 2 to 4 examples.
func TestHelpIsShortAndShowsExamples(t *testing.T) {
	root := newCmdRoot(genericclioptions.NewConfigFlags(false), genericiooptions.IOStreams{}, nil)
	for _, c := range root.Commands() {
		if len(c.Short) >= 60 {
			t.Errorf("%s: short description of %d characters: %q", c.Name(), len(c.Short), c.Short)
		}
		switch c.Name() {
		case "help", "version", "options":
			continue
		}
		if n := strings.Count(c.Example, "kubectl podnet "); n < 2 || n > 4 {
			t.Errorf("%s: %d examples, want 2 to 4:\n%s", c.Name(), n, c.Example)
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if len(f.Usage) > 100 {
				t.Errorf("%s --%s: help of %d characters: %q", c.Name(), f.Name, len(f.Usage), f.Usage)
			}
		})
	}
}
