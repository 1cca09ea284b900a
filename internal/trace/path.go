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
	"slices"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/inspect"
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
	// Probe is the path checked live (--probe, --connect).
	Probe *Verification `json:"probe,omitempty"`
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
		return orText(ciliumHost(n, ev, v4), "the cilium_host address")
	}
	for _, p := range n.PodCIDRs {
		if p.Addr().Is4() == v4 {
			return p.Masked().Addr().Next().String()
		}
	}
	return "the bridge address"
}

// encapOf is the model's encapsulation between two nodes, nil for none.
func encapOf(nw inspect.Network, srcNode, dstNode *inspect.Node, v4 bool) *Encap {
	e := &Encap{OuterSrc: nodeAddr(srcNode, v4), OuterDst: nodeAddr(dstNode, v4)}
	mode := strings.TrimSuffix(strings.TrimSuffix(nw.Mode, "+wireguard"), "-crosssubnet")
	switch {
	case nw.Model == inspect.ModelFlannel && mode == "vxlan":
		e.Kind, e.Device, e.Port, e.VNI, e.Overhead = "vxlan", "flannel.1", 8472, 1, 50
		if !v4 {
			e.Device, e.Overhead = "flannel-v6.1", 70 // IPv6 outer header: 40 + 8 + 8 + 14
		}
	case nw.Model == inspect.ModelFlannel && mode == "ipip":
		e.Kind, e.Device, e.Overhead = "ipip", "flannel.ipip", 20
	case nw.Model == inspect.ModelFlannel && mode == "wireguard":
		e.Kind, e.Device, e.Port, e.Overhead = "wireguard", "flannel-wg", 51820, 60
	case nw.Model == inspect.ModelCalico && mode == "vxlan":
		e.Kind, e.Device, e.Port, e.VNI, e.Overhead = "vxlan", "vxlan.calico", 4789, 4096, 50
		if !v4 {
			e.Device, e.Overhead = "vxlan-v6.calico", 70
		}
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
	Name      string `json:"name"`
	ClusterIP string `json:"clusterIP"`
	// Port is the Service port asked for (--port) and TargetPort the endpoint's port it maps to.
	Port                  string   `json:"port,omitempty"`
	TargetPort            string   `json:"targetPort,omitempty"`
	Implementation        string   `json:"implementation"`
	Ready                 []string `json:"readyEndpoints"`
	NotReady              []string `json:"notReadyEndpoints,omitempty"`
	Chosen                string   `json:"chosen"`
	InternalTrafficPolicy string   `json:"internalTrafficPolicy,omitempty"`
	SessionAffinity       string   `json:"sessionAffinity,omitempty"`
}

// addService puts the Service's translation into the path: right after the packet leaves the
// source pod (kube-proxy rewrites it on the source node; Cilium's eBPF load balancer in the pod's
// connect()), then the path goes on to the chosen endpoint.
func (p *Path) addService(s *ServiceStep) {
	p.Service = s
	what := fmt.Sprintf("%s translates %s (Service %s) to endpoint %s", s.Implementation, s.ClusterIP, s.Name, s.Chosen)
	if len(s.Ready) > 1 {
		what += fmt.Sprintf(", one of %d ready endpoints, chosen per connection", len(s.Ready))
	}
	hop := Hop{Where: "node " + p.Src.Node, Device: "kube-proxy", What: what, Route: fmt.Sprintf("DNAT %s -> %s", s.ClusterIP, s.Chosen)}
	if s.Port != "" {
		hop.Route = fmt.Sprintf("DNAT %s -> %s", hostPort(s.ClusterIP, s.Port), hostPort(s.Chosen, s.TargetPort))
	}
	if strings.HasPrefix(s.Implementation, "Cilium") {
		hop.Where, hop.Device = "pod "+p.Src.Namespace+"/"+p.Src.Name, "eBPF socket LB"
	}
	at := 0
	if p.Src.Kind == "pod" && !p.Src.HostNetwork {
		at = min(2, len(p.Hops))
		if l := p.Hops[0].Lookup; l != nil {
			// the pod sends to the ClusterIP, which its default route takes; the host translates
			l.Dst = s.ClusterIP
			if l.Via == "" && !l.AnyVia {
				l.AnyVia = true // on a bridge the endpoint may be on-link; the ClusterIP is not
			}
		}
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
	return build(src, dst, nodes, ev, nil)
}

// BuildService explains the path from src through a Service to its endpoint dst.
func BuildService(src, dst Endpoint, svc *ServiceStep, nodes map[string]*inspect.Node, ev *inspect.Evidence) (*Path, error) {
	return build(src, dst, nodes, ev, svc)
}

func build(src, dst Endpoint, nodes map[string]*inspect.Node, ev *inspect.Evidence, svc *ServiceStep) (*Path, error) {
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
	for _, e := range []Endpoint{src, dst} {
		if e.Kind == "pod" && e.HostNetwork {
			p.Notes = append(p.Notes, fmt.Sprintf("%s uses the host network: it has node %s's addresses and its packets start and end in the node's namespace; NetworkPolicies do not select it", e, e.Node))
		}
	}
	bridge := bridgeOf(nw)
	srcNode, dstNode := "node "+sn.Name, "node "+dn.Name
	// leaving the source
	if srcPod {
		srcWhere := "pod " + src.Namespace + "/" + src.Name
		subnet := netip.Prefix{}
		if bridge != "" && dstPod && p.Case == "same-node" && svc == nil {
			if c, err := netip.ParsePrefix(nodeCIDRFor(sn, ev, nw, src.IP)); err == nil && c.Contains(dst.IP) {
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
		gw := gatewayOf(nw, sn, ev, v4)
		what := fmt.Sprintf("default route via %s", gw)
		if gw == "169.254.1.1" || gw == "fe80::1" {
			what += ": the host answers ARP for it (proxy ARP), so every packet goes to the host side"
		}
		look := &Lookup{In: srcWhere, Dst: dst.IP.String(), Dev: "eth0", Via: gw}
		if _, err := netip.ParseAddr(gw); err != nil {
			look.Via, look.AnyVia = "", true
		}
		p.Hops = append(p.Hops, Hop{Where: srcWhere, Device: "eth0", Addresses: []string{src.IP.String()}, What: what, Route: "default via " + gw + " dev eth0", Lookup: look})
		host := Hop{Where: srcNode, Device: podDevice(nw.Model, src), What: "the veth's host end receives the packet"}
		switch {
		case nw.Model == inspect.ModelCilium:
			host.What = "Cilium's eBPF program on the pod's lxc device (from-container) takes the packet: policy, load balancing, then routing or encapsulation"
		case bridge != "":
			host.What = fmt.Sprintf("the veth (%s's port) hands it to bridge %s, which routes it on the host", bridge, bridge)
		}
		p.Hops = append(p.Hops, host)
	}
	if p.Case == "same-node" || p.Case == "same-host" {
		if dstPod {
			p.Hops = append(p.Hops, deliver(nw, dn, ev, dst, bridge))
		} else {
			p.Hops = append(p.Hops, Hop{Where: dstNode, What: "local delivery: the destination is an address of this host (table local)",
				Lookup: &Lookup{In: dstNode, Dst: dst.IP.String(), Local: true}})
		}
		return p.withService(svc), nil
	}
	// between the nodes
	dstCIDR := ""
	if dstPod {
		dstCIDR = nodeCIDRFor(dn, ev, nw, dst.IP)
	}
	if dstPod && dstCIDR == "" && nw.UsesNodePodCIDR(ev) {
		p.Notes = append(p.Notes, fmt.Sprintf("node %s has no pod CIDR: %s has no route to its pods", dn.Name, nw.Model))
	}
	enc := encapOf(nw, sn, dn, v4)
	dstNodeIP := nodeAddr(dn, v4)
	switch {
	case !dstPod:
		p.Hops = append(p.Hops, Hop{Where: srcNode, Device: "eth0", What: fmt.Sprintf("routed on the node network to %s", dst.IP), Route: dst.IP.String() + " via the node's default or subnet route",
			Lookup: &Lookup{In: srcNode, Dst: dst.IP.String(), NodeInterface: true, AnyVia: true}})
	case enc != nil:
		hop := Hop{Where: srcNode, Device: enc.Device, Route: fmt.Sprintf("%s via %s dev %s onlink", orIP(dstCIDR, dst.IP), tunnelNextHop(nw, dn, ev, dstCIDR, v4), enc.Device),
			What: fmt.Sprintf("encapsulated (%s) towards node %s", enc.Kind, dn.Name), Encap: enc}
		hop.Lookup = &Lookup{In: srcNode, Dst: dst.IP.String(), Dev: enc.Device, Via: tunnelNextHop(nw, dn, ev, dstCIDR, v4)}
		switch nw.Model {
		case inspect.ModelCilium:
			// Cilium routes every pod CIDR to cilium_host; its eBPF programs encapsulate
			host := ciliumHost(sn, ev, v4)
			hop.What = fmt.Sprintf("encapsulated by eBPF (%s, tunnel map entry %s -> %s) towards node %s; the kernel route for host traffic goes to cilium_host", enc.Kind, orIP(dstCIDR, dst.IP), enc.OuterDst, dn.Name)
			hop.Route = fmt.Sprintf("%s via %s dev cilium_host", orIP(dstCIDR, dst.IP), orText(host, "the cilium_host address"))
			// the gateway is cilium_host's own address, which the kernel's answer may leave out
			hop.Lookup = &Lookup{In: srcNode, Dst: dst.IP.String(), Dev: "cilium_host", AnyVia: true}
		case inspect.ModelAntrea:
			gw := tunnelNextHop(nw, dn, ev, dstCIDR, v4)
			hop.What = fmt.Sprintf("routed to antrea-gw0, where Open vSwitch encapsulates it (%s on %s) towards node %s", enc.Kind, enc.Device, dn.Name)
			hop.Route = fmt.Sprintf("%s via %s dev antrea-gw0 onlink", orIP(dstCIDR, dst.IP), gw)
			hop.Lookup = &Lookup{In: srcNode, Dst: dst.IP.String(), Dev: "antrea-gw0", Via: gw}
		}
		if enc.Kind == "wireguard" {
			hop.Lookup.Via, hop.Lookup.AnyVia = "", true
		}
		p.Hops = append(p.Hops, hop)
		p.Hops = append(p.Hops, Hop{Where: "network", What: fmt.Sprintf("outer packet %s -> %s%s", enc.OuterSrc, enc.OuterDst, portText(enc))})
		p.Hops = append(p.Hops, Hop{Where: dstNode, Device: enc.Device, What: "decapsulated: the inner packet is routed to the pod"})
		p.Notes = append(p.Notes, fmt.Sprintf("%s adds %d bytes: the pod MTU must be the node MTU minus %d (1450 on a 1500 network for VXLAN)", enc.Kind, enc.Overhead, enc.Overhead))
	case nw.Model == inspect.ModelKubenet && strings.HasPrefix(sn.ProviderID, "azure://"):
		p.Hops = append(p.Hops, Hop{Where: srcNode, Device: "eth0", What: "no route for the pod CIDR on the node: sent to the subnet's gateway", Route: "default via the VNet gateway dev eth0",
			Lookup: &Lookup{In: srcNode, Dst: dst.IP.String(), NodeInterface: true, AnyVia: true}})
		p.Hops = append(p.Hops, Hop{Where: "cloud", What: fmt.Sprintf("Azure route table (user-defined route): %s -> %s (%s)", dstCIDR, dstNodeIP, dn.Name),
			Route: fmt.Sprintf("%s -> %s", dstCIDR, dstNodeIP), Lookup: &Lookup{In: "cloud", Dst: dst.IP.String(), Via: dstNodeIP}})
		p.Notes = append(p.Notes, "kubenet adds a hop compared with Azure CNI: the Azure route table must be associated with the nodes' subnet, or cross-node pod traffic is dropped")
	case nw.Model == inspect.ModelFlannel && nw.Mode == "host-gw", nw.Model == inspect.ModelCalico && nw.Mode == "bgp", nw.Model == inspect.ModelCilium && nw.Mode == "native", nw.Model == inspect.ModelKubenet:
		p.Hops = append(p.Hops, Hop{Where: srcNode, Device: "eth0", What: fmt.Sprintf("routed without encapsulation to node %s", dn.Name),
			Route:  fmt.Sprintf("%s via %s dev eth0", orIP(dstCIDR, dst.IP), dstNodeIP),
			Lookup: &Lookup{In: srcNode, Dst: dst.IP.String(), NodeInterface: true, Via: dstNodeIP}})
	case nw.Model == inspect.ModelAWSVPCCNI || nw.Model == inspect.ModelAzureCNI || nw.Model == inspect.ModelAzureCNIOverlay:
		p.Hops = append(p.Hops, Hop{Where: srcNode, Device: "eth0", What: "routed by the cloud network: pod addresses are VPC/VNet addresses (no encapsulation)",
			Lookup: &Lookup{In: srcNode, Dst: dst.IP.String(), NodeInterface: true, AnyVia: true}})
		p.Hops = append(p.Hops, Hop{Where: "cloud", What: fmt.Sprintf("the VPC/VNet delivers %s to node %s", dst.IP, dn.Name)})
	default:
		p.Hops = append(p.Hops, Hop{Where: srcNode, What: fmt.Sprintf("routed to node %s by %s (mode unknown)", dn.Name, nw)})
	}
	if dstPod {
		p.Hops = append(p.Hops, deliver(nw, dn, ev, dst, bridge))
	} else {
		p.Hops = append(p.Hops, Hop{Where: dstNode, What: "local delivery to the node's address", Lookup: &Lookup{In: dstNode, Dst: dst.IP.String(), Local: true}})
	}
	return p.withService(svc), nil
}

func deliver(nw inspect.Network, n *inspect.Node, ev *inspect.Evidence, dst Endpoint, bridge string) Hop {
	dev := podDevice(nw.Model, dst)
	where := "node " + n.Name
	h := Hop{Where: where, Device: dev}
	cidr := nodeCIDRFor(n, ev, nw, dst.IP)
	switch {
	case nw.Model == inspect.ModelCilium:
		host := ciliumHost(n, ev, dst.IP.Is4())
		h.What = "Cilium's eBPF program hands it to the pod's lxc device (to-container); the kernel route for host traffic goes to cilium_host"
		h.Route = fmt.Sprintf("%s via %s dev cilium_host", orIP(cidr, dst.IP), orText(host, "the cilium_host address"))
		h.Lookup = &Lookup{In: where, Dst: dst.IP.String(), Dev: "cilium_host", AnyVia: true}
	case bridge != "":
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

// tunnelNextHop is the gateway of the tunnel route to the destination node: its tunnel device's
// address (Flannel: the network address of its subnet; Calico VXLAN: its vxlan.calico address) or
// its node address (IPIP routes to the node itself).
func tunnelNextHop(nw inspect.Network, dn *inspect.Node, ev *inspect.Evidence, dstCIDR string, v4 bool) string {
	mode := strings.TrimSuffix(nw.Mode, "-crosssubnet")
	switch {
	case nw.Model == inspect.ModelFlannel && mode == "vxlan":
		if c, err := netip.ParsePrefix(dstCIDR); err == nil {
			return c.Masked().Addr().String()
		}
	case mode == "ipip", nw.Model == inspect.ModelCilium:
		return nodeAddr(dn, v4)
	}
	if t := inspect.NodeTunnel(dn, nw, ev); t != nil {
		for _, a := range t.Addresses {
			if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() == v4 {
				return a
			}
		}
	}
	return nodeAddr(dn, v4)
}

// ciliumHost is the node's cilium_host address of the family, "" when unknown.
func ciliumHost(n *inspect.Node, ev *inspect.Evidence, v4 bool) string {
	if cn := ev.CiliumNodes[n.Name]; cn != nil {
		for _, a := range cn.CiliumInternalIP {
			if a.Is4() == v4 {
				return a.String()
			}
		}
	}
	if a, err := netip.ParseAddr(n.Annotations["network.cilium.io/ipv4-cilium-host"]); err == nil && v4 && a.Is4() {
		return a.String()
	}
	return ""
}

// nodeAddr is the node's first InternalIP of the family (else its first), "?" when it has none.
func nodeAddr(n *inspect.Node, v4 bool) string {
	for _, a := range n.InternalIPs {
		if a.Is4() == v4 {
			return a.String()
		}
	}
	return first(n.InternalIPs)
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

// withService adds the Service's translation, when the path goes through one, and makes the
// source node's lookups those of the source pod's forwarded packet.
func (p *Path) withService(s *ServiceStep) *Path {
	if s != nil {
		p.addService(s)
	}
	p.forwardedFromPod()
	return p
}

// forwardedFromPod turns the source node's lookups into the forwarding of the pod's packet (from
// its address, in on the bridge or its host-side veth) where that device's name is known.
func (p *Path) forwardedFromPod() {
	if p.Src.Kind != "pod" || p.Src.HostNetwork {
		return
	}
	iif := bridgeOf(p.Network)
	if iif == "" {
		iif = podDevice(p.Network.Model, p.Src)
	}
	if strings.HasSuffix(iif, "…") {
		return // lxc…, azv…: named from IDs the API does not show
	}
	for i := range p.Hops {
		if l := p.Hops[i].Lookup; l != nil && l.In == "node "+p.Src.Node && !l.Local {
			l.From, l.Iif = p.Src.IP.String(), iif
		}
	}
}

// hostPort joins an address and a "N/PROTO" port as ip:N (or [ip]:N), with the protocol after.
func hostPort(ip, port string) string {
	n, proto, _ := strings.Cut(port, "/")
	if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	return ip + ":" + n + "/" + proto
}
