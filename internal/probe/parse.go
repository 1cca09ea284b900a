// Package probe runs a fixed, read-only script in a target's network namespace (an ephemeral
// container in a pod, or a short-lived host-network pod on a node) and parses what `ip` says:
// interfaces, addresses, routes of every table, policy rules and neighbours. It knows nothing of
// cobra. Both iproute2 (its JSON, `ip -j`) and busybox `ip` text are understood.
package probe

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Snapshot is what the probe saw in one network namespace.
type Snapshot struct {
	// Format is "json" (iproute2) or "text" (busybox or an iproute2 without -j).
	Format     string      `json:"format"`
	Links      []Link      `json:"links"`
	Routes     []Route     `json:"routes"`
	Rules      []Rule      `json:"rules"`
	Neighbours []Neighbour `json:"neighbours"`
	// Raw is each command's output as it came, by command ("addr", "route show table all", ...).
	Raw map[string]string `json:"-"`
	// Errors are commands that failed (a busybox without IPv6, say).
	Errors []string `json:"errors,omitempty"`
}

// Link is an interface with its addresses.
type Link struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	// PeerIndex is the ifindex of a veth's peer in another namespace ("eth0@if12"), 0 if unknown.
	PeerIndex int `json:"peerIndex,omitempty"`
	// Peer is the peer's name when it is in the same namespace ("veth-b@veth-a").
	Peer   string   `json:"peer,omitempty"`
	Master string   `json:"master,omitempty"`
	State  string   `json:"state"`
	MTU    int      `json:"mtu"`
	MAC    string   `json:"mac,omitempty"`
	Kind   string   `json:"linkType,omitempty"`
	Flags  []string `json:"flags,omitempty"`
	Addrs  []Addr   `json:"addresses"`
}

// Addr is an address of a link.
type Addr struct {
	Family string   `json:"family"` // inet or inet6
	CIDR   string   `json:"cidr"`   // address/prefix length
	Scope  string   `json:"scope,omitempty"`
	Flags  []string `json:"flags,omitempty"`
}

// Route is a route of some table.
type Route struct {
	Family  string   `json:"family"`
	Table   string   `json:"table"`
	Type    string   `json:"type"` // unicast, local, broadcast, blackhole, multicast...
	Dst     string   `json:"dst"`
	Gateway string   `json:"gateway,omitempty"`
	Dev     string   `json:"dev,omitempty"`
	Proto   string   `json:"proto,omitempty"`
	Scope   string   `json:"scope,omitempty"`
	Src     string   `json:"src,omitempty"`
	Metric  int      `json:"metric,omitempty"`
	Flags   []string `json:"flags,omitempty"`
}

// Rule is a policy routing rule.
type Rule struct {
	Family   string `json:"family"`
	Priority int    `json:"priority"`
	Selector string `json:"selector"`
	Action   string `json:"action"`
}

// Neighbour is an ARP / NDP entry.
type Neighbour struct {
	Dst    string   `json:"dst"`
	Dev    string   `json:"dev"`
	LLAddr string   `json:"lladdr,omitempty"`
	Router bool     `json:"router,omitempty"`
	State  []string `json:"state,omitempty"`
}

// The probe script prints each command's output between these markers.
const (
	markFormat  = "@@podnet format "
	markSection = "@@podnet section "
	markExit    = "@@podnet exit "
	markEnd     = "@@podnet end"
)

// Commands the script runs, in order; the section name is the command's arguments.
var Commands = []string{"addr", "-4 route show table all", "-6 route show table all", "rule", "-6 rule", "neigh"}

// Parse reads the probe script's whole output. It never panics; what it cannot read it reports.
func Parse(out string) (*Snapshot, error) {
	s := &Snapshot{Raw: map[string]string{}, Links: []Link{}, Routes: []Route{}, Rules: []Rule{}, Neighbours: []Neighbour{}}
	if !strings.Contains(out, markEnd) {
		return nil, fmt.Errorf("the probe's output is cut short (no end marker): %q", truncate(out, 200))
	}
	var section string
	var body strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(trimmed, markFormat):
			s.Format = strings.TrimSpace(strings.TrimPrefix(trimmed, markFormat))
		case strings.HasPrefix(trimmed, markSection):
			section = strings.TrimSpace(strings.TrimPrefix(trimmed, markSection))
			body.Reset()
		case strings.HasPrefix(trimmed, markExit):
			code := strings.TrimSpace(strings.TrimPrefix(trimmed, markExit))
			s.Raw[section] = body.String()
			if code != "0" {
				s.Errors = append(s.Errors, fmt.Sprintf("ip %s: exit %s: %s", section, code, strings.TrimSpace(truncate(body.String(), 200))))
			} else if err := s.parseSection(section, body.String()); err != nil {
				s.Errors = append(s.Errors, fmt.Sprintf("ip %s: %v", section, err))
			}
			section = ""
		case section != "":
			body.WriteString(line)
		}
	}
	if s.Format != "json" && s.Format != "text" {
		return nil, fmt.Errorf("the probe's output has no format marker")
	}
	return s, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (s *Snapshot) parseSection(section, body string) error {
	fam := "inet"
	if strings.HasPrefix(section, "-6 ") {
		fam = "inet6"
	}
	cmd := strings.TrimPrefix(strings.TrimPrefix(section, "-6 "), "-4 ")
	json := s.Format == "json"
	switch {
	case cmd == "addr" && json:
		links, err := parseAddrJSON(body)
		s.Links = links
		return err
	case cmd == "addr":
		s.Links = ParseAddrText(body)
	case strings.HasPrefix(cmd, "route") && json:
		rs, err := parseRouteJSON(body, fam)
		s.Routes = append(s.Routes, rs...)
		return err
	case strings.HasPrefix(cmd, "route"):
		s.Routes = append(s.Routes, ParseRouteText(body, fam)...)
	case cmd == "rule" && json:
		rs, err := parseRuleJSON(body, fam)
		s.Rules = append(s.Rules, rs...)
		return err
	case cmd == "rule":
		s.Rules = append(s.Rules, ParseRuleText(body, fam)...)
	case cmd == "neigh" && json:
		ns, err := parseNeighJSON(body)
		s.Neighbours = ns
		return err
	case cmd == "neigh":
		s.Neighbours = ParseNeighText(body)
	}
	return nil
}

// ---- text (busybox and iproute2)

// ParseAddrText reads `ip addr` text output.
func ParseAddrText(out string) []Link {
	links := parseAddrText(out)
	fixBusyboxPeers(links)
	return links
}

// fixBusyboxPeers undoes a busybox habit: for a veth whose peer is in another namespace it prints
// the name of whatever link has the peer's ifindex here ("veth1@ifb0"). A real same-namespace pair
// names each other; otherwise the name stands for the peer's index.
func fixBusyboxPeers(links []Link) {
	byName := map[string]int{}
	for i, l := range links {
		byName[l.Name] = i
	}
	for i := range links {
		l := &links[i]
		if l.Peer == "" {
			continue
		}
		j, ok := byName[l.Peer]
		if !ok || links[j].Peer == l.Name {
			continue
		}
		l.PeerIndex, l.Peer = links[j].Index, ""
	}
}

func parseAddrText(out string) []Link {
	links := []Link{}
	var cur *Link
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			l, ok := parseLinkHeader(line)
			if !ok {
				cur = nil
				continue
			}
			links = append(links, l)
			cur = &links[len(links)-1]
			continue
		}
		if cur == nil {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch {
		case strings.HasPrefix(f[0], "link/"):
			cur.Kind = strings.TrimPrefix(f[0], "link/")
			if cur.Kind != "none" && cur.Kind != "ipip" && len(f) > 1 && strings.Count(f[1], ":") == 5 {
				cur.MAC = f[1]
			}
		case f[0] == "inet" || f[0] == "inet6":
			a := Addr{Family: f[0], CIDR: f[1]}
			for i := 2; i < len(f); i++ {
				switch f[i] {
				case "brd", "peer", "metric":
					i++
				case "scope":
					if i+1 < len(f) {
						a.Scope = f[i+1]
					}
					i++
				case "flags":
					if i+1 < len(f) {
						a.Flags = append(a.Flags, busyboxAddrFlags(f[i+1])...)
					}
					i++
				case "dynamic", "noprefixroute", "nodad", "tentative", "deprecated", "permanent", "secondary", "temporary", "mngtmpaddr", "optimistic", "dadfailed", "home":
					a.Flags = append(a.Flags, f[i])
				}
			}
			if !strings.Contains(a.CIDR, "/") {
				if a.Family == "inet" {
					a.CIDR += "/32"
				} else {
					a.CIDR += "/128"
				}
			}
			cur.Addrs = append(cur.Addrs, a)
		}
	}
	return links
}

// busyboxAddrFlags turns busybox's "flags 02" (IFA_F_* in hex) into iproute2's words.
func busyboxAddrFlags(hex string) []string {
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return []string{"flags " + hex}
	}
	names := []struct {
		bit  uint64
		name string
	}{{0x01, "secondary"}, {0x02, "nodad"}, {0x04, "optimistic"}, {0x08, "dadfailed"}, {0x10, "home"}, {0x20, "deprecated"}, {0x40, "tentative"}, {0x80, "permanent"}}
	var out []string
	for _, n := range names {
		if v&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// parseLinkHeader reads "2: eth0@if7: <BROADCAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cbr0 state UP ...".
func parseLinkHeader(line string) (Link, bool) {
	var l Link
	idx, rest, ok := strings.Cut(line, ": ")
	if !ok {
		return l, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(idx))
	if err != nil {
		return l, false
	}
	l.Index = n
	name, rest, ok := strings.Cut(rest, ": ")
	if !ok {
		return l, false
	}
	l.Name = name
	if base, peer, ok := strings.Cut(name, "@"); ok {
		l.Name = base
		if strings.HasPrefix(peer, "if") {
			if p, err := strconv.Atoi(strings.TrimPrefix(peer, "if")); err == nil {
				l.PeerIndex = p
			} else {
				l.Peer = peer
			}
		} else if peer != "NONE" {
			l.Peer = peer
		}
	}
	if i, j := strings.Index(rest, "<"), strings.Index(rest, ">"); i >= 0 && j > i {
		if fl := rest[i+1 : j]; fl != "" {
			l.Flags = strings.Split(fl, ",")
		}
		rest = rest[j+1:]
	}
	f := strings.Fields(rest)
	for i := 0; i+1 < len(f); i++ {
		switch f[i] {
		case "mtu":
			l.MTU, _ = strconv.Atoi(f[i+1])
			i++
		case "master":
			l.Master = f[i+1]
			i++
		case "state":
			l.State = f[i+1]
			i++
		}
	}
	if l.State == "" { // busybox says no state: derive it from the flags
		l.State = "DOWN"
		if hasFlag(l.Flags, "UP") {
			l.State = "UNKNOWN"
			if hasFlag(l.Flags, "LOWER_UP") {
				l.State = "UP"
			}
		}
	}
	l.Addrs = []Addr{}
	return l, true
}

func hasFlag(fs []string, f string) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

var routeTypes = map[string]bool{"unicast": true, "local": true, "broadcast": true, "blackhole": true, "unreachable": true, "prohibit": true, "multicast": true, "anycast": true, "throw": true, "nat": true}

// ParseRouteText reads `ip route show table all` text output.
func ParseRouteText(out, family string) []Route {
	routes := []Route{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		r := Route{Family: family, Table: "main", Type: "unicast"}
		i := 0
		if routeTypes[f[0]] {
			r.Type = f[0]
			i = 1
		}
		if i >= len(f) {
			continue
		}
		r.Dst = f[i]
		if r.Dst == "default" {
			r.Dst = "default"
		} else if !strings.Contains(r.Dst, "/") {
			if strings.Contains(r.Dst, ":") {
				r.Dst += "/128"
			} else {
				r.Dst += "/32"
			}
		}
		for i++; i < len(f); i++ {
			val := ""
			if i+1 < len(f) {
				val = f[i+1]
			}
			switch f[i] {
			case "via":
				r.Gateway = val
				if val == "inet" || val == "inet6" { // "via inet6 fe80::1"
					if i+2 < len(f) {
						r.Gateway = f[i+2]
					}
					i++
				}
				i++
			case "dev":
				r.Dev, i = val, i+1
			case "proto":
				r.Proto, i = val, i+1
			case "scope":
				r.Scope, i = val, i+1
			case "src":
				r.Src, i = val, i+1
			case "metric":
				r.Metric, _ = strconv.Atoi(val)
				i++
			case "table":
				r.Table, i = val, i+1
			case "onlink", "linkdown", "pervasive", "offload", "notify", "dead":
				r.Flags = append(r.Flags, f[i])
			case "pref", "mtu", "advmss", "expires", "error", "hoplimit", "realms", "rtt", "rttvar", "weight", "nexthop", "congctl", "initcwnd":
				i++
			}
		}
		if r.Type == "local" || r.Type == "broadcast" {
			if r.Table == "main" && !strings.Contains(line, " table ") {
				r.Table = "local"
			}
		}
		routes = append(routes, r)
	}
	return routes
}

// ParseRuleText reads `ip rule` text output: "100:	from 10.244.1.5 lookup 100".
func ParseRuleText(out, family string) []Rule {
	rules := []Rule{}
	for _, line := range strings.Split(out, "\n") {
		pri, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		p, err := strconv.Atoi(strings.TrimSpace(pri))
		if err != nil {
			continue
		}
		rest = strings.Join(strings.Fields(rest), " ")
		r := Rule{Family: family, Priority: p, Selector: rest}
		for _, kw := range []string{" lookup ", " goto ", " blackhole", " unreachable", " prohibit", " nop"} {
			if i := strings.Index(" "+rest, kw); i >= 0 {
				r.Selector = strings.TrimSpace(rest[:max(i-1, 0)])
				r.Action = strings.TrimSpace(rest[max(i-1, 0):])
				break
			}
		}
		rules = append(rules, r)
	}
	return rules
}

// ParseNeighText reads `ip neigh` text output.
func ParseNeighText(out string) []Neighbour {
	ns := []Neighbour{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n := Neighbour{Dst: f[0]}
		for i := 1; i < len(f); i++ {
			switch f[i] {
			case "dev":
				if i+1 < len(f) {
					n.Dev = f[i+1]
				}
				i++
			case "lladdr":
				if i+1 < len(f) {
					n.LLAddr = f[i+1]
				}
				i++
			case "router":
				n.Router = true
			case "used", "probes":
				i++
			default:
				if isNudState(f[i]) {
					n.State = append(n.State, f[i])
				}
			}
		}
		ns = append(ns, n)
	}
	return ns
}

func isNudState(s string) bool {
	switch s {
	case "PERMANENT", "NOARP", "REACHABLE", "STALE", "NONE", "INCOMPLETE", "DELAY", "PROBE", "FAILED":
		return true
	}
	return false
}

// ---- iproute2 JSON

type jsonLink struct {
	Ifindex   int      `json:"ifindex"`
	Ifname    string   `json:"ifname"`
	Link      string   `json:"link"`
	LinkIndex int      `json:"link_index"`
	Flags     []string `json:"flags"`
	MTU       int      `json:"mtu"`
	Master    string   `json:"master"`
	Operstate string   `json:"operstate"`
	LinkType  string   `json:"link_type"`
	Address   string   `json:"address"`
	AddrInfo  []struct {
		Family        string `json:"family"`
		Local         string `json:"local"`
		Prefixlen     int    `json:"prefixlen"`
		Scope         string `json:"scope"`
		Dynamic       bool   `json:"dynamic"`
		Noprefixroute bool   `json:"noprefixroute"`
		Nodad         bool   `json:"nodad"`
		Tentative     bool   `json:"tentative"`
		Deprecated    bool   `json:"deprecated"`
		Secondary     bool   `json:"secondary"`
	} `json:"addr_info"`
}

func parseAddrJSON(out string) ([]Link, error) {
	var raw []jsonLink
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		return []Link{}, fmt.Errorf("not iproute2 JSON: %w", err)
	}
	links := make([]Link, 0, len(raw))
	for _, r := range raw {
		l := Link{Index: r.Ifindex, Name: r.Ifname, Peer: r.Link, PeerIndex: r.LinkIndex, Flags: r.Flags, MTU: r.MTU, Master: r.Master,
			State: r.Operstate, Kind: r.LinkType, Addrs: []Addr{}}
		if r.LinkType != "none" && strings.Count(r.Address, ":") == 5 {
			l.MAC = r.Address
		}
		if l.PeerIndex != 0 {
			l.Peer = ""
		}
		for _, a := range r.AddrInfo {
			ad := Addr{Family: a.Family, CIDR: fmt.Sprintf("%s/%d", a.Local, a.Prefixlen), Scope: a.Scope}
			for _, fl := range []struct {
				on   bool
				name string
			}{{a.Secondary, "secondary"}, {a.Nodad, "nodad"}, {a.Deprecated, "deprecated"}, {a.Tentative, "tentative"}, {a.Dynamic, "dynamic"}, {a.Noprefixroute, "noprefixroute"}} {
				if fl.on {
					ad.Flags = append(ad.Flags, fl.name)
				}
			}
			l.Addrs = append(l.Addrs, ad)
		}
		links = append(links, l)
	}
	return links, nil
}

func parseRouteJSON(out, family string) ([]Route, error) {
	var raw []struct {
		Type     string   `json:"type"`
		Dst      string   `json:"dst"`
		Gateway  string   `json:"gateway"`
		Dev      string   `json:"dev"`
		Protocol string   `json:"protocol"`
		Scope    string   `json:"scope"`
		Prefsrc  string   `json:"prefsrc"`
		Metric   int      `json:"metric"`
		Flags    []string `json:"flags"`
		Table    string   `json:"table"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		return nil, fmt.Errorf("not iproute2 JSON: %w", err)
	}
	routes := make([]Route, 0, len(raw))
	for _, r := range raw {
		rt := Route{Family: family, Table: r.Table, Type: r.Type, Dst: r.Dst, Gateway: r.Gateway, Dev: r.Dev, Proto: r.Protocol, Scope: r.Scope, Src: r.Prefsrc, Metric: r.Metric, Flags: r.Flags}
		if rt.Table == "" {
			rt.Table = "main"
		}
		if rt.Type == "" {
			rt.Type = "unicast"
		}
		if rt.Dst != "default" && rt.Dst != "" && !strings.Contains(rt.Dst, "/") {
			if strings.Contains(rt.Dst, ":") {
				rt.Dst += "/128"
			} else {
				rt.Dst += "/32"
			}
		}
		routes = append(routes, rt)
	}
	return routes, nil
}

func parseRuleJSON(out, family string) ([]Rule, error) {
	var raw []map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		return nil, fmt.Errorf("not iproute2 JSON: %w", err)
	}
	rules := make([]Rule, 0, len(raw))
	for _, r := range raw {
		pr, _ := r["priority"].(float64)
		sel := "from " + str(r["src"])
		if l, ok := r["srclen"].(float64); ok {
			sel += fmt.Sprintf("/%d", int(l))
		}
		if d := str(r["dst"]); d != "" {
			sel += " to " + d
			if l, ok := r["dstlen"].(float64); ok {
				sel += fmt.Sprintf("/%d", int(l))
			}
		}
		for _, k := range []string{"fwmark", "iif", "oif"} {
			if v := str(r[k]); v != "" {
				sel += " " + k + " " + v
			}
		}
		action := "lookup " + str(r["table"])
		if a := str(r["action"]); a != "" {
			action = a
		}
		rules = append(rules, Rule{Family: family, Priority: int(pr), Selector: sel, Action: action})
	}
	return rules, nil
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func parseNeighJSON(out string) ([]Neighbour, error) {
	var raw []struct {
		Dst    string   `json:"dst"`
		Dev    string   `json:"dev"`
		LLAddr string   `json:"lladdr"`
		Router any      `json:"router"`
		State  []string `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		return nil, fmt.Errorf("not iproute2 JSON: %w", err)
	}
	ns := make([]Neighbour, 0, len(raw))
	for _, r := range raw {
		ns = append(ns, Neighbour{Dst: r.Dst, Dev: r.Dev, LLAddr: r.LLAddr, Router: r.Router != nil, State: r.State})
	}
	return ns, nil
}

// SortRoutes orders routes by table (main first, local last), then family and destination.
func SortRoutes(rs []Route) {
	rank := func(t string) string {
		switch t {
		case "main":
			return "0"
		case "local":
			return "2"
		}
		return "1" + t
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if rank(rs[i].Table) != rank(rs[j].Table) {
			return rank(rs[i].Table) < rank(rs[j].Table)
		}
		return rs[i].Family < rs[j].Family
	})
}
