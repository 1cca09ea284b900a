package probe

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scriptOutput assembles what the probe script prints from golden command outputs captured from
// one network namespace (testdata/golden, made with iproute2 6.1 and busybox 1.35 `ip`).
func scriptOutput(t testing.TB, kind, format string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s\n", markFormat, format)
	for _, c := range Commands {
		name := strings.ReplaceAll(strings.Replace(strings.Replace(c, "-6", "v6", 1), "-4", "v4", 1), " ", "_")
		ext := ".txt"
		if kind == "iproute2-json" {
			ext = ".json"
		}
		data, err := os.ReadFile(filepath.Join("testdata", "golden", kind+"-"+name+ext))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s%s\n%s%s0\n", markSection, c, data, markExit)
	}
	b.WriteString(markEnd + "\n")
	return b.String()
}

// essentials keeps what must agree between the three formats.
type linkEssentials struct {
	Index  int
	Name   string
	Peer   string
	Master string
	State  string
	MTU    int
	MAC    string
	Addrs  []string
}

func essentials(ls []Link) []linkEssentials {
	var out []linkEssentials
	for _, l := range ls {
		e := linkEssentials{Index: l.Index, Name: l.Name, Peer: l.Peer, Master: l.Master, State: l.State, MTU: l.MTU, MAC: l.MAC}
		for _, a := range l.Addrs {
			e.Addrs = append(e.Addrs, a.CIDR+" "+a.Scope)
		}
		out = append(out, e)
	}
	return out
}

func TestParseGoldenAgree(t *testing.T) {
	snaps := map[string]*Snapshot{}
	for _, k := range []struct{ kind, format string }{{"iproute2-json", "json"}, {"iproute2-text", "text"}, {"busybox", "text"}} {
		s, err := Parse(scriptOutput(t, k.kind, k.format))
		if err != nil {
			t.Fatalf("%s: %v", k.kind, err)
		}
		if len(s.Errors) > 0 {
			t.Errorf("%s: errors %v", k.kind, s.Errors)
		}
		snaps[k.kind] = s
	}
	want := []linkEssentials{
		{Index: 1, Name: "lo", State: "UNKNOWN", MTU: 65536, MAC: "00:00:00:00:00:00", Addrs: []string{"127.0.0.1/8 host", "::1/128 host"}},
		{Index: 2, Name: "veth-b", Peer: "veth-a", Master: "br0", State: "UP", MTU: 1500, MAC: "0a:20:90:f0:1e:1b", Addrs: []string{"fe80::820:90ff:fef0:1e1b/64 link"}},
		{Index: 3, Name: "veth-a", Peer: "veth-b", State: "UP", MTU: 1500, MAC: "86:50:1e:82:fa:87", Addrs: []string{"10.244.1.5/24 global", "fd00:10:244:1::5/64 global", "fe80::8450:1eff:fe82:fa87/64 link"}},
		{Index: 4, Name: "br0", State: "UP", MTU: 1500, Addrs: []string{"10.244.1.1/24 global", "fe80::"}},
	}
	json := essentials(snaps["iproute2-json"].Links)
	// the bridge's MAC and link-local address are random: take them from the JSON
	want[3].MAC = json[3].MAC
	want[3].Addrs[1] = json[3].Addrs[1]
	for kind, s := range snaps {
		got := essentials(s.Links)
		if kind == "busybox" {
			// busybox derives the state from the flags: lo is UP,LOWER_UP there
			got[0].State = "UNKNOWN"
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s links (-want +got):\n%s", kind, diff)
		}
	}
	type routeKey struct{ Table, Type, Dst, Gateway, Dev, Src string }
	keys := func(rs []Route) []routeKey {
		var out []routeKey
		for _, r := range rs {
			if r.Family == "inet" {
				out = append(out, routeKey{r.Table, r.Type, r.Dst, r.Gateway, r.Dev, r.Src})
			}
		}
		// the kernel's dump order differs between the tools: compare as sets
		sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
		return out
	}
	wantRoutes := []routeKey{
		{"100", "unicast", "10.9.0.0/16", "", "veth-a", ""},
		{"main", "unicast", "default", "10.244.1.1", "veth-a", ""},
		{"main", "unicast", "10.244.1.0/24", "", "veth-a", "10.244.1.5"},
		{"main", "unicast", "10.244.1.0/24", "", "br0", "10.244.1.1"},
		{"main", "blackhole", "10.244.9.0/26", "", "", ""},
		{"local", "local", "10.244.1.1/32", "", "br0", "10.244.1.1"},
		{"local", "broadcast", "10.244.1.255/32", "", "br0", "10.244.1.1"},
		{"local", "local", "10.244.1.5/32", "", "veth-a", "10.244.1.5"},
		{"local", "broadcast", "10.244.1.255/32", "", "veth-a", "10.244.1.5"},
		{"local", "local", "127.0.0.0/8", "", "lo", "127.0.0.1"},
		{"local", "local", "127.0.0.1/32", "", "lo", "127.0.0.1"},
		{"local", "broadcast", "127.255.255.255/32", "", "lo", "127.0.0.1"},
	}
	sort.Slice(wantRoutes, func(i, j int) bool { return fmt.Sprint(wantRoutes[i]) < fmt.Sprint(wantRoutes[j]) })
	for kind, s := range snaps {
		if diff := cmp.Diff(wantRoutes, keys(s.Routes)); diff != "" {
			t.Errorf("%s IPv4 routes (-want +got):\n%s", kind, diff)
		}
		wantRules := []Rule{{"inet", 0, "from all", "lookup local"}, {"inet", 100, "from 10.244.1.5", "lookup 100"}, {"inet", 32766, "from all", "lookup main"}, {"inet", 32767, "from all", "lookup default"}}
		var got []Rule
		for _, r := range s.Rules {
			if r.Family == "inet" {
				got = append(got, r)
			}
		}
		if diff := cmp.Diff(wantRules, got); diff != "" {
			t.Errorf("%s rules (-want +got):\n%s", kind, diff)
		}
		wantNeigh := []Neighbour{{Dst: "10.244.1.1", Dev: "veth-a", LLAddr: "0a:58:0a:f4:01:01", State: []string{"PERMANENT"}}}
		if diff := cmp.Diff(wantNeigh, s.Neighbours); diff != "" {
			t.Errorf("%s neighbours (-want +got):\n%s", kind, diff)
		}
	}
}

func TestParseBusyboxPodVeth(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/busybox-pod-addr.txt")
	if err != nil {
		t.Fatal(err)
	}
	links := ParseAddrText(string(data))
	if len(links) != 2 || links[1].Name != "eth0" || links[1].PeerIndex != 7 || links[1].Addrs[0].CIDR != "10.244.0.2/24" {
		t.Errorf("pod eth0 = %+v", links)
	}
}

func TestBusyboxCrossNamespacePeer(t *testing.T) {
	// busybox resolves the peer's ifindex (2, in the pod) to a local name (ifb0)
	links := ParseAddrText("2: ifb0: <BROADCAST,NOARP> mtu 1500 qdisc noop qlen 32\n10: veth25ef1114@ifb0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cbr0\n")
	if l := links[1]; l.Peer != "" || l.PeerIndex != 2 || l.Master != "cbr0" {
		t.Errorf("veth = %+v, want peer index 2 and no peer name", l)
	}
}

func TestBusyboxAddrFlags(t *testing.T) {
	links := ParseAddrText("3: a: <UP> mtu 1500\n    inet6 fd00::5/64 scope global flags 02 \n    inet6 fd00::6/64 scope global flags 42\n")
	got := [][]string{links[0].Addrs[0].Flags, links[0].Addrs[1].Flags}
	if diff := cmp.Diff([][]string{{"nodad"}, {"nodad", "tentative"}}, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}

func TestParseFailures(t *testing.T) {
	if _, err := Parse("@@podnet format text\n@@podnet section addr\n1: lo: <UP>"); err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("cut-short output: %v", err)
	}
	s, err := Parse("@@podnet format json\n@@podnet section addr\nnot json\n@@podnet exit 0\n@@podnet section -6 rule\nip: can't find device\n@@podnet exit 1\n@@podnet end\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ip addr: not iproute2 JSON: invalid character 'o' in literal null (expecting 'u')", "ip -6 rule: exit 1: ip: can't find device"}
	if diff := cmp.Diff(want, s.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(scriptOutput(f, "busybox", "text"))
	f.Add(scriptOutput(f, "iproute2-json", "json"))
	f.Add(scriptOutput(f, "iproute2-text", "text"))
	f.Add("@@podnet format text\n@@podnet section addr\n1: : <>\n    inet\n@@podnet exit 0\n@@podnet end")
	f.Fuzz(func(t *testing.T, out string) {
		_, _ = Parse(out) // must never panic
		_ = ParseAddrText(out)
		_ = ParseRouteText(out, "inet")
		_ = ParseRuleText(out, "inet")
		_ = ParseNeighText(out)
	})
}

func TestDNSScriptAndSections(t *testing.T) {
	script := DNSScript("kubernetes.default")
	if !strings.Contains(script, "nslookup 'kubernetes.default'") || !strings.Contains(script, "cat /etc/resolv.conf") {
		t.Errorf("script:\n%s", script)
	}
	out := "@@podnet section resolv.conf\nnameserver 10.96.0.10\nsearch a b\n@@podnet exit 0\n@@podnet section lookup kubernetes.default\n;; connection timed out\n@@podnet exit 1\n@@podnet end\n"
	secs, err := Sections(out)
	want := []Section{{Name: "resolv.conf", Output: "nameserver 10.96.0.10\nsearch a b\n", Exit: "0"}, {Name: "lookup kubernetes.default", Output: ";; connection timed out\n", Exit: "1"}}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, secs); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}
	for name, ok := range map[string]bool{"kubernetes.default.svc.cluster.local": true, "x;rm -rf": false, "": false, "a b": false, "$(id)": false} {
		if ValidName(name) != ok {
			t.Errorf("ValidName(%q) = %v, want %v", name, !ok, ok)
		}
	}
}
