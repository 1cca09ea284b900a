package render

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/NAME (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// longPath is a cross-node path between pods with names of real lengths: AKS VMSS node names of
// 35 characters, StatefulSet pods in long namespaces, and a live check with a mismatch.
func longPath() *trace.Path {
	const n1, n2 = "aks-nodepool1-38195521-vmss00000a", "aks-userpool-12345678-vmss0000001b"
	return &trace.Path{
		Src:     trace.Endpoint{Kind: "pod", Namespace: "payments-production", Name: "ledger-writer-7d9f8b6c5d-x2k4q", Node: n1, IP: netip.MustParseAddr("10.244.3.18")},
		Dst:     trace.Endpoint{Kind: "pod", Namespace: "payments-production", Name: "postgres-primary-0", Node: n2, IP: netip.MustParseAddr("10.244.17.5")},
		Network: netmodel.Network{Model: "calico", Mode: "vxlan"},
		Case:    "cross-node",
		Hops: []trace.Hop{
			{Where: "pod payments-production/ledger-writer-7d9f8b6c5d-x2k4q", Device: "eth0", What: "default route via 169.254.1.1", Route: "default via 169.254.1.1 dev eth0"},
			{Where: "node " + n1, Device: "cali1a2b3c4d5e6", What: "the veth delivers it to the host, which routes it"},
			{Where: "node " + n1, Device: "vxlan.calico", What: "encapsulated (vxlan) towards node " + n2, Route: "10.244.17.0/26 via 10.244.17.0 dev vxlan.calico onlink",
				Encap: &trace.Encap{Kind: "vxlan", OuterSrc: "10.224.0.4", OuterDst: "10.224.1.17", Port: 4789, VNI: 4096, Overhead: 50}},
			{Where: "network", What: "outer packet 10.224.0.4 -> 10.224.1.17, UDP 4789, VNI 4096"},
			{Where: "node " + n2, Device: "vxlan.calico", What: "decapsulated: the inner packet is routed to the pod"},
			{Where: "pod payments-production/postgres-primary-0", Device: "eth0", What: "delivered"},
		},
		Probe: &trace.Verification{
			Checks: []trace.Check{
				{Hop: 1, In: "pod payments-production/ledger-writer-7d9f8b6c5d-x2k4q", Expected: "10.244.17.5 via 169.254.1.1 dev eth0", Seen: "10.244.17.5 via 169.254.1.1 dev eth0", Status: trace.StatusOK},
				{Hop: 3, In: "node " + n1, Expected: "10.244.17.5 via 10.244.17.0 dev vxlan.calico", Seen: "10.244.17.5 via 10.224.0.1 dev eth0", Status: trace.StatusMismatch, Reason: "leaves by eth0, not vxlan.calico", Cause: "no tunnel route on this node"},
			},
			Devices:    []trace.DeviceCheck{{In: "node " + n2, Device: "vxlan.calico", Expected: "vxlan VNI 4096 UDP 4789, up", Status: trace.StatusNotProbed, Reason: "the node probe failed"}},
			Connect:    &trace.ConnectCheck{From: "pod payments-production/ledger-writer-7d9f8b6c5d-x2k4q", To: "10.244.17.5:5432", Result: probe.TimedOut, Expected: trace.ExpectConnected, Cause: "packets are lost on the way"},
			Mismatches: 1,
		},
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestTraceGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    TableOptions
	}{
		{"trace-long-names.golden", TableOptions{}},
		{"trace-long-names-no-headers.golden", TableOptions{NoHeaders: true}},
		{"trace-long-names-color.golden", TableOptions{Palette: Palette{on: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := Trace(&b, longPath(), tc.o); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.String())
		})
	}
}

// TestTraceColumnsAlign checks what the golden files show: every cell of the hop and live-check
// tables starts in its header's column, with colour on or off.
func TestTraceColumnsAlign(t *testing.T) {
	for _, pal := range []Palette{{}, {on: true}} {
		var b strings.Builder
		if err := Trace(&b, longPath(), TableOptions{Palette: pal}); err != nil {
			t.Fatal(err)
		}
		plain := ansi.ReplaceAllString(b.String(), "")
		if pal.on && plain == b.String() {
			t.Fatal("colour on but no escape sequence written")
		}
		for _, line := range strings.Split(plain, "\n") {
			if strings.HasSuffix(line, " ") {
				t.Errorf("colour %v: trailing blanks in %q", pal.on, line)
			}
		}
		var starts []int
		for _, line := range strings.Split(plain, "\n") {
			switch {
			case strings.HasPrefix(line, "HOP "):
				starts = nil
				for _, h := range strings.Fields(line) {
					starts = append(starts, strings.Index(line, h))
				}
				continue
			case line == "" || strings.HasPrefix(line, "live check") || starts == nil:
				starts = nil
				continue
			}
			last := starts[len(starts)-1]
			r := []rune(line)
			if len(r) <= last || r[last-1] != ' ' || r[last] == ' ' {
				t.Errorf("colour %v: the last column does not start at %d:\n%q", pal.on, last, line)
			}
			if r[0] != ' ' {
				for _, s := range starts[1 : len(starts)-1] {
					if r[s-1] != ' ' || r[s] == ' ' {
						t.Errorf("colour %v: a column does not start at %d:\n%q", pal.on, s, line)
					}
				}
			}
		}
	}
}
