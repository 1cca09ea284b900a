package probe

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// OverlayProbe is what one node's overlay probe reads and sends: its tunnel device with the
// device's FDB and neighbour entries, then to each peer a small ping through the tunnel and on the
// underlay, and pings with don't-fragment at the pod MTU through the tunnel and at the pod MTU
// plus the encapsulation's overhead on the underlay.
type OverlayProbe struct {
	// Device is the node's tunnel device, "" when the model routes without one.
	Device string
	// Forwarding: the device is a VXLAN device whose FDB and neighbour entries the agent programs.
	Forwarding bool
	// Bridge is the device whose MTU is the pod MTU without a tunnel (the CNI's bridge), "" for
	// none: then the underlay device towards the first peer gives it.
	Bridge string
	// Overhead is the bytes the encapsulation adds to a packet, 0 without a tunnel.
	Overhead int
	Peers    []OverlayPeer
}

// OverlayPeer is another node the probe sends to.
type OverlayPeer struct {
	// Tunnel is the peer's tunnel device address, invalid without a tunnel.
	Tunnel netip.Addr
	// Transport is the peer's underlay address, the tunnel's outer destination.
	Transport netip.Addr
}

// Section names of the overlay probe.
const (
	sectionTools    = "tools"
	sectionLink     = "link "
	sectionFDB      = "fdb "
	sectionNeighDev = "neigh show dev "
	sectionPodMTU   = "pod-mtu"
	sectionPing     = "ping "
	sectionDF       = "df "
	sectionPMTU     = "pmtu "
	sectionRoute    = "route "
)

// Paths a ping takes.
const (
	PathTunnel   = "tunnel"
	PathUnderlay = "underlay"
)

// icmpHeaders are the bytes of the IP and ICMP headers that ping's -s leaves out.
func icmpHeaders(a netip.Addr) int {
	if a.Is4() {
		return 28
	}
	return 48
}

// minMTU is the smallest MTU of the family, where the path MTU search starts.
func minMTU(a netip.Addr) int {
	if a.Is4() {
		return 68
	}
	return 1280
}

// OverlayScript is the fixed script of an overlay probe. It reads which tools the image has
// (iproute2's ip and bridge, iputils' ping: busybox has neither -d, bridge nor ping -M), the
// addresses, the tunnel device with its FDB and neighbours, and the pod MTU; then pings each
// peer: three small pings through the tunnel and on the underlay (any reply passes), and, with
// iputils, two don't-fragment pings at the pod MTU through the tunnel and at pod MTU + overhead
// on the underlay. When that last one gets no reply it searches the largest size that passes
// (one ping per step, a binary search) for the path MTU. Every argument is an address, a number
// or a checked device name, so nothing reaches the shell unquoted.
func OverlayScript(p OverlayProbe) (string, error) {
	for _, d := range []string{p.Device, p.Bridge} {
		if d != "" && !ValidDevice(d) {
			return "", fmt.Errorf("bad device name %q", d)
		}
	}
	if p.Overhead < 0 || p.Overhead > 200 {
		return "", fmt.Errorf("bad encapsulation overhead %d", p.Overhead)
	}
	for _, peer := range p.Peers {
		if !peer.Transport.IsValid() {
			return "", fmt.Errorf("a peer has no transport address")
		}
		if p.Device != "" && !peer.Tunnel.IsValid() {
			return "", fmt.Errorf("peer %s has no tunnel address", peer.Transport)
		}
	}
	var b strings.Builder
	b.WriteString(overlayHelpers)
	b.WriteString("fmt=text; $IP -j link show lo >/dev/null 2>&1 && fmt=json\n")
	b.WriteString("echo '" + markFormat + "'$fmt\n")
	fmt.Fprintf(&b, "echo '%s%s'; echo \"ip: $(ver $IP)\"; echo \"bridge: $(ver $BRIDGE)\"; echo \"ping: $(ver $PING)\"; echo '%s'0\n", markSection, sectionTools, markExit)
	writeOverlayIP(&b, "addr")
	b.WriteString("iputils=no; case \"$($PING -V 2>&1)\" in *iputils*) iputils=yes;; esac\n")
	if d := p.Device; d != "" {
		// ip's warnings never reach the JSON; a missing device gets the text command's error
		fmt.Fprintf(&b, "echo '%s%s%s'; if [ $fmt = json ]; then $IP -j -d link show dev %s 2>/dev/null || $IP link show dev %s; else $IP -d link show dev %s 2>/dev/null || $IP link show dev %s; fi 2>&1; echo '%s'$?\n", markSection, sectionLink, d, d, d, d, d, markExit)
		if p.Forwarding {
			fmt.Fprintf(&b, "echo '%s%s%s'; if [ $fmt = json ]; then $BRIDGE -j fdb show dev %s; else $BRIDGE fdb show dev %s; fi 2>&1; echo '%s'$?\n", markSection, sectionFDB, d, d, d, markExit)
			writeOverlayIP(&b, sectionNeighDev+d)
		}
		fmt.Fprintf(&b, "pdev=%s; podmtu=$(mtu_of %s)\n", d, d)
	} else {
		if p.Bridge != "" {
			fmt.Fprintf(&b, "pdev=%s; podmtu=$(mtu_of %s)\n", p.Bridge, p.Bridge)
		} else {
			b.WriteString("pdev=; podmtu=\n")
		}
		if len(p.Peers) > 0 {
			fmt.Fprintf(&b, "if [ -z \"$podmtu\" ]; then pdev=$(dev_to %s); [ -n \"$pdev\" ] && podmtu=$(mtu_of \"$pdev\"); fi\n", p.Peers[0].Transport)
		}
	}
	fmt.Fprintf(&b, "echo '%s%s'; echo \"$pdev $podmtu\"; echo '%s'0\n", markSection, sectionPodMTU, markExit)
	for _, peer := range p.Peers {
		if p.Device != "" {
			// the device the route to the peer's tunnel address leaves by: not the tunnel device
			// when the agent routes the peer directly (flannel's DirectRouting within a subnet)
			fmt.Fprintf(&b, "echo '%s%s'; echo \"$(dev_to %s) $(via_to %s)\"; echo '%s'0\n", markSection, sectionRoute+peer.Tunnel.String(), peer.Tunnel, peer.Tunnel, markExit)
			writePing(&b, PathTunnel, peer.Tunnel)
		}
		writePing(&b, PathUnderlay, peer.Transport)
		b.WriteString("urc=$rc\n")
		b.WriteString("if [ $iputils = yes ] && [ -n \"$podmtu\" ]; then\n")
		if p.Device != "" {
			t := peer.Tunnel
			fmt.Fprintf(&b, "  echo '%s%s %s '$podmtu; $PING -M do -c 2 -i 0.2 -W 1 -s $((podmtu-%d)) %s 2>&1; echo '%s'$?\n", markSection, sectionDF+PathTunnel, t, icmpHeaders(t), t, markExit)
		}
		u := peer.Transport
		fmt.Fprintf(&b, "  size=$((podmtu+%d)); echo '%s%s %s '$size; $PING -M do -c 2 -i 0.2 -W 1 -s $((size-%d)) %s 2>&1; rc=$?; echo '%s'$rc\n", p.Overhead, markSection, sectionDF+PathUnderlay, u, icmpHeaders(u), u, markExit)
		fmt.Fprintf(&b, "  if [ $rc != 0 ] && [ $urc = 0 ]; then echo '%s%s %s'; lo=%d; hi=$((size-1)); best=0; while [ $lo -le $hi ]; do mid=$(((lo+hi)/2)); if $PING -M do -c 1 -W 1 -s $((mid-%d)) %s >/dev/null 2>&1; then best=$mid; lo=$((mid+1)); else hi=$((mid-1)); fi; done; echo \"pmtu $best\"; echo '%s'0; fi\n",
			markSection, sectionPMTU+PathUnderlay, u, minMTU(u), icmpHeaders(u), u, markExit)
		b.WriteString("fi\n")
	}
	b.WriteString("echo '" + markEnd + "'\n")
	return b.String(), nil
}

// overlayHelpers are the script's shell functions. They use the shell's builtins and ip alone:
// the image may have no sed, grep or head (a Debian image with busybox's sh only). The tools are
// called by their path, found as PATH would: a busybox sh that prefers its applets would otherwise
// run its own ip and ping, not the image's iproute2 and iputils. ver prints the
// first line of a tool's -V, mtu_of a device's MTU, dev_to the device the route to an address
// leaves by.
const overlayHelpers = `tool() { for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do if [ -x "$d/$1" ]; then echo "$d/$1"; return; fi; done; echo "$1"; }
IP=$(tool ip); BRIDGE=$(tool bridge); PING=$(tool ping)
ver() { v=$("$1" -V 2>&1); printf '%s\n' "$v" | { IFS= read -r l; printf '%s' "$l"; }; }
word_after() { w=$1; shift; while [ $# -gt 1 ]; do if [ "$1" = "$w" ]; then echo "$2"; return; fi; shift; done; }
mtu_of() { word_after mtu $($IP link show dev "$1" 2>/dev/null); }
dev_to() { word_after dev $($IP route get "$1" 2>/dev/null); }
via_to() { word_after via $($IP route get "$1" 2>/dev/null); }
`

// writePing writes three small pings to a between markers: any reply passes.
func writePing(b *strings.Builder, path string, a netip.Addr) {
	fmt.Fprintf(b, "echo '%s%s %s'; $PING -c 3 -i 0.2 -W 1 %s 2>&1; rc=$?; echo '%s'$rc\n", markSection, sectionPing+path, a, a, markExit)
}

// writeOverlayIP writes one `ip` command between markers, in JSON where ip speaks it, with the ip
// the script found (writeIPSection's runs whatever `ip` the shell finds first).
func writeOverlayIP(b *strings.Builder, c string) {
	fmt.Fprintf(b, "echo '%s%s'; if [ $fmt = json ]; then $IP -j %s; else $IP %s; fi 2>&1; echo '%s'$?\n", markSection, c, c, c, markExit)
}

// Tools are the probe image's tools the overlay checks need.
type Tools struct {
	// IPRoute2: ip is iproute2's (busybox's shows no tunnel details).
	IPRoute2 bool `json:"iproute2"`
	// Bridge: iproute2's bridge, which reads a VXLAN device's FDB.
	Bridge bool `json:"bridge"`
	// IPutils: ping is iputils' (busybox's has no -M do).
	IPutils bool `json:"iputils"`
}

// Missing names the tools the image lacks, "" when it has them all.
func (t Tools) Missing() string {
	var out []string
	if !t.IPRoute2 {
		out = append(out, "iproute2's ip")
	}
	if !t.Bridge {
		out = append(out, "iproute2's bridge")
	}
	if !t.IPutils {
		out = append(out, "iputils' ping")
	}
	return strings.Join(out, ", ")
}

// ParseTools reads the tools section: the first line of `ip -V`, `bridge -V` and `ping -V`.
func ParseTools(out string) Tools {
	var t Tools
	for _, line := range strings.Split(out, "\n") {
		tool, version, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch tool {
		case "ip":
			t.IPRoute2 = strings.Contains(version, "iproute2") || strings.HasPrefix(version, "ip utility")
		case "bridge":
			// Debian's says "bridge utility, 6.1.0", without iproute2's name
			t.Bridge = strings.Contains(version, "iproute2") || strings.HasPrefix(version, "bridge utility")
		case "ping":
			t.IPutils = strings.Contains(version, "iputils")
		}
	}
	return t
}

func (d *Device) parseJSON(out string, links []Link) error {
	var raw []struct {
		Ifname    string   `json:"ifname"`
		Flags     []string `json:"flags"`
		MTU       int      `json:"mtu"`
		Operstate string   `json:"operstate"`
		Address   string   `json:"address"`
		Linkinfo  *struct {
			InfoKind string `json:"info_kind"`
			InfoData struct {
				ID     int             `json:"id"`
				Local  string          `json:"local"`
				Local6 string          `json:"local6"`
				Link   json.RawMessage `json:"link"`
				Port   int             `json:"port"`
			} `json:"info_data"`
		} `json:"linkinfo"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		return fmt.Errorf("not iproute2 JSON: %w", err)
	}
	if len(raw) == 0 {
		return fmt.Errorf("ip printed no device")
	}
	r := raw[0]
	d.Present, d.Up, d.State, d.MTU, d.MAC = true, hasFlag(r.Flags, "UP"), r.Operstate, r.MTU, r.Address
	if li := r.Linkinfo; li != nil {
		d.Detailed, d.Kind = true, li.InfoKind
		d.VNI, d.Port, d.Local = li.InfoData.ID, li.InfoData.Port, tunnelAddr(li.InfoData.Local)
		if d.Local == "" {
			d.Local = tunnelAddr(li.InfoData.Local6) // iproute2 names an IPv6 local address local6
		}
		// iproute2 prints the underlay's name; an ifindex is resolved with the namespace's links
		var name string
		var index int
		switch {
		case json.Unmarshal(li.InfoData.Link, &name) == nil:
			d.Underlay = name
		case json.Unmarshal(li.InfoData.Link, &index) == nil:
			d.Underlay = "if" + strconv.Itoa(index)
			for _, l := range links {
				if l.Index == index {
					d.Underlay = l.Name
				}
			}
		}
	}
	return nil
}

// tunnelAddr is a tunnel's local address, "" for any.
func tunnelAddr(s string) string {
	if s == "any" {
		return ""
	}
	return s
}

// FDBEntry is a forwarding entry of a bridge or VXLAN device: for VXLAN, the inner MAC (a peer's
// VTEP) and the outer destination (the peer's transport address) packets to it are sent to.
type FDBEntry struct {
	MAC string `json:"mac"`
	// Dst is the remote VTEP's address, "" for a local entry.
	Dst string `json:"dst,omitempty"`
	// Dev is the device, when ip names it (not with `show dev`).
	Dev   string   `json:"dev,omitempty"`
	VNI   int      `json:"vni,omitempty"`
	Flags []string `json:"flags,omitempty"`
	// State is permanent, static, stale or "" (dynamic).
	State string `json:"state,omitempty"`
}

// fdbStates are the states `bridge fdb` prints among the flags.
var fdbStates = map[string]bool{"permanent": true, "static": true, "stale": true, "noarp": true}

// ParseFDB reads `bridge -j fdb show` (JSON) or `bridge fdb show` (text). Older bridges print the
// state among the flags; it is moved to State either way.
func ParseFDB(out string) ([]FDBEntry, error) {
	out = strings.TrimSpace(out)
	entries := []FDBEntry{}
	if strings.HasPrefix(out, "[") {
		var raw []struct {
			MAC    string   `json:"mac"`
			Dst    string   `json:"dst"`
			Ifname string   `json:"ifname"`
			VNI    int      `json:"vni"`
			Flags  []string `json:"flags"`
			State  string   `json:"state"`
		}
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			return nil, fmt.Errorf("not iproute2 JSON: %w", err)
		}
		for _, r := range raw {
			e := FDBEntry{MAC: r.MAC, Dst: r.Dst, Dev: r.Ifname, VNI: r.VNI, State: r.State}
			for _, f := range r.Flags {
				if fdbStates[f] && e.State == "" {
					e.State = f
					continue
				}
				e.Flags = append(e.Flags, f)
			}
			entries = append(entries, e)
		}
		return entries, nil
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		e := FDBEntry{MAC: f[0]}
		for i := 1; i < len(f); i++ {
			next := ""
			if i+1 < len(f) {
				next = f[i+1]
			}
			switch f[i] {
			case "dst":
				e.Dst, i = next, i+1
			case "dev":
				e.Dev, i = next, i+1
			case "vni":
				e.VNI, _ = strconv.Atoi(next)
				i++
			case "vlan", "port", "via", "src_vni", "nhid", "master":
				i++
			default:
				if fdbStates[f[i]] {
					e.State = f[i]
				} else {
					e.Flags = append(e.Flags, f[i])
				}
			}
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// ParseNeigh reads `ip -j neigh show` (JSON) or `ip neigh show` (text).
func ParseNeigh(out string) ([]Neighbour, error) {
	if strings.HasPrefix(strings.TrimSpace(out), "[") {
		return parseNeighJSON(out)
	}
	return ParseNeighText(out), nil
}

// PingOutcome is how a ping ended.
type PingOutcome string

// Ping outcomes.
const (
	// PingReplied: at least one reply came back.
	PingReplied PingOutcome = "replied"
	// PingNoReply: every ping was sent and none came back.
	PingNoReply PingOutcome = "no-reply"
	// PingTooBig: the node refused to send the packet without fragmenting it (its device's or its
	// path MTU cache's MTU is smaller), MTU says which.
	PingTooBig PingOutcome = "too-big"
	// PingUnsupported: the image's ping lacks an option (busybox's -M) or is missing.
	PingUnsupported PingOutcome = "unsupported"
	// PingNotPermitted: the probe may not open the raw socket (no NET_RAW).
	PingNotPermitted PingOutcome = "not-permitted"
	// PingError: ping failed otherwise (no route, say); Output says how.
	PingError PingOutcome = "error"
)

// Ping is one ping command's outcome.
type Ping struct {
	// Path is PathTunnel or PathUnderlay; To the address pinged.
	Path string `json:"path"`
	To   string `json:"to"`
	// Size is the packet size with don't-fragment, 0 for a small ping.
	Size     int         `json:"size,omitempty"`
	Sent     int         `json:"sent"`
	Received int         `json:"received"`
	Outcome  PingOutcome `json:"outcome"`
	// MTU is the MTU ping reported when the packet was too big.
	MTU int `json:"mtu,omitempty"`
	// Output is ping's last meaningful line, for the reader.
	Output string `json:"output,omitempty"`
}

var (
	pingSummaryRe = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (?:packets )?received`)
	pingMTURe     = regexp.MustCompile(`mtu\s*[=:]?\s*(\d+)`)
)

// ParsePing reads iputils' or busybox's ping output and exit code.
func ParsePing(path, to string, size int, out, exit string) Ping {
	p := Ping{Path: path, To: to, Size: size}
	low := strings.ToLower(out)
	if m := pingSummaryRe.FindStringSubmatch(out); m != nil {
		p.Sent, _ = strconv.Atoi(m[1])
		p.Received, _ = strconv.Atoi(m[2])
	}
	p.Output = pingLine(out)
	switch {
	case p.Received > 0:
		p.Outcome = PingReplied
	case strings.Contains(low, "message too long") || strings.Contains(low, "frag needed") || strings.Contains(low, "packet too big"):
		p.Outcome = PingTooBig
		if m := pingMTURe.FindStringSubmatch(low); m != nil {
			p.MTU, _ = strconv.Atoi(m[1])
		}
	case exit == "127" || strings.Contains(low, "not found") || strings.Contains(low, "invalid option") ||
		strings.Contains(low, "unrecognized option") || strings.Contains(low, "usage:"):
		p.Outcome = PingUnsupported
	case strings.Contains(low, "sendmsg: operation not permitted"):
		// a packet filter on the node's own output dropped it: the node cannot send there
		p.Outcome = PingError
	case strings.Contains(low, "operation not permitted") || strings.Contains(low, "permission denied"):
		p.Outcome = PingNotPermitted
	case p.Sent > 0:
		p.Outcome = PingNoReply
	default:
		p.Outcome = PingError
	}
	return p
}

// pingLine is the line that says most of how a ping ended: an error, else the summary.
func pingLine(out string) string {
	var summary, last string
	for _, line := range strings.Split(out, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == "":
		case pingSummaryRe.MatchString(l):
			summary = l
		case strings.HasPrefix(l, "ping:") || strings.Contains(l, "Unreachable") || strings.Contains(strings.ToLower(l), "message too long"):
			if last == "" {
				last = l
			}
		}
	}
	if last != "" {
		return last
	}
	return summary
}

// OverlayResult is what one node's overlay probe saw.
type OverlayResult struct {
	// Format is "json" (iproute2) or "text".
	Format string `json:"format"`
	Tools  Tools  `json:"tools"`
	// Links are the node's interfaces with their addresses.
	Links []Link `json:"-"`
	// Device is the tunnel device, nil without one.
	Device *Device `json:"device,omitempty"`
	// FDB and Neighbours are the tunnel device's entries; nil when not read, FDBError and
	// NeighError say why.
	FDB        []FDBEntry  `json:"fdb,omitempty"`
	FDBError   string      `json:"fdbError,omitempty"`
	Neighbours []Neighbour `json:"neighbours,omitempty"`
	NeighError string      `json:"neighError,omitempty"`
	// PodMTUDevice is the device whose MTU the probe took for the pod MTU, PodMTU that MTU
	// (0 when none was found).
	PodMTUDevice string `json:"podMTUDevice,omitempty"`
	PodMTU       int    `json:"podMTU,omitempty"`
	// Pings are every ping, by PingKey; PathMTU the path MTU the search found, by address.
	Pings   map[string]Ping `json:"pings"`
	PathMTU map[string]int  `json:"pathMTU,omitempty"`
	// Routes are the route to each peer's tunnel address (its device and gateway), by address.
	Routes map[string]TunnelRoute `json:"routes,omitempty"`
}

// TunnelRoute is the route a node takes to a peer's tunnel address.
type TunnelRoute struct {
	Dev string `json:"dev"`
	Via string `json:"via,omitempty"`
}

// PingKey is the key of a ping in OverlayResult.Pings: "ping tunnel 10.244.1.0" for a small
// ping, "df underlay 198.18.7.12" for the don't-fragment one.
func PingKey(df bool, path string, to netip.Addr) string {
	kind := strings.TrimSpace(sectionPing)
	if df {
		kind = strings.TrimSpace(sectionDF)
	}
	return kind + " " + path + " " + to.String()
}

// Ping is the ping of the key's kind, path and address, and whether the probe ran it.
func (r *OverlayResult) Ping(df bool, path string, to netip.Addr) (Ping, bool) {
	p, ok := r.Pings[PingKey(df, path, to)]
	return p, ok
}

// ParseOverlay reads an overlay probe's output.
func ParseOverlay(out string) (*OverlayResult, error) {
	secs, err := Sections(out)
	if err != nil {
		return nil, err
	}
	r := &OverlayResult{Pings: map[string]Ping{}, PathMTU: map[string]int{}, Routes: map[string]TunnelRoute{}}
	for _, line := range strings.Split(out, "\n") {
		if f, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), markFormat); ok {
			r.Format = strings.TrimSpace(f)
			break
		}
	}
	var link *Section
	for i := range secs {
		s := &secs[i]
		name := s.Name
		switch {
		case name == sectionTools:
			r.Tools = ParseTools(s.Output)
		case name == "addr" && s.Exit == "0":
			if strings.HasPrefix(strings.TrimSpace(s.Output), "[") {
				r.Links, _ = parseAddrJSON(s.Output)
			} else {
				r.Links = ParseAddrText(s.Output)
			}
		case strings.HasPrefix(name, sectionLink):
			link = s
		case strings.HasPrefix(name, sectionFDB):
			if s.Exit != "0" {
				r.FDBError = firstLine(s.Output, s.Exit)
			} else if r.FDB, err = ParseFDB(s.Output); err != nil {
				r.FDBError = err.Error()
			}
		case strings.HasPrefix(name, sectionNeighDev):
			if s.Exit != "0" {
				r.NeighError = firstLine(s.Output, s.Exit)
			} else if r.Neighbours, err = ParseNeigh(s.Output); err != nil {
				r.NeighError = err.Error()
			}
		case name == sectionPodMTU:
			f := strings.Fields(s.Output)
			if len(f) == 2 {
				r.PodMTUDevice = f[0]
				r.PodMTU, _ = strconv.Atoi(f[1])
			}
		case strings.HasPrefix(name, sectionPing):
			f := strings.Fields(strings.TrimPrefix(name, sectionPing))
			if len(f) == 2 {
				r.Pings[strings.TrimSpace(sectionPing)+" "+f[0]+" "+f[1]] = ParsePing(f[0], f[1], 0, s.Output, s.Exit)
			}
		case strings.HasPrefix(name, sectionDF):
			f := strings.Fields(strings.TrimPrefix(name, sectionDF))
			if len(f) == 3 {
				size, _ := strconv.Atoi(f[2])
				r.Pings[strings.TrimSpace(sectionDF)+" "+f[0]+" "+f[1]] = ParsePing(f[0], f[1], size, s.Output, s.Exit)
			}
		case strings.HasPrefix(name, sectionRoute):
			if f := strings.Fields(s.Output); len(f) > 0 {
				rt := TunnelRoute{Dev: f[0]}
				if len(f) > 1 {
					rt.Via = f[1]
				}
				r.Routes[strings.TrimPrefix(name, sectionRoute)] = rt
			}
		case strings.HasPrefix(name, sectionPMTU):
			f := strings.Fields(strings.TrimPrefix(name, sectionPMTU))
			if v, ok := strings.CutPrefix(strings.TrimSpace(s.Output), "pmtu "); ok && len(f) == 2 {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					r.PathMTU[f[1]] = n
				}
			}
		}
	}
	if link != nil {
		d := ParseDevice(strings.TrimPrefix(link.Name, sectionLink), link.Output, link.Exit, r.Links...)
		r.Device = &d
	}
	return r, nil
}

func firstLine(out, exit string) string {
	if l := strings.TrimSpace(strings.SplitN(strings.TrimSpace(out), "\n", 2)[0]); l != "" {
		return l
	}
	return "exit " + exit
}
