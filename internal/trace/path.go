// Package trace explains the path a packet takes between two endpoints of a cluster, hop by hop,
// the way the detected network model builds it: veth, bridge or host routes, tunnel (IPIP, VXLAN,
// Geneve, WireGuard), cloud route table or native routing. It knows nothing of cobra and calls no
// API: it works on the inventory's plain structs.
package trace

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/inspect"
)

// Endpoint is one end of a path.
type Endpoint struct {
	Kind        string     `json:"kind"` // pod, node or ip
	Namespace   string     `json:"namespace,omitempty"`
	Name        string     `json:"name,omitempty"`
	IP          netip.Addr `json:"ip"`
	Node        string     `json:"node,omitempty"`
	HostNetwork bool       `json:"hostNetwork,omitempty"`
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

// Encap is an encapsulation step.
type Encap struct {
	Kind     string `json:"kind"` // vxlan, geneve, ipip, wireguard
	Device   string `json:"device"`
	OuterSrc string `json:"outerSrc"`
	OuterDst string `json:"outerDst"`
	Port     int    `json:"udpPort,omitempty"`
	VNI      int    `json:"vni,omitempty"`
	Overhead int    `json:"overheadBytes"`
}

// Hop is one step of the path.
type Hop struct {
	Where     string   `json:"where"` // "pod shop/web-1", "node n1", "cloud"
	Device    string   `json:"device,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	What      string   `json:"what"`
	Route     string   `json:"route,omitempty"`
	Encap     *Encap   `json:"encap,omitempty"`
}

// Path is the explained path from Src to Dst.
type Path struct {
	Src     Endpoint        `json:"src"`
	Dst     Endpoint        `json:"dst"`
	Network inspect.Network `json:"network"`
	Case    string          `json:"case"` // same-node, cross-node, node-to-pod, pod-to-node, same-host
	Hops    []Hop           `json:"hops"`
	Notes   []string        `json:"notes,omitempty"`
	// Service is the Service DST named, when it did.
	Service *ServiceStep `json:"service,omitempty"`
	// Policy is the NetworkPolicy verdict for --port, when one was asked for.
	Policy *PolicyVerdict `json:"networkPolicy,omitempty"`
	Port   string         `json:"port,omitempty"`
}

// podDevice is how each model names a pod's host-side interface, where that can be known.
func podDevice(model string, e Endpoint) string {
	h := sha1.Sum([]byte(e.Namespace + "." + e.Name))
	hx := hex.EncodeToString(h[:])
	switch model {
	case inspect.ModelCalico:
		return "cali" + hx[:11] // Calico: "cali" + sha1("<namespace>.<pod>")[:11]
	case inspect.ModelAWSVPCCNI:
		return "eni" + hx[:11] // AWS VPC CNI names it the same way with "eni"
	case inspect.ModelCilium:
		return "lxc…" // lxc + a hash of the endpoint ID, unknown from the API
	case inspect.ModelAzureCNI, inspect.ModelAzureCNIOverlay:
		return "azv…"
	}
	return "veth…" // the bridge plugin's random veth name
}

// bridgeOf is the node bridge a model's pods hang on, "" for routed models.
func bridgeOf(nw inspect.Network) string {
	switch nw.Model {
	case inspect.ModelKubenet:
		return "cbr0"
	case inspect.ModelFlannel:
		return "cni0"
	case inspect.ModelAntrea:
		return "antrea-gw0"
	case inspect.ModelUnknown:
		return "cbr0"
	}
	return ""
}

// gatewayOf is the pod's default gateway in the model.
func gatewayOf(nw inspect.Network, n *inspect.Node, ev *inspect.Evidence, v4 bool) string {
	switch nw.Model {
	case inspect.ModelCalico, inspect.ModelAWSVPCCNI, inspect.ModelAzureCNI, inspect.ModelAzureCNIOverlay:
		if v4 {
			return "169.254.1.1"
		}
		return "fe80::1"
	case inspect.ModelCilium:
		if cn := ev.CiliumNodes[n.Name]; cn != nil && len(cn.CiliumInternalIP) > 0 {
			return cn.CiliumInternalIP[0].String()
		}
		return "the cilium_host address"
	}
	for _, p := range n.PodCIDRs {
		if p.Addr().Is4() == v4 {
			return p.Masked().Addr().Next().String()
		}
	}
	return "the bridge address"
}

// encapOf is the model's encapsulation between two nodes, nil for none.
func encapOf(nw inspect.Network, srcNode, dstNode *inspect.Node) *Encap {
	outer := func(n *inspect.Node) string {
		if len(n.InternalIPs) > 0 {
			return n.InternalIPs[0].String()
		}
		return "node " + n.Name
	}
	e := &Encap{OuterSrc: outer(srcNode), OuterDst: outer(dstNode)}
	mode := strings.TrimSuffix(strings.TrimSuffix(nw.Mode, "+wireguard"), "-crosssubnet")
	switch {
	case nw.Model == inspect.ModelFlannel && mode == "vxlan":
		e.Kind, e.Device, e.Port, e.VNI, e.Overhead = "vxlan", "flannel.1", 8472, 1, 50
	case nw.Model == inspect.ModelFlannel && mode == "ipip":
		e.Kind, e.Device, e.Overhead = "ipip", "flannel.ipip", 20
	case nw.Model == inspect.ModelFlannel && mode == "wireguard":
		e.Kind, e.Device, e.Port, e.Overhead = "wireguard", "flannel-wg", 51820, 60
	case nw.Model == inspect.ModelCalico && mode == "vxlan":
		e.Kind, e.Device, e.Port, e.VNI, e.Overhead = "vxlan", "vxlan.calico", 4789, 4096, 50
	case nw.Model == inspect.ModelCalico && mode == "ipip":
		e.Kind, e.Device, e.Overhead = "ipip", "tunl0", 20
	case nw.Model == inspect.ModelCalico && mode == "wireguard":
		e.Kind, e.Device, e.Port, e.Overhead = "wireguard", "wireguard.cali", 51820, 60
	case nw.Model == inspect.ModelCilium && mode == "vxlan":
		e.Kind, e.Device, e.Port, e.Overhead = "vxlan", "cilium_vxlan", 8472, 50
	case nw.Model == inspect.ModelCilium && mode == "geneve":
		e.Kind, e.Device, e.Port, e.Overhead = "geneve", "cilium_geneve", 6081, 50
	case nw.Model == inspect.ModelAntrea:
		e.Kind, e.Device, e.Port, e.Overhead = "geneve", "antrea-tun0", 6081, 50
	default:
		return nil
	}
	if strings.HasSuffix(nw.Mode, "-crosssubnet") {
		e.Kind += " (only across subnets: CrossSubnet)"
	}
	return e
}

func nodeCIDRFor(n *inspect.Node, ev *inspect.Evidence, nw inspect.Network, ip netip.Addr) string {
	var cidrs []netip.Prefix
	switch {
	case nw.Model == inspect.ModelCalico && len(ev.CalicoBlocks) > 0:
		cidrs = ev.NodeBlocks(n.Name)
	case ev.CiliumNodes[n.Name] != nil:
		cidrs = ev.CiliumNodes[n.Name].PodCIDRs
	default:
		cidrs = n.PodCIDRs
	}
	for _, c := range cidrs {
		if c.Contains(ip) {
			return c.String()
		}
	}
	if len(cidrs) > 0 {
		return cidrs[0].String()
	}
	return ""
}

// ServiceStep is a Service between the source and the endpoint the path goes on to.
type ServiceStep struct {
	Name                  string   `json:"name"`
	ClusterIP             string   `json:"clusterIP"`
	Implementation        string   `json:"implementation"`
	Ready                 []string `json:"readyEndpoints"`
	NotReady              []string `json:"notReadyEndpoints,omitempty"`
	Chosen                string   `json:"chosen"`
	InternalTrafficPolicy string   `json:"internalTrafficPolicy,omitempty"`
	SessionAffinity       string   `json:"sessionAffinity,omitempty"`
}

// AddService puts the Service's translation into the path: right after the packet leaves the
// source pod (kube-proxy rewrites it on the source node; Cilium's eBPF load balancer in the pod's
// connect()), then the path goes on to the chosen endpoint.
func (p *Path) AddService(s *ServiceStep) {
	p.Service = s
	what := fmt.Sprintf("%s translates %s (Service %s) to endpoint %s", s.Implementation, s.ClusterIP, s.Name, s.Chosen)
	if len(s.Ready) > 1 {
		what += fmt.Sprintf(", one of %d ready endpoints, chosen per connection", len(s.Ready))
	}
	hop := Hop{Where: "node " + p.Src.Node, Device: "kube-proxy", What: what, Route: fmt.Sprintf("DNAT %s -> %s", s.ClusterIP, s.Chosen)}
	if strings.HasPrefix(s.Implementation, "Cilium") {
		hop.Where, hop.Device = "pod "+p.Src.Namespace+"/"+p.Src.Name, "eBPF socket LB"
	}
	at := 0
	if p.Src.Kind == "pod" && !p.Src.HostNetwork {
		at = min(2, len(p.Hops))
	}
	p.Hops = append(p.Hops[:at], append([]Hop{hop}, p.Hops[at:]...)...)
	if s.InternalTrafficPolicy == "Local" {
		p.Notes = append(p.Notes, "internalTrafficPolicy Local: only endpoints on the source's node are used; from a node without one, the connection fails")
	}
	if s.SessionAffinity == "ClientIP" {
		p.Notes = append(p.Notes, "sessionAffinity ClientIP: a client keeps the endpoint it got first")
	}
	if len(s.NotReady) > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d endpoint(s) of %s are not ready and get no traffic: %s", len(s.NotReady), s.Name, strings.Join(s.NotReady, ",")))
	}
}

// Build explains the path from src to dst. nodes holds the endpoints' nodes by name.
func Build(src, dst Endpoint, nodes map[string]*inspect.Node, ev *inspect.Evidence) (*Path, error) {
	if src.IP.Is4() != dst.IP.Is4() {
		return nil, fmt.Errorf("%s (%s) and %s (%s) are of different address families: a packet cannot go from one to the other", src, src.IP, dst, dst.IP)
	}
	sn, dn := nodes[src.Node], nodes[dst.Node]
	if sn == nil || dn == nil {
		return nil, fmt.Errorf("the nodes of %s and %s are unknown: both endpoints must run on a node", src, dst)
	}
	nw := inspect.DetectNode(sn, ev)
	p := &Path{Src: src, Dst: dst, Network: nw}
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
	bridge := bridgeOf(nw)
	// leaving the source
	if srcPod {
		gw := gatewayOf(nw, sn, ev, v4)
		what := fmt.Sprintf("default route via %s", gw)
		if gw == "169.254.1.1" || gw == "fe80::1" {
			what += ": the host answers ARP for it (proxy ARP), so every packet goes to the host side"
		}
		p.Hops = append(p.Hops, Hop{Where: "pod " + src.Namespace + "/" + src.Name, Device: "eth0", Addresses: []string{src.IP.String()}, What: what, Route: "default via " + gw + " dev eth0"})
		host := Hop{Where: "node " + sn.Name, Device: podDevice(nw.Model, src), What: "the veth's host end receives the packet"}
		if bridge != "" {
			host.What = fmt.Sprintf("the veth (%s's port) hands it to bridge %s, which routes it on the host", bridge, bridge)
		}
		p.Hops = append(p.Hops, host)
	}
	if p.Case == "same-node" || p.Case == "same-host" {
		if dstPod {
			p.Hops = append(p.Hops, deliver(nw, dn, ev, dst, bridge))
		} else {
			p.Hops = append(p.Hops, Hop{Where: "node " + dn.Name, What: "local delivery: the destination is an address of this host (table local)"})
		}
		return p, nil
	}
	// between the nodes
	dstCIDR := ""
	if dstPod {
		dstCIDR = nodeCIDRFor(dn, ev, nw, dst.IP)
	}
	if dstPod && dstCIDR == "" && nw.UsesNodePodCIDR(ev) {
		p.Notes = append(p.Notes, fmt.Sprintf("node %s has no pod CIDR: %s has no route to its pods", dn.Name, nw.Model))
	}
	enc := encapOf(nw, sn, dn)
	switch {
	case !dstPod:
		p.Hops = append(p.Hops, Hop{Where: "node " + sn.Name, Device: "eth0", What: fmt.Sprintf("routed on the node network to %s", dst.IP), Route: dst.IP.String() + " via the node's default or subnet route"})
	case enc != nil:
		p.Hops = append(p.Hops, Hop{Where: "node " + sn.Name, Device: enc.Device, Route: fmt.Sprintf("%s via %s dev %s onlink", orIP(dstCIDR, dst.IP), tunnelNextHop(nw, dn, ev), enc.Device),
			What: fmt.Sprintf("encapsulated (%s) towards node %s", enc.Kind, dn.Name), Encap: enc})
		p.Hops = append(p.Hops, Hop{Where: "network", What: fmt.Sprintf("outer packet %s -> %s%s", enc.OuterSrc, enc.OuterDst, portText(enc))})
		p.Hops = append(p.Hops, Hop{Where: "node " + dn.Name, Device: enc.Device, What: "decapsulated: the inner packet is routed to the pod"})
		p.Notes = append(p.Notes, fmt.Sprintf("%s adds %d bytes: the pod MTU must be the node MTU minus %d (1450 on a 1500 network for VXLAN)", enc.Kind, enc.Overhead, enc.Overhead))
	case nw.Model == inspect.ModelKubenet && strings.HasPrefix(sn.ProviderID, "azure://"):
		p.Hops = append(p.Hops, Hop{Where: "node " + sn.Name, Device: "eth0", What: "no route for the pod CIDR on the node: sent to the subnet's gateway", Route: "default via the VNet gateway dev eth0"})
		p.Hops = append(p.Hops, Hop{Where: "cloud", What: fmt.Sprintf("Azure route table (user-defined route): %s -> %s (%s)", dstCIDR, first(dn.InternalIPs), dn.Name),
			Route: fmt.Sprintf("%s -> %s", dstCIDR, first(dn.InternalIPs))})
		p.Notes = append(p.Notes, "kubenet adds a hop compared with Azure CNI: the Azure route table must be associated with the nodes' subnet, or cross-node pod traffic is dropped")
	case nw.Model == inspect.ModelFlannel && nw.Mode == "host-gw", nw.Model == inspect.ModelCalico && nw.Mode == "bgp", nw.Model == inspect.ModelCilium && nw.Mode == "native", nw.Model == inspect.ModelKubenet:
		p.Hops = append(p.Hops, Hop{Where: "node " + sn.Name, Device: "eth0", What: fmt.Sprintf("routed without encapsulation to node %s", dn.Name),
			Route: fmt.Sprintf("%s via %s dev eth0", orIP(dstCIDR, dst.IP), first(dn.InternalIPs))})
	case nw.Model == inspect.ModelAWSVPCCNI || nw.Model == inspect.ModelAzureCNI || nw.Model == inspect.ModelAzureCNIOverlay:
		p.Hops = append(p.Hops, Hop{Where: "node " + sn.Name, Device: "eth0", What: "routed by the cloud network: pod addresses are VPC/VNet addresses (no encapsulation)"})
		p.Hops = append(p.Hops, Hop{Where: "cloud", What: fmt.Sprintf("the VPC/VNet delivers %s to node %s", dst.IP, dn.Name)})
	default:
		p.Hops = append(p.Hops, Hop{Where: "node " + sn.Name, What: fmt.Sprintf("routed to node %s by %s (mode unknown)", dn.Name, nw)})
	}
	if dstPod {
		p.Hops = append(p.Hops, deliver(nw, dn, ev, dst, bridge))
	} else if p.Case != "same-host" {
		p.Hops = append(p.Hops, Hop{Where: "node " + dn.Name, What: "local delivery to the node's address"})
	}
	return p, nil
}

func deliver(nw inspect.Network, n *inspect.Node, ev *inspect.Evidence, dst Endpoint, bridge string) Hop {
	dev := podDevice(nw.Model, dst)
	h := Hop{Where: "node " + n.Name, Device: dev}
	if bridge != "" {
		h.Device = bridge
		h.What = fmt.Sprintf("the route %s dev %s sends it onto bridge %s, which forwards it by MAC (learned by ARP) to the pod's veth", nodeCIDRFor(n, ev, nw, dst.IP), bridge, bridge)
		h.Route = nodeCIDRFor(n, ev, nw, dst.IP) + " dev " + bridge
	} else {
		h.What = fmt.Sprintf("a host route %s/32 dev %s sends it into the pod's veth", dst.IP, dev)
		h.Route = dst.IP.String() + " dev " + dev
	}
	return h
}

func tunnelNextHop(nw inspect.Network, dn *inspect.Node, ev *inspect.Evidence) string {
	if t := inspect.NodeTunnel(dn, nw, ev); t != nil && len(t.Addresses) > 0 && nw.Model != inspect.ModelCilium {
		return t.Addresses[0]
	}
	return first(dn.InternalIPs)
}

func orIP(cidr string, ip netip.Addr) string {
	if cidr != "" {
		return cidr
	}
	return ip.String()
}

func first(as []netip.Addr) string {
	if len(as) == 0 {
		return "?"
	}
	return as[0].String()
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
