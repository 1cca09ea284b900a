package netmodel

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// Flannel's node annotations.
const (
	annFlannelBackend      = "flannel.alpha.coreos.com/backend-type"
	annFlannelBackendData  = "flannel.alpha.coreos.com/backend-data"
	annFlannelPublicIP     = "flannel.alpha.coreos.com/public-ip"
	annFlannelPublicIPOver = "flannel.alpha.coreos.com/public-ip-overwrite"
	annFlannelPublicIPv6   = "flannel.alpha.coreos.com/public-ipv6"
	annFlannelPublicIPv6Ov = "flannel.alpha.coreos.com/public-ipv6-overwrite"
)

// flannelModel is Flannel: a bridge (cni0) on spec.podCIDRs, and a VXLAN, IPIP, WireGuard or UDP
// tunnel, or host routes (host-gw), between nodes.
type flannelModel struct{ base }

func (flannelModel) Name() Name                          { return Flannel }
func (flannelModel) Agent() string                       { return "flanneld" }
func (flannelModel) NodeCIDRIPAM(*cluster.Evidence) bool { return true }
func (flannelModel) Bridge() string                      { return "cni0" }
func (flannelModel) HostEnd() HostEnd                    { return HostEndBridge }
func (flannelModel) InterfaceHint() string {
	return "set flanneld's --iface (or --iface-regex, --iface-can-reach)"
}

func (flannelModel) Datapath(mode string, _ *cluster.Node) Datapath {
	switch mode {
	case "vxlan", "ipip", "wireguard", "udp":
		return DatapathTunnel
	case "host-gw":
		return DatapathRouted
	}
	return DatapathUnknown
}

// podsLocal: host-gw's routes to the pod CIDRs live on the nodes of one L2 segment alone, and
// flanneld masquerades pod traffic that leaves the cluster network.
func (flannelModel) podsLocal(mode string) bool { return mode == "host-gw" }

func (flannelModel) Encap(mode string, n *cluster.Node, v4 bool) *Encap {
	switch mode {
	case "vxlan":
		vni := flannelVNI(n)
		e := &Encap{Kind: "vxlan", Device: flannelVXLANDevice(vni, true), Port: 8472, VNI: vni, Overhead: 50}
		if !v4 {
			e.Device, e.Overhead = flannelVXLANDevice(vni, false), 70 // IPv6 outer header: 40 + 8 + 8 + 14
		}
		return e
	case "ipip":
		if !v4 {
			return nil // flannel's IPIP backend is IPv4 only
		}
		return &Encap{Kind: "ipip", Device: "flannel.ipip", Overhead: 20}
	case "wireguard":
		return &Encap{Kind: "wireguard", Device: "flannel-wg", Port: 51820, Overhead: 60}
	}
	return nil
}

func (flannelModel) Policy(ev *cluster.Evidence) Enforcement {
	if e, ok := policyEngine(ev); ok {
		return e
	}
	return Enforcement{State: NotEnforced, Reason: "flannel alone does not enforce NetworkPolicy; policies have no effect unless a policy engine (e.g. Calico in policy-only mode) runs"}
}

func (flannelModel) Needs(n *cluster.Node) cluster.Needs {
	return cluster.Needs{CNIConfigMaps: n.Annotations[annFlannelBackend] == ""}
}

func (flannelModel) marks(n *cluster.Node, _ *cluster.Evidence) string {
	switch {
	case hasPrefixKey(n.Annotations, "flannel.alpha.coreos.com/"):
		return "node annotations flannel.alpha.coreos.com/*"
	case netReason(n) == "FlannelIsUp":
		return "NetworkUnavailable reason FlannelIsUp"
	}
	return ""
}

func (flannelModel) clusterSigns(_ *cluster.Node, ev *cluster.Evidence) []string {
	return firstDaemonSet(ev, "kube-flannel-ds", "kube-flannel")
}

func (flannelModel) mode(n *cluster.Node, ev *cluster.Evidence) (string, []string) {
	if b := n.Annotations[annFlannelBackend]; b != "" {
		return strings.ToLower(b), []string{"annotation " + annFlannelBackend + "=" + b}
	}
	if ev.Flannel != nil {
		return ev.Flannel.Backend, []string{"kube-flannel-cfg Backend.Type=" + ev.Flannel.Backend}
	}
	return "", nil
}

// flannelBackendData is what flanneld publishes of its backend in the node's backend-data
// annotation: for VXLAN {"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}, which the other nodes' flanneld
// program into their FDB and neighbour tables.
type flannelBackendData struct {
	VNI     int    `json:"VNI"`
	VtepMAC string `json:"VtepMAC"`
}

// flannelBackend reads the node's backend-data annotation; a missing or unreadable one is empty.
func flannelBackend(n *cluster.Node) flannelBackendData {
	var data flannelBackendData
	if json.Unmarshal([]byte(n.Annotations[annFlannelBackendData]), &data) != nil {
		return flannelBackendData{}
	}
	return data
}

// flannelVNI is the node's VXLAN VNI (backend-data), 1 by default.
func flannelVNI(n *cluster.Node) int {
	if vni := flannelBackend(n).VNI; vni > 0 {
		return vni
	}
	return 1
}

// flannelVXLANDevice is flannel's VXLAN device of the family: it names it after the VNI.
func flannelVXLANDevice(vni int, v4 bool) string {
	if v4 {
		return "flannel." + strconv.Itoa(vni)
	}
	return "flannel-v6." + strconv.Itoa(vni)
}

func (flannelModel) tunnel(n *cluster.Node, mode string, _ *cluster.Evidence) *Tunnel {
	dev := map[string]string{"vxlan": flannelVXLANDevice(flannelVNI(n), true), "ipip": "flannel.ipip", "wireguard": "flannel-wg", "udp": "flannel0"}[mode]
	if dev == "" {
		return nil // host-gw and friends route without a tunnel device
	}
	t := &Tunnel{Kind: mode, Device: dev}
	if mode == "vxlan" {
		// the VTEP MAC the other nodes' flanneld program for this node
		t.MAC = flannelBackend(n).VtepMAC
	}
	// flannel gives its tunnel device (flannel.1, and flannel-v6.1 for IPv6) the network address
	// of the node's subnet of that family
	for _, p := range n.PodCIDRs {
		t.Addresses = append(t.Addresses, p.Masked().Addr().String())
	}
	return t
}

// transport is the address flannel publishes for the node, per family: public-ip, which the
// other nodes' flanneld program as VXLAN peer and host-gw next hop (flanneld copies an admin's
// public-ip-overwrite into it when it starts).
func (flannelModel) transport(n *cluster.Node, _ *cluster.Evidence) ([]netip.Addr, string) {
	var out []netip.Addr
	var srcs []string
	for _, k := range []string{annFlannelPublicIP, annFlannelPublicIPv6} {
		if a, err := netip.ParseAddr(n.Annotations[k]); err == nil {
			out = append(out, a)
			srcs = append(srcs, "annotation "+k)
		}
	}
	return out, strings.Join(srcs, ", ")
}

// addressWarning: a public-ip-overwrite that public-ip does not show yet takes effect only when
// flanneld restarts on the node; until then the other nodes send to public-ip.
func (flannelModel) addressWarning(n *cluster.Node) (string, string) {
	for _, k := range [][2]string{{annFlannelPublicIPOver, annFlannelPublicIP}, {annFlannelPublicIPv6Ov, annFlannelPublicIPv6}} {
		over, cur := n.Annotations[k[0]], n.Annotations[k[1]]
		if over != "" && over != cur {
			return "FlannelPublicIPOverwrite", fmt.Sprintf("node %s asks flannel for %s (%s) but publishes %s (%s): other nodes send to %s until flanneld restarts on the node",
				n.Name, over, k[0], orNone(cur), k[1], orNone(cur))
		}
	}
	return "", ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// TunnelNextHop: flannel's VXLAN route to a node's subnet goes via the subnet's network address,
// which the remote flannel.1 holds.
func (flannelModel) TunnelNextHop(mode string, dst *NodeNetwork, dstCIDR string, v4 bool) string {
	if c, err := netip.ParsePrefix(dstCIDR); err == nil && mode == "vxlan" {
		return c.Masked().Addr().String()
	}
	if mode == "ipip" {
		return dst.TransportAddr(v4)
	}
	return tunnelAddress(dst, v4)
}
