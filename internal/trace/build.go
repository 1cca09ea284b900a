package trace

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

// Build explains the path from src to dst. nodes holds the endpoints' nodes, resolved, by name.
func Build(src, dst Endpoint, nodes map[string]*netmodel.NodeNetwork, ev *cluster.Evidence) (*Path, error) {
	return build(src, dst, nodes, ev, nil)
}

// BuildService explains the path from src through a Service to its endpoint dst.
func BuildService(src, dst Endpoint, svc *ServiceStep, nodes map[string]*netmodel.NodeNetwork, ev *cluster.Evidence) (*Path, error) {
	return build(src, dst, nodes, ev, svc)
}

func build(src, dst Endpoint, nodes map[string]*netmodel.NodeNetwork, ev *cluster.Evidence, svc *ServiceStep) (*Path, error) {
	if src.IP.Is4() != dst.IP.Is4() {
		return nil, fmt.Errorf("%s (%s) and %s (%s) are of different address families: a packet cannot go from one to the other", src, src.IP, dst, dst.IP)
	}
	sn, dn := nodes[src.Node], nodes[dst.Node]
	if sn == nil || dn == nil {
		return nil, fmt.Errorf("the nodes of %s and %s are unknown: both endpoints must run on a node", src, dst)
	}
	m := sn.Model()
	nw := sn.Network
	p := &Path{Src: src, Dst: dst, Network: nw, src: sn}
	p.Nodes = append(p.Nodes, *sn)
	if dn != sn {
		p.Nodes = append(p.Nodes, *dn)
	}
	v4 := src.IP.Is4()
	srcPod := src.Kind == "pod" && !src.HostNetwork
	dstPod := dst.Kind == "pod" && !dst.HostNetwork
	switch {
	case src.Node == dst.Node && !srcPod && !dstPod:
		p.Case = "same-host"
	case src.Node == dst.Node:
		p.Case = "same-node"
	case !srcPod && dstPod:
		p.Case = "node-to-pod"
	case srcPod && !dstPod:
		p.Case = "pod-to-node"
	default:
		p.Case = "cross-node"
	}
	for _, e := range []Endpoint{src, dst} {
		if e.Kind == "pod" && e.HostNetwork {
			p.Notes = append(p.Notes, fmt.Sprintf("%s uses the host network: it has node %s's addresses and its packets start and end in the node's namespace; NetworkPolicies do not select it", e, e.Node))
		}
	}
	bridge := m.Bridge()
	srcNode, dstNode := "node "+sn.Name, "node "+dn.Name
	// leaving the source
	if srcPod {
		srcWhere := "pod " + src.Namespace + "/" + src.Name
		subnet := netip.Prefix{}
		if bridge != "" && dstPod && p.Case == "same-node" && svc == nil {
			if c, err := netip.ParsePrefix(sn.CIDRFor(src.IP)); err == nil && c.Contains(dst.IP) {
				subnet = c
			}
		}
		if subnet.IsValid() {
			// two pods on one bridge share a subnet: no router between them
			p.Hops = append(p.Hops, Hop{Where: srcWhere, Device: "eth0", Addresses: []string{src.IP.String()},
				What:   fmt.Sprintf("%s is on the pod's own subnet %s: the pod ARPs for it and sends the frame straight onto the bridge", dst.IP, subnet),
				Route:  subnet.String() + " dev eth0",
				Lookup: &Lookup{In: srcWhere, Dst: dst.IP.String(), Dev: "eth0"}})
			p.Hops = append(p.Hops, Hop{Where: srcNode, Device: bridge,
				What: fmt.Sprintf("bridge %s forwards the frame by MAC from the source's veth to the destination's (layer 2: the host does not route it)", bridge)})
			p.Hops = append(p.Hops, Hop{Where: "pod " + dst.Namespace + "/" + dst.Name, Device: "eth0", Addresses: []string{dst.IP.String()}, What: "delivered"})
			return p, nil
		}
		gw := m.Gateway(sn.Node(), ev, v4)
		look := &Lookup{In: srcWhere, Dst: dst.IP.String(), Dev: "eth0", Via: gw}
		if _, err := netip.ParseAddr(gw); err != nil {
			look.Via, look.AnyVia = "", true
			gw = gatewayText(m)
		}
		what := fmt.Sprintf("default route via %s", gw)
		if gw == "169.254.1.1" || gw == "fe80::1" {
			what += ": the host answers ARP for it (proxy ARP), so every packet goes to the host side"
		}
		p.Hops = append(p.Hops, Hop{Where: srcWhere, Device: "eth0", Addresses: []string{src.IP.String()}, What: what, Route: "default via " + gw + " dev eth0", Lookup: look})
		host := Hop{Where: srcNode, Device: m.PodDevice(src.Namespace, src.Name), What: "the veth's host end receives the packet"}
		switch m.HostEnd() {
		case netmodel.HostEndEBPF:
			host.What = "Cilium's eBPF program on the pod's lxc device (from-container) takes the packet: policy, load balancing, then routing or encapsulation"
		case netmodel.HostEndBridge:
			host.What = fmt.Sprintf("the veth (%s's port) hands it to bridge %s, which routes it on the host", bridge, bridge)
		}
		p.Hops = append(p.Hops, host)
	}
	if p.Case == "same-node" || p.Case == "same-host" {
		if dstPod {
			p.Hops = append(p.Hops, deliver(dn, ev, dst))
		} else {
			p.Hops = append(p.Hops, Hop{Where: dstNode, What: "local delivery: the destination is an address of this host (table local)",
				Lookup: &Lookup{In: dstNode, Dst: dst.IP.String(), Local: true}})
		}
		return p.withService(svc), nil
	}
	// between the nodes
	dstCIDR := ""
	if dstPod {
		dstCIDR = dn.CIDRFor(dst.IP)
	}
	if dstPod && dstCIDR == "" && m.NodeCIDRIPAM(ev) {
		p.Notes = append(p.Notes, fmt.Sprintf("node %s has no pod CIDR: %s has no route to its pods", dn.Name, nw.Model))
	}
	enc := sn.Encap(dn, v4)
	dstNodeIP := dn.TransportAddr(v4)
	datapath := m.Datapath(nw.Mode, sn.Node())
	switch {
	case !dstPod:
		p.Hops = append(p.Hops, Hop{Where: srcNode, Device: "eth0", What: fmt.Sprintf("routed on the node network to %s", dst.IP), Route: dst.IP.String() + " via the node's default or subnet route",
			Lookup: &Lookup{In: srcNode, Dst: dst.IP.String(), NodeInterface: true, AnyVia: true}})
	case enc != nil:
		p.Hops = append(p.Hops, tunnelHops(p, m, sn, dn, enc, datapath, dstCIDR, ev, v4)...)
	case datapath == netmodel.DatapathCloudRouteTable:
		p.Hops = append(p.Hops, Hop{Where: srcNode, Device: "eth0", What: "no route for the pod CIDR on the node: sent to the subnet's gateway", Route: "default via the VNet gateway dev eth0",
			Lookup: &Lookup{In: srcNode, Dst: dst.IP.String(), NodeInterface: true, AnyVia: true}})
		p.Hops = append(p.Hops, Hop{Where: "cloud", What: fmt.Sprintf("Azure route table (user-defined route): %s -> %s (%s)", dstCIDR, dstNodeIP, dn.Name),
			Route: fmt.Sprintf("%s -> %s", dstCIDR, dstNodeIP), Lookup: &Lookup{In: "cloud", Dst: dst.IP.String(), Via: dstNodeIP}})
		p.Notes = append(p.Notes, "kubenet adds a hop compared with Azure CNI: the Azure route table must be associated with the nodes' subnet, or cross-node pod traffic is dropped")
	case datapath == netmodel.DatapathRouted:
		p.Hops = append(p.Hops, Hop{Where: srcNode, Device: "eth0", What: fmt.Sprintf("routed without encapsulation to node %s", dn.Name),
			Route:  fmt.Sprintf("%s via %s dev eth0", orIP(dstCIDR, dst.IP), dstNodeIP),
			Lookup: &Lookup{In: srcNode, Dst: dst.IP.String(), NodeInterface: true, Via: dstNodeIP}})
	case datapath == netmodel.DatapathCloudNetwork:
		p.Hops = append(p.Hops, Hop{Where: srcNode, Device: "eth0", What: "routed by the cloud network: pod addresses are VPC/VNet addresses (no encapsulation)",
			Lookup: &Lookup{In: srcNode, Dst: dst.IP.String(), NodeInterface: true, AnyVia: true}})
		p.Hops = append(p.Hops, Hop{Where: "cloud", What: fmt.Sprintf("the VPC/VNet delivers %s to node %s", dst.IP, dn.Name)})
	default:
		p.Hops = append(p.Hops, Hop{Where: srcNode, What: fmt.Sprintf("routed to node %s by %s (mode unknown)", dn.Name, nw)})
	}
	if dstPod {
		p.Hops = append(p.Hops, deliver(dn, ev, dst))
	} else {
		p.Hops = append(p.Hops, Hop{Where: dstNode, What: "local delivery to the node's address", Lookup: &Lookup{In: dstNode, Dst: dst.IP.String(), Local: true}})
	}
	return p.withService(svc), nil
}

// tunnelHops are the source node's encapsulation, the underlay and the decapsulation.
func tunnelHops(p *Path, m netmodel.Model, sn, dn *netmodel.NodeNetwork, enc *Encap, datapath netmodel.Datapath, dstCIDR string, ev *cluster.Evidence, v4 bool) []Hop {
	dst := p.Dst
	srcNode, dstNode := "node "+sn.Name, "node "+dn.Name
	via := m.TunnelNextHop(sn.Network.Mode, dn, dstCIDR, v4)
	hop := Hop{Where: srcNode, Device: enc.Device, Route: fmt.Sprintf("%s via %s dev %s onlink", orIP(dstCIDR, dst.IP), via, enc.Device),
		What: fmt.Sprintf("encapsulated (%s) towards node %s", enc.Kind, dn.Name), Encap: enc}
	hop.Lookup = &Lookup{In: srcNode, Dst: dst.IP.String(), Dev: enc.Device, Via: via}
	switch datapath {
	case netmodel.DatapathEBPFTunnel:
		// Cilium routes every pod CIDR to cilium_host; its eBPF programs encapsulate
		host := orText(m.Gateway(sn.Node(), ev, v4), gatewayText(m))
		hop.What = fmt.Sprintf("encapsulated by eBPF (%s, tunnel map entry %s -> %s) towards node %s; the kernel route for host traffic goes to %s", enc.Kind, orIP(dstCIDR, dst.IP), enc.OuterDst, dn.Name, m.GatewayDevice())
		hop.Route = fmt.Sprintf("%s via %s dev %s", orIP(dstCIDR, dst.IP), host, m.GatewayDevice())
		// the gateway is cilium_host's own address, which the kernel's answer may leave out
		hop.Lookup = &Lookup{In: srcNode, Dst: dst.IP.String(), Dev: m.GatewayDevice(), AnyVia: true}
	case netmodel.DatapathOVSTunnel:
		hop.What = fmt.Sprintf("routed to %s, where Open vSwitch encapsulates it (%s on %s) towards node %s", m.GatewayDevice(), enc.Kind, enc.Device, dn.Name)
		hop.Route = fmt.Sprintf("%s via %s dev %s onlink", orIP(dstCIDR, dst.IP), via, m.GatewayDevice())
		hop.Lookup = &Lookup{In: srcNode, Dst: dst.IP.String(), Dev: m.GatewayDevice(), Via: via}
	}
	if enc.Kind == "wireguard" {
		hop.Lookup.Via, hop.Lookup.AnyVia = "", true
	}
	p.Notes = append(p.Notes, fmt.Sprintf("%s adds %d bytes: the pod MTU must be the node MTU minus %d (1450 on a 1500 network for VXLAN)", enc.Kind, enc.Overhead, enc.Overhead))
	if enc.CrossSubnetOnly {
		p.Notes = append(p.Notes, fmt.Sprintf("CrossSubnet: %s encapsulates only between nodes of different subnets; within one subnet the packet is routed to %s unencapsulated", sn.Network.Model, enc.OuterDst))
	}
	if dn.TransportSource != netmodel.TransportInternalIP && len(dn.Node().InternalIPs) > 0 && enc.OuterDst != "?" && !containsText(dn.Node().InternalIPs, enc.OuterDst) {
		p.Notes = append(p.Notes, fmt.Sprintf("the outer destination %s is node %s's address as %s programs it (%s), not its InternalIP %s", enc.OuterDst, dn.Name, sn.Network.Model, dn.TransportSource, dn.Node().InternalIPs[0]))
	}
	return []Hop{hop,
		{Where: "network", What: fmt.Sprintf("outer packet %s -> %s%s", enc.OuterSrc, enc.OuterDst, portText(enc))},
		{Where: dstNode, Device: enc.Device, What: "decapsulated: the inner packet is routed to the pod"}}
}

func deliver(n *netmodel.NodeNetwork, ev *cluster.Evidence, dst Endpoint) Hop {
	m := n.Model()
	dev := m.PodDevice(dst.Namespace, dst.Name)
	where := "node " + n.Name
	h := Hop{Where: where, Device: dev}
	cidr := n.CIDRFor(dst.IP)
	switch m.HostEnd() {
	case netmodel.HostEndEBPF:
		host := orText(m.Gateway(n.Node(), ev, dst.IP.Is4()), gatewayText(m))
		gwdev := m.GatewayDevice()
		h.What = fmt.Sprintf("Cilium's eBPF program hands it to the pod's lxc device (to-container); the kernel route for host traffic goes to %s", gwdev)
		h.Route = fmt.Sprintf("%s via %s dev %s", orIP(cidr, dst.IP), host, gwdev)
		h.Lookup = &Lookup{In: where, Dst: dst.IP.String(), Dev: gwdev, AnyVia: true}
	case netmodel.HostEndBridge:
		bridge := m.Bridge()
		h.Device = bridge
		h.What = fmt.Sprintf("the route %s dev %s sends it onto bridge %s, which forwards it by MAC (learned by ARP) to the pod's veth", cidr, bridge, bridge)
		h.Route = cidr + " dev " + bridge
		h.Lookup = &Lookup{In: where, Dst: dst.IP.String(), Dev: bridge}
	default:
		h.What = fmt.Sprintf("a host route %s/%d dev %s sends it into the pod's veth", dst.IP, dst.IP.BitLen(), dev)
		h.Route = dst.IP.String() + " dev " + dev
		h.Lookup = &Lookup{In: where, Dst: dst.IP.String(), Dev: dev}
		if strings.HasSuffix(dev, "…") {
			h.Lookup.Dev, h.Lookup.DevPrefix = "", strings.TrimSuffix(dev, "…")
		}
	}
	return h
}

// gatewayText names a gateway whose address is not known.
func gatewayText(m netmodel.Model) string {
	if d := m.GatewayDevice(); d != "" {
		return "the " + d + " address"
	}
	return "the bridge address"
}

func containsText(as []netip.Addr, s string) bool {
	for _, a := range as {
		if a.String() == s {
			return true
		}
	}
	return false
}

func orText(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}

func orIP(cidr string, ip netip.Addr) string {
	if cidr != "" {
		return cidr
	}
	return ip.String()
}

func portText(e *Encap) string {
	switch {
	case e.Port > 0 && e.VNI > 0:
		return fmt.Sprintf(", UDP %d, VNI %d", e.Port, e.VNI)
	case e.Port > 0:
		return fmt.Sprintf(", UDP %d", e.Port)
	case strings.HasPrefix(e.Kind, "ipip"):
		return ", IP protocol 4"
	}
	return ""
}
