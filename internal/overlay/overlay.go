// Package overlay checks that the underlay carries a cluster's overlay between nodes: the tunnel
// devices agree with each other and with the network model, each node has programmed its peers'
// VTEPs, real encapsulated packets cross, and packets of the pod MTU fit the underlay's path MTU.
// It plans one probe per node from the model's descriptors and judges what the probes saw; it
// knows nothing of cobra or of the API.
package overlay

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
)

// State is a check's outcome.
type State string

// Check states.
const (
	OK      State = "ok"
	Failed  State = "failed"
	Unknown State = "unknown"
)

// worse is the worse of two states: failed over unknown over ok.
func worse(a, b State) State {
	rank := map[State]int{OK: 0, Unknown: 1, Failed: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Presence says whether the model carries pod traffic between nodes in a tunnel.
type Presence string

// Presences.
const (
	// Tunnel: a kernel tunnel device carries pod traffic between nodes.
	Tunnel Presence = "tunnel"
	// NoTunnel: pod traffic crosses the underlay as it is (host-gw, BGP, a cloud's routes).
	NoTunnel Presence = "none"
)

// Overlay is the cluster's overlay as the model describes it.
type Overlay struct {
	State  Presence `json:"state"`
	Reason string   `json:"reason,omitempty"`
	Kind   string   `json:"kind,omitempty"`
	Device string   `json:"device,omitempty"`
	Port   int      `json:"udpPort,omitempty"`
	VNI    int      `json:"vni,omitempty"`
	// Overhead is the bytes the encapsulation adds to each packet.
	Overhead int `json:"overheadBytes"`
}

// Plan is the check planned for the chosen nodes: their model's overlay and each node's probe.
type Plan struct {
	Network netmodel.Network
	Overlay Overlay
	// Agent is the model's node agent ("flanneld"), InterfaceHint how to make it use an interface.
	Agent         string
	InterfaceHint string
	Nodes         []*netmodel.NodeNetwork
	// v4 is the family checked: the first node's transport address's.
	v4     bool
	bridge string
}

// ErrUnsupported is the error of a model whose overlay the check cannot probe.
var ErrUnsupported = fmt.Errorf("network model not supported by check overlay")

// NewPlan plans the check of the nodes (at least two), which must run one network model in one
// mode.
func NewPlan(nodes []*netmodel.NodeNetwork) (*Plan, error) {
	if len(nodes) < 2 {
		return nil, fmt.Errorf("the check needs two nodes, got %d", len(nodes))
	}
	first := nodes[0]
	for _, nn := range nodes[1:] {
		if nn.Network.Model != first.Network.Model || nn.Network.Mode != first.Network.Mode {
			return nil, fmt.Errorf("nodes %s (%s) and %s (%s) run different network models or modes: the check compares nodes of one; choose them with --nodes",
				first.Name, first.Network, nn.Name, nn.Network)
		}
	}
	m := first.Model()
	p := &Plan{Network: first.Network, Agent: m.Agent(), InterfaceHint: m.InterfaceHint(), Nodes: nodes, bridge: m.Bridge()}
	t, err := netip.ParseAddr(first.TransportAddr(true))
	p.v4 = err != nil || t.Is4()
	for _, nn := range nodes {
		if _, err := netip.ParseAddr(nn.TransportAddr(p.v4)); err != nil {
			return nil, fmt.Errorf("node %s has no transport address (%s publishes none and the node has no InternalIP): the check cannot address it; leave it out with --nodes", nn.Name, p.Agent)
		}
	}
	switch dp := m.Datapath(first.Network.Mode, first.Node()); dp {
	case netmodel.DatapathTunnel:
		e := first.Encap(nodes[1], p.v4)
		if e == nil {
			return nil, fmt.Errorf("%w: %s tunnels but has no encapsulation of this address family", ErrUnsupported, first.Network)
		}
		p.Overlay = Overlay{State: Tunnel, Kind: e.Kind, Device: e.Device, Port: e.Port, VNI: e.VNI, Overhead: e.Overhead}
		for _, nn := range nodes {
			if nn.Tunnel == nil || tunnelAddr(nn, p.v4) == (netip.Addr{}) {
				return nil, fmt.Errorf("node %s has no %s address (%s gives its tunnel none: has the node a pod CIDR?): the check cannot ping through its tunnel; leave it out with --nodes", nn.Name, e.Device, p.Agent)
			}
		}
		if e.CrossSubnetOnly {
			p.Overlay.Reason = "the model encapsulates only between subnets: pairs in one subnet are routed"
		}
	case netmodel.DatapathRouted, netmodel.DatapathCloudRouteTable, netmodel.DatapathCloudNetwork:
		p.Overlay = Overlay{State: NoTunnel, Reason: fmt.Sprintf("%s carries pod traffic between nodes without a tunnel (%s datapath): there is no overlay; the underlay is checked to carry pod-MTU packets", first.Network, dp)}
	case netmodel.DatapathUnknown:
		return nil, fmt.Errorf("%w: the network of node %s is %s and its datapath is unknown: the check cannot tell whether it tunnels ('kubectl podnet summary' shows what was detected)", ErrUnsupported, first.Name, first.Network)
	default:
		return nil, fmt.Errorf("%w: %s tunnels with %s, which keeps no kernel FDB or tunnel routes to probe; the check supports kernel tunnels (Flannel, Calico) and routed models", ErrUnsupported, first.Network, dp)
	}
	return p, nil
}

// tunnelAddr is the node's tunnel device address of the family, invalid when it has none.
func tunnelAddr(nn *netmodel.NodeNetwork, v4 bool) netip.Addr {
	if nn.Tunnel == nil {
		return netip.Addr{}
	}
	for _, s := range nn.Tunnel.Addresses {
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() == v4 {
			return a
		}
	}
	return netip.Addr{}
}

// transport is the node's transport address of the plan's family.
func (p *Plan) transport(nn *netmodel.NodeNetwork) netip.Addr {
	a, _ := netip.ParseAddr(nn.TransportAddr(p.v4))
	return a
}

// Probe is what the node's probe does: its tunnel device, then pings to every other node.
func (p *Plan) Probe(node string) probe.OverlayProbe {
	op := probe.OverlayProbe{Overhead: p.Overlay.Overhead}
	if p.Overlay.State == Tunnel {
		op.Device = p.Overlay.Device
		op.Forwarding = p.Overlay.Kind == "vxlan"
	} else {
		op.Bridge = p.bridge
	}
	for _, nn := range p.Nodes {
		if nn.Name == node {
			continue
		}
		peer := probe.OverlayPeer{Transport: p.transport(nn)}
		if p.Overlay.State == Tunnel {
			peer.Tunnel = tunnelAddr(nn, p.v4)
		}
		op.Peers = append(op.Peers, peer)
	}
	return op
}

// encapName is how a reader calls the encapsulation ("VXLAN").
func encapName(kind string) string {
	if n, ok := map[string]string{"vxlan": "VXLAN", "ipip": "IPIP", "wireguard": "WireGuard", "geneve": "Geneve", "udp": "UDP"}[kind]; ok {
		return n
	}
	return kind
}

// traffic names the tunnel's packets as a firewall rule does ("UDP 8472").
func (o Overlay) traffic() string {
	switch {
	case o.Port > 0:
		return fmt.Sprintf("UDP %d", o.Port)
	case o.Kind == "ipip":
		return "IP protocol 4 (IPIP)"
	}
	return encapName(o.Kind) + " packets"
}

// String is the overlay in one line.
func (o Overlay) String() string {
	if o.State == NoTunnel {
		return "none"
	}
	parts := []string{o.Kind + " " + o.Device}
	if o.Port > 0 {
		parts = append(parts, fmt.Sprintf("UDP %d", o.Port))
	}
	if o.VNI > 0 {
		parts = append(parts, fmt.Sprintf("VNI %d", o.VNI))
	}
	parts = append(parts, fmt.Sprintf("%d bytes overhead", o.Overhead))
	return strings.Join(parts, ", ")
}
