package probe

import (
	"encoding/json"
	"fmt"
	"strings"
)

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
