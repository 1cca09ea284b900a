package probe

import (
	"fmt"
	"net/netip"
	"strings"
)

// View is one probed target with the checks made against the API; -o json|yaml emit it.
type View struct {
	Result *Result `json:"result"`
	Checks []Check `json:"checks,omitempty"`
	// Serves maps a node device to the pod it serves.
	Serves map[string]string `json:"serves,omitempty"`
}

// Check compares what the kernel says with what the API says.
type Check struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// PodFacts is what the API says of a probed pod.
type PodFacts struct {
	IPs       []string
	Node      string
	NodeCIDRs []string
	// CIDRModel is set when the network model hands out pod addresses from the node's pod CIDR.
	CIDRModel bool
}

// CheckPod compares a pod's namespace with the API: its podIPs on an interface, a default route,
// and, where the model hands out node CIDRs, its addresses inside the node's CIDR.
func CheckPod(s *Snapshot, f PodFacts) []Check {
	var out []Check
	for _, ip := range f.IPs {
		dev := ""
		for _, l := range s.Links {
			for _, a := range l.Addrs {
				if strings.SplitN(a.CIDR, "/", 2)[0] == ip {
					dev = l.Name
				}
			}
		}
		if dev != "" {
			out = append(out, Check{OK: true, Message: fmt.Sprintf("pod IP %s is on %s", ip, dev)})
		} else {
			out = append(out, Check{Message: fmt.Sprintf("pod IP %s (from the API) is on no interface of the pod: the CNI's view and the API disagree", ip)})
		}
	}
	for _, fam := range []string{"inet", "inet6"} {
		if !hasFamily(f.IPs, fam) {
			continue
		}
		var def *Route
		for i := range s.Routes {
			r := &s.Routes[i]
			if r.Family == fam && r.Dst == "default" && r.Table == "main" {
				def = r
				break
			}
		}
		switch {
		case def == nil:
			out = append(out, Check{Message: fmt.Sprintf("no %s default route in table main: the pod reaches only its own subnet", famName(fam))})
		case def.Gateway != "":
			out = append(out, Check{OK: true, Message: fmt.Sprintf("%s default route via %s on %s", famName(fam), def.Gateway, def.Dev)})
		default:
			out = append(out, Check{OK: true, Message: fmt.Sprintf("%s default route on %s without a gateway", famName(fam), def.Dev)})
		}
	}
	if f.CIDRModel && len(f.NodeCIDRs) > 0 {
		for _, ip := range f.IPs {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				continue
			}
			in, judged := false, false
			for _, c := range f.NodeCIDRs {
				p, err := netip.ParsePrefix(c)
				if err != nil || p.Addr().Is4() != a.Is4() {
					continue
				}
				judged = true
				in = in || p.Contains(a)
			}
			switch {
			case !judged:
			case in:
				out = append(out, Check{OK: true, Message: fmt.Sprintf("%s is in node %s's pod CIDR %s", ip, f.Node, strings.Join(f.NodeCIDRs, ","))})
			default:
				out = append(out, Check{Message: fmt.Sprintf("%s is outside node %s's pod CIDR %s: routes to it point at another node", ip, f.Node, strings.Join(f.NodeCIDRs, ","))})
			}
		}
	}
	return out
}

func hasFamily(ips []string, fam string) bool {
	for _, ip := range ips {
		if strings.Contains(ip, ":") == (fam == "inet6") {
			return true
		}
	}
	return false
}

func famName(fam string) string {
	if fam == "inet6" {
		return "IPv6"
	}
	return "IPv4"
}

// ServesOnNode names, for a node's devices, the pods they serve: a pod's eth0 whose peer index is
// the device's index (veth pairs), or a /32 or /128 host route to a pod IP through the device
// (Calico, Cilium, AWS VPC CNI).
func ServesOnNode(node *Snapshot, pods []*Result, podIPs map[string]string) map[string]string {
	out := map[string]string{}
	for _, p := range pods {
		if p.Snapshot == nil {
			continue
		}
		for _, l := range p.Snapshot.Links {
			if l.PeerIndex == 0 {
				continue
			}
			for _, nl := range node.Links {
				if nl.Index == l.PeerIndex {
					out[nl.Name] = l.Name + " of " + strings.TrimPrefix(p.Target, "pod/")
				}
			}
		}
	}
	for _, r := range node.Routes {
		if r.Dev == "" || (!strings.HasSuffix(r.Dst, "/32") && !strings.HasSuffix(r.Dst, "/128")) {
			continue
		}
		if pod, ok := podIPs[strings.SplitN(r.Dst, "/", 2)[0]]; ok {
			if _, done := out[r.Dev]; !done {
				out[r.Dev] = pod
			}
		}
	}
	return out
}
