package probe

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRouteGet(t *testing.T) {
	tests := []struct {
		name, out, exit string
		want            RouteAnswer
	}{
		{"iproute2 via", "10.244.1.5 via 10.244.0.1 dev eth0 src 10.244.0.7 uid 0 \n    cache \n", "0", RouteAnswer{Dst: "10.244.1.5", Via: "10.244.0.1", Dev: "eth0", Src: "10.244.0.7"}},
		{"busybox via", "10.244.1.5 via 10.244.1.0 dev flannel.1  src 10.244.0.0 \n", "0", RouteAnswer{Dst: "10.244.1.5", Via: "10.244.1.0", Dev: "flannel.1", Src: "10.244.0.0"}},
		{"on-link", "10.244.0.9 dev cni0 src 10.244.0.1 uid 0 \n    cache \n", "0", RouteAnswer{Dst: "10.244.0.9", Dev: "cni0", Src: "10.244.0.1"}},
		{"local", "local 192.168.56.11 dev lo src 192.168.56.11 uid 0 \n    cache <local> \n", "0", RouteAnswer{Dst: "192.168.56.11", Type: "local", Dev: "lo", Src: "192.168.56.11"}},
		{"ipv6", "fd00:10:244:1::5 from :: via fe80::1 dev eth0 proto kernel src fd00:10:244::7 metric 1024 pref medium\n", "0", RouteAnswer{Dst: "fd00:10:244:1::5", Via: "fe80::1", Dev: "eth0", Src: "fd00:10:244::7"}},
		{"ipv4 via ipv6", "10.0.0.5 via inet6 fe80::1 dev eth0 src 10.0.0.7 uid 0\n", "0", RouteAnswer{Dst: "10.0.0.5", Via: "fe80::1", Dev: "eth0", Src: "10.0.0.7"}},
		{"unreachable", "RTNETLINK answers: Network is unreachable\n", "2", RouteAnswer{Error: "Network is unreachable"}},
		{"busybox unreachable", "ip: RTNETLINK answers: Network is unreachable\n", "1", RouteAnswer{Error: "Network is unreachable"}},
		{"blackhole", "RTNETLINK answers: Invalid argument\n", "2", RouteAnswer{Error: "Invalid argument"}},
		{"killed", "", "137", RouteAnswer{Error: "ip route get exited 137"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ParseRouteGet(tt.out, tt.exit)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDevice(t *testing.T) {
	flannel := `4: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/ether fe:3e:c8:01:39:68 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 
    vxlan id 1 local 192.168.56.11 dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 
`
	cilium := `5: cilium_vxlan: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/ether 12:39:29:76:8e:d2 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 
    vxlan external id 0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum 
`
	busybox := "4: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue qlen 1000\n    link/ether fe:3e:c8:01:39:68 brd ff:ff:ff:ff:ff:ff\n"
	tests := []struct {
		name, out, exit string
		want            Device
	}{
		{"iproute2 vxlan", flannel, "0", Device{Name: "flannel.1", Present: true, State: "UNKNOWN", Up: true, MTU: 1450, MAC: "fe:3e:c8:01:39:68", Kind: "vxlan", VNI: 1, Port: 8472, Local: "192.168.56.11", Underlay: "eth0", Detailed: true}},
		{"collect-metadata vxlan", cilium, "0", Device{Name: "cilium_vxlan", Present: true, State: "UNKNOWN", Up: true, MTU: 1500, MAC: "12:39:29:76:8e:d2", Kind: "vxlan", Port: 8472, External: true, Detailed: true}},
		{"busybox", busybox, "0", Device{Name: "flannel.1", Present: true, State: "UP", Up: true, MTU: 1450, MAC: "fe:3e:c8:01:39:68"}},
		{"missing", "Device \"flannel.1\" does not exist.\n", "1", Device{Name: "flannel.1", Error: `Device "flannel.1" does not exist.`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ParseDevice("flannel.1", tt.out, tt.exit)); tt.want.Name == "flannel.1" && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.want.Name == "cilium_vxlan" {
				got := ParseDevice("cilium_vxlan", tt.out, tt.exit)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestParseConnect(t *testing.T) {
	tests := []struct{ out, exit, want string }{
		{"", "0", "connected"},
		{"", "143", "connected"},
		{"nc: can't connect to remote host (10.244.1.5): Connection refused\n", "1", "refused"},
		{"nc: timed out\n", "1", "timeout"},
		{"nc: connect to 10.244.1.5 port 80 (tcp) timed out: Operation now in progress\n", "1", "timeout"},
		{"nc: can't connect to remote host (10.244.1.5): No route to host\n", "1", "unreachable"},
		{"sh: nc: not found\n", "127", "error"},
		{"timeout: failed to run command ‘nc’: No such file or directory\n", "127", "error"},
		{"nc: bad address 'x'\n", "1", "error"},
	}
	for _, tt := range tests {
		if got := ParseConnect("10.244.1.5:80", tt.out, tt.exit); got.Result != Connection(tt.want) {
			t.Errorf("%q exit %s: %s, want %s", tt.out, tt.exit, got.Result, tt.want)
		}
	}
}

func TestPathScriptAndParse(t *testing.T) {
	s, err := PathScript(PathProbe{Lookups: []RouteQuery{{Dst: netip.MustParseAddr("10.244.1.5")}, {Dst: netip.MustParseAddr("10.244.1.5"), From: netip.MustParseAddr("10.244.0.7"), Iif: "cni0"}}, Devices: []string{"flannel.1"},
		Connect: &ConnectTo{IP: netip.MustParseAddr("10.244.1.5"), Port: 8080, TimeoutSeconds: 3}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ip route get 10.244.1.5 2>&1", "ip route get 10.244.1.5 from 10.244.0.7 iif cni0 2>&1", "ip -d link show dev 'flannel.1'", "nc -z -w 3 10.244.1.5 8080", "timeout 5 nc -w 3 10.244.1.5 8080 </dev/null"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if _, err := PathScript(PathProbe{Devices: []string{"x; rm -rf /"}}); err == nil {
		t.Error("a device name with shell characters was accepted")
	}
	out := "@@podnet format text\n@@podnet section addr\n2: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue \n    link/ether 0a:58:0a:f4:00:07 brd ff:ff:ff:ff:ff:ff\n    inet 10.244.0.7/24 brd 10.244.0.255 scope global eth0\n       valid_lft forever preferred_lft forever\n@@podnet exit 0\n" +
		"@@podnet section lookup 10.244.1.5\n10.244.1.5 via 10.244.0.1 dev eth0  src 10.244.0.7 \n@@podnet exit 0\n" +
		"@@podnet section connect 10.244.1.5 8080\nnc: can't connect to remote host (10.244.1.5): Connection refused\n@@podnet exit 1\n@@podnet end\n"
	r, err := ParsePath(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Routes["10.244.1.5"]; got.Via != "10.244.0.1" || got.Dev != "eth0" {
		t.Errorf("route %+v", got)
	}
	if r.Connect == nil || r.Connect.Result != "refused" || r.Connect.To != "10.244.1.5:8080" {
		t.Errorf("connect %+v", r.Connect)
	}
	if got := r.Snapshot.InterfacesWith("10.244.0.7"); !cmp.Equal(got, []string{"eth0"}) {
		t.Errorf("interfaces with 10.244.0.7: %v", got)
	}
}
