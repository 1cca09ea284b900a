package trace

import (
	"fmt"
	"strings"
)

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
	// SocketLB: the translation happens in the pod's connect() (Cilium's eBPF), not on the node.
	SocketLB        bool   `json:"socketLB,omitempty"`
	SessionAffinity string `json:"sessionAffinity,omitempty"`
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
	if s.SocketLB {
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
	m := p.src.Model()
	iif := m.Bridge()
	if iif == "" {
		iif = m.PodDevice(p.Src.Namespace, p.Src.Name)
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
