package cluster

import (
	"net/netip"
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Evidence is what the cluster says about its network plugin beyond nodes and pods. A field is
// nil (or empty) when the object does not exist; Unknown says which could not be read.
type Evidence struct {
	DaemonSets   []DaemonSetRef     `json:"daemonSets,omitempty"`
	KubeProxy    *KubeProxyConfig   `json:"kubeProxy,omitempty"`
	Kubeadm      *KubeadmNetworking `json:"kubeadm,omitempty"`
	Cilium       *CiliumConfig      `json:"cilium,omitempty"`
	Flannel      *FlannelConfig     `json:"flannel,omitempty"`
	Antrea       *AntreaConfig      `json:"antrea,omitempty"`
	CalicoPools  []CalicoPool       `json:"calicoPools,omitempty"`
	CalicoBlocks []CalicoBlock      `json:"calicoBlocks,omitempty"`
	// MaxBlocksPerHost is Calico's IPAMConfig limit on the blocks one node may claim (0: none).
	MaxBlocksPerHost int                    `json:"maxBlocksPerHost,omitempty"`
	CiliumNodes      map[string]*CiliumNode `json:"-"`
	// DiscoveryFailed says why API discovery failed as a whole, "" when it worked; FailedGroups
	// are the group versions it could not list, with why.
	DiscoveryFailed string            `json:"-"`
	FailedGroups    map[string]string `json:"-"`
	ServiceCIDRs    []ServiceCIDR     `json:"serviceCIDRs,omitempty"`
	// KubernetesServiceIP is the ClusterIP of Service default/kubernetes.
	KubernetesServiceIP netip.Addr `json:"kubernetesServiceIP,omitzero"`
	// CIDRNotAvailable maps a node name to the message of its CIDRNotAvailable event.
	CIDRNotAvailable map[string]string `json:"-"`
	// Unknown lists evidence that exists or may exist but could not be read (forbidden, failed).
	Unknown []string `json:"unknown,omitempty"`
	// Transient counts the reads of Unknown that failed for a passing reason (the server down or
	// overloaded, a timeout), not because RBAC forbids them or the object is absent: a reader that
	// reads again later (the exporter) keeps what it read before.
	Transient int `json:"-"`
	// Resources is what discovery said the server offers, "group/version/resource".
	Resources map[string]bool `json:"-"`
}

// DaemonSetRef is a DaemonSet that tells of a network plugin or of kube-proxy.
type DaemonSetRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Desired   int32  `json:"desired"`
	Ready     int32  `json:"ready"`
	// Env holds the literal environment of the agent's containers, for the agents whose IPAM it
	// changes (envDaemonSets).
	Env map[string]string `json:"-"`
}

// envDaemonSets are the DaemonSets whose container environment is read.
var envDaemonSets = map[string]bool{"aws-node": true}

// KubeProxyConfig is read from ConfigMap kube-system/kube-proxy.
type KubeProxyConfig struct {
	Mode        string `json:"mode"`
	ClusterCIDR string `json:"clusterCIDR,omitempty"`
}

// KubeadmNetworking is read from ConfigMap kube-system/kubeadm-config.
type KubeadmNetworking struct {
	PodSubnet     string `json:"podSubnet,omitempty"`
	ServiceSubnet string `json:"serviceSubnet,omitempty"`
	DNSDomain     string `json:"dnsDomain,omitempty"`
}

// CiliumConfig is read from ConfigMap kube-system/cilium-config.
type CiliumConfig struct {
	IPAM                 string   `json:"ipam,omitempty"`
	ClusterPoolCIDRs     []string `json:"clusterPoolCIDRs,omitempty"`
	ClusterPoolMaskSize  int      `json:"clusterPoolMaskSize,omitempty"`
	RoutingMode          string   `json:"routingMode,omitempty"`
	TunnelProtocol       string   `json:"tunnelProtocol,omitempty"`
	KubeProxyReplacement string   `json:"kubeProxyReplacement,omitempty"`
	WireGuard            bool     `json:"wireguard,omitempty"`
}

// FlannelConfig is read from ConfigMap kube-flannel-cfg (namespace kube-flannel or kube-system).
type FlannelConfig struct {
	Network     string `json:"network,omitempty"`
	IPv6Network string `json:"ipv6Network,omitempty"`
	Backend     string `json:"backend,omitempty"`
}

// AntreaConfig is read from ConfigMap kube-system/antrea-config, key antrea-agent.conf.
type AntreaConfig struct {
	// TrafficEncapMode is encap (default), noEncap, hybrid or networkPolicyOnly.
	TrafficEncapMode string `json:"trafficEncapMode"`
	// TunnelType is geneve (default), vxlan, gre or stt.
	TunnelType string `json:"tunnelType"`
	// TransportInterface (or TransportInterfaceCIDRs) set: tunnels use another interface than the
	// one holding the node IP, and peers send to each node's node.antrea.io/transport-addresses.
	TransportInterface      string   `json:"transportInterface,omitempty"`
	TransportInterfaceCIDRs []string `json:"transportInterfaceCIDRs,omitempty"`
}

// CalicoPool is a Calico IPPool from either API group.
type CalicoPool struct {
	Name         string `json:"name"`
	APIGroup     string `json:"apiGroup"`
	CIDR         string `json:"cidr"`
	BlockSize    int    `json:"blockSize"`
	IPIPMode     string `json:"ipipMode,omitempty"`
	VXLANMode    string `json:"vxlanMode,omitempty"`
	NATOutgoing  bool   `json:"natOutgoing"`
	Disabled     bool   `json:"disabled"`
	NodeSelector string `json:"nodeSelector,omitempty"`
}

// CalicoBlock is a Calico IPAM block: a CIDR claimed by (affine to) one node, and its allocations.
type CalicoBlock struct {
	Name     string       `json:"name"`
	APIGroup string       `json:"apiGroup"`
	CIDR     netip.Prefix `json:"cidr"`
	// Node is the node the block is affine to ("" when the affinity is not a host).
	Node string `json:"node,omitempty"`
	// Allocated counts the block's allocated addresses; Borrowed those allocated to pods of other nodes.
	Allocated int `json:"allocated"`
	Borrowed  int `json:"borrowed"`
	// BorrowedBy counts borrowed addresses per borrowing node.
	BorrowedBy map[string]int `json:"borrowedBy,omitempty"`
}

// NodeBlocks returns the CIDRs of the blocks affine to node, in address order.
func (e *Evidence) NodeBlocks(node string) []netip.Prefix {
	var out []netip.Prefix
	for _, b := range e.CalicoBlocks {
		if b.Node == node {
			out = append(out, b.CIDR)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr().Less(out[j].Addr()) })
	return out
}

// CiliumNode is the part of a CiliumNode object the network view needs.
type CiliumNode struct {
	Name     string         `json:"name"`
	PodCIDRs []netip.Prefix `json:"podCIDRs,omitempty"`
	// PoolCIDRs are the CIDRs allocated to the node from multi-pool IPAM pools.
	PoolCIDRs        []netip.Prefix `json:"poolCIDRs,omitempty"`
	CiliumInternalIP []netip.Addr   `json:"ciliumInternalIPs,omitempty"`
	// InternalIPs are the node addresses Cilium uses between nodes (spec.addresses InternalIP).
	InternalIPs []netip.Addr `json:"internalIPs,omitempty"`
	HealthIPs   []netip.Addr `json:"healthIPs,omitempty"`
	Used        int          `json:"used"`
}

// ServiceCIDR is a networking.k8s.io ServiceCIDR object.
type ServiceCIDR struct {
	Name  string   `json:"name"`
	CIDRs []string `json:"cidrs"`
}

// Well-known resources read as evidence when discovery offers them.
var (
	GVRCalicoPoolsV1  = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "ippools"}
	GVRCalicoPoolsV3  = schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "ippools"}
	GVRCiliumNodes    = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnodes"}
	GVRServiceCIDRs   = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "servicecidrs"}
	GVRCalicoBlocksV1 = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "ipamblocks"}
	GVRCalicoBlocksV3 = schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "ipamblocks"}
	// GVRCalicoIPAMConfigV1 and V3 hold Calico's IPAM settings (maxBlocksPerHost).
	GVRCalicoIPAMConfigV1 = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "ipamconfigs"}
	GVRCalicoIPAMConfigV3 = schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "ipamconfigurations"}
)

func gvrKey(g schema.GroupVersionResource) string {
	return g.Group + "/" + g.Version + "/" + g.Resource
}

// Offers reports whether discovery showed the resource.
func (e *Evidence) Offers(g schema.GroupVersionResource) bool { return e.Resources[gvrKey(g)] }

// Served reports whether discovery showed the resource, or why that cannot be told (discovery
// failed, or failed for the resource's group version).
func (e *Evidence) Served(g schema.GroupVersionResource) (bool, string) {
	if e.DiscoveryFailed != "" {
		return false, e.DiscoveryFailed
	}
	if why, ok := e.FailedGroups[g.GroupVersion().String()]; ok {
		return false, why
	}
	return e.Offers(g), ""
}

// knownDaemonSets are the DaemonSet names that tell of a network plugin or of kube-proxy.
var knownDaemonSets = map[string]bool{
	"calico-node": true, "cilium": true, "cilium-agent": true, "kube-flannel-ds": true, "kube-flannel": true,
	"aws-node": true, "antrea-agent": true, "weave-net": true, "azure-cns": true, "azure-cni-networkmonitor": true,
	"kube-proxy": true, "kube-router": true, "canal": true,
}
