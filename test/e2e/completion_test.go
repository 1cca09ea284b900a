//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBashCompletion sources `kubectl-podnet completion bash` in a real bash and asks it for
// completions, as a user's shell would.
func TestBashCompletion(t *testing.T) {
	const bashCompletion = "/usr/share/bash-completion/bash_completion" // Debian's bash-completion (make deps)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is not installed")
	}
	if _, err := os.Stat(bashCompletion); err != nil {
		t.Fatalf("%s is missing: make deps installs it", bashCompletion)
	}
	dir := t.TempDir()
	if err := os.Symlink(pluginBin, filepath.Join(dir, "kubectl-podnet")); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "completion.bash")
	out, err := exec.Command(pluginBin, "completion", "bash").Output()
	if err != nil {
		t.Fatalf("completion bash: %v", err)
	}
	if err := os.WriteFile(script, out, 0o644); err != nil {
		t.Fatal(err)
	}
	complete := func(line string) []string {
		t.Helper()
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		prog := `source ` + bashCompletion + `; source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; __start_kubectl-podnet; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command("bash", append([]string{"-c", prog, "bash", script}, words...)...)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "KUBECONFIG="+filepath.Join(dir, "none"))
		// stdout only: outside a real completion, bash's compopt complains on stderr
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("completing %q: %v", line, err)
		}
		return strings.Fields(string(b))
	}
	if got := complete("kubectl-podnet no"); len(got) != 1 || got[0] != "nodes" {
		t.Errorf(`"kubectl-podnet no<TAB>" completes %v, want [nodes]`, got)
	}
	if got := complete("kubectl-podnet nodes -o cu"); len(got) != 2 || got[0] != "custom-columns=" {
		t.Errorf(`"kubectl-podnet nodes -o cu<TAB>" completes %v, want the custom-columns formats`, got)
	}
	if got := complete("kubectl-podnet cidr-usage --fa"); len(got) != 1 || got[0] != "--fail-at" {
		t.Errorf(`"kubectl-podnet cidr-usage --fa<TAB>" completes %v, want [--fail-at]`, got)
	}
}
