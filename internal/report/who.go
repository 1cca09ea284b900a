package report

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	corev1 "k8s.io/api/core/v1"
)

// Owner kinds: what owns or contains an address; beside these, the kinds of the addresses a
// network model gives a node itself (netmodel.HostAddress: CiliumHost, CiliumHealth).
const (
	OwnPod            = "Pod"
	OwnHostNetworkPod = "HostNetworkPod"
	OwnNodeInternalIP = "NodeInternalIP"
	OwnNodeExternalIP = "NodeExternalIP"
	OwnNodeTunnel     = "NodeTunnel"
	OwnNodeTransport  = "NodeTransport"
	OwnService        = "ServiceClusterIP"
	OwnNodePodCIDR    = "NodePodCIDR"
	OwnClusterPodCIDR = "ClusterPodCIDR"
	OwnServiceCIDR    = "ServiceCIDR"
	OwnOutside        = "Outside"
)

// Owner is one thing that owns or contains an address.
type Owner struct {
	Kind   string `json:"kind"`
	Object string `json:"object"`
	// CIDR is the range, for a node CIDR or IPAM block.
	CIDR   string `json:"cidr,omitempty"`
	Detail string `json:"detail,omitempty"`
	// held: the owner holds the address (it is not free)
	held bool
}

// WhoResult is everything known of one address.
type WhoResult struct {
	Address string  `json:"address"`
	Owners  []Owner `json:"owners"`
}

// WhoReport is the answer to `kubectl podnet who ADDRESS...`.
type WhoReport struct {
	Results []WhoResult `json:"results"`
	Notes   []string    `json:"notes,omitempty"`
}

// NeedsAllPods reports whether finding the pods holding the addresses needs the whole pod list:
// an address of a dual-stack cluster's second family is only in status.podIPs, which no field
// selector reads.
func NeedsAllPods(addrs []netip.Addr, ev *cluster.Evidence, v *netmodel.View) bool {
	primary4, dual := podFamilies(ev, v)
	for _, a := range addrs {
		if dual && a.Is4() != primary4 {
			return true
		}
	}
	return false
}

// BuildWho finds, for each address, the pods, nodes, Services and ranges that own or contain it.
func BuildWho(addrs []netip.Addr, inv *cluster.Inventory, v *netmodel.View, h *cluster.AddressHolders) *WhoReport {
	rep := &WhoReport{Notes: append(append([]string(nil), inv.Notes...), h.Notes...), Results: []WhoResult{}}
	rc := &ranges{podCIDRs: netmodel.ClusterPodCIDRs(&inv.Evidence, v), serviceCIDRs: netmodel.ServiceCIDRs(&inv.Evidence)}
	for _, a := range addrs {
		res := WhoResult{Address: a.String(), Owners: []Owner{}}
		res.Owners = append(res.Owners, podOwners(a, h.Pods)...)
		res.Owners = append(res.Owners, nodeOwners(a, inv, v)...)
		for i := range h.Services {
			if o, ok := serviceOwner(a, &h.Services[i], h); ok {
				res.Owners = append(res.Owners, o)
			}
		}
		res.Owners = append(res.Owners, rangeOwners(a, inv, v, rc, res.Owners)...)
		rep.Results = append(rep.Results, res)
	}
	return rep
}

// podFamilies tells whether the cluster's pod network is dual-stack and which family comes first.
func podFamilies(ev *cluster.Evidence, v *netmodel.View) (primary4, dual bool) {
	primary4 = true
	seen := map[bool]bool{}
	first := true
	note := func(p netip.Prefix) {
		if first {
			primary4, first = p.Addr().Is4(), false
		}
		seen[p.Addr().Is4()] = true
	}
	for _, n := range v.Nodes {
		for _, p := range n.PodCIDRs {
			note(p)
		}
	}
	for _, c := range netmodel.ClusterPodCIDRs(ev, nil) {
		if p, err := netip.ParsePrefix(c.CIDR); err == nil && !c.Inferred {
			note(p)
		}
	}
	return primary4, seen[true] && seen[false]
}

func podOwners(a netip.Addr, pods []cluster.Pod) []Owner {
	var out []Owner
	for _, p := range pods {
		if !slices.Contains(p.IPs, a) {
			continue
		}
		o := Owner{Kind: OwnPod, Object: "pod/" + p.Namespace + "/" + p.Name, Detail: "on node " + dashIfEmpty(p.Node)}
		if p.HostNetwork {
			o.Kind = OwnHostNetworkPod
			o.Detail += ", host network: shares the node's address"
		}
		if p.Finished() {
			o.Detail += fmt.Sprintf(", %s: the address was released and may be reused", p.Phase)
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	return out
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ranges is what BuildWho computes once for all its addresses.
type ranges struct {
	podCIDRs, serviceCIDRs []netmodel.SourcedCIDR
}

func nodeOwners(a netip.Addr, inv *cluster.Inventory, v *netmodel.View) []Owner {
	var out []Owner
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		nn := &v.Nodes[i]
		obj := "node/" + n.Name
		if slices.Contains(n.InternalIPs, a) {
			out = append(out, Owner{Kind: OwnNodeInternalIP, Object: obj})
		}
		if slices.Contains(n.ExternalIPs, a) {
			out = append(out, Owner{Kind: OwnNodeExternalIP, Object: obj})
		}
		if slices.Contains(nn.Transport, a) && !slices.Contains(n.InternalIPs, a) && !slices.Contains(n.ExternalIPs, a) {
			out = append(out, Owner{Kind: OwnNodeTransport, Object: obj, Detail: fmt.Sprintf("the address %s sends other nodes' pod traffic to (%s)", nn.Network.Model, nn.TransportSource)})
		}
		hosts := nn.HostAddresses(&inv.Evidence)
		onHost := slices.ContainsFunc(hosts, func(h netmodel.HostAddress) bool { return h.Addr == a })
		if t := nn.Tunnel; t != nil && !onHost && slices.Contains(t.Addresses, a.String()) { // a host address is named below
			dev := t.Device
			if gd := nn.Model().GatewayDevice(); gd != "" && nn.Model().Gateway(n, &inv.Evidence, a.Is4()) == a.String() {
				dev = gd // the gateway device holds it (cilium_host, antrea-gw0), not the tunnel's
			}
			out = append(out, Owner{Kind: OwnNodeTunnel, Object: obj, Detail: fmt.Sprintf("%s device %s (%s)", t.Kind, dev, nn.Network), held: true})
		}
		for _, h := range hosts {
			if h.Addr == a {
				out = append(out, Owner{Kind: h.Kind, Object: obj, Detail: h.Detail, held: true})
			}
		}
	}
	return out
}

func serviceOwner(a netip.Addr, s *corev1.Service, h *cluster.AddressHolders) (Owner, bool) {
	if !slices.Contains(cluster.ClusterIPsOf(s), a) {
		return Owner{}, false
	}
	key := s.Namespace + "/" + s.Name
	o := Owner{Kind: OwnService, Object: "service/" + key, Detail: string(s.Spec.Type)}
	if err, failed := h.EndpointErrors[key]; failed {
		o.Detail += ", endpoints: " + cluster.Reason(err)
		return o, true
	}
	var ready, notReady []string
	for _, e := range h.Endpoints[key] {
		if e.Ready {
			ready = append(ready, e.Address)
		} else {
			notReady = append(notReady, e.Address)
		}
	}
	o.Detail += fmt.Sprintf(", endpoints: %s ready", listOrNone(ready))
	if len(notReady) > 0 {
		o.Detail += ", " + strings.Join(notReady, ",") + " not ready"
	}
	return o, true
}

func listOrNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ",")
}

// rangeOwners names the node CIDR or IPAM block, the cluster pod CIDR and the service CIDR that
// contain the address, or says it is outside every known range.
func rangeOwners(a netip.Addr, inv *cluster.Inventory, v *netmodel.View, rc *ranges, found []Owner) []Owner {
	var out []Owner
	held := false
	for _, o := range found {
		if o.held || o.Kind == OwnPod || o.Kind == OwnService {
			held = true
		}
	}
	state := func() string {
		if held {
			return ""
		}
		return "free: no pod holds it"
	}
	ev := &inv.Evidence
	for _, nn := range v.Nodes {
		if nn.Source == netmodel.SourceCalicoBlocks {
			continue // Calico's blocks, below, with their names
		}
		for _, p := range nn.PodCIDRs {
			if p.Contains(a) {
				out = append(out, Owner{Kind: OwnNodePodCIDR, Object: "node/" + nn.Name, CIDR: p.String(), Detail: strings.TrimSpace(fmt.Sprintf("%s (%s) %s", p, nn.Source, state()))})
			}
		}
	}
	for _, b := range ev.CalicoBlocks {
		if b.CIDR.Contains(a) {
			obj := "ipamblock/" + b.Name
			d := fmt.Sprintf("Calico IPAM block %s", b.CIDR)
			if b.Node != "" {
				d += " affine to node " + b.Node
			}
			out = append(out, Owner{Kind: OwnNodePodCIDR, Object: obj, CIDR: b.CIDR.String(), Detail: strings.TrimSpace(d + " " + state())})
		}
	}
	for _, c := range rc.podCIDRs {
		if p, err := netip.ParsePrefix(c.CIDR); err == nil && p.Contains(a) {
			out = append(out, Owner{Kind: OwnClusterPodCIDR, Object: c.CIDR, Detail: c.Source})
		}
	}
	for _, c := range rc.serviceCIDRs {
		if p, err := netip.ParsePrefix(c.CIDR); err == nil && p.Contains(a) {
			d := c.Source
			if !held {
				d += ", no Service has it"
			}
			out = append(out, Owner{Kind: OwnServiceCIDR, Object: c.CIDR, Detail: d})
		}
	}
	if len(out) == 0 && len(found) == 0 {
		out = append(out, Owner{Kind: OwnOutside, Object: "-", Detail: outsideDetail(a)})
	}
	return out
}

// outsideDetail says what kind of range an address nobody owns is in.
func outsideDetail(a netip.Addr) string {
	switch {
	case a.IsLoopback():
		return "outside every known range: a loopback address"
	case a.IsLinkLocalUnicast():
		return "outside every known range: link-local (169.254.0.0/16 or fe80::/10; e.g. Calico's and Azure CNI's gateway 169.254.1.1)"
	case a.IsPrivate():
		return "outside every known range of this cluster: a private address (RFC 1918 / ULA), maybe another network or VPC"
	case a.IsMulticast():
		return "outside every known range: a multicast address"
	}
	return "outside every known range of this cluster: a public address"
}
