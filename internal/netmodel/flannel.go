package netmodel

import (
	"encoding/json"
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

func (flannelModel) Datapath(mode string, _ *cluster.Node) Datapath {
	switch mode {
	case "vxlan", "ipip", "wireguard", "udp":
		return DatapathTunnel
	case "host-gw":
		return DatapathRouted
	}
	return DatapathUnknown
}

func (flannelModel) Encap(mode string, n *cluster.Node, v4 bool) *Encap {
	switch mode {
	case "vxlan":
		e := &Encap{Kind: "vxlan", Device: "flannel.1", Port: 8472, VNI: 1, Overhead: 50}
		var data struct {
			VNI int `json:"VNI"`
		}
		if json.Unmarshal([]byte(n.Annotations[annFlannelBackendData]), &data) == nil && data.VNI > 0 {
			e.VNI = data.VNI // flannel names the device after the VNI: flannel.<VNI>
			e.Device = "flannel." + strconv.Itoa(data.VNI)
		}
		if !v4 {
			e.Device, e.Overhead = "flannel-v6."+strconv.Itoa(e.VNI), 70 // IPv6 outer header: 40 + 8 + 8 + 14
		}
		return e
	case "ipip":
		return &Encap{Kind: "ipip", Device: "flannel.ipip", Overhead: 20}
	case "wireguard":
		return &Encap{Kind: "wireguard", Device: "flannel-wg", Port: 51820, Overhead: 60}
	}
	return nil
}

func (flannelModel) Policy(*cluster.Evidence) Enforcement {
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

func (flannelModel) tunnel(n *cluster.Node, mode string, _ *cluster.Evidence) *Tunnel {
	dev := map[string]string{"vxlan": "flannel.1", "ipip": "flannel.ipip", "wireguard": "flannel-wg", "udp": "flannel0"}[mode]
	if dev == "" {
		return nil // host-gw and friends route without a tunnel device
	}
	t := &Tunnel{Kind: mode, Device: dev}
	// flannel gives its tunnel device (flannel.1, and flannel-v6.1 for IPv6) the network address
	// of the node's subnet of that family
	for _, p := range n.PodCIDRs {
		t.Addresses = append(t.Addresses, p.Masked().Addr().String())
	}
	return t
}

// transport is the address flannel publishes for the node: public-ip-overwrite (set by the
// admin) over public-ip (chosen by flanneld), per family; both the VXLAN peer and the host-gw next
// hop.
func (flannelModel) transport(n *cluster.Node, _ *cluster.Evidence) ([]netip.Addr, string) {
	var out []netip.Addr
	var srcs []string
	for _, keys := range [][2]string{{annFlannelPublicIPOver, annFlannelPublicIP}, {annFlannelPublicIPv6Ov, annFlannelPublicIPv6}} {
		for _, k := range keys {
			if a, err := netip.ParseAddr(n.Annotations[k]); err == nil {
				out = append(out, a)
				srcs = append(srcs, "annotation "+k)
				break
			}
		}
	}
	return out, strings.Join(srcs, ", ")
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
