package probe

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// PathProbe is what one probe reads for trace --probe in one network namespace: the addresses,
// the kernel's routing decision for each destination, the details of some devices, and
// optionally a TCP connection.
type PathProbe struct {
	Lookups []RouteQuery
	Devices []string
	// Forwarding are tunnel devices whose forwarding entries are read: `bridge fdb show` and
	// `ip neigh show` on them (a VXLAN device's VTEPs).
	Forwarding []string
	Connect    *ConnectTo
}

// RouteQuery is one `ip route get`: to Dst, or, with From and Iif, as if a packet from From had
// come in on device Iif (a pod's packet the node forwards: policy routing and forwarding apply).
type RouteQuery struct {
	Dst  netip.Addr
	From netip.Addr
	Iif  string
}

// String is the query's arguments, and the key of its answer.
func (q RouteQuery) String() string {
	if q.From.IsValid() && q.Iif != "" {
		return fmt.Sprintf("%s from %s iif %s", q.Dst, q.From, q.Iif)
	}
	return q.Dst.String()
}

// ConnectTo is a TCP connection to make from the namespace.
type ConnectTo struct {
	IP   netip.Addr
	Port int
	// TimeoutSeconds bounds the connection attempt.
	TimeoutSeconds int
}

// Section names of the path probe.
const (
	sectionLookup  = "lookup "
	sectionDevice  = "device "
	sectionConnect = "connect "
	sectionNeigh   = "neigh "
)

// ValidDevice reports whether s is an interface name the script may be given: a name ValidName
// accepts, of at most 15 characters (IFNAMSIZ).
func ValidDevice(s string) bool {
	return len(s) <= 15 && ValidName(s)
}

// PathScript is the fixed script of a path probe: the format marker and `ip addr` (which Parse
// reads), then `ip route get` per destination, `ip -d link show` per device (busybox has no -d:
// then plain `ip link show`), and the TCP connection with nc (-z where the nc has it; otherwise
// with stdin closed, under timeout). Every argument is an address, a number or a checked device
// name, so nothing reaches the shell unquoted.
func PathScript(pp PathProbe) (string, error) {
	var b strings.Builder
	writeFormat(&b)
	writeIPSection(&b, "addr")
	for _, q := range pp.Lookups {
		if q.Iif != "" && !ValidDevice(q.Iif) {
			return "", fmt.Errorf("bad device name %q", q.Iif)
		}
		fmt.Fprintf(&b, "echo '%s%s%s'; ip route get %s 2>&1; echo '%s'$?\n", markSection, sectionLookup, q, q, markExit)
	}
	for _, d := range pp.Devices {
		if !ValidDevice(d) {
			return "", fmt.Errorf("bad device name %q", d)
		}
		fmt.Fprintf(&b, "echo '%s%s%s'; { ip -d link show dev '%s' 2>/dev/null || ip link show dev '%s'; } 2>&1; echo '%s'$?\n", markSection, sectionDevice, d, d, d, markExit)
	}
	for _, d := range pp.Forwarding {
		if !ValidDevice(d) {
			return "", fmt.Errorf("bad device name %q", d)
		}
		fmt.Fprintf(&b, "echo '%s%s%s'; bridge fdb show dev '%s' 2>&1; echo '%s'$?\n", markSection, sectionFDB, d, d, markExit)
		fmt.Fprintf(&b, "echo '%s%s%s'; ip neigh show dev '%s' 2>&1; echo '%s'$?\n", markSection, sectionNeigh, d, d, markExit)
	}
	if c := pp.Connect; c != nil {
		t := max(c.TimeoutSeconds, 1)
		fmt.Fprintf(&b, "echo '%s%s%s %d'; case \"$(nc -h 2>&1)\" in *' -z'*) nc -z -w %d %s %d 2>&1;; *) timeout %d nc -w %d %s %d </dev/null 2>&1;; esac; echo '%s'$?\n",
			markSection, sectionConnect, c.IP, c.Port, t, c.IP, c.Port, t+2, t, c.IP, c.Port, markExit)
	}
	b.WriteString("echo '" + markEnd + "'\n")
	return b.String(), nil
}

// RouteAnswer is the kernel's answer to `ip route get`.
type RouteAnswer struct {
	Dst string `json:"dst"`
	// Type is "" for unicast, else local, broadcast, unreachable, blackhole, prohibit...
	Type  string `json:"type,omitempty"`
	Via   string `json:"via,omitempty"`
	Dev   string `json:"dev,omitempty"`
	Src   string `json:"src,omitempty"`
	Error string `json:"error,omitempty"`
}

// String is the answer in ip's words.
func (r RouteAnswer) String() string {
	if r.Error != "" {
		return "error: " + r.Error
	}
	s := r.Dst
	if r.Type != "" {
		s = r.Type + " " + s
	}
	if r.Via != "" {
		s += " via " + r.Via
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	return s
}

// ParseRouteGet reads the output of `ip route get` (iproute2 or busybox; failures print
// "RTNETLINK answers: ..." and exit non-zero).
func ParseRouteGet(out string, exit string) RouteAnswer {
	line := strings.TrimSpace(strings.SplitN(strings.TrimSpace(out), "\n", 2)[0])
	if exit != "0" || strings.Contains(line, "RTNETLINK answers:") || line == "" {
		msg := line
		if _, after, ok := strings.Cut(line, "RTNETLINK answers:"); ok {
			msg = strings.TrimSpace(after)
		}
		if msg == "" {
			msg = "ip route get exited " + exit
		}
		return RouteAnswer{Error: msg}
	}
	// the answer is a route line: read it as one
	rs := ParseRouteText(line, "")
	if len(rs) == 0 {
		return RouteAnswer{Error: "unreadable answer: " + line}
	}
	rt := rs[0]
	r := RouteAnswer{Via: rt.Gateway, Dev: rt.Dev, Src: rt.Src}
	r.Dst, _, _ = strings.Cut(rt.Dst, "/") // an address; ParseRouteText gives it a full-length prefix
	if rt.Type != "unicast" {
		r.Type = rt.Type
	}
	return r
}

// Device is a network device as `ip -d link show` describes it (trace's tunnel devices, check
// overlay's).
type Device struct {
	Name    string `json:"name"`
	Present bool   `json:"present"`
	State   string `json:"state,omitempty"`
	// Up: the device is administratively up (a tunnel's state reads UNKNOWN when it is).
	Up  bool   `json:"up"`
	MTU int    `json:"mtu,omitempty"`
	MAC string `json:"mac,omitempty"`
	// Kind is the link kind (vxlan, geneve, ipip, wireguard, veth...) when ip shows details.
	Kind  string `json:"kind,omitempty"`
	VNI   int    `json:"vni,omitempty"`
	Port  int    `json:"udpPort,omitempty"`
	Local string `json:"local,omitempty"`
	// Underlay is the device the tunnel sends its outer packets by (`dev X`), when it is bound to one.
	Underlay string `json:"underlay,omitempty"`
	// External: a collect-metadata tunnel (Cilium's), whose VNI and remote come per packet.
	External bool `json:"external,omitempty"`
	// Detailed: ip printed the link's details (an iproute2 ip; busybox's cannot).
	Detailed bool   `json:"detailed"`
	Error    string `json:"error,omitempty"`
}

// ParseDevice reads `ip -d link show dev NAME` (or plain `ip link show`), or with links (the
// namespace's, to name an underlay given by ifindex) its JSON form `ip -j -d link show dev NAME`.
func ParseDevice(name, out, exit string, links ...Link) Device {
	d := Device{Name: name}
	if exit != "0" {
		d.Error = strings.TrimSpace(strings.SplitN(strings.TrimSpace(out), "\n", 2)[0])
		if d.Error == "" {
			d.Error = "ip link show exited " + exit
		}
		return d
	}
	if strings.HasPrefix(strings.TrimSpace(out), "[") {
		if err := d.parseJSON(out, links); err != nil {
			d.Error = err.Error()
		}
		return d
	}
	d.Present = true
	lines := strings.Split(out, "\n")
	if l, ok := parseLinkHeader(strings.TrimSpace(lines[0])); ok {
		d.State, d.MTU, d.Up = l.State, l.MTU, hasFlag(l.Flags, "UP")
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "vxlan", "geneve", "ipip", "wireguard", "veth", "bridge", "gre", "sit", "ip6tnl":
			if d.Kind != "" {
				continue // "bridge_slave" and friends come after the kind
			}
			d.Kind, d.Detailed = f[0], true
			for i := 1; i < len(f); i++ {
				next := ""
				if i+1 < len(f) {
					next = f[i+1]
				}
				switch f[i] {
				case "id":
					d.VNI, _ = strconv.Atoi(next)
				case "dstport":
					d.Port, _ = strconv.Atoi(next)
				case "local":
					d.Local = tunnelAddr(next)
				case "dev":
					d.Underlay = next
				case "external":
					d.External = true
				}
			}
		default:
			if f[0] == "link/ether" && len(f) > 1 {
				d.MAC = f[1]
			}
			if strings.Contains(line, " promiscuity ") {
				d.Detailed = true
			}
		}
	}
	return d
}

// Connection is how a TCP connection attempt ended.
type Connection string

// Connection outcomes.
const (
	Connected   Connection = "connected"
	Refused     Connection = "refused"
	TimedOut    Connection = "timeout"
	Unreachable Connection = "unreachable"
	// ConnectError: nc failed for another reason (or is missing); ConnectFailed: the probe did not run.
	ConnectError  Connection = "error"
	ConnectFailed Connection = "failed"
)

// ConnectResult is the outcome of the TCP connection.
type ConnectResult struct {
	To     string     `json:"to"`
	Result Connection `json:"result"`
	Output string     `json:"output,omitempty"`
}

// ParseConnect classifies nc's outcome.
func ParseConnect(to, out, exit string) ConnectResult {
	out = strings.TrimSpace(out)
	c := ConnectResult{To: to, Output: out}
	low := strings.ToLower(out)
	switch {
	case exit == "127" || strings.Contains(low, "not found") || strings.Contains(low, "applet") || strings.Contains(low, "no such file"):
		c.Result, c.Output = ConnectError, "the probe image has no nc: give --image one that has (busybox has)"
	case strings.Contains(low, "refused"):
		c.Result = Refused
	case strings.Contains(low, "timed out") || strings.Contains(low, "timeout"):
		c.Result = TimedOut
	case strings.Contains(low, "no route") || strings.Contains(low, "unreachable"):
		c.Result = Unreachable
	case exit == "0", exit == "143" && out == "", exit == "124" && out == "":
		// 143/124: timeout ended an nc that had connected and was waiting on the server
		c.Result = Connected
	default:
		c.Result = ConnectError
	}
	return c
}

// PathResult is what a path probe saw.
type PathResult struct {
	Snapshot *Snapshot
	// Routes are the answers by query (RouteQuery.String()).
	Routes  map[string]RouteAnswer
	Devices map[string]Device
	// FDB and Neighbours are the forwarding entries of the Forwarding devices, by device.
	FDB        map[string]Forwarding[FDBEntry]
	Neighbours map[string]Forwarding[Neighbour]
	Connect    *ConnectResult
}

// Forwarding is the entries a command listed on a device, or why it could not.
type Forwarding[E any] struct {
	Entries []E
	// Error: the command failed (busybox has no `bridge`), so nothing is known.
	Error string
}

// ParsePath reads a path probe's output.
func ParsePath(out string) (*PathResult, error) {
	snap, err := Parse(out)
	if err != nil {
		return nil, err
	}
	secs, err := Sections(out)
	if err != nil {
		return nil, err
	}
	r := &PathResult{Snapshot: snap, Routes: map[string]RouteAnswer{}, Devices: map[string]Device{},
		FDB: map[string]Forwarding[FDBEntry]{}, Neighbours: map[string]Forwarding[Neighbour]{}}
	for _, s := range secs {
		switch {
		case strings.HasPrefix(s.Name, sectionLookup):
			q := strings.TrimPrefix(s.Name, sectionLookup)
			a := ParseRouteGet(s.Output, s.Exit)
			if a.Dst == "" && a.Error == "" {
				a.Dst, _, _ = strings.Cut(q, " ")
			}
			r.Routes[q] = a
		case strings.HasPrefix(s.Name, sectionDevice):
			name := strings.TrimPrefix(s.Name, sectionDevice)
			r.Devices[name] = ParseDevice(name, s.Output, s.Exit)
		case strings.HasPrefix(s.Name, sectionFDB):
			var f Forwarding[FDBEntry]
			if s.Exit != "0" {
				f.Error = firstLine(s.Output, s.Exit)
			} else if f.Entries, err = ParseFDB(s.Output); err != nil {
				f.Error = err.Error()
			}
			r.FDB[strings.TrimPrefix(s.Name, sectionFDB)] = f
		case strings.HasPrefix(s.Name, sectionNeigh):
			var f Forwarding[Neighbour]
			if s.Exit != "0" {
				f.Error = firstLine(s.Output, s.Exit)
			} else if f.Entries, err = ParseNeigh(s.Output); err != nil {
				f.Error = err.Error()
			}
			r.Neighbours[strings.TrimPrefix(s.Name, sectionNeigh)] = f
		case strings.HasPrefix(s.Name, sectionConnect):
			ip, port, _ := strings.Cut(strings.TrimPrefix(s.Name, sectionConnect), " ")
			to := ip + ":" + port
			if strings.Contains(ip, ":") {
				to = "[" + ip + "]:" + port
			}
			c := ParseConnect(to, s.Output, s.Exit)
			r.Connect = &c
		}
	}
	return r, nil
}

// InterfacesWith are the links that hold one of the addresses.
func (s *Snapshot) InterfacesWith(addrs ...string) []string {
	var out []string
	for _, l := range s.Links {
		for _, a := range l.Addrs {
			ip, _, _ := strings.Cut(a.CIDR, "/")
			for _, want := range addrs {
				if ip == want {
					out = append(out, l.Name)
				}
			}
		}
	}
	return out
}
