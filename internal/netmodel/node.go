package netmodel

import (
	"net/netip"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/ipam"
)

// CIDRSource says where a node's pod addresses come from.
type CIDRSource string

// CIDR sources.
const (
	SourceSpec         CIDRSource = "spec.podCIDRs"
	SourceCalicoBlocks CIDRSource = "Calico IPAM blocks"
	SourceCiliumNode   CIDRSource = "CiliumNode"
	SourceCiliumPools  CIDRSource = "CiliumNode multi-pool"
	SourceCloudSubnet  CIDRSource = "VPC/VNet subnet (no node CIDR)"
	SourceCiliumAnnot  CIDRSource = "node annotation network.cilium.io/ipv4-pod-cidr"
	SourceNone         CIDRSource = "none"
)

// Binding is the limit that binds a node's pod addresses first.
type Binding string

// Bindings.
const (
	BindAddresses Binding = "addresses"
	BindMaxPods   Binding = "max-pods"
	// BindBlocksOnDemand: max pods binds, and the IPAM claims more blocks as pods come.
	BindBlocksOnDemand Binding = "max-pods (blocks are claimed on demand)"
	BindNoPodCIDR      Binding = "no pod CIDR"
)

// NodeNetwork is everything the network model says of one node, computed once per run: every
// command reads this, so they all state the same facts.
type NodeNetwork struct {
	Name    string  `json:"name"`
	Network Network `json:"network"`
	// PodCIDRs are the node's pod address ranges, from Source.
	PodCIDRs []netip.Prefix `json:"podCIDRs"`
	Source   CIDRSource     `json:"podCIDRSource"`
	// Tunnel is the node's tunnel device, nil when the model routes without one.
	Tunnel *Tunnel `json:"tunnel,omitempty"`
	// Transport are the node addresses other nodes send its pods' traffic to: the tunnel endpoint
	// or the next hop the model programs, not whatever the Node lists first.
	Transport       []netip.Addr `json:"transportAddresses"`
	TransportSource string       `json:"transportSource"`
	// Capacity is how many pods on the pod network the node can hold; nil when pods were not read.
	Capacity *Capacity `json:"capacity,omitempty"`

	node  *cluster.Node
	model Model
}

// Capacity is the pods on the pod network a node can hold, and which limit binds.
type Capacity struct {
	// MaxPods is kubelet's max-pods (allocatable pods): it counts every pod, host-network ones too.
	MaxPods int64 `json:"maxPods"`
	// HostNetworkPods are the node's running host-network pods: they take a max-pods slot, no address.
	HostNetworkPods int `json:"hostNetworkPods"`
	// Addresses are the pod addresses the node's IPAM can give it (0 when it sets no per-node limit).
	Addresses     uint64 `json:"addresses"`
	AddressSource string `json:"addressSource,omitempty"`
	// PodIPs are the pod-network pods the node can hold: the lower of Addresses and the max-pods
	// slots left by the host-network pods.
	PodIPs  uint64  `json:"podIPs"`
	Binding Binding `json:"binding"`
	// Used are the node's pods holding a pod-network address.
	Used int `json:"used"`
	// Leaked are addresses of the node's range its IPAM store still claims for pods that no longer
	// hold them (read only by commands that read the stores): Addresses less these is what is left.
	Leaked      int     `json:"leaked,omitempty"`
	Utilisation float64 `json:"utilisation"`
}

// Model is the node's model descriptor.
func (nn *NodeNetwork) Model() Model { return nn.model }

// HostLocal reports whether the node's pod addresses are reserved by host-local in its file
// system: a model that uses it, handing out spec.podCIDRs (so never a node derived from its pods,
// which has none).
func (nn *NodeNetwork) HostLocal() bool {
	return nn.Source == SourceSpec && nn.model != nil && nn.model.HostLocal()
}

// Node is the node the view was resolved from.
func (nn *NodeNetwork) Node() *cluster.Node { return nn.node }

// TransportAddr is the transport address of the family ("?" when the node has none).
func (nn *NodeNetwork) TransportAddr(v4 bool) string {
	for _, a := range nn.Transport {
		if a.Is4() == v4 {
			return a.String()
		}
	}
	if len(nn.Transport) == 0 {
		return "?"
	}
	return nn.Transport[0].String()
}

// CIDRFor is the node's pod CIDR holding ip, else its first, else "".
func (nn *NodeNetwork) CIDRFor(ip netip.Addr) string {
	for _, c := range nn.PodCIDRs {
		if c.Contains(ip) {
			return c.String()
		}
	}
	if len(nn.PodCIDRs) > 0 {
		return nn.PodCIDRs[0].String()
	}
	return ""
}

// AddressWarning is what looks wrong in the addresses the node's agent published, as a warning
// kind and message; "" if nothing.
func (nn *NodeNetwork) AddressWarning() (kind, message string) {
	return nn.model.addressWarning(nn.node)
}

// PodsInNodeCIDR reports whether the node's pods must hold addresses of its spec.podCIDRs: its
// model's IPAM hands them out, or nothing identifies the model and the node has a CIDR (a bridge
// on it is the likely setup).
func (nn *NodeNetwork) PodsInNodeCIDR(ev *cluster.Evidence) bool {
	return nn.Source == SourceSpec && (nn.model.NodeCIDRIPAM(ev) || nn.Network.Model == Unknown)
}

// NeedsCIDR reports whether the node needs a pod CIDR from spec.podCIDRs and has none: pods
// scheduled there cannot get an address.
func (nn *NodeNetwork) NeedsCIDR(ev *cluster.Evidence) bool {
	if len(nn.node.PodCIDRs) > 0 || nn.node.FromPods {
		return false
	}
	_, starved := ev.CIDRNotAvailable[nn.Name]
	return nn.model.NodeCIDRIPAM(ev) || nn.Network.Model == Unknown && starved
}

// Encap is the encapsulation from this node to dst in the family, with the outer addresses each
// node's transport address; nil when the model does not encapsulate.
func (nn *NodeNetwork) Encap(dst *NodeNetwork, v4 bool) *Encap {
	e := nn.model.Encap(nn.Network.Mode, nn.node, v4)
	if e == nil {
		return nil
	}
	e.OuterSrc, e.OuterDst = nn.TransportAddr(v4), dst.TransportAddr(v4)
	return e
}

// PodCounts are a node's pods as the capacity counts them.
type PodCounts struct {
	// OnPodNetwork hold a pod-network address; OnHostNetwork are running host-network pods.
	OnPodNetwork, OnHostNetwork int
	// Leaked are the node's addresses its IPAM store claims for pods that do not hold them.
	Leaked int
}

// ResolveNode computes the node's network; counts, when pods were read, give its capacity.
func ResolveNode(n *cluster.Node, ev *cluster.Evidence, counts *PodCounts) NodeNetwork {
	nw := Detect(n, ev)
	m := lookup(nw.Model)
	nn := NodeNetwork{Name: n.Name, Network: nw, node: n, model: m}
	nn.PodCIDRs, nn.Source = m.podCIDRs(n, ev)
	if nn.PodCIDRs == nil {
		nn.PodCIDRs = []netip.Prefix{}
	}
	nn.Tunnel = m.tunnel(n, nw.Mode, ev)
	nn.Transport, nn.TransportSource = m.transport(n, ev)
	nn.Transport, nn.TransportSource = withInternalIPs(nn.Transport, nn.TransportSource, n.InternalIPs)
	if nn.Transport == nil {
		nn.Transport = []netip.Addr{}
	}
	if counts != nil {
		nn.Capacity = capacity(&nn, ev, *counts)
	}
	return nn
}

func capacity(nn *NodeNetwork, ev *cluster.Evidence, c PodCounts) *Capacity {
	n := nn.node
	cp := &Capacity{MaxPods: n.AllocatablePods, HostNetworkPods: c.OnHostNetwork, Used: c.OnPodNetwork, Leaked: c.Leaked}
	slots := uint64(max(n.AllocatablePods-int64(c.OnHostNetwork), 0))
	addrs, limited, src := nn.model.addresses(nn, ev)
	cp.AddressSource = src
	if limited {
		cp.Addresses = addrs
		// a leaked address is one no new pod can get
		addrs -= min(addrs, uint64(c.Leaked))
	}
	switch {
	case nn.NeedsCIDR(ev) || len(nn.PodCIDRs) == 0 && ev.CIDRNotAvailable[nn.Name] != "" && nn.Source != SourceCloudSubnet:
		cp.PodIPs, cp.Binding = 0, BindNoPodCIDR
	case limited && (addrs < slots || n.AllocatablePods == 0):
		cp.PodIPs, cp.Binding = addrs, BindAddresses
	case !limited && nn.Source == SourceCalicoBlocks && len(nn.PodCIDRs) > 0 && usableOf(nn.PodCIDRs, ipam.Size) < slots:
		cp.PodIPs, cp.Binding = slots, BindBlocksOnDemand
	default:
		cp.PodIPs, cp.Binding = slots, BindMaxPods
	}
	cp.Utilisation = ipam.Ratio(uint64(c.OnPodNetwork), cp.PodIPs)
	return cp
}

// View is the resolved network of every node of a run, and the cluster's.
type View struct {
	// Nodes are in the inventory's order.
	Nodes   []NodeNetwork
	Cluster Network
	byName  map[string]int
}

// Resolve resolves every node of the inventory once, counting its pods for the capacity, and the
// addresses leaked where the inventory read the IPAM stores' claims.
func Resolve(inv *cluster.Inventory) *View {
	counts := make(map[string]*PodCounts, len(inv.Nodes))
	leaked := inv.LeakedByNode()
	for i := range inv.Nodes {
		counts[inv.Nodes[i].Name] = &PodCounts{Leaked: leaked[inv.Nodes[i].Name]}
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		c := counts[p.Node]
		if c == nil {
			continue
		}
		switch {
		case p.HostNetwork && !p.Finished():
			c.OnHostNetwork++
		case p.HoldsIP():
			c.OnPodNetwork++
		}
	}
	v := &View{Nodes: make([]NodeNetwork, len(inv.Nodes)), byName: make(map[string]int, len(inv.Nodes))}
	nets := make([]Network, len(inv.Nodes))
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		// pods that could not be read count as none: the inventory's notes say so
		v.Nodes[i] = ResolveNode(n, &inv.Evidence, counts[n.Name])
		v.byName[n.Name] = i
		nets[i] = v.Nodes[i].Network
	}
	v.Cluster = ClusterNetwork(nets, &inv.Evidence)
	return v
}

// Node is the resolved node of that name, nil when the run has none.
func (v *View) Node(name string) *NodeNetwork {
	if i, ok := v.byName[name]; ok {
		return &v.Nodes[i]
	}
	return nil
}

// withInternalIPs completes a transport with the node's InternalIP of each family it lacks.
func withInternalIPs(tr []netip.Addr, source string, internal []netip.Addr) ([]netip.Addr, string) {
	has := map[bool]bool{}
	for _, a := range tr {
		has[a.Is4()] = true
	}
	added := false
	for _, a := range internal {
		if !has[a.Is4()] {
			tr = append(tr, a)
			has[a.Is4()] = true
			added = true
		}
	}
	switch {
	case added && source == "":
		source = TransportInternalIP
	case added && source != TransportInternalIP:
		source += ", " + TransportInternalIP
	}
	return tr, source
}
