package render

import (
	"bytes"
	"testing"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/overlay"
	"github.com/podnet/kubectl-podnet/internal/probe"
)

// overlayReport is a flannel VXLAN check of two pairs: one healthy, one whose underlay drops
// UDP 8472 and has a small path MTU; the third node's probe did not run.
func overlayReport() *overlay.Report {
	dev := func(ip, mac string) *probe.Device {
		return &probe.Device{Name: "flannel.1", Present: true, Up: true, MTU: 1450, MAC: mac, Kind: "vxlan", VNI: 1, Port: 8472, Local: ip, Underlay: "eth0", Detailed: true}
	}
	devCheck := func(node, seen string) *overlay.Check {
		return &overlay.Check{Check: overlay.KindDevice, From: node, State: overlay.OK, Seen: seen}
	}
	seenA, seenB := "vxlan id 1 local 198.18.7.11 dev eth0 dstport 8472 mac 4a:3f:9c:12:7e:01 mtu 1450 up", "vxlan id 1 local 198.18.7.12 dev eth0 dstport 8472 mac 4a:3f:9c:12:7e:02 mtu 1450 up"
	tools := &probe.Tools{IPRoute2: true, Bridge: true, IPutils: true}
	ok := func(k overlay.Kind, from, to, seen string) overlay.Check {
		return overlay.Check{Check: k, From: from, To: to, State: overlay.OK, Seen: seen}
	}
	return &overlay.Report{
		Network: netmodel.Network{Model: netmodel.Flannel, Mode: "vxlan"},
		Overlay: overlay.Overlay{State: overlay.Tunnel, Kind: "vxlan", Device: "flannel.1", Port: 8472, VNI: 1, Overhead: 50},
		Nodes: []overlay.Node{
			{Name: "kind-worker", Zone: "zone-a", Transport: "198.18.7.11", Underlay: "eth0", TunnelAddress: "10.244.0.0", VTEPMAC: "4a:3f:9c:12:7e:01", Probe: overlay.OK, Tools: tools, Device: dev("198.18.7.11", "4a:3f:9c:12:7e:01"), PodMTU: 1450, PodMTUDevice: "flannel.1", DeviceCheck: devCheck("kind-worker", seenA)},
			{Name: "kind-worker2", Zone: "zone-b", Transport: "198.18.7.12", Underlay: "eth0", TunnelAddress: "10.244.1.0", VTEPMAC: "4a:3f:9c:12:7e:02", Probe: overlay.OK, Tools: tools, Device: dev("198.18.7.12", "4a:3f:9c:12:7e:02"), PodMTU: 1450, PodMTUDevice: "flannel.1", DeviceCheck: devCheck("kind-worker2", seenB)},
		},
		Pairs: []overlay.Pair{{Name: "kind-worker/kind-worker2", A: "kind-worker", B: "kind-worker2", State: overlay.Failed, Checks: []overlay.Check{
			*devCheck("kind-worker", seenA), *devCheck("kind-worker2", seenB),
			ok(overlay.KindAgree, "kind-worker", "kind-worker2", "vxlan VNI 1 UDP 8472 on both"),
			ok(overlay.KindFDB, "kind-worker", "kind-worker2", "4a:3f:9c:12:7e:02 dst 198.18.7.12"),
			ok(overlay.KindFDB, "kind-worker2", "kind-worker", "4a:3f:9c:12:7e:01 dst 198.18.7.11"),
			ok(overlay.KindNeighbour, "kind-worker", "kind-worker2", "10.244.1.0 lladdr 4a:3f:9c:12:7e:02 PERMANENT"),
			ok(overlay.KindNeighbour, "kind-worker2", "kind-worker", "10.244.0.0 lladdr 4a:3f:9c:12:7e:01 PERMANENT"),
			{Check: overlay.KindTunnelPing, From: "kind-worker", To: "kind-worker2", State: overlay.Failed, Seen: "no reply from 10.244.1.0 (3 sent)",
				Cause: "UDP 8472 between 198.18.7.11 and 198.18.7.12 is dropped: the underlay carries plain packets but not the tunnel's: check the security group / firewall / hypervisor rules for UDP 8472"},
			ok(overlay.KindTunnelPing, "kind-worker2", "kind-worker", "3/3 replies from 10.244.0.0"),
			ok(overlay.KindUnderlayPing, "kind-worker", "kind-worker2", "3/3 replies from 198.18.7.12"),
			ok(overlay.KindUnderlayPing, "kind-worker2", "kind-worker", "3/3 replies from 198.18.7.11"),
			{Check: overlay.KindTunnelMTU, From: "kind-worker", To: "kind-worker2", State: overlay.Unknown, Cause: "the tunnel carries nothing between the nodes (see tunnel-ping)"},
			ok(overlay.KindTunnelMTU, "kind-worker2", "kind-worker", "1450 bytes DF, 2/2 replies from 10.244.0.0"),
			{Check: overlay.KindUnderlayMTU, From: "kind-worker", To: "kind-worker2", State: overlay.Failed, Seen: "1500 bytes DF, no reply from 198.18.7.12 (2 sent); path MTU 1400",
				Cause: "pod MTU 1450 + 50 bytes VXLAN = 1500 exceeds the underlay's path MTU 1400 between kind-worker and kind-worker2: lower the CNI's MTU to 1350 or raise the underlay's"},
			ok(overlay.KindUnderlayMTU, "kind-worker2", "kind-worker", "1500 bytes DF, 2/2 replies from 198.18.7.11"),
		}}},
		Summary: overlay.Summary{Pairs: 1, Failed: 1},
	}
}

func TestOverlayGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    TableOptions
	}{
		{"overlay-flannel.golden", TableOptions{}},
		{"overlay-flannel-no-headers.golden", TableOptions{NoHeaders: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Overlay(&b, overlayReport(), tc.o); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.String())
		})
	}
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			p, err := NewPrinter(format, false)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			r := overlayReport()
			if err := p.Print(&b, Printable{Report: r, Kind: "pair", Items: r.Pairs}); err != nil {
				t.Fatal(err)
			}
			golden(t, "overlay-flannel."+format+".golden", b.String())
		})
	}
}

// TestOverlayNoTunnel: a model without a tunnel says so and shows the underlay checks alone.
func TestOverlayNoTunnel(t *testing.T) {
	r := &overlay.Report{
		Network: netmodel.Network{Model: netmodel.Flannel, Mode: "host-gw"},
		Overlay: overlay.Overlay{State: overlay.NoTunnel, Reason: "flannel/host-gw carries pod traffic between nodes without a tunnel (routed datapath): there is no overlay; the underlay is checked to carry pod-MTU packets"},
		Nodes:   []overlay.Node{{Name: "a", Transport: "198.18.7.11", Probe: overlay.OK}, {Name: "b", Transport: "198.18.7.12", Probe: overlay.Failed, ProbeError: "node b is NotReady"}},
		Pairs: []overlay.Pair{{Name: "a/b", A: "a", B: "b", State: overlay.Unknown, Checks: []overlay.Check{
			{Check: overlay.KindUnderlayPing, From: "a", To: "b", State: overlay.OK, Seen: "3/3 replies from 198.18.7.12"},
			{Check: overlay.KindUnderlayPing, From: "b", To: "a", State: overlay.Unknown, Cause: "the probe on b did not run"},
		}}},
		Summary: overlay.Summary{Pairs: 1, Unknown: 1, ProbesFailed: 1},
	}
	var b bytes.Buffer
	if err := Overlay(&b, r, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "overlay-hostgw.golden", b.String())
}
