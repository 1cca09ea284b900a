package overlay

import (
	"fmt"
	"slices"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/probe"
)

// fdb checks the source's FDB entry for the peer's VTEP: its MAC, sent to the peer's transport
// address.
func (d direction) fdb() Check {
	c, skip := d.notRun(KindFDB)
	if skip {
		return c
	}
	if c, direct := d.routedDirectly(KindFDB); direct {
		return c
	}
	dev := d.j.p.Overlay.Device
	switch {
	case d.j.device(d.from.Name) == nil:
		c.State, c.Cause = Unknown, fmt.Sprintf("%s has no %s to read (see device)", d.from.Name, dev)
		return c
	case d.res.FDBError != "" && !d.res.Tools.Bridge:
		c.State, c.Cause = Unknown, "the probe image has no iproute2 bridge to read the FDB: "+toolsHint
		return c
	case d.res.FDBError != "":
		c.State, c.Cause = Unknown, "bridge fdb failed: "+d.res.FDBError
		return c
	}
	want, dst := d.peerMAC(), d.toIP.String()
	var byMAC, byDst *probe.FDBEntry
	for i := range d.res.FDB {
		e := &d.res.FDB[i]
		if want != "" && strings.EqualFold(e.MAC, want) && (byMAC == nil || e.Dst == dst) {
			byMAC = e
		}
		if e.Dst == dst && byDst == nil {
			byDst = e
		}
	}
	switch {
	case byMAC != nil && byMAC.Dst == dst:
		c.State, c.Seen = OK, fmt.Sprintf("%s dst %s", byMAC.MAC, byMAC.Dst)
	case byMAC != nil:
		c.State, c.Seen = Failed, fmt.Sprintf("%s dst %s", byMAC.MAC, byMAC.Dst)
		c.Cause = fmt.Sprintf("%s on %s sends %s's VTEP traffic to %s, not to its transport address %s: the entry is stale; restart %s on %s",
			d.j.p.Agent, d.from.Name, d.to.Name, byMAC.Dst, dst, d.j.p.Agent, d.from.Name)
	case byDst != nil && want != "":
		c.State, c.Seen = Failed, fmt.Sprintf("%s dst %s", byDst.MAC, byDst.Dst)
		c.Cause = fmt.Sprintf("%s's FDB has %s for %s, but %s's VTEP MAC is %s: %s's tunnel device was re-created and %s on %s has not caught up; restart %s on %s",
			d.from.Name, byDst.MAC, dst, d.to.Name, want, d.to.Name, d.j.p.Agent, d.from.Name, d.j.p.Agent, d.from.Name)
	case byDst != nil:
		c.State, c.Seen = OK, fmt.Sprintf("%s dst %s (%s's VTEP MAC is not known to compare)", byDst.MAC, byDst.Dst, d.to.Name)
	default:
		c.State, c.Seen = Failed, "no entry"
		what := "no FDB entry with dst " + dst + " on " + dev
		if want != "" {
			what = "no FDB entry " + want + " dst " + dst + " on " + dev
		}
		c.Cause = d.notProgrammed(what)
	}
	return c
}

// neighbour checks the source's neighbour entry for the peer's tunnel address: the peer's VTEP MAC.
func (d direction) neighbour() Check {
	c, skip := d.notRun(KindNeighbour)
	if skip {
		return c
	}
	if c, direct := d.routedDirectly(KindNeighbour); direct {
		return c
	}
	dev := d.j.p.Overlay.Device
	switch {
	case d.j.device(d.from.Name) == nil:
		c.State, c.Cause = Unknown, fmt.Sprintf("%s has no %s to read (see device)", d.from.Name, dev)
		return c
	case d.res.NeighError != "":
		c.State, c.Cause = Unknown, "ip neigh failed: "+d.res.NeighError
		return c
	}
	want, addr := d.peerMAC(), d.toTunnel.String()
	for _, n := range d.res.Neighbours {
		if n.Dst != addr {
			continue
		}
		c.Seen = strings.TrimSpace(fmt.Sprintf("%s lladdr %s %s", n.Dst, n.LLAddr, strings.Join(n.State, ",")))
		switch {
		case n.LLAddr == "" || slices.Contains(n.State, "FAILED") || slices.Contains(n.State, "INCOMPLETE"):
			c.State, c.Cause = Failed, d.notProgrammed("its neighbour entry for "+addr+" on "+dev+" has no MAC")
		case want != "" && !strings.EqualFold(n.LLAddr, want):
			c.State = Failed
			c.Cause = fmt.Sprintf("%s's neighbour entry for %s's tunnel address %s is %s, but %s's VTEP MAC is %s: %s on %s has not caught up with a re-created device; restart %s on %s",
				d.from.Name, d.to.Name, addr, n.LLAddr, d.to.Name, want, d.j.p.Agent, d.from.Name, d.j.p.Agent, d.from.Name)
		default:
			c.State = OK
		}
		return c
	}
	c.State, c.Seen = Failed, "no entry"
	c.Cause = d.notProgrammed("no neighbour entry for " + addr + " on " + dev)
	return c
}

// routedDirectly: the source routes the peer's pod range by the underlay, not the tunnel (flannel's
// DirectRouting between nodes of one subnet programs a route via the peer's address and no VTEP
// entries), so there is no FDB or neighbour entry to check; a route by another device than the
// tunnel's that does not go via the peer is a tunnel route the agent has not programmed.
func (d direction) routedDirectly(k Kind) (Check, bool) {
	c := d.check(k)
	rt, ok := d.res.Routes[d.toTunnel.String()]
	if !ok || rt.Dev == "" || rt.Dev == d.j.p.Overlay.Device {
		return c, false
	}
	if rt.Via == d.toIP.String() {
		c.State, c.Seen = OK, fmt.Sprintf("routed directly: %s via %s dev %s, no tunnel between these nodes (DirectRouting)", d.toTunnel, rt.Via, rt.Dev)
		return c, true
	}
	c.State, c.Seen = Failed, fmt.Sprintf("%s leaves by %s%s", d.toTunnel, rt.Dev, orVia(rt.Via))
	c.Cause = d.notProgrammed(fmt.Sprintf("no route to %s's pod range by %s: packets to it leave by %s unencapsulated", d.to.Name, d.j.p.Overlay.Device, rt.Dev))
	return c, true
}

func orVia(v string) string {
	if v == "" {
		return ""
	}
	return " via " + v
}

// pingFor is the ping of the kind to the peer, and whether the probe ran it.
func (d direction) pingFor(df bool, path string) (probe.Ping, bool) {
	to := d.toIP
	if path == probe.PathTunnel {
		to = d.toTunnel
	}
	return d.res.Ping(df, path, to)
}

// pingUnknown is the cause of a ping that says nothing of the network, "" for one that does.
func pingUnknown(p probe.Ping) string {
	switch p.Outcome {
	case probe.PingUnsupported:
		return "the probe image's ping cannot (" + p.Output + "): " + toolsHint
	case probe.PingNotPermitted:
		return "the probe may not send ICMP (" + p.Output + "): it needs NET_RAW as root; the namespace's Pod Security or a policy took it away"
	}
	return ""
}

// seenPing is a ping's outcome in a few words.
func seenPing(p probe.Ping) string {
	size := ""
	if p.Size > 0 {
		size = fmt.Sprintf("%d bytes DF, ", p.Size)
	}
	switch p.Outcome {
	case probe.PingReplied:
		return fmt.Sprintf("%s%d/%d replies from %s", size, p.Received, p.Sent, p.To)
	case probe.PingNoReply:
		return fmt.Sprintf("%sno reply from %s (%d sent)", size, p.To, p.Sent)
	case probe.PingTooBig:
		return fmt.Sprintf("%snot sent: message too long, mtu %d", size, p.MTU)
	}
	return size + p.Output
}

func (d direction) between() string {
	return fmt.Sprintf("between %s and %s", d.fromIP, d.toIP)
}

// smallPing is the check of a small ping on the path: settled (done) when the probe did not ping,
// the ping could not tell, or it got replies; otherwise the check is failed, for the caller to
// give the cause.
func (d direction) smallPing(k Kind, path, missing string) (c Check, done bool) {
	c, skip := d.notRun(k)
	if skip {
		return c, true
	}
	p, ok := d.pingFor(false, path)
	if !ok {
		c.State, c.Cause = Unknown, missing
		return c, true
	}
	c.Seen = seenPing(p)
	if why := pingUnknown(p); why != "" {
		c.State, c.Cause = Unknown, why
		return c, true
	}
	if p.Outcome == probe.PingReplied {
		c.State = OK
		return c, true
	}
	c.State = Failed
	return c, false
}

// tunnelPing checks that small packets cross the tunnel, and says why not.
func (d direction) tunnelPing() Check {
	c, done := d.smallPing(KindTunnelPing, probe.PathTunnel, "the probe did not ping through the tunnel")
	if done {
		return c
	}
	up, _ := d.pingFor(false, probe.PathUnderlay)
	o := d.j.p.Overlay
	fwd := []Check{d.fdb(), d.neighbour()}
	var back []Check // the replies come back through the peer's entries for this node
	if r := d.j.direction(d.to, d.from); r.res != nil {
		back = []Check{r.fdb(), r.neighbour()}
	}
	switch {
	case o.Kind == "vxlan" && (fwd[0].State == Failed || fwd[1].State == Failed):
		c.Cause = fmt.Sprintf("%s on %s has not programmed %s's VTEP correctly (see fdb and neighbour): packets to %s go nowhere", d.j.p.Agent, d.from.Name, d.to.Name, d.toTunnel)
	case o.Kind == "vxlan" && len(back) == 2 && (back[0].State == Failed || back[1].State == Failed):
		c.Cause = fmt.Sprintf("%s on %s has not programmed %s's VTEP correctly (see fdb and neighbour from %s): the replies go nowhere", d.j.p.Agent, d.to.Name, d.from.Name, d.to.Name)
	case d.deviceFailed():
		c.Cause = fmt.Sprintf("the tunnel devices disagree with the model (see device): %s's packets do not reach %s's %s", d.from.Name, d.to.Name, o.Device)
	case up.Outcome == probe.PingReplied:
		c.Cause = fmt.Sprintf("%s %s is dropped: the underlay carries plain packets but not the tunnel's: check the security group / firewall / hypervisor rules for %s",
			o.traffic(), d.between(), o.traffic())
	case up.Outcome == probe.PingNoReply || up.Outcome == probe.PingError:
		c.Cause = fmt.Sprintf("the nodes cannot reach each other on the underlay at all: check the routes, firewalls and security groups %s", d.between())
	default:
		c.Cause = "no reply through the tunnel, and the underlay could not be checked"
	}
	return c
}

// deviceFailed reports whether either end's tunnel device failed its check.
func (d direction) deviceFailed() bool {
	for _, n := range []string{d.from.Name, d.to.Name} {
		dev := d.j.device(n)
		if dev == nil {
			return d.j.results[n] != nil // probed, and no device
		}
		if dev.Detailed && (dev.Kind != d.j.p.Overlay.Kind || d.j.p.Overlay.VNI > 0 && dev.VNI != d.j.p.Overlay.VNI || !dev.Up ||
			d.j.p.Overlay.Port > 0 && dev.Port > 0 && dev.Port != d.j.p.Overlay.Port) {
			return true
		}
	}
	return false
}

// underlayPing checks that small plain packets cross the underlay.
func (d direction) underlayPing() Check {
	c, done := d.smallPing(KindUnderlayPing, probe.PathUnderlay, "the probe did not ping the underlay")
	if done {
		return c
	}
	up, _ := d.pingFor(false, probe.PathUnderlay)
	if tp, ok := d.pingFor(false, probe.PathTunnel); ok && tp.Outcome == probe.PingReplied {
		c.State = Unknown
		c.Cause = fmt.Sprintf("no ICMP reply on the underlay %s, though the tunnel carries traffic: ICMP is filtered there; the underlay's path MTU cannot be measured", d.between())
		return c
	}
	if up.Outcome == probe.PingError {
		c.Cause = fmt.Sprintf("%s cannot send to %s (%s): check its routes to the other nodes", d.from.Name, d.toIP, up.Output)
		return c
	}
	if d.j.p.Overlay.State == NoTunnel {
		c.Cause = fmt.Sprintf("the nodes cannot reach each other on the underlay at all, and pod traffic between them crosses it: check the routes, firewalls and security groups %s (ICMP at least)", d.between())
		return c
	}
	c.Cause = fmt.Sprintf("the nodes cannot reach each other on the underlay at all: check the routes, firewalls and security groups %s (ICMP at least)", d.between())
	return c
}

// podMTU is the source's pod MTU as its probe saw it, 0 when unknown.
func (d direction) podMTU() int { return d.res.PodMTU }

// mtuSum is "pod MTU 1450 + 50 bytes VXLAN = 1500", or "pod MTU 1500" without a tunnel.
func (d direction) mtuSum() string {
	o := d.j.p.Overlay
	if o.State == NoTunnel || o.Overhead == 0 {
		return fmt.Sprintf("pod MTU %d", d.podMTU())
	}
	return fmt.Sprintf("pod MTU %d + %d bytes %s = %d", d.podMTU(), o.Overhead, encapName(o.Kind), d.podMTU()+o.Overhead)
}

// mtuCause says the pod MTU does not fit a path MTU and what to set.
func (d direction) mtuCause(pmtu int) string {
	return fmt.Sprintf("%s exceeds the underlay's path MTU %d between %s and %s: lower the CNI's MTU to %d or raise the underlay's",
		d.mtuSum(), pmtu, d.from.Name, d.to.Name, pmtu-d.j.p.Overlay.Overhead)
}

// pathMTU is the underlay's path MTU to the peer the probe found, 0 when it did not look or find.
func (d direction) pathMTU() int {
	if n := d.res.PathMTU[d.toIP.String()]; n > 0 {
		return n
	}
	if udf, ok := d.pingFor(true, probe.PathUnderlay); ok && udf.Outcome == probe.PingTooBig && udf.MTU > 0 {
		return udf.MTU
	}
	return 0
}

// dfUnknown is the cause of a don't-fragment check that could not be made, "" when it could.
func (d direction) dfUnknown(path string) (probe.Ping, string) {
	if !d.res.Tools.IPutils {
		return probe.Ping{}, "the probe image's ping has no -M do (busybox): " + toolsHint
	}
	if d.podMTU() == 0 {
		return probe.Ping{}, fmt.Sprintf("the pod MTU could not be read on %s (%s)", d.from.Name, orNone(d.res.PodMTUDevice))
	}
	p, ok := d.pingFor(true, path)
	if !ok {
		return p, "the probe did not send it"
	}
	return p, pingUnknown(p)
}

func orNone(s string) string {
	if s == "" {
		return "no device"
	}
	return s
}

// tunnelMTU checks that a packet of the pod MTU crosses the tunnel with don't-fragment.
func (d direction) tunnelMTU() Check {
	c, skip := d.notRun(KindTunnelMTU)
	if skip {
		return c
	}
	tdf, why := d.dfUnknown(probe.PathTunnel)
	if why != "" {
		c.State, c.Cause = Unknown, why
		return c
	}
	c.Seen = seenPing(tdf)
	if tdf.Outcome == probe.PingReplied {
		c.State = OK
		return c
	}
	if tp, _ := d.pingFor(false, probe.PathTunnel); tp.Outcome != probe.PingReplied {
		c.State, c.Cause = Unknown, "the tunnel carries nothing between the nodes (see tunnel-ping)"
		return c
	}
	c.State = Failed
	udf, _ := d.pingFor(true, probe.PathUnderlay)
	switch pmtu := d.pathMTU(); {
	case pmtu > 0 && pmtu < d.podMTU()+d.j.p.Overlay.Overhead:
		c.Cause = d.mtuCause(pmtu)
	case udf.Outcome == probe.PingReplied:
		c.Cause = fmt.Sprintf("a packet of %s crosses the underlay but not the tunnel: the tunnel devices' MTUs differ or something on the path drops large %s; compare %s's MTU on %s and %s",
			d.mtuSum(), d.j.p.Overlay.traffic(), d.j.p.Overlay.Device, d.from.Name, d.to.Name)
	default:
		c.Cause = fmt.Sprintf("%s does not cross the underlay between %s and %s, though small tunnel packets do: the underlay's path MTU is smaller (it could not be measured); lower the CNI's MTU or raise the underlay's",
			d.mtuSum(), d.from.Name, d.to.Name)
	}
	return c
}

// underlayMTU checks that a packet of the pod MTU plus the overhead crosses the underlay with
// don't-fragment, and reports the path MTU when it does not.
func (d direction) underlayMTU() Check {
	c, skip := d.notRun(KindUnderlayMTU)
	if skip {
		return c
	}
	udf, why := d.dfUnknown(probe.PathUnderlay)
	if why != "" {
		c.State, c.Cause = Unknown, why
		return c
	}
	c.Seen = seenPing(udf)
	if udf.Outcome == probe.PingReplied {
		c.State = OK
		return c
	}
	pmtu := d.pathMTU()
	if pmtu > 0 {
		c.Seen += fmt.Sprintf("; path MTU %d", pmtu)
	}
	up, _ := d.pingFor(false, probe.PathUnderlay)
	if up.Outcome != probe.PingReplied {
		c.State, c.Cause = Unknown, "ICMP gets no reply on the underlay (see underlay-ping): its path MTU cannot be measured"
		return c
	}
	c.State = Failed
	if pmtu == 0 {
		c.Cause = fmt.Sprintf("%s does not cross the underlay between %s and %s with don't-fragment, and no smaller size passed either", d.mtuSum(), d.from.Name, d.to.Name)
		return c
	}
	c.Cause = d.mtuCause(pmtu)
	if tdf, ok := d.pingFor(true, probe.PathTunnel); ok && tdf.Outcome == probe.PingReplied {
		c.Cause += " (full-size tunnel packets still arrive, fragmented, where the underlay lets fragments through)"
	}
	return c
}
