// Package netmodel describes the network models a cluster can run (kubenet, Flannel, Calico,
// Cilium, the AWS VPC CNI, Azure CNI, Antrea, Weave): each model is one descriptor, the only place
// that knows how it is detected, where a node's pod addresses come from, its tunnel and routing,
// its pod capacity and whether it enforces NetworkPolicy. Resolve turns the raw evidence of a run
// into one NodeNetwork per node, which every command reads.
package netmodel

import (
	"strings"
)

// Name is a network model's name, as shown to users and in JSON.
type Name string

// The network models.
const (
	Kubenet         Name = "kubenet"
	Flannel         Name = "flannel"
	Calico          Name = "calico"
	Cilium          Name = "cilium"
	AWSVPCCNI       Name = "aws-vpc-cni"
	AzureCNI        Name = "azure-cni"
	AzureCNIOverlay Name = "azure-cni-overlay"
	Antrea          Name = "antrea"
	Weave           Name = "weave"
	Unknown         Name = "unknown"
)

// Network is a detected network model, its mode (encapsulation or routing) and the evidence that
// decided it.
type Network struct {
	Model    Name     `json:"model"`
	Mode     string   `json:"mode,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

// String is "model" or "model/mode".
func (n Network) String() string {
	if n.Mode == "" {
		return string(n.Model)
	}
	return string(n.Model) + "/" + n.Mode
}

// Descriptor is the model's descriptor, to ask what the model does.
func (n Network) Descriptor() Model { return lookup(n.Model) }

// Tunnel is a node's tunnel (or overlay gateway) device kind and its addresses.
type Tunnel struct {
	Kind      string   `json:"kind"`
	Device    string   `json:"device,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	// MAC is the tunnel device's MAC address (a VXLAN VTEP's) as the model's agent published it
	// for the other nodes' FDB and neighbour entries, "" when the node's objects do not say.
	MAC string `json:"mac,omitempty"`
}

// String is "kind address[,address]".
func (t *Tunnel) String() string {
	if t == nil {
		return "-"
	}
	if len(t.Addresses) == 0 {
		return t.Kind
	}
	return t.Kind + " " + strings.Join(t.Addresses, ",")
}

// Encap is an encapsulation between two nodes: the device, the outer addresses (each node's
// transport address), the UDP port and VNI where there are some, and the bytes it adds.
type Encap struct {
	Kind     string `json:"kind"` // vxlan, geneve, ipip, wireguard
	Device   string `json:"device"`
	OuterSrc string `json:"outerSrc"`
	OuterDst string `json:"outerDst"`
	Port     int    `json:"udpPort,omitempty"`
	VNI      int    `json:"vni,omitempty"`
	Overhead int    `json:"overheadBytes"`
	// CrossSubnetOnly: the model encapsulates only between nodes of different subnets.
	CrossSubnetOnly bool `json:"crossSubnetOnly,omitempty"`
}

// Datapath is how a model carries pod traffic from one node to another.
type Datapath string

// Datapaths.
const (
	// DatapathTunnel: a kernel tunnel device the node routes pod CIDRs into (Flannel, Calico).
	DatapathTunnel Datapath = "tunnel"
	// DatapathEBPFTunnel: eBPF encapsulates behind a route to cilium_host (Cilium).
	DatapathEBPFTunnel Datapath = "ebpf-tunnel"
	// DatapathOVSTunnel: a route to the gateway device, where Open vSwitch encapsulates (Antrea).
	DatapathOVSTunnel Datapath = "ovs-tunnel"
	// DatapathRouted: plain routes to the other node's address (host-gw, BGP, native routing).
	DatapathRouted Datapath = "routed"
	// DatapathCloudRouteTable: the cloud's route table maps each node CIDR to its node (kubenet).
	DatapathCloudRouteTable Datapath = "cloud-route-table"
	// DatapathCloudNetwork: pod addresses are addresses of the VPC/VNet, routed by the cloud.
	DatapathCloudNetwork Datapath = "cloud-network"
	// DatapathUnknown: the model's mode is not known.
	DatapathUnknown Datapath = "unknown"
)

// HostEnd is what takes a pod's packet on its node.
type HostEnd string

// Host ends.
const (
	// HostEndBridge: the veth is a port of a bridge, which routes the packet on the host.
	HostEndBridge HostEnd = "bridge"
	// HostEndVeth: a routed veth (or ENI/azv device), with proxy ARP for the gateway.
	HostEndVeth HostEnd = "veth"
	// HostEndEBPF: an eBPF program on the pod's device (Cilium's lxc).
	HostEndEBPF HostEnd = "ebpf"
)
