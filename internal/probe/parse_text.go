package probe

import (
	"strconv"
	"strings"
)

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
