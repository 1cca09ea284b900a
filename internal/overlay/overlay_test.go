package overlay

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
)

const (
	macA = "4a:3f:9c:12:7e:01"
	macB = "4a:3f:9c:12:7e:02"
)

// flannelNode is a Ready flannel VXLAN node publishing its VTEP MAC.
func flannelNode(name, ip, cidr, mac, zone string) cluster.Node {
	return cluster.Node{Name: name, Ready: "Ready", Zone: zone, OS: "linux", InternalIPs: []netip.Addr{netip.MustParseAddr(ip)}, PodCIDRs: []netip.Prefix{netip.MustParsePrefix(cidr)},
		Annotations: map[string]string{"flannel.alpha.coreos.com/backend-type": "vxlan", "flannel.alpha.coreos.com/public-ip": ip,
			"flannel.alpha.coreos.com/backend-data": fmt.Sprintf(`{"VNI":1,"VtepMAC":%q}`, mac)}}
}

func resolve(nodes ...cluster.Node) []*netmodel.NodeNetwork {
	ev := &cluster.Evidence{}
	var out []*netmodel.NodeNetwork
	for i := range nodes {
		nn := netmodel.ResolveNode(&nodes[i], ev, nil)
		out = append(out, &nn)
	}
	return out
}

// healthy is what a node's probe sees when everything works: its flannel.1 on eth0, the peer's
// FDB and neighbour entries, and every ping answered.
func healthy(ip, mac, peerIP, peerTunnel, peerMAC string) *probe.OverlayResult {
	return &probe.OverlayResult{
		Format: "json", Tools: probe.Tools{IPRoute2: true, Bridge: true, IPutils: true},
		Links:        []probe.Link{{Index: 2, Name: "eth0", MTU: 1500, Addrs: []probe.Addr{{Family: "inet", CIDR: ip + "/24"}}}},
		Device:       &probe.Device{Name: "flannel.1", Present: true, Up: true, State: "UNKNOWN", MTU: 1450, MAC: mac, Kind: "vxlan", VNI: 1, Port: 8472, Local: ip, Underlay: "eth0", Detailed: true},
		FDB:          []probe.FDBEntry{{MAC: peerMAC, Dst: peerIP, Flags: []string{"self"}, State: "permanent"}},
		Neighbours:   []probe.Neighbour{{Dst: peerTunnel, LLAddr: peerMAC, State: []string{"PERMANENT"}}},
		PodMTUDevice: "flannel.1", PodMTU: 1450,
		Pings: map[string]probe.Ping{
			"ping tunnel " + peerTunnel: {Path: "tunnel", To: peerTunnel, Sent: 3, Received: 3, Outcome: probe.PingReplied},
			"ping underlay " + peerIP:   {Path: "underlay", To: peerIP, Sent: 3, Received: 3, Outcome: probe.PingReplied},
			"df tunnel " + peerTunnel:   {Path: "tunnel", To: peerTunnel, Size: 1450, Sent: 2, Received: 2, Outcome: probe.PingReplied},
			"df underlay " + peerIP:     {Path: "underlay", To: peerIP, Size: 1500, Sent: 2, Received: 2, Outcome: probe.PingReplied},
		},
		PathMTU: map[string]int{},
	}
}

func noReply(p probe.Ping) probe.Ping {
	p.Received, p.Outcome = 0, probe.PingNoReply
	return p
}

// pairResults are the two nodes' healthy results, for a scenario to break.
func pairResults() (*probe.OverlayResult, *probe.OverlayResult) {
	return healthy("198.18.7.11", macA, "198.18.7.12", "10.244.1.0", macB), healthy("198.18.7.12", macB, "198.18.7.11", "10.244.0.0", macA)
}

// TestDiagnosis: each failure combination of one direction gets its likely cause.
func TestDiagnosis(t *testing.T) {
	type want struct {
		state State
		cause string
	}
	tests := []struct {
		name    string
		breakIt func(a, b *probe.OverlayResult)
		check   Kind
		want    want
	}{
		{"healthy", func(a, b *probe.OverlayResult) {}, KindTunnelPing, want{OK, ""}},
		{"UDP 8472 dropped: tunnel fails, underlay passes", func(a, b *probe.OverlayResult) {
			a.Pings["ping tunnel 10.244.1.0"] = noReply(a.Pings["ping tunnel 10.244.1.0"])
		}, KindTunnelPing, want{Failed, "UDP 8472 between 198.18.7.11 and 198.18.7.12 is dropped: the underlay carries plain packets but not the tunnel's: check the security group / firewall / hypervisor rules for UDP 8472"}},
		{"no underlay at all", func(a, b *probe.OverlayResult) {
			a.Pings["ping tunnel 10.244.1.0"] = noReply(a.Pings["ping tunnel 10.244.1.0"])
			a.Pings["ping underlay 198.18.7.12"] = noReply(a.Pings["ping underlay 198.18.7.12"])
		}, KindTunnelPing, want{Failed, "the nodes cannot reach each other on the underlay at all: check the routes, firewalls and security groups between 198.18.7.11 and 198.18.7.12"}},
		{"ICMP filtered on the underlay, tunnel fine", func(a, b *probe.OverlayResult) {
			a.Pings["ping underlay 198.18.7.12"] = noReply(a.Pings["ping underlay 198.18.7.12"])
		}, KindUnderlayPing, want{Unknown, "no ICMP reply on the underlay between 198.18.7.11 and 198.18.7.12, though the tunnel carries traffic: ICMP is filtered there; the underlay's path MTU cannot be measured"}},
		{"MTU: small passes, DF at pod MTU does not, path MTU 1400", func(a, b *probe.OverlayResult) {
			a.Pings["df tunnel 10.244.1.0"] = noReply(a.Pings["df tunnel 10.244.1.0"])
			a.Pings["df underlay 198.18.7.12"] = noReply(a.Pings["df underlay 198.18.7.12"])
			a.PathMTU["198.18.7.12"] = 1400
		}, KindTunnelMTU, want{Failed, "pod MTU 1450 + 50 bytes VXLAN = 1500 exceeds the underlay's path MTU 1400 between a and b: lower the CNI's MTU to 1350 or raise the underlay's"}},
		{"MTU on the underlay, fragments carry the tunnel", func(a, b *probe.OverlayResult) {
			a.Pings["df underlay 198.18.7.12"] = noReply(a.Pings["df underlay 198.18.7.12"])
			a.PathMTU["198.18.7.12"] = 1400
		}, KindUnderlayMTU, want{Failed, "pod MTU 1450 + 50 bytes VXLAN = 1500 exceeds the underlay's path MTU 1400 between a and b: lower the CNI's MTU to 1350 or raise the underlay's (full-size tunnel packets still arrive, fragmented, where the underlay lets fragments through)"}},
		{"MTU unmeasured: ICMP filtered", func(a, b *probe.OverlayResult) {
			a.Pings["df tunnel 10.244.1.0"] = noReply(a.Pings["df tunnel 10.244.1.0"])
			a.Pings["ping underlay 198.18.7.12"] = noReply(a.Pings["ping underlay 198.18.7.12"])
			a.Pings["df underlay 198.18.7.12"] = noReply(a.Pings["df underlay 198.18.7.12"])
		}, KindTunnelMTU, want{Failed, "pod MTU 1450 + 50 bytes VXLAN = 1500 does not cross the underlay between a and b, though small tunnel packets do: the underlay's path MTU is smaller (it could not be measured); lower the CNI's MTU or raise the underlay's"}},
		{"FDB missing", func(a, b *probe.OverlayResult) { a.FDB = nil }, KindFDB,
			want{Failed, "flanneld on a has not programmed b's VTEP (no FDB entry 4a:3f:9c:12:7e:02 dst 198.18.7.12 on flannel.1): check flanneld's log on a"}},
		{"FDB missing explains the failing tunnel", func(a, b *probe.OverlayResult) {
			a.FDB = nil
			a.Pings["ping tunnel 10.244.1.0"] = noReply(a.Pings["ping tunnel 10.244.1.0"])
		}, KindTunnelPing, want{Failed, "flanneld on a has not programmed b's VTEP correctly (see fdb and neighbour): packets to 10.244.1.0 go nowhere"}},
		{"FDB stale MAC after b's device was re-created", func(a, b *probe.OverlayResult) { a.FDB[0].MAC = "4a:3f:9c:12:7e:99" }, KindFDB,
			want{Failed, "a's FDB has 4a:3f:9c:12:7e:99 for 198.18.7.12, but b's VTEP MAC is 4a:3f:9c:12:7e:02: b's tunnel device was re-created and flanneld on a has not caught up; restart flanneld on a"}},
		{"FDB to the wrong address", func(a, b *probe.OverlayResult) { a.FDB[0].Dst = "10.0.0.12" }, KindFDB,
			want{Failed, "flanneld on a sends b's VTEP traffic to 10.0.0.12, not to its transport address 198.18.7.12: the entry is stale; restart flanneld on a"}},
		{"DirectRouting: b is routed directly, no VTEP entries", func(a, b *probe.OverlayResult) {
			a.FDB, a.Neighbours = nil, nil
			a.Routes = map[string]probe.TunnelRoute{"10.244.1.0": {Dev: "eth0", Via: "198.18.7.12"}}
		}, KindFDB, want{OK, ""}},
		{"no tunnel route: the default route takes it", func(a, b *probe.OverlayResult) {
			a.Routes = map[string]probe.TunnelRoute{"10.244.1.0": {Dev: "eth0", Via: "198.18.7.1"}}
		}, KindNeighbour, want{Failed, "flanneld on a has not programmed b's VTEP (no route to b's pod range by flannel.1: packets to it leave by eth0 unencapsulated): check flanneld's log on a"}},
		{"b's missing entry breaks a's replies, not the underlay", func(a, b *probe.OverlayResult) {
			b.FDB = nil
			a.Pings["ping tunnel 10.244.1.0"] = noReply(a.Pings["ping tunnel 10.244.1.0"])
		}, KindTunnelPing, want{Failed, "flanneld on b has not programmed a's VTEP correctly (see fdb and neighbour from b): the replies go nowhere"}},
		{"neighbour missing", func(a, b *probe.OverlayResult) { a.Neighbours = nil }, KindNeighbour,
			want{Failed, "flanneld on a has not programmed b's VTEP (no neighbour entry for 10.244.1.0 on flannel.1): check flanneld's log on a"}},
		{"VNI disagreement", func(a, b *probe.OverlayResult) { b.Device.VNI = 2 }, KindAgree,
			want{Failed, "flannel.1 on a and b disagree: each drops the other's packets; give every node the same flanneld configuration"}},
		{"busybox image: DF unknown", func(a, b *probe.OverlayResult) { a.Tools.IPutils = false }, KindTunnelMTU,
			want{Unknown, "the probe image's ping has no -M do (busybox): give --image one with iproute2 and iputils (docker.io/nicolaka/netshoot:v0.13)"}},
		{"no NET_RAW", func(a, b *probe.OverlayResult) {
			a.Pings["ping tunnel 10.244.1.0"] = probe.Ping{Path: "tunnel", To: "10.244.1.0", Outcome: probe.PingNotPermitted, Output: "ping: socket: Operation not permitted"}
		}, KindTunnelPing, want{Unknown, "the probe may not send ICMP (ping: socket: Operation not permitted): it needs NET_RAW as root; the namespace's Pod Security or a policy took it away"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := resolve(flannelNode("a", "198.18.7.11", "10.244.0.0/24", macA, "z1"), flannelNode("b", "198.18.7.12", "10.244.1.0/24", macB, "z2"))
			p, err := NewPlan(nodes)
			if err != nil {
				t.Fatal(err)
			}
			a, b := pairResults()
			tt.breakIt(a, b)
			r := Build(p, map[string]*probe.OverlayResult{"a": a, "b": b}, nil)
			var got *Check
			for i := range r.Pairs[0].Checks {
				c := &r.Pairs[0].Checks[i]
				if c.Check == tt.check && c.From == "a" {
					got = c
					break
				}
			}
			if got == nil {
				t.Fatalf("no %s check from a in %+v", tt.check, r.Pairs[0].Checks)
			}
			if diff := cmp.Diff(tt.want, want{got.State, got.Cause}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.check, diff)
			}
			if tt.want.state == Failed && r.Pairs[0].State != Failed {
				t.Errorf("pair state %s with a failed check", r.Pairs[0].State)
			}
		})
	}
}

// TestConfiguredTunnel: devices that all use another port and VNI than the model's defaults (flannel
// set up for Windows nodes: VNI 4096, UDP 4789) are the configuration, not a fault; a transport
// address on none of the node's links (a public address) is not compared with the device's local.
func TestConfiguredTunnel(t *testing.T) {
	nodes := resolve(flannelNode("a", "198.18.7.11", "10.244.0.0/24", macA, "z1"), flannelNode("b", "198.18.7.12", "10.244.1.0/24", macB, "z2"))
	p, err := NewPlan(nodes)
	if err != nil {
		t.Fatal(err)
	}
	a, b := pairResults()
	for _, r := range []*probe.OverlayResult{a, b} {
		r.Device.VNI, r.Device.Port = 4096, 4789
	}
	r := Build(p, map[string]*probe.OverlayResult{"a": a, "b": b}, nil)
	if r.Summary.OK != 1 || r.Overlay.Port != 4789 || r.Overlay.VNI != 4096 {
		t.Errorf("summary %+v, overlay %+v, pairs %+v", r.Summary, r.Overlay, r.Pairs)
	}
	if want := "the flannel.1 devices use UDP 4789 VNI 4096, not flanneld's defaults (UDP 8472, VNI 1): its configuration says so; the checks use theirs"; !slices.Contains(r.Notes, want) {
		t.Errorf("notes %q, want %q", r.Notes, want)
	}
	// one node disagrees: the model's defaults stay, and both differences are named
	b.Device.Port = 8472
	r = Build(p, map[string]*probe.OverlayResult{"a": a, "b": b}, nil)
	if r.Summary.Failed != 1 || r.Overlay.Port != 8472 {
		t.Errorf("disagreeing devices: summary %+v, overlay %+v", r.Summary, r.Overlay)
	}
	// a public transport address (NAT): the device's local is its interface's
	a, b = pairResults()
	a.Links[0].Addrs[0].CIDR = "10.0.0.5/24"
	a.Device.Local = "10.0.0.5"
	r = Build(p, map[string]*probe.OverlayResult{"a": a, "b": b}, nil)
	if r.Nodes[0].DeviceCheck == nil || r.Nodes[0].DeviceCheck.State != OK {
		t.Errorf("device behind NAT: %+v", r.Nodes[0].DeviceCheck)
	}
}

// TestDeviceCheck: the device is judged against the model and the node's transport address.
func TestDeviceCheck(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(d *probe.OverlayResult)
		want    Check
	}{
		{"ok", func(d *probe.OverlayResult) {}, Check{Check: KindDevice, From: "a", State: OK, Seen: "vxlan id 1 local 198.18.7.11 dev eth0 dstport 8472 mac 4a:3f:9c:12:7e:01 mtu 1450 up"}},
		{"bound to the wrong interface", func(d *probe.OverlayResult) {
			d.Device.Underlay, d.Device.Local = "eth1", "10.0.0.11"
		}, Check{Check: KindDevice, From: "a", State: Failed, Seen: "vxlan id 1 local 10.0.0.11 dev eth1 dstport 8472 mac 4a:3f:9c:12:7e:01 mtu 1450 up",
			Cause: "it sends from 10.0.0.11, but the node's transport address, where the peers send, is 198.18.7.11 (annotation flannel.alpha.coreos.com/public-ip): set flanneld's --iface (or --iface-regex, --iface-can-reach); it is bound to eth1, but the transport address 198.18.7.11 is on eth0: set flanneld's --iface (or --iface-regex, --iface-can-reach)"}},
		{"missing", func(d *probe.OverlayResult) {
			d.Device = &probe.Device{Name: "flannel.1", Error: `Device "flannel.1" does not exist.`}
		}, Check{Check: KindDevice, From: "a", State: Failed, Seen: `missing: Device "flannel.1" does not exist.`,
			Cause: "node a has no flannel.1: flanneld has not set up its tunnel there: check flanneld on a"}},
		{"MAC not the published one", func(d *probe.OverlayResult) { d.Device.MAC = "4a:3f:9c:12:7e:77" },
			Check{Check: KindDevice, From: "a", State: Failed, Seen: "vxlan id 1 local 198.18.7.11 dev eth0 dstport 8472 mac 4a:3f:9c:12:7e:77 mtu 1450 up",
				Cause: "its MAC is 4a:3f:9c:12:7e:77, but flanneld publishes 4a:3f:9c:12:7e:01 for the peers: they program a VTEP that is gone; restart flanneld on a so that it publishes again"}},
		{"busybox ip: no details", func(d *probe.OverlayResult) {
			d.Device = &probe.Device{Name: "flannel.1", Present: true, Up: true, MTU: 1450, MAC: macA}
		}, Check{Check: KindDevice, From: "a", State: Unknown, Seen: "mac 4a:3f:9c:12:7e:01 mtu 1450 up",
			Cause: "the probe image's ip shows no tunnel details (VNI, port, local address, underlay): give --image one with iproute2 and iputils (docker.io/nicolaka/netshoot:v0.13)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := resolve(flannelNode("a", "198.18.7.11", "10.244.0.0/24", macA, "z1"), flannelNode("b", "198.18.7.12", "10.244.1.0/24", macB, "z2"))
			p, _ := NewPlan(nodes)
			a, b := pairResults()
			tt.breakIt(a)
			r := Build(p, map[string]*probe.OverlayResult{"a": a, "b": b}, nil)
			if diff := cmp.Diff(&tt.want, r.Nodes[0].DeviceCheck); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestNoTunnel: host-gw has no overlay; the underlay is still checked at the bridge's MTU, and a
// probe that did not run makes the pair unknown.
func TestNoTunnel(t *testing.T) {
	hostgw := func(name, ip, cidr string) cluster.Node {
		n := flannelNode(name, ip, cidr, "", "")
		n.Annotations["flannel.alpha.coreos.com/backend-type"] = "host-gw"
		delete(n.Annotations, "flannel.alpha.coreos.com/backend-data")
		return n
	}
	nodes := resolve(hostgw("a", "198.18.7.11", "10.244.0.0/24"), hostgw("b", "198.18.7.12", "10.244.1.0/24"))
	p, err := NewPlan(nodes)
	if err != nil {
		t.Fatal(err)
	}
	if p.Overlay.State != NoTunnel {
		t.Fatalf("overlay %+v", p.Overlay)
	}
	wantProbe := probe.OverlayProbe{Bridge: "cni0", Peers: []probe.OverlayPeer{{Transport: netip.MustParseAddr("198.18.7.12")}}}
	if diff := cmp.Diff(wantProbe, p.Probe("a"), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("probe (-want +got):\n%s", diff)
	}
	a := &probe.OverlayResult{Tools: probe.Tools{IPRoute2: true, Bridge: true, IPutils: true}, PodMTUDevice: "cni0", PodMTU: 1500, PathMTU: map[string]int{"198.18.7.12": 1400},
		Pings: map[string]probe.Ping{
			"ping underlay 198.18.7.12": {Path: "underlay", To: "198.18.7.12", Sent: 3, Received: 3, Outcome: probe.PingReplied},
			"df underlay 198.18.7.12":   {Path: "underlay", To: "198.18.7.12", Size: 1500, Sent: 2, Outcome: probe.PingNoReply},
		}}
	r := Build(p, map[string]*probe.OverlayResult{"a": a}, map[string]string{"b": "node b is NotReady"})
	var got []string
	for _, c := range r.Pairs[0].Checks {
		got = append(got, fmt.Sprintf("%s %s %s: %s", c.Check, c.Where(), c.State, c.Cause))
	}
	want := []string{
		"underlay-ping a -> b ok: ",
		"underlay-ping b -> a unknown: the probe on b did not run",
		"underlay-mtu a -> b failed: pod MTU 1500 exceeds the underlay's path MTU 1400 between a and b: lower the CNI's MTU to 1400 or raise the underlay's",
		"underlay-mtu b -> a unknown: the probe on b did not run",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if r.Summary != (Summary{Pairs: 1, Failed: 1, ProbesFailed: 1}) {
		t.Errorf("summary %+v", r.Summary)
	}
	if !strings.Contains(r.Overlay.Reason, "there is no overlay") {
		t.Errorf("overlay reason %q does not say there is no overlay", r.Overlay.Reason)
	}
}

// TestPlanRefuses: mixed models and models the check cannot probe are clear errors.
func TestPlanRefuses(t *testing.T) {
	calico := cluster.Node{Name: "c", Ready: "Ready", InternalIPs: []netip.Addr{netip.MustParseAddr("198.18.7.13")}, Annotations: map[string]string{"projectcalico.org/IPv4VXLANTunnelAddr": "192.168.9.0"}}
	unknown := cluster.Node{Name: "u", Ready: "Ready", InternalIPs: []netip.Addr{netip.MustParseAddr("198.18.7.14")}}
	unknown2 := unknown
	unknown2.Name = "v"
	for _, tc := range []struct {
		name  string
		nodes []cluster.Node
		want  string
	}{
		{"mixed", []cluster.Node{flannelNode("a", "198.18.7.11", "10.244.0.0/24", macA, ""), calico},
			"nodes a (flannel/vxlan) and c (calico/vxlan) run different network models or modes: the check compares nodes of one; choose them with --nodes"},
		{"unknown", []cluster.Node{unknown, unknown2},
			"network model not supported by check overlay: the network of node u is unknown and its datapath is unknown: the check cannot tell whether it tunnels ('kubectl podnet summary' shows what was detected)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPlan(resolve(tc.nodes...))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %s", err, tc.want)
			}
		})
	}
}

func TestSelectNodes(t *testing.T) {
	n := func(name, zone, ready string) cluster.Node {
		return cluster.Node{Name: name, Zone: zone, Ready: ready, OS: "linux"}
	}
	cordoned := n("b-cordoned", "z9", "Ready")
	cordoned.Unschedulable = true
	win := n("w", "z8", "Ready")
	win.OS = "windows"
	cluster7 := []cluster.Node{n("c", "z2", "Ready"), n("a", "z1", "Ready"), n("b", "z1", "Ready"), n("d", "z3", "NotReady"), n("e", "z3", "Ready"),
		n("f", "z4", "Ready"), n("g", "z5", "Ready"), n("h", "z6", "Ready"), cordoned, win}
	oneZone := []cluster.Node{n("n3", "", "Ready"), n("n1", "", "Ready"), n("n2", "", "Ready")}
	tests := []struct {
		name    string
		nodes   []cluster.Node
		named   []string
		want    []string
		wantErr string
	}{
		{"one per zone, first by name, at most 5", cluster7, nil, []string{"a", "c", "e", "f", "g"}, ""},
		{"one zone: filled up to a pair by name", oneZone, nil, []string{"n1", "n2"}, ""},
		{"named, deduplicated and sorted", cluster7, []string{"c", "a", "c"}, []string{"a", "c"}, ""},
		{"a named cordoned node is fine", cluster7, []string{"b-cordoned", "a"}, []string{"a", "b-cordoned"}, ""},
		{"named missing", cluster7, []string{"a", "zz"}, nil, `node "zz" not found: check the name (kubectl get nodes)`},
		{"named NotReady", cluster7, []string{"a", "d"}, nil, "node d is NotReady: its kubelet will not run the probe pod; name Ready nodes with --nodes, or fix the node first"},
		{"named Windows", cluster7, []string{"a", "w"}, nil, "node w runs Windows: the probe runs Linux tools; name Linux nodes with --nodes"},
		{"one named", cluster7, []string{"a"}, nil, "--nodes names 1 node: the check runs between pairs, name at least two"},
		{"no pair", []cluster.Node{n("a", "", "Ready"), n("b", "", "NotReady")}, nil, nil, "the check needs two Ready, schedulable Linux nodes and the cluster has 1: there is no pair of nodes to check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectNodes(tt.nodes, tt.named)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
