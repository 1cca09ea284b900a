//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shellDir is a directory with kubectl-podnet on PATH and its completion script for the shell.
func shellDir(t *testing.T, shell string) (dir, script string) {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		t.Fatalf("%s is not installed: make deps installs it", shell)
	}
	dir = t.TempDir()
	if err := os.Symlink(pluginBin, filepath.Join(dir, "kubectl-podnet")); err != nil {
		t.Fatal(err)
	}
	script = filepath.Join(dir, "completion."+shell)
	out, err := exec.Command(pluginBin, "completion", shell).Output()
	if err != nil {
		t.Fatalf("completion %s: %v", shell, err)
	}
	if err := os.WriteFile(script, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, script
}

// TestBashCompletion sources `kubectl-podnet completion bash` in a real bash with Debian's
// bash-completion and asks it for completions, as a user's shell would: commands, flags, output
// formats, and what the cluster holds (namespaces, nodes, pods of -n).
func TestBashCompletion(t *testing.T) {
	const bashCompletion = "/usr/share/bash-completion/bash_completion" // Debian's bash-completion (make deps)
	if _, err := os.Stat(bashCompletion); err != nil {
		t.Fatalf("%s is missing: make deps installs it", bashCompletion)
	}
	dir, script := shellDir(t, "bash")
	c := clusterFor(t, "aks-kubenet")
	complete := func(line string) []string {
		t.Helper()
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		prog := `source ` + bashCompletion + `; source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; __start_kubectl-podnet; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command("bash", append([]string{"-c", prog, "bash", script}, words...)...)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "KUBECONFIG="+c.kubeconfig)
		// stdout only: outside a real completion, bash's compopt complains on stderr
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("completing %q: %v", line, err)
		}
		return strings.Fields(string(b))
	}
	tests := []struct{ line, want string }{
		{"kubectl-podnet no", "nodes"},
		{"kubectl-podnet nodes -o cu", "custom-columns= custom-columns-file="},
		{"kubectl-podnet cidr-usage --fa", "--fail-at"},
		{"kubectl-podnet nodes -n kube-sy", "kube-system"},
		{"kubectl-podnet ip node/aks-nodepool1-38195521-vmss00000", "node/aks-nodepool1-38195521-vmss000000 node/aks-nodepool1-38195521-vmss000001 node/aks-nodepool1-38195521-vmss000002 node/aks-nodepool1-38195521-vmss000003"},
		{"kubectl-podnet ip -n kube-system coredns-", "coredns-5d78c9869d-0 coredns-5d78c9869d-1"},
		{"kubectl-podnet trace kube-system/coredns-5d78c9869d-1", "kube-system/coredns-5d78c9869d-1"},
	}
	for _, tt := range tests {
		if got := strings.Join(complete(tt.line), " "); got != tt.want {
			t.Errorf("%q<TAB> completes %q, want %q", tt.line, got, tt.want)
		}
	}
}

// TestZshCompletion sources `kubectl-podnet completion zsh` in a real interactive zsh (driven
// through zsh/zpty, with compinit), presses TAB and reads the line the completion left.
func TestZshCompletion(t *testing.T) {
	dir, script := shellDir(t, "zsh")
	c := clusterFor(t, "aks-kubenet")
	complete := func(line string) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "buffer")
		// ^X runs a widget that writes the line as completion left it; keys are read in order,
		// so it runs after the completion of the TAB before it
		drive := fmt.Sprintf(`zmodload zsh/zpty
zpty -b z 'PATH=%[1]s:$PATH KUBECONFIG=%[2]s HOME=%[1]s zsh -f -i'
zpty -w z 'PS1="> "; autoload -U compinit && compinit -u -D; source %[3]s; dump() { print -r -- "$BUFFER" > %[4]s; }; zle -N dump; bindkey "^X" dump'
zpty -w -n z %[5]s$'\t\x18'
for i in {1..300}; do [[ -s %[4]s ]] && break; sleep 0.1; done
zpty -d z
`, dir, c.kubeconfig, script, out, shellQuote(line))
		cmd := exec.Command("zsh", "-f", "-c", drive)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("zsh completing %q: %v: %s", line, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("zsh completing %q left no line: %v", line, err)
		}
		return strings.TrimSuffix(string(b), "\n")
	}
	tests := []struct{ line, want string }{
		{"kubectl-podnet no", "kubectl-podnet nodes "},
		{"kubectl-podnet cidr-usage --fa", "kubectl-podnet cidr-usage --fail-at "},
		{"kubectl-podnet cidr-usage -o prom", "kubectl-podnet cidr-usage -o prometheus "},
		{"kubectl-podnet nodes -n kube-sy", "kubectl-podnet nodes -n kube-system "},
		{"kubectl-podnet ip node/aks-nodepool1-38195521-vmss000003", "kubectl-podnet ip node/aks-nodepool1-38195521-vmss000003 "},
		{"kubectl-podnet ip kube-sys", "kubectl-podnet ip kube-system/"}, // NAMESPACE/: no space, the pod follows
	}
	for _, tt := range tests {
		if got := complete(tt.line); got != tt.want {
			t.Errorf("zsh: %q<TAB> leaves %q, want %q", tt.line, got, tt.want)
		}
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
