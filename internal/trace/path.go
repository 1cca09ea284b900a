// Package trace explains the path a packet takes between two endpoints of a cluster, hop by hop,
// the way the detected network model builds it: veth, bridge or host routes, tunnel (IPIP, VXLAN,
// Geneve, WireGuard), cloud route table or native routing. It knows nothing of cobra and calls no
// API: it works on the inventory's plain structs.
package trace

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
)

// Endpoint is one end of a path.
type Endpoint struct {
	Kind        string     `json:"kind"` // pod, node or ip
	Namespace   string     `json:"namespace,omitempty"`
	Name        string     `json:"name,omitempty"`
	IP          netip.Addr `json:"ip"`
	Node        string     `json:"node,omitempty"`
	HostNetwork bool       `json:"hostNetwork,omitempty"`
	// Others are its addresses of the other family (dual-stack), to match the other end's.
	Others []netip.Addr `json:"-"`
}

// InFamily is the endpoint with its address of the family (v4 or not), if it has one.
func (e Endpoint) InFamily(v4 bool) (Endpoint, bool) {
	if e.IP.Is4() == v4 {
		return e, true
	}
	for _, a := range e.Others {
		if a.Is4() == v4 {
			e.Others = append([]netip.Addr{e.IP}, e.Others...)
			e.IP = a
			return e, true
		}
	}
	return e, false
}

// String names the endpoint as a user would: pod/ns/name, node/name or the address.
func (e Endpoint) String() string {
	switch e.Kind {
	case "pod":
		return "pod/" + e.Namespace + "/" + e.Name
	case "node":
		return "node/" + e.Name
	}
	return e.IP.String()
}

// Encap is an encapsulation step, as the network model describes it.
type Encap = netmodel.Encap

// Hop is one step of the path.
type Hop struct {
	Where     string   `json:"where"` // "pod shop/web-1", "node n1", "cloud"
	Device    string   `json:"device,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	What      string   `json:"what"`
	Route     string   `json:"route,omitempty"`
	Encap     *Encap   `json:"encap,omitempty"`
	// Lookup is the routing decision this hop stands on, where the kernel makes one: what
	// `ip route get` answers in that namespace. --probe and the kernel tests check it.
	Lookup *Lookup `json:"lookup,omitempty"`
}

// Lookup is the answer a routing lookup should give: `ip route get Dst` in the namespace In.
type Lookup struct {
	// In is the namespace: "pod NS/NAME" or "node NAME" (the "where" of hops there).
	In  string `json:"in"`
	Dst string `json:"dst"`
	// From and Iif: the lookup is the forwarding of a packet from From arriving on Iif (a pod's
	// packet on its node: source policy routing, forwarding and reverse-path filter apply).
	From string `json:"from,omitempty"`
	Iif  string `json:"iif,omitempty"`
	// Dev is the outgoing device; DevPrefix when only its prefix is known (lxc..., azv...);
	// NodeInterface when it is the interface that holds the node's address (eth0, ens5...).
	Dev           string `json:"dev,omitempty"`
	DevPrefix     string `json:"devPrefix,omitempty"`
	NodeInterface bool   `json:"nodeInterface,omitempty"`
	// Via is the gateway; "" means none (the destination is on-link), unless AnyVia.
	Via    string `json:"via,omitempty"`
	AnyVia bool   `json:"anyVia,omitempty"`
	// Local: the destination is an address of this namespace (route type local).
	Local bool `json:"local,omitempty"`
}

// String is the lookup in ip's words, with placeholders for what is not known by name.
func (l *Lookup) String() string {
	if l.Local {
		return "local " + l.Dst
	}
	s := l.Query()
	switch {
	case l.AnyVia:
		s += " via <gateway>"
	case l.Via != "":
		s += " via " + l.Via
	}
	switch {
	case l.Dev != "":
		s += " dev " + l.Dev
	case l.DevPrefix != "":
		s += " dev " + l.DevPrefix + "*"
	case l.NodeInterface:
		s += " dev <node interface>"
	}
	return s
}

// Query is the question asked of the kernel: `ip route get` with these arguments.
func (l *Lookup) Query() string {
	if l.From != "" && l.Iif != "" {
		return l.Dst + " from " + l.From + " iif " + l.Iif
	}
	return l.Dst
}

// Match says whether the kernel's route is the one expected; nodeIfaces are the devices that hold
// the node's addresses (for NodeInterface). The reason names what differs.
func (l *Lookup) Match(r probe.RouteAnswer, nodeIfaces []string) (bool, string) {
	if r.Error != "" {
		return false, "no route: " + r.Error
	}
	if l.Local {
		if r.Type != "local" {
			return false, fmt.Sprintf("%s is not an address of this namespace (route %s)", l.Dst, r)
		}
		return true, ""
	}
	switch r.Type {
	case "", "unicast":
	default:
		return false, fmt.Sprintf("route type %s", r.Type)
	}
	switch {
	case l.Dev != "" && r.Dev != l.Dev:
		return false, fmt.Sprintf("leaves by %s, not %s", r.Dev, l.Dev)
	case l.DevPrefix != "" && !strings.HasPrefix(r.Dev, l.DevPrefix):
		return false, fmt.Sprintf("leaves by %s, not a %s* device", r.Dev, l.DevPrefix)
	case l.NodeInterface && len(nodeIfaces) > 0 && !slices.Contains(nodeIfaces, r.Dev):
		return false, fmt.Sprintf("leaves by %s, not the node's interface (%s)", r.Dev, strings.Join(nodeIfaces, ", "))
	}
	switch {
	case l.AnyVia:
	case l.Via == "" && r.Via != "":
		return false, fmt.Sprintf("goes via %s where the destination should be on-link", r.Via)
	case l.Via != "" && r.Via != l.Via:
		return false, fmt.Sprintf("next hop %s, not %s", orText(r.Via, "none (on-link)"), l.Via)
	}
	return true, ""
}

// Path is the explained path from Src to Dst.
type Path struct {
	Src     Endpoint         `json:"src"`
	Dst     Endpoint         `json:"dst"`
	Network netmodel.Network `json:"network"`
	// Nodes are the resolved networks of the source's and the destination's nodes.
	Nodes []netmodel.NodeNetwork `json:"nodes"`
	Case  string                 `json:"case"` // same-node, cross-node, node-to-pod, pod-to-node, same-host
	Hops  []Hop                  `json:"hops"`
	Notes []string               `json:"notes,omitempty"`
	// Service is the Service DST named, when it did.
	Service *ServiceStep `json:"service,omitempty"`
	// Policy is the NetworkPolicy verdict for --port, when one was asked for.
	Policy *PolicyVerdict `json:"networkPolicy,omitempty"`
	Port   string         `json:"port,omitempty"`
	// Probe is the path checked live (--probe, --connect).
	Probe *Verification `json:"probe,omitempty"`

	src *netmodel.NodeNetwork
}

// List is the paths of trace --all-pods, one per pair of endpoints, as -o json writes them.
type List struct {
	Items []*Path `json:"items"`
}
