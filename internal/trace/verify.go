package trace

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/probe"
)

// Observation is what a probe saw in one network namespace (a pod's or a node's).
type Observation struct {
	// In is the namespace, as a Lookup names it: "pod NS/NAME" or "node NAME".
	In string
	// Probe names what ran there (the ephemeral container or the node pod).
	Probe  string
	Result *probe.PathResult
	// NodeAddresses are the node's InternalIPs, to find its interface (nodes only).
	NodeAddresses []string
	// Err is why the probe could not run.
	Err error
}

// Verification is the path checked against what the kernel says, hop by hop.
type Verification struct {
	Checks  []Check       `json:"checks"`
	Devices []DeviceCheck `json:"devices,omitempty"`
	Connect *ConnectCheck `json:"connect,omitempty"`
	// Mismatches counts the checks that disagree (failed probes not included).
	Mismatches int `json:"mismatches"`
}

// Status is the outcome of one check of the live path.
type Status string

// Check statuses.
const (
	StatusOK       Status = "ok"
	StatusMismatch Status = "mismatch"
	// StatusNotProbed: the place cannot be seen from inside the cluster (the cloud).
	StatusNotProbed Status = "not-probed"
	// StatusFailed: the probe did not run or said nothing of this check.
	StatusFailed Status = "failed"
	// StatusPresent: the device exists, and the probe's ip shows no details of it.
	StatusPresent Status = "present"
)

// Check is one hop's routing decision, expected and seen.
type Check struct {
	Hop      int    `json:"hop"`
	In       string `json:"in"`
	Expected string `json:"expected"`
	Seen     string `json:"seen,omitempty"`
	Status   Status `json:"status"`
	Reason   string `json:"reason,omitempty"`
	Cause    string `json:"likelyCause,omitempty"`
}

// DeviceCheck is a tunnel device on a node, expected and seen: the device itself, or (Aspect) its
// forwarding entry for the tunnel's far end.
type DeviceCheck struct {
	In       string `json:"in"`
	Device   string `json:"device"`
	Aspect   Aspect `json:"aspect"`
	Expected string `json:"expected"`
	Seen     string `json:"seen,omitempty"`
	Status   Status `json:"status"`
	Reason   string `json:"reason,omitempty"`
	Cause    string `json:"likelyCause,omitempty"`
}

// Aspect is what a DeviceCheck looks at.
type Aspect string

// Aspects of a tunnel device.
const (
	// AspectDevice: kind, VNI, port, local address, underlay device, state.
	AspectDevice Aspect = "device"
	// AspectNeighbour: the next hop's neighbour entry on the device (the far VTEP's MAC).
	AspectNeighbour Aspect = "neighbour"
	// AspectFDB: the forwarding entry of that MAC (the outer destination).
	AspectFDB Aspect = "fdb"
)

// ConnectCheck is the TCP connection from the source.
type ConnectCheck struct {
	From   string           `json:"from"`
	To     string           `json:"to"`
	Result probe.Connection `json:"result"`
	Output string           `json:"output,omitempty"`
	Cause  string           `json:"likelyCause,omitempty"`
	// Expected is what the model predicts: connected, or blocked when an enforced policy denies
	// the traffic; "" when it cannot say (an unknown verdict, enforcement unknown).
	Expected Expectation `json:"expected,omitempty"`
	// Agrees reports whether the result is what the model predicted.
	Agrees bool `json:"agrees"`
}

// Expectation is what a connection is predicted to do.
type Expectation string

// Expectations.
const (
	ExpectConnected Expectation = "connected"
	ExpectBlocked   Expectation = "blocked by policy"
)

// Probes are the namespaces --probe must read, with what to read in each: the destinations of
// the hops' lookups, and the tunnel devices of nodes.
func (p *Path) Probes() map[string]*probe.PathProbe {
	out := map[string]*probe.PathProbe{}
	get := func(in string) *probe.PathProbe {
		if out[in] == nil {
			out[in] = &probe.PathProbe{}
		}
		return out[in]
	}
	for _, h := range p.Hops {
		if l := h.Lookup; l != nil && l.In != "cloud" {
			pp := get(l.In)
			q := probe.RouteQuery{Iif: l.Iif}
			q.Dst, _ = netip.ParseAddr(l.Dst)
			q.From, _ = netip.ParseAddr(l.From)
			if q.Dst.IsValid() && !slices.Contains(pp.Lookups, q) {
				pp.Lookups = append(pp.Lookups, q)
			}
		}
	}
	for _, d := range p.tunnelDevices() {
		pp := get(d.in)
		if !slices.Contains(pp.Devices, d.device) {
			pp.Devices = append(pp.Devices, d.device)
		}
		if d.nextHop != "" && !slices.Contains(pp.Forwarding, d.device) {
			pp.Forwarding = append(pp.Forwarding, d.device)
		}
	}
	return out
}

type tunnelDevice struct {
	in, device string
	encap      *Encap
	local      string // the outer address this end should use
	// localIsInternalIP: that address is the node's InternalIP (not one its CNI publishes)
	localIsInternalIP bool
	// hint says how to make the agent use the right interface
	hint string
	// nextHop is the far end's tunnel address the route goes via (the sending end of a VXLAN
	// tunnel only: its neighbour and FDB entries are checked); peerMAC is the far VTEP's MAC as
	// its agent published it ("" when the model does not say); peer names the far node.
	nextHop, peerMAC, peer string
}

// tunnelDevices are the tunnel's two ends: the device on the source's node and on the
// destination's.
func (p *Path) tunnelDevices() []tunnelDevice {
	var enc *Encap
	var srcIn string
	for _, h := range p.Hops {
		if h.Encap != nil {
			enc, srcIn = h.Encap, h.Where
			break
		}
	}
	if enc == nil {
		return nil
	}
	hint := p.src.Model().InterfaceHint()
	out := []tunnelDevice{{in: srcIn, device: enc.Device, encap: enc, local: enc.OuterSrc, localIsInternalIP: p.transportIsInternalIP(srcIn), hint: hint}}
	for _, h := range p.Hops {
		if h.Where != srcIn && strings.HasPrefix(h.Where, "node ") && h.Device == enc.Device {
			out = append(out, tunnelDevice{in: h.Where, device: enc.Device, encap: enc, local: enc.OuterDst, localIsInternalIP: p.transportIsInternalIP(h.Where), hint: hint})
		}
	}
	// a VXLAN device's route to the far end goes via its tunnel address: the kernel finds the far
	// VTEP's MAC in the neighbour table and the outer destination in the FDB, both programmed by the agent
	if len(out) == 2 && strings.HasPrefix(enc.Kind, "vxlan") {
		for _, h := range p.Hops {
			if h.Encap == enc && h.Lookup != nil && h.Lookup.Via != "" && h.Lookup.Dev == enc.Device {
				out[0].nextHop, out[0].peer = h.Lookup.Via, strings.TrimPrefix(out[1].in, "node ")
				for _, n := range p.Nodes {
					if n.Name == out[0].peer && n.Tunnel != nil {
						out[0].peerMAC = n.Tunnel.MAC
					}
				}
			}
		}
	}
	return out
}

// Verify compares the path's predicted routing decisions and tunnel devices with what the probes
// saw, and names a likely cause for each disagreement.
func (p *Path) Verify(obs map[string]*Observation) *Verification {
	v := &Verification{Checks: []Check{}}
	for i, h := range p.Hops {
		l := h.Lookup
		if l == nil {
			continue
		}
		c := Check{Hop: i + 1, In: l.In, Expected: l.String()}
		o := obs[l.In]
		switch {
		case l.In == "cloud":
			c.Status, c.Reason = StatusNotProbed, "the cloud's route table cannot be seen from inside the cluster"
			c.Cause = p.src.Model().CloudHint(p.src.Node())
		case o == nil || o.Err != nil:
			c.Status = StatusFailed
			if o != nil {
				c.Reason = o.Err.Error()
			}
		default:
			seen, ok := o.Result.Routes[l.Query()]
			if !ok {
				c.Status, c.Reason = StatusFailed, "the probe's output has no answer for "+l.Query()
				break
			}
			c.Seen = seen.String()
			ifaces := o.Result.Snapshot.InterfacesWith(o.NodeAddresses...)
			if match, why := l.Match(seen, ifaces); match {
				c.Status = StatusOK
			} else {
				c.Status, c.Reason, c.Cause = StatusMismatch, why, p.likelyCause(h, l, seen, ifaces)
				v.Mismatches++
			}
		}
		v.Checks = append(v.Checks, c)
	}
	for _, td := range p.tunnelDevices() {
		d := DeviceCheck{In: td.in, Device: td.device, Aspect: AspectDevice, Expected: expectedDevice(td)}
		o := obs[td.in]
		switch {
		case o == nil || o.Err != nil:
			d.Status = StatusFailed
			if o != nil {
				d.Reason = o.Err.Error()
			}
		default:
			seen, ok := o.Result.Devices[td.device]
			switch {
			case !ok:
				d.Status, d.Reason = StatusFailed, "the probe's output has no answer for "+td.device
			case !seen.Present:
				d.Status, d.Seen, d.Reason = StatusMismatch, "missing", seen.Error
				d.Cause = fmt.Sprintf("%s has not set up its tunnel on this node: is its agent running and healthy there?", p.src.Model().Agent())
				v.Mismatches++
			default:
				d.Seen = describeDevice(seen)
				d.Status, d.Reason, d.Cause = compareDevice(td, seen, o.Result.Snapshot.InterfacesWith(td.local))
				if d.Status == StatusMismatch {
					v.Mismatches++
				}
			}
		}
		v.Devices = append(v.Devices, d)
		if td.nextHop != "" && p.routesByTunnel(td, o) {
			for _, f := range p.forwardingChecks(td, o) {
				if f.Status == StatusMismatch {
					v.Mismatches++
				}
				v.Devices = append(v.Devices, f)
			}
		}
	}
	return v
}

// routesByTunnel reports whether the sending end's route to the far end uses the tunnel device as
// seen (or could not be seen): when it leaves by another device (flannel's DirectRouting within a
// subnet, or no tunnel route, which the route check reports) there are no VTEP entries to check.
func (p *Path) routesByTunnel(td tunnelDevice, o *Observation) bool {
	if o == nil || o.Err != nil || o.Result == nil {
		return true
	}
	for _, h := range p.Hops {
		if h.Where == td.in && h.Encap != nil && h.Lookup != nil {
			if seen, ok := o.Result.Routes[h.Lookup.Query()]; ok && seen.Error == "" && seen.Dev != "" && seen.Dev != td.device {
				return false
			}
		}
	}
	return true
}

// forwardingChecks check the sending end's neighbour entry for the far end's tunnel address (the
// far VTEP's MAC, which its agent publishes) and the FDB entry of that MAC (the far node's
// transport address): the two entries a VXLAN device without learning sends by.
func (p *Path) forwardingChecks(td tunnelDevice, o *Observation) []DeviceCheck {
	agent := p.src.Model().Agent()
	mac := td.peerMAC
	neigh := DeviceCheck{In: td.in, Device: td.device, Aspect: AspectNeighbour, Expected: td.nextHop + " lladdr " + orText(mac, "(the far VTEP's MAC)")}
	fdb := DeviceCheck{In: td.in, Device: td.device, Aspect: AspectFDB, Expected: orText(mac, "(the far VTEP's MAC)") + " dst " + td.encap.OuterDst}
	if o == nil || o.Err != nil || o.Result == nil {
		neigh.Status, fdb.Status = StatusFailed, StatusFailed
		if o != nil && o.Err != nil {
			neigh.Reason, fdb.Reason = o.Err.Error(), o.Err.Error()
		}
		return []DeviceCheck{neigh, fdb}
	}
	ns, ok := o.Result.Neighbours[td.device]
	switch {
	case !ok:
		neigh.Status, neigh.Reason = StatusFailed, "the probe's output has no neighbours of "+td.device
	case ns.Error != "":
		neigh.Status, neigh.Reason = StatusFailed, "ip neigh failed: "+ns.Error
	default:
		var seen *probe.Neighbour
		for i := range ns.Entries {
			if ns.Entries[i].Dst == td.nextHop {
				seen = &ns.Entries[i]
			}
		}
		switch {
		case seen == nil || seen.LLAddr == "":
			neigh.Status, neigh.Seen = StatusMismatch, "no entry"
			neigh.Reason = "no neighbour entry for " + td.nextHop + " on " + td.device
			neigh.Cause = fmt.Sprintf("%s on this node has not programmed node %s's VTEP (it writes the entry when it learns the node): is it running, and does it see node %s? Its log says why", agent, td.peer, td.peer)
		case mac != "" && !strings.EqualFold(seen.LLAddr, mac):
			neigh.Status, neigh.Seen = StatusMismatch, td.nextHop+" lladdr "+seen.LLAddr
			neigh.Reason = "the entry names " + seen.LLAddr + ", node " + td.peer + " publishes " + mac
			neigh.Cause = fmt.Sprintf("a stale entry: node %s's tunnel device was re-created with a new MAC and %s here has not caught up (restart it on this node)", td.peer, agent)
		default:
			neigh.Status, neigh.Seen = StatusOK, td.nextHop+" lladdr "+seen.LLAddr
			if mac == "" {
				mac = seen.LLAddr // the FDB entry must carry the MAC the neighbour names
				fdb.Expected = mac + " dst " + td.encap.OuterDst
			}
		}
	}
	fs, ok := o.Result.FDB[td.device]
	switch {
	case !ok:
		fdb.Status, fdb.Reason = StatusFailed, "the probe's output has no FDB of "+td.device
	case fs.Error != "":
		fdb.Status, fdb.Reason = StatusFailed, "bridge fdb failed ("+fs.Error+"): give --image one with iproute2's bridge to check the FDB"
	case mac == "":
		fdb.Status, fdb.Reason = StatusFailed, "the far VTEP's MAC is not known (no neighbour entry, and the model does not publish it)"
	default:
		var dsts []string
		for _, e := range fs.Entries {
			if strings.EqualFold(e.MAC, mac) && e.Dst != "" {
				dsts = append(dsts, e.Dst)
			}
		}
		switch {
		case len(dsts) == 0:
			fdb.Status, fdb.Seen = StatusMismatch, "no entry"
			fdb.Reason = "no FDB entry for " + mac + " on " + td.device
			fdb.Cause = fmt.Sprintf("%s on this node has not programmed node %s's VTEP: packets to its pods are encapsulated to nowhere (look at %s's log on this node)", agent, td.peer, agent)
		case !slices.Contains(dsts, td.encap.OuterDst):
			fdb.Status, fdb.Seen = StatusMismatch, mac+" dst "+strings.Join(dsts, ",")
			fdb.Reason = "the outer destination is " + strings.Join(dsts, ",") + ", not " + td.encap.OuterDst
			fdb.Cause = fmt.Sprintf("node %s's VTEP is sent to an old address (the node was re-addressed, or publishes another address than the one it is reached at): restart %s on this node, or fix the node's public address", td.peer, agent)
		default:
			fdb.Status, fdb.Seen = StatusOK, mac+" dst "+td.encap.OuterDst
		}
	}
	return []DeviceCheck{neigh, fdb}
}

func expectedDevice(td tunnelDevice) string {
	e := td.encap
	s := strings.Fields(e.Kind)[0]
	if e.VNI > 0 {
		s += fmt.Sprintf(" VNI %d", e.VNI)
	}
	if e.Port > 0 {
		s += fmt.Sprintf(" UDP %d", e.Port)
	}
	if td.local != "" && td.local != "?" {
		s += " local " + td.local
	}
	return s + ", up"
}

func describeDevice(d probe.Device) string {
	var parts []string
	if d.Kind != "" {
		parts = append(parts, d.Kind)
	}
	switch {
	case d.External:
		parts = append(parts, "external (VNI per packet)")
	case d.VNI > 0:
		parts = append(parts, fmt.Sprintf("VNI %d", d.VNI))
	}
	if d.Port > 0 {
		parts = append(parts, fmt.Sprintf("UDP %d", d.Port))
	}
	if d.Local != "" {
		parts = append(parts, "local "+d.Local)
	}
	if d.Underlay != "" {
		parts = append(parts, "dev "+d.Underlay)
	}
	s := strings.Join(parts, " ")
	if s != "" {
		s += ", "
	}
	if d.Up {
		s += "up"
	} else {
		s += "down"
	}
	if d.MTU > 0 {
		s += fmt.Sprintf(", mtu %d", d.MTU)
	}
	return s
}

// compareDevice checks a present tunnel device against the model: state, kind, VNI, port and the
// local address (the node's transport address: an agent that picked another interface breaks the tunnel).
func compareDevice(td tunnelDevice, d probe.Device, localIfaces []string) (status Status, reason, cause string) {
	e := td.encap
	if !d.Up {
		return StatusMismatch, "the device is down", "the CNI agent has not brought its tunnel up, or someone set it down: ip link set " + td.device + " up, then look at the agent's logs"
	}
	if !d.Detailed {
		return StatusPresent, "the probe image's ip shows no details (busybox): give --image one with iproute2 to check the VNI, port and local address", ""
	}
	kind := strings.Fields(e.Kind)[0]
	switch {
	case d.Kind != "" && d.Kind != kind:
		return StatusMismatch, fmt.Sprintf("the device is %s, the model says %s", d.Kind, kind), "the node runs another encapsulation than the one detected: the CNI configuration differs between nodes"
	case e.VNI > 0 && !d.External && d.VNI != e.VNI:
		return StatusMismatch, fmt.Sprintf("VNI %d, not %d", d.VNI, e.VNI), "nodes disagree on the VNI: packets from other nodes are dropped on arrival; align the CNI configuration"
	case e.Port > 0 && d.Port > 0 && d.Port != e.Port:
		return StatusMismatch, fmt.Sprintf("UDP port %d, not %d", d.Port, e.Port), "nodes disagree on the VXLAN port, or a firewall rule was written for the other one"
	case d.Local != "" && td.local != "" && td.local != "?" && d.Local != td.local && td.localIsInternalIP:
		return StatusMismatch, fmt.Sprintf("local address %s, not the node's InternalIP %s", d.Local, td.local),
			"the agent picked another interface for the tunnel (several NICs?): other nodes send to the InternalIP; " + td.hint
	case d.Local != "" && td.local != "" && td.local != "?" && d.Local != td.local:
		return StatusMismatch, fmt.Sprintf("local address %s, not %s, the address the CNI publishes for the node", d.Local, td.local),
			"the agent bound the tunnel to another interface than the address it publishes (several NICs?): other nodes send to " + td.local + "; " + td.hint
	case d.Underlay != "" && len(localIfaces) > 0 && !slices.Contains(localIfaces, d.Underlay):
		return StatusMismatch, fmt.Sprintf("outer packets leave by %s, but %s is on %s", d.Underlay, td.local, strings.Join(localIfaces, ",")),
			"the agent bound the tunnel to another interface than the one holding its address: " + td.hint
	}
	return StatusOK, "", ""
}

// likelyCause names the usual reason for a routing decision that differs from the model.
func (p *Path) likelyCause(h Hop, l *Lookup, seen probe.RouteAnswer, ifaces []string) string {
	pod := strings.HasPrefix(l.In, "pod ")
	m := p.src.Model()
	tunnel := h.Encap != nil || m.GatewayDevice() != "" && l.Dev == m.GatewayDevice()
	agent := m.Agent()
	switch {
	case seen.Error == "No route to host" && l.Iif != "":
		return "the node does not forward the pod's packets: IP forwarding is off (sysctl net.ipv4.ip_forward=0; kubelet and CNI plugins turn it on) or an unreachable route matches"
	case seen.Error == "Invalid argument" && l.Iif != "" && m.KeepsBlackholes():
		return "a blackhole route matches " + l.Dst + " (" + agent + " keeps one for each block the node owns), or the reverse-path filter rejects " + l.From + " arriving on " + l.Iif + " (rp_filter=1 with asymmetric routes)"
	case seen.Error == "Invalid argument" && l.Iif != "":
		return "a blackhole or prohibit route matches " + l.Dst + " (ip route show type blackhole), or the reverse-path filter rejects " + l.From + " arriving on " + l.Iif + " (rp_filter=1 with asymmetric routes)"
	case seen.Error == "Invalid argument" && m.KeepsBlackholes():
		return "a blackhole or prohibit route matches " + l.Dst + " here: " + agent + " keeps a blackhole route for each IPAM block the node owns, so the address may be in a block affine to this node while the pod runs elsewhere (look at the IPAM blocks: kubectl podnet cidr-usage)"
	case seen.Error == "Invalid argument":
		return "a blackhole or prohibit route matches " + l.Dst + " here (ip route show type blackhole): another agent or an administrator added it"
	case seen.Error != "" && pod:
		return "the pod has no route: its network was not set up (look at the kubelet's and " + agent + "'s logs on node " + p.Src.Node + ")"
	case seen.Error != "":
		return "the node has no route at all to " + l.Dst + ": no default route, and none for the pod CIDR; is " + agent + " running here?"
	case l.Local:
		return l.Dst + " is not an address of this node: the InternalIP in the API differs from the node's interfaces (was the node re-addressed?)"
	case seen.Type != "":
		return "a " + seen.Type + " route matches " + l.Dst + " here: the packet is dropped or kept on this node"
	case pod && seen.Dev != l.Dev && l.Dev != "":
		return "the pod's route leaves by another interface than eth0: a second network (Multus?) or a custom route in the pod"
	case pod:
		return "the pod's gateway is not the model's: the pod was set up by another CNI configuration than the one detected (a leftover /etc/cni/net.d file on the node?)"
	case tunnel && !l.NodeInterface && slices.Contains(ifaces, seen.Dev):
		return fmt.Sprintf("no tunnel route for %s on this node, so it follows the node's own routes out of %s unencapsulated and the underlay drops it: %s has not programmed the route (agent down, or the destination node unknown to it)", l.Dst, seen.Dev, agent)
	case tunnel && seen.Dev == l.Dev && seen.Via != l.Via && l.Via != "":
		return fmt.Sprintf("wrong tunnel endpoint: the route goes via %s, but the destination node's tunnel address is %s: a stale route (the node was re-created or re-addressed) or its annotation is out of date", seen.Via, l.Via)
	case l.NodeInterface && seen.Dev != "" && !slices.Contains(ifaces, seen.Dev):
		return fmt.Sprintf("the route leaves by %s, not the node's interface: a tunnel or VPN route of another agent captures this destination", seen.Dev)
	case l.NodeInterface && l.Via != "" && seen.Via != l.Via:
		return fmt.Sprintf("next hop %s is not node %s's address %s: a stale route (node replaced?) or the routing daemon has not learnt the new one", orText(seen.Via, "none (on-link)"), p.Dst.Node, l.Via)
	case h.Where == "node "+p.Dst.Node:
		return "the destination's own node does not route " + l.Dst + " into a pod: the pod's veth or host route is gone (pod restarted on another node with a stale IP?) or another agent owns the address"
	}
	return "the node's routes differ from what " + agent + " programs for this model"
}

// transportIsInternalIP reports whether the node in the place ("node NAME") is sent its pods'
// traffic at one of its InternalIPs.
func (p *Path) transportIsInternalIP(where string) bool {
	for _, n := range p.Nodes {
		if "node "+n.Name == where {
			for _, a := range n.Transport {
				if !slices.Contains(n.Node().InternalIPs, a) {
					return false
				}
			}
		}
	}
	return true
}
