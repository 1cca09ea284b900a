package probe

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestHostLocalScriptOnAFileTree runs the script with the shells a probe image has (the system's
// sh, and busybox where installed) over a tree laid out as host-local and containerd write it.
func TestHostLocalScriptOnAFileTree(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "var/lib/cni/networks")
	write := func(rel, content string, mtime time.Time) {
		t.Helper()
		p := filepath.Join(data, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	running := "8d1f0c2a9b7e6d5c4b3a29180716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e"
	gone := "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	write("cbr0/10.244.1.5", running+"\r\neth0", old)
	write("cbr0/10.244.1.6", gone+"\r\neth0", old)
	write("cbr0/fd00:10:244:1::7", gone, old) // before CNI 0.8: the ID alone
	write("cbr0/10.244.1.8", "not an id\r\neth0", old)
	write("cbr0/last_reserved_ip.0", "10.244.1.8", old)
	write("cbr0/lock", "", old)
	if err := os.MkdirAll(filepath.Join(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io", running), 0o711); err != nil {
		t.Fatal(err)
	}
	script := hostLocalScript(root, "/var/lib/cni/networks", []string{"/run/k3s/containerd", "/run/containerd"})
	shells := [][]string{{"sh"}}
	if _, err := exec.LookPath("busybox"); err == nil {
		shells = append(shells, []string{"busybox", "sh"})
	}
	for _, sh := range shells {
		t.Run(strings.Join(sh, " "), func(t *testing.T) {
			out, err := exec.Command(sh[0], append(sh[1:], "-c", script)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			h, err := ParseHostLocal("node-1", "/var/lib/cni/networks", string(out))
			if err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			if time.Since(h.Now) > time.Minute || h.State != StoreOK || h.Runtime != "/run/containerd" || h.RuntimeState != "ok" {
				t.Errorf("now %s, state %s, runtime %q (%s)", h.Now, h.State, h.Runtime, h.RuntimeState)
			}
			want := []Reservation{
				{Network: "cbr0", Address: netip.MustParseAddr("10.244.1.5"), Container: running, Interface: "eth0", Since: old, Sandbox: SandboxRunning, File: "/var/lib/cni/networks/cbr0/10.244.1.5"},
				{Network: "cbr0", Address: netip.MustParseAddr("10.244.1.6"), Container: gone, Interface: "eth0", Since: old, Sandbox: SandboxGone, File: "/var/lib/cni/networks/cbr0/10.244.1.6"},
				{Network: "cbr0", Address: netip.MustParseAddr("10.244.1.8"), Interface: "eth0", Since: old, Sandbox: SandboxUnknown, File: "/var/lib/cni/networks/cbr0/10.244.1.8"},
				{Network: "cbr0", Address: netip.MustParseAddr("fd00:10:244:1::7"), Container: gone, Since: old, Sandbox: SandboxGone, File: "/var/lib/cni/networks/cbr0/fd00:10:244:1::7"},
			}
			if diff := cmp.Diff(want, h.Reservations, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("reservations (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"cbr0"}, h.Networks); diff != "" {
				t.Errorf("networks (-want +got):\n%s", diff)
			}
		})
	}

	// no data directory, no runtime: absent, and every sandbox unknown
	out, err := exec.Command("sh", "-c", hostLocalScript(t.TempDir(), "/var/lib/cni/networks", DefaultRuntimeStateDirs)).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHostLocal("node-2", "/var/lib/cni/networks", string(out))
	if err != nil || h.State != StoreAbsent || h.Runtime != "" || len(h.Reservations) != 0 {
		t.Errorf("empty node: %+v, %v", h, err)
	}
}

func TestParseHostLocalRefusesWhatItCannotRead(t *testing.T) {
	for name, out := range map[string]string{
		"cut short":  "@@podnet section host-local\nnow\t1764000000\ndir\tok\n",
		"no section": "@@podnet section addr\n@@podnet exit 0\n@@podnet end\n",
		"no clock":   "@@podnet section host-local\ndir\tok\n@@podnet exit 0\n@@podnet end\n",
		"no state":   "@@podnet section host-local\nnow\t1764000000\n@@podnet exit 0\n@@podnet end\n",
	} {
		if _, err := ParseHostLocal("n", "/var/lib/cni/networks", out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCheckHostPath(t *testing.T) {
	for p, ok := range map[string]bool{"/var/lib/cni/networks": true, "/run/k3s/containerd": true, "var/lib": false, "/": false,
		"/var/lib/../x": false, "/var/lib/cni/": false, "/a'b": false, "/a$(x)": false, "/a\nb": false, "/a*": false} {
		if err := CheckHostPath("--cni-data-dir", p); (err == nil) != ok {
			t.Errorf("%q: %v", p, err)
		}
	}
}
