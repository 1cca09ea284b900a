package overlay

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
)

// Report is the overlay check of the chosen nodes; -o json|yaml emit it.
type Report struct {
	Network netmodel.Network `json:"network"`
	Overlay Overlay          `json:"overlay"`
	Nodes   []Node           `json:"nodes"`
	Pairs   []Pair           `json:"pairs"`
	Summary Summary          `json:"summary"`
	// Notes say what could not be checked and why; shown on stderr.
	Notes []string `json:"notes,omitempty"`
}

// Summary counts the pairs by state and the probes that did not run.
type Summary struct {
	Pairs        int `json:"pairs"`
	OK           int `json:"ok"`
	Failed       int `json:"failed"`
	Unknown      int `json:"unknown"`
	ProbesFailed int `json:"probesFailed"`
	// ToolsMissing counts the nodes whose probe image lacked a tool some checks need.
	ToolsMissing int `json:"toolsMissing"`
}

// Node is one probed node: what the model says of it and what its probe saw.
type Node struct {
	Name string `json:"name"`
	Zone string `json:"zone,omitempty"`
	// Transport is the node's underlay address (its tunnel's outer address); Underlay the device
	// that holds it, as the probe saw.
	Transport string `json:"transportAddress"`
	Underlay  string `json:"underlayDevice,omitempty"`
	// TunnelAddress is its tunnel device's address, VTEPMAC the MAC its agent published.
	TunnelAddress string `json:"tunnelAddress,omitempty"`
	VTEPMAC       string `json:"vtepMAC,omitempty"`
	// Probe says whether the probe ran; ProbeError why not.
	Probe      State        `json:"probe"`
	ProbeError string       `json:"probeError,omitempty"`
	Tools      *probe.Tools `json:"tools,omitempty"`
	// Device is the tunnel device as the probe saw it.
	Device *probe.Device `json:"device,omitempty"`
	// PodMTU is the MTU of PodMTUDevice: the tunnel device, else the bridge or the underlay.
	PodMTU       int    `json:"podMTU,omitempty"`
	PodMTUDevice string `json:"podMTUDevice,omitempty"`
	// DeviceCheck judges the tunnel device against the model.
	DeviceCheck *Check `json:"deviceCheck,omitempty"`
}

// Pair is the check between two nodes, both directions.
type Pair struct {
	// Name is "A/B"; A sorts before B.
	Name   string  `json:"name"`
	A      string  `json:"a"`
	B      string  `json:"b"`
	State  State   `json:"state"`
	Checks []Check `json:"checks"`
}

// Kind is what a check looks at.
type Kind string

// Check kinds, in the order a pair shows them.
const (
	KindDevice       Kind = "device"
	KindAgree        Kind = "peers-agree"
	KindFDB          Kind = "fdb"
	KindNeighbour    Kind = "neighbour"
	KindTunnelPing   Kind = "tunnel-ping"
	KindUnderlayPing Kind = "underlay-ping"
	KindTunnelMTU    Kind = "tunnel-mtu"
	KindUnderlayMTU  Kind = "underlay-mtu"
)

// Check is one check on one node (From) or from one node to another (From -> To).
type Check struct {
	Check Kind   `json:"check"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	State State  `json:"state"`
	// Seen is what the probe saw; Cause the likely cause of a failure, or why the check could
	// not be made, with the remedy.
	Seen  string `json:"seen,omitempty"`
	Cause string `json:"cause,omitempty"`
}

// Where is the check's place: "A" or "A -> B".
func (c Check) Where() string {
	if c.To == "" {
		return c.From
	}
	return c.From + " -> " + c.To
}

// DefaultImage is the probe image of the check: it has iproute2 (ip -d, bridge) and iputils'
// ping (-M do).
const DefaultImage = "docker.io/nicolaka/netshoot:v0.13"

// toolsHint is the remedy for an image without the tools.
const toolsHint = "give --image one with iproute2 and iputils (" + DefaultImage + ")"

// Build judges what the probes saw. results are the probes that ran, by node; failed the error of
// each probe that did not.
func Build(plan *Plan, results map[string]*probe.OverlayResult, failed map[string]string) *Report {
	p, configured := configuredTunnel(plan, results)
	r := &Report{Network: p.Network, Overlay: p.Overlay, Nodes: []Node{}, Pairs: []Pair{}}
	if configured != "" {
		r.Notes = append(r.Notes, configured)
	}
	j := judge{p: p, results: results, failed: failed, nodes: map[string]*netmodel.NodeNetwork{}}
	for _, nn := range p.Nodes {
		j.nodes[nn.Name] = nn
		r.Nodes = append(r.Nodes, j.node(nn))
	}
	devices := map[string]*Check{}
	for i := range r.Nodes {
		n := &r.Nodes[i]
		if n.DeviceCheck != nil {
			devices[n.Name] = n.DeviceCheck
		}
		switch {
		case n.Probe != OK:
			r.Summary.ProbesFailed++
			r.Notes = append(r.Notes, fmt.Sprintf("the probe on node %s did not run: %s", n.Name, n.ProbeError))
		case n.Tools != nil && j.lacksTools(*n.Tools):
			r.Summary.ToolsMissing++
			r.Notes = append(r.Notes, fmt.Sprintf("the probe image on node %s lacks %s: the checks that need them are unknown; %s", n.Name, n.Tools.Missing(), toolsHint))
		}
	}
	for i, a := range p.Nodes {
		for _, b := range p.Nodes[i+1:] {
			pair := j.pair(a, b, devices)
			r.Pairs = append(r.Pairs, pair)
			r.Summary.Pairs++
			switch pair.State {
			case OK:
				r.Summary.OK++
			case Failed:
				r.Summary.Failed++
			default:
				r.Summary.Unknown++
			}
		}
	}
	if p.Overlay.State == Tunnel && p.Overlay.Reason != "" {
		r.Notes = append(r.Notes, p.Overlay.Reason)
	}
	return r
}

// configuredTunnel: the model's VXLAN port and VNI are the agent's defaults, which its
// configuration can change (flannel's Port and VNI for Windows nodes, Calico's vxlanPort and
// vxlanVNI). When every probed device is of the model's kind and all agree on another port or VNI,
// that is the configuration: the checks use it, and a note says so. Devices that disagree keep
// the model's, and the device and peers-agree checks say which differ.
func configuredTunnel(p *Plan, results map[string]*probe.OverlayResult) (*Plan, string) {
	if p.Overlay.State != Tunnel {
		return p, ""
	}
	port, vni, n := 0, 0, 0
	for _, r := range results {
		if r == nil || r.Device == nil {
			continue
		}
		d := r.Device
		if !d.Present || !d.Detailed || d.Kind != p.Overlay.Kind {
			continue
		}
		if n > 0 && (d.Port != port || d.VNI != vni) {
			return p, ""
		}
		port, vni, n = d.Port, d.VNI, n+1
	}
	o := p.Overlay
	if n == 0 || (port == o.Port || port == 0) && (vni == o.VNI || o.VNI == 0) {
		return p, ""
	}
	c := *p
	note := fmt.Sprintf("the %s devices use", o.Device)
	if port != 0 && port != o.Port {
		note += fmt.Sprintf(" UDP %d", port)
		c.Overlay.Port = port
	}
	if o.VNI != 0 && vni != o.VNI {
		note += fmt.Sprintf(" VNI %d", vni)
		c.Overlay.VNI = vni
	}
	return &c, note + fmt.Sprintf(", not %s's defaults (UDP %d, VNI %d): its configuration says so; the checks use theirs", p.Agent, o.Port, o.VNI)
}

// judge holds what the checks read.
type judge struct {
	p       *Plan
	results map[string]*probe.OverlayResult
	failed  map[string]string
	nodes   map[string]*netmodel.NodeNetwork
}

// lacksTools reports whether the image lacks a tool the plan's checks need.
func (j *judge) lacksTools(t probe.Tools) bool {
	if !t.IPutils {
		return true
	}
	return j.p.Overlay.State == Tunnel && (!t.IPRoute2 || j.p.Overlay.Kind == "vxlan" && !t.Bridge)
}

func (j *judge) node(nn *netmodel.NodeNetwork) Node {
	n := Node{Name: nn.Name, Zone: nn.Node().Zone, Transport: j.p.transport(nn).String(), Probe: OK}
	if t := tunnelAddr(nn, j.p.v4); t.IsValid() {
		n.TunnelAddress = t.String()
	}
	if nn.Tunnel != nil {
		n.VTEPMAC = nn.Tunnel.MAC
	}
	res := j.results[nn.Name]
	if res == nil {
		n.Probe, n.ProbeError = Failed, j.failed[nn.Name]
		if n.ProbeError == "" {
			n.ProbeError = "no output"
		}
	} else {
		tools := res.Tools
		n.Tools, n.Device, n.PodMTU, n.PodMTUDevice = &tools, res.Device, res.PodMTU, res.PodMTUDevice
		n.Underlay = deviceWith(res.Links, n.Transport)
	}
	if j.p.Overlay.State == Tunnel {
		c := j.deviceCheck(nn, &n, res)
		n.DeviceCheck = &c
	}
	return n
}

// deviceWith is the link holding the address, "" when none does.
func deviceWith(links []probe.Link, addr string) string {
	for _, l := range links {
		for _, a := range l.Addrs {
			if ip, _, _ := strings.Cut(a.CIDR, "/"); ip == addr {
				return l.Name
			}
		}
	}
	return ""
}

// deviceCheck judges the node's tunnel device against the model.
func (j *judge) deviceCheck(nn *netmodel.NodeNetwork, n *Node, res *probe.OverlayResult) Check {
	o := j.p.Overlay
	c := Check{Check: KindDevice, From: nn.Name}
	d := n.Device
	switch {
	case res == nil:
		c.State, c.Cause = Unknown, "the probe on "+nn.Name+" did not run"
		return c
	case d == nil:
		c.State, c.Cause = Unknown, "the probe did not read "+o.Device
		return c
	case !d.Present:
		c.State, c.Seen = Failed, "missing: "+d.Error
		c.Cause = fmt.Sprintf("node %s has no %s: %s has not set up its tunnel there: check %s on %s", nn.Name, o.Device, j.p.Agent, j.p.Agent, nn.Name)
		return c
	}
	c.Seen = describeDevice(d)
	if !d.Detailed {
		c.State, c.Cause = Unknown, fmt.Sprintf("the probe image's ip shows no tunnel details (VNI, port, local address, underlay): %s", toolsHint)
		if !d.Up {
			c.State, c.Cause = Failed, fmt.Sprintf("%s on %s is down: restart %s on %s", o.Device, nn.Name, j.p.Agent, nn.Name)
		}
		return c
	}
	var faults []string
	if d.Kind != o.Kind {
		faults = append(faults, fmt.Sprintf("%s on %s is a %s device, the model's is %s", o.Device, nn.Name, d.Kind, o.Kind))
	}
	if o.VNI > 0 && d.VNI != o.VNI {
		faults = append(faults, fmt.Sprintf("it has VNI %d, the model says %d", d.VNI, o.VNI))
	}
	if o.Port > 0 && d.Port > 0 && d.Port != o.Port {
		faults = append(faults, fmt.Sprintf("it sends to UDP %d, the model's port is %d: the peers listen on theirs", d.Port, o.Port))
	}
	// (a transport address on none of the node's links is a public address, NAT's or one the
	// admin set: the device then sends from its interface's own)
	if d.Local != "" && d.Local != n.Transport && n.Underlay != "" {
		faults = append(faults, fmt.Sprintf("it sends from %s, but the node's transport address, where the peers send, is %s (%s): %s", d.Local, n.Transport, nn.TransportSource, j.p.InterfaceHint))
	}
	if d.Underlay != "" && n.Underlay != "" && d.Underlay != n.Underlay {
		faults = append(faults, fmt.Sprintf("it is bound to %s, but the transport address %s is on %s: %s", d.Underlay, n.Transport, n.Underlay, j.p.InterfaceHint))
	}
	if !d.Up {
		faults = append(faults, fmt.Sprintf("it is down: restart %s on %s", j.p.Agent, nn.Name))
	}
	if n.VTEPMAC != "" && d.MAC != "" && !strings.EqualFold(n.VTEPMAC, d.MAC) {
		faults = append(faults, fmt.Sprintf("its MAC is %s, but %s publishes %s for the peers: they program a VTEP that is gone; restart %s on %s so that it publishes again",
			d.MAC, j.p.Agent, n.VTEPMAC, j.p.Agent, nn.Name))
	}
	if len(faults) > 0 {
		c.State, c.Cause = Failed, strings.Join(faults, "; ")
		return c
	}
	c.State = OK
	return c
}

// describeDevice is the device as ip would sum it up.
func describeDevice(d *probe.Device) string {
	var f []string
	if d.Kind != "" {
		f = append(f, d.Kind)
	}
	if d.VNI > 0 {
		f = append(f, fmt.Sprintf("id %d", d.VNI))
	}
	if d.Local != "" {
		f = append(f, "local "+d.Local)
	}
	if d.Underlay != "" {
		f = append(f, "dev "+d.Underlay)
	}
	if d.Port > 0 {
		f = append(f, fmt.Sprintf("dstport %d", d.Port))
	}
	if d.MAC != "" {
		f = append(f, "mac "+d.MAC)
	}
	f = append(f, fmt.Sprintf("mtu %d", d.MTU))
	if d.Up {
		f = append(f, "up")
	} else {
		f = append(f, "down")
	}
	return strings.Join(f, " ")
}

// pair checks a and b in both directions.
func (j *judge) pair(a, b *netmodel.NodeNetwork, devices map[string]*Check) Pair {
	pr := Pair{Name: a.Name + "/" + b.Name, A: a.Name, B: b.Name, State: OK}
	add := func(cs ...Check) {
		for _, c := range cs {
			pr.Checks = append(pr.Checks, c)
			pr.State = worse(pr.State, c.State)
		}
	}
	ab, ba := j.direction(a, b), j.direction(b, a)
	if j.p.Overlay.State == Tunnel {
		add(*devices[a.Name], *devices[b.Name], j.agree(a, b))
		if j.p.Overlay.Kind == "vxlan" {
			add(ab.fdb(), ba.fdb(), ab.neighbour(), ba.neighbour())
		}
		add(ab.tunnelPing(), ba.tunnelPing())
	}
	add(ab.underlayPing(), ba.underlayPing())
	if j.p.Overlay.State == Tunnel {
		add(ab.tunnelMTU(), ba.tunnelMTU())
	}
	add(ab.underlayMTU(), ba.underlayMTU())
	return pr
}

// agree compares the two tunnel devices with each other.
func (j *judge) agree(a, b *netmodel.NodeNetwork) Check {
	c := Check{Check: KindAgree, From: a.Name, To: b.Name}
	da, db := j.device(a.Name), j.device(b.Name)
	if da == nil || db == nil || !da.Detailed || !db.Detailed {
		c.State, c.Cause = Unknown, "the devices of both nodes are needed in detail (see device)"
		return c
	}
	params := func(d *probe.Device) string {
		s := d.Kind
		if d.VNI > 0 {
			s += fmt.Sprintf(" VNI %d", d.VNI)
		}
		if d.Port > 0 {
			s += fmt.Sprintf(" UDP %d", d.Port)
		}
		return s
	}
	pa, pb := params(da), params(db)
	if pa != pb {
		c.State, c.Seen = Failed, fmt.Sprintf("%s: %s; %s: %s", a.Name, pa, b.Name, pb)
		c.Cause = fmt.Sprintf("%s on %s and %s disagree: each drops the other's packets; give every node the same %s configuration", j.p.Overlay.Device, a.Name, b.Name, j.p.Agent)
		return c
	}
	c.State, c.Seen = OK, pa+" on both"
	return c
}

// device is the node's tunnel device as its probe saw it, nil when unseen or absent.
func (j *judge) device(node string) *probe.Device {
	if r := j.results[node]; r != nil && r.Device != nil && r.Device.Present {
		return r.Device
	}
	return nil
}

// direction is one node's view of a peer.
type direction struct {
	j        *judge
	from, to *netmodel.NodeNetwork
	res      *probe.OverlayResult
	// fromIP, toIP are the transport addresses, toTunnel the peer's tunnel address
	fromIP, toIP, toTunnel netip.Addr
}

func (j *judge) direction(from, to *netmodel.NodeNetwork) direction {
	return direction{j: j, from: from, to: to, res: j.results[from.Name], fromIP: j.p.transport(from), toIP: j.p.transport(to), toTunnel: tunnelAddr(to, j.p.v4)}
}

func (d direction) check(k Kind) Check {
	return Check{Check: k, From: d.from.Name, To: d.to.Name}
}

// notRun is the check when the probe on the source node did not run.
func (d direction) notRun(k Kind) (Check, bool) {
	c := d.check(k)
	if d.res == nil {
		c.State, c.Cause = Unknown, "the probe on "+d.from.Name+" did not run"
		return c, true
	}
	return c, false
}

// peerMAC is the peer's VTEP MAC: its device's as its probe saw it, else what its agent published.
func (d direction) peerMAC() string {
	if dev := d.j.device(d.to.Name); dev != nil && dev.MAC != "" {
		return dev.MAC
	}
	if d.to.Tunnel != nil {
		return d.to.Tunnel.MAC
	}
	return ""
}

// notProgrammed is the cause of a missing entry.
func (d direction) notProgrammed(what string) string {
	return fmt.Sprintf("%s on %s has not programmed %s's VTEP (%s): check %s's log on %s", d.j.p.Agent, d.from.Name, d.to.Name, what, d.j.p.Agent, d.from.Name)
}
