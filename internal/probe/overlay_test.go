package probe

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateScripts = flag.Bool("update", false, "rewrite the overlay scripts in testdata/golden")

// TestOverlayScript: the script reads the tunnel device, its FDB and neighbours, and pings each
// peer through the tunnel and on the underlay; without a tunnel it pings the underlay only, at the
// bridge's MTU.
func TestOverlayScript(t *testing.T) {
	peer := OverlayPeer{Tunnel: netip.MustParseAddr("10.244.1.0"), Transport: netip.MustParseAddr("198.18.7.12")}
	for _, tc := range []struct {
		file string
		p    OverlayProbe
	}{
		{"overlay-vxlan.sh", OverlayProbe{Device: "flannel.1", Forwarding: true, Overhead: 50, Peers: []OverlayPeer{peer}}},
		{"overlay-routed.sh", OverlayProbe{Bridge: "cni0", Peers: []OverlayPeer{{Transport: peer.Transport}}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := OverlayScript(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tc.file)
			if *updateScripts {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("script (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := OverlayScript(OverlayProbe{Device: "flannel.1; rm -rf /"}); err == nil {
		t.Error("a device name with shell in it was accepted")
	}
	if _, err := OverlayScript(OverlayProbe{Device: "flannel.1", Peers: []OverlayPeer{{Transport: peer.Transport}}}); err == nil {
		t.Error("a tunnel peer without a tunnel address was accepted")
	}
}

func TestParseFDB(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []FDBEntry
	}{
		{"iproute2 JSON, state among the flags", `[{"mac":"4a:3f:9c:12:7e:02","dst":"198.18.7.12","flags":["self","permanent"]},{"mac":"9e:11:20:aa:00:03","dst":"198.18.7.13","flags":["self"],"state":"permanent"}]`,
			[]FDBEntry{{MAC: "4a:3f:9c:12:7e:02", Dst: "198.18.7.12", Flags: []string{"self"}, State: "permanent"}, {MAC: "9e:11:20:aa:00:03", Dst: "198.18.7.13", Flags: []string{"self"}, State: "permanent"}}},
		{"JSON, empty", "[]\n", []FDBEntry{}},
		{"text", "4a:3f:9c:12:7e:02 dst 198.18.7.12 self permanent\n9e:11:20:aa:00:03 dev flannel.1 dst 198.18.7.13 vni 1 self permanent\n",
			[]FDBEntry{{MAC: "4a:3f:9c:12:7e:02", Dst: "198.18.7.12", Flags: []string{"self"}, State: "permanent"}, {MAC: "9e:11:20:aa:00:03", Dev: "flannel.1", Dst: "198.18.7.13", VNI: 1, Flags: []string{"self"}, State: "permanent"}}},
		{"text, a bridge port's local entry", "33:33:00:00:00:01 master cni0 permanent\n", []FDBEntry{{MAC: "33:33:00:00:00:01", State: "permanent"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFDB(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := ParseFDB(`[{"mac":`); err == nil {
		t.Error("broken JSON was accepted")
	}
}

func TestParseNeigh(t *testing.T) {
	want := []Neighbour{{Dst: "10.244.1.0", LLAddr: "4a:3f:9c:12:7e:02", State: []string{"PERMANENT"}}}
	for _, out := range []string{`[{"dst":"10.244.1.0","lladdr":"4a:3f:9c:12:7e:02","state":["PERMANENT"]}]`, "10.244.1.0 lladdr 4a:3f:9c:12:7e:02 PERMANENT\n"} {
		got, err := ParseNeigh(out)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", out, diff)
		}
	}
}

func TestParseDeviceTunnels(t *testing.T) {
	eth0 := []Link{{Index: 2, Name: "eth0"}}
	vx := Device{Name: "flannel.1", Present: true, Up: true, State: "UNKNOWN", MTU: 1450, MAC: "4a:3f:9c:12:7e:01", Kind: "vxlan", VNI: 1, Port: 8472, Local: "198.18.7.11", Underlay: "eth0", Detailed: true}
	for _, tc := range []struct {
		name, out, exit string
		want            Device
	}{
		{"iproute2 JSON", `[{"ifindex":5,"ifname":"flannel.1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","link_type":"ether","address":"4a:3f:9c:12:7e:01","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"198.18.7.11","link":"eth0","port_range":{"low":0,"high":0},"port":8472,"ttl":0,"ageing":300,"learning":false,"udp_csum":true}},"num_tx_queues":1,"num_rx_queues":1}]`, "0", vx},
		{"JSON with the underlay as an ifindex", `[{"ifname":"flannel.1","flags":["UP"],"mtu":1450,"operstate":"UNKNOWN","address":"4a:3f:9c:12:7e:01","linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"198.18.7.11","link":2,"port":8472}}}]`, "0", vx},
		{"iproute2 text", `5: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default
    link/ether 4a:3f:9c:12:7e:01 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535
    vxlan id 1 local 198.18.7.11 dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1
`, "0", vx},
		{"calico's tunl0, local any", `8: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/ipip 0.0.0.0 brd 0.0.0.0 promiscuity 0 minmtu 0 maxmtu 0
    ipip any remote any local any ttl inherit nopmtudisc addrgenmode eui64
`, "0", Device{Name: "tunl0", Present: true, Up: true, State: "UNKNOWN", MTU: 1480, Kind: "ipip", Detailed: true}},
		{"busybox: no details", "5: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue\n    link/ether 4a:3f:9c:12:7e:01 brd ff:ff:ff:ff:ff:ff\n", "0",
			Device{Name: "flannel.1", Present: true, Up: true, State: "UP", MTU: 1450, MAC: "4a:3f:9c:12:7e:01"}},
		{"missing", "Device \"flannel.1\" does not exist.\n", "1", Device{Name: "flannel.1", Error: `Device "flannel.1" does not exist.`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseDevice(tc.want.Name, tc.out, tc.exit, eth0...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePing(t *testing.T) {
	for _, tc := range []struct {
		name, out, exit string
		size            int
		want            Ping
	}{
		{"iputils replies", "PING 10.244.1.0 (10.244.1.0) 56(84) bytes of data.\n64 bytes from 10.244.1.0: icmp_seq=1 ttl=64 time=0.512 ms\n\n--- 10.244.1.0 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 405ms\nrtt min/avg/max/mdev = 0.401/0.470/0.512/0.049 ms\n", "0", 0,
			Ping{Path: "tunnel", To: "10.244.1.0", Sent: 3, Received: 3, Outcome: PingReplied, Output: "3 packets transmitted, 3 received, 0% packet loss, time 405ms"}},
		{"iputils no reply", "PING 10.244.1.0 (10.244.1.0) 56(84) bytes of data.\n\n--- 10.244.1.0 ping statistics ---\n3 packets transmitted, 0 received, 100% packet loss, time 410ms\n\n", "1", 0,
			Ping{Path: "tunnel", To: "10.244.1.0", Sent: 3, Outcome: PingNoReply, Output: "3 packets transmitted, 0 received, 100% packet loss, time 410ms"}},
		{"busybox one lost", "PING 10.244.1.0 (10.244.1.0): 56 data bytes\n64 bytes from 10.244.1.0: seq=1 ttl=64 time=0.3 ms\n\n--- 10.244.1.0 ping statistics ---\n3 packets transmitted, 2 packets received, 33% packet loss\n", "0", 0,
			Ping{Path: "tunnel", To: "10.244.1.0", Sent: 3, Received: 2, Outcome: PingReplied, Output: "3 packets transmitted, 2 packets received, 33% packet loss"}},
		{"iputils DF too big for the device", "PING 198.18.7.12 (198.18.7.12) 1472(1500) bytes of data.\nping: local error: message too long, mtu=1400\nping: local error: message too long, mtu=1400\n\n--- 198.18.7.12 ping statistics ---\n2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1002ms\n", "1", 1500,
			Ping{Path: "tunnel", To: "10.244.1.0", Size: 1500, Sent: 2, Outcome: PingTooBig, MTU: 1400, Output: "ping: local error: message too long, mtu=1400"}},
		{"busybox has no -M", "ping: unrecognized option: M\nBusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: ping [OPTIONS] HOST\n", "1", 1450,
			Ping{Path: "tunnel", To: "10.244.1.0", Size: 1450, Outcome: PingUnsupported, Output: "ping: unrecognized option: M"}},
		{"no NET_RAW", "ping: socket: Operation not permitted\n", "2", 0,
			Ping{Path: "tunnel", To: "10.244.1.0", Outcome: PingNotPermitted, Output: "ping: socket: Operation not permitted"}},
		{"IPv6 DF too big", "PING fd00::12(fd00::12) 1452 data bytes\nping: local error: message too long, mtu: 1400\n\n--- fd00::12 ping statistics ---\n2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1002ms\n", "1", 1500,
			Ping{Path: "tunnel", To: "10.244.1.0", Size: 1500, Sent: 2, Outcome: PingTooBig, MTU: 1400, Output: "ping: local error: message too long, mtu: 1400"}},
		{"a router says frag needed", "PING 198.18.7.12 (198.18.7.12) 1472(1500) bytes of data.\nFrom 198.18.7.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)\n\n--- 198.18.7.12 ping statistics ---\n2 packets transmitted, 0 received, +1 errors, 100% packet loss, time 1002ms\n", "1", 1500,
			Ping{Path: "tunnel", To: "10.244.1.0", Size: 1500, Sent: 2, Outcome: PingTooBig, MTU: 1400, Output: "2 packets transmitted, 0 received, +1 errors, 100% packet loss, time 1002ms"}},
		{"a filter on the node's output", "PING 10.244.1.0 (10.244.1.0) 56(84) bytes of data.\nping: sendmsg: Operation not permitted\n\n--- 10.244.1.0 ping statistics ---\n3 packets transmitted, 0 received, 100% packet loss, time 405ms\n", "1", 0,
			Ping{Path: "tunnel", To: "10.244.1.0", Sent: 3, Outcome: PingError, Output: "ping: sendmsg: Operation not permitted"}},
		{"no route", "ping: connect: Network is unreachable\n", "2", 0,
			Ping{Path: "tunnel", To: "10.244.1.0", Outcome: PingError, Output: "ping: connect: Network is unreachable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParsePing("tunnel", "10.244.1.0", tc.size, tc.out, tc.exit)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseOverlay reads a whole probe's output: tools, device, FDB, neighbours, pod MTU, pings
// and the path MTU the search found.
func TestParseOverlay(t *testing.T) {
	out := `@@podnet format json
@@podnet section tools
ip: ip utility, iproute2-6.1.0, libbpf 1.1.2
bridge: bridge utility, 6.1.0
ping: ping from iputils 20221126
@@podnet exit 0
@@podnet section addr
[{"ifindex":2,"ifname":"eth0","flags":["UP"],"mtu":1500,"operstate":"UP","address":"52:54:00:12:34:56","addr_info":[{"family":"inet","local":"198.18.7.11","prefixlen":24}]}]
@@podnet exit 0
@@podnet section link flannel.1
[{"ifname":"flannel.1","flags":["UP"],"mtu":1450,"operstate":"UNKNOWN","address":"4a:3f:9c:12:7e:01","linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"198.18.7.11","link":"eth0","port":8472}}}]
@@podnet exit 0
@@podnet section fdb flannel.1
[{"mac":"4a:3f:9c:12:7e:02","dst":"198.18.7.12","flags":["self","permanent"]}]
@@podnet exit 0
@@podnet section neigh show dev flannel.1
[{"dst":"10.244.1.0","lladdr":"4a:3f:9c:12:7e:02","state":["PERMANENT"]}]
@@podnet exit 0
@@podnet section pod-mtu
flannel.1 1450
@@podnet exit 0
@@podnet section ping tunnel 10.244.1.0
3 packets transmitted, 3 received, 0% packet loss, time 405ms
@@podnet exit 0
@@podnet section ping underlay 198.18.7.12
3 packets transmitted, 3 received, 0% packet loss, time 405ms
@@podnet exit 0
@@podnet section df tunnel 10.244.1.0 1450
2 packets transmitted, 0 received, 100% packet loss, time 1002ms
@@podnet exit 1
@@podnet section df underlay 198.18.7.12 1500
2 packets transmitted, 0 received, 100% packet loss, time 1002ms
@@podnet exit 1
@@podnet section pmtu underlay 198.18.7.12
pmtu 1400
@@podnet exit 0
@@podnet end
`
	r, err := ParseOverlay(out)
	if err != nil {
		t.Fatal(err)
	}
	tun, under := netip.MustParseAddr("10.244.1.0"), netip.MustParseAddr("198.18.7.12")
	if r.Format != "json" || r.Tools != (Tools{IPRoute2: true, Bridge: true, IPutils: true}) || r.PodMTUDevice != "flannel.1" || r.PodMTU != 1450 {
		t.Errorf("format %q tools %+v pod MTU %s %d", r.Format, r.Tools, r.PodMTUDevice, r.PodMTU)
	}
	if r.Device == nil || r.Device.Underlay != "eth0" || r.Device.VNI != 1 || len(r.FDB) != 1 || len(r.Neighbours) != 1 || len(r.Links) != 1 {
		t.Errorf("device %+v fdb %v neighbours %v links %v", r.Device, r.FDB, r.Neighbours, r.Links)
	}
	if p, ok := r.Ping(false, PathTunnel, tun); !ok || p.Outcome != PingReplied {
		t.Errorf("tunnel ping %+v %v", p, ok)
	}
	if p, ok := r.Ping(true, PathUnderlay, under); !ok || p.Outcome != PingNoReply || p.Size != 1500 {
		t.Errorf("underlay DF ping %+v %v", p, ok)
	}
	if r.PathMTU["198.18.7.12"] != 1400 {
		t.Errorf("path MTU %v", r.PathMTU)
	}
	if _, err := ParseOverlay("@@podnet format json\n"); err == nil {
		t.Error("a cut-short output was accepted")
	}
}

func TestNetRawProfile(t *testing.T) {
	pod := NodePod("n1", "ns", Options{Image: "img", Profile: ProfileNetRaw, TimeoutSeconds: 30})
	sc := pod.Spec.Containers[0].SecurityContext
	if pod.Spec.SecurityContext.RunAsNonRoot != nil || *sc.RunAsUser != 0 || *sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation ||
		len(sc.Capabilities.Add) != 1 || sc.Capabilities.Add[0] != "NET_RAW" || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("netraw pod security: pod %+v container %+v", pod.Spec.SecurityContext, sc)
	}
}
