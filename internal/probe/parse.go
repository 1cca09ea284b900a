// Package probe runs a fixed, read-only script in a target's network namespace (an ephemeral
// container in a pod, or a short-lived host-network pod on a node) and parses what `ip` says:
// interfaces, addresses, routes of every table, policy rules and neighbours. It knows nothing of
// cobra. Both iproute2 (its JSON, `ip -j`) and busybox `ip` text are understood.
package probe

import (
	"fmt"
	"sort"
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

var routeTypes = map[string]bool{"unicast": true, "local": true, "broadcast": true, "blackhole": true, "unreachable": true, "prohibit": true, "multicast": true, "anycast": true, "throw": true, "nat": true}

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
