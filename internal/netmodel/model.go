package netmodel

import (
	"crypto/sha1"
	"encoding/hex"
	"net/netip"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/ipam"
)

// Model is one network model's descriptor. Callers ask it; they never switch on its name.
type Model interface {
	// Name is the model's name.
	Name() Name
	// Agent names the model's node agent, for hints ("calico-node", "flanneld").
	Agent() string
	// NodeCIDRIPAM reports whether the model hands out pod addresses from Node.spec.podCIDRs, so
	// that a node without one cannot run pods and a pod outside it is a fault.
	NodeCIDRIPAM(ev *cluster.Evidence) bool
	// Datapath is how the model carries pod traffic between nodes in the mode.
	Datapath(mode string, n *cluster.Node) Datapath
	// Encap is the encapsulation between two nodes in the mode and family (outer addresses not
	// set), nil for none.
	Encap(mode string, n *cluster.Node, v4 bool) *Encap
	// HostEnd is what takes a pod's packet on its node.
	HostEnd() HostEnd
	// Bridge is the node bridge the model's pods hang on, "" for routed models.
	Bridge() string
	// Gateway is the pod's default gateway on node n, "" when it cannot be known.
	Gateway(n *cluster.Node, ev *cluster.Evidence, v4 bool) string
	// PodDevice is how the model names a pod's host-side interface; a name ending in "…" is only
	// known by its prefix.
	PodDevice(namespace, name string) string
	// GatewayDevice is the node device pod CIDRs are routed to before the model's own datapath
	// takes over (cilium_host, antrea-gw0), "" when the kernel's route names the tunnel itself.
	GatewayDevice() string
	// TunnelNextHop is the gateway of the tunnel route to a pod CIDR of dst (dstCIDR, "" when
	// unknown) in the mode and family: its tunnel device's address by default.
	TunnelNextHop(mode string, dst *NodeNetwork, dstCIDR string, v4 bool) string
	// InterfaceHint says how to make the model's agent use the right interface for its tunnels.
	InterfaceHint() string
	// KeepsBlackholes reports whether the model keeps a blackhole route for each block of pod
	// addresses its node owns (Calico).
	KeepsBlackholes() bool
	// CloudHint says how to check the cloud's part of the path, "" when the cloud has none.
	CloudHint(n *cluster.Node) string
	// Policy says whether the model enforces NetworkPolicy.
	Policy(ev *cluster.Evidence) Enforcement
	// PolicyKinds are the model's own policy resources, beyond upstream NetworkPolicy.
	PolicyKinds() []schema.GroupVersionResource
	// Needs is the model's own evidence a targeted read must fetch for node n.
	Needs(n *cluster.Node) cluster.Needs
	// HostLocal reports whether the model's CNI reserves the node's pod addresses with the
	// host-local IPAM plugin when they come from spec.podCIDRs: its reservations then live in the
	// node's file system (/var/lib/cni/networks), not in the API.
	HostLocal() bool
	// SharedSubnet is why two clusters of the model may not put their nodes in one subnet (on
	// node n's platform), "" when they may.
	SharedSubnet(n *cluster.Node) string

	// addressWarning is what looks wrong in the addresses the model's agent published for the
	// node, "" when nothing does.
	addressWarning(n *cluster.Node) (kind, message string)
	// hostAddresses are the addresses the model's agent gives the node itself besides its tunnel
	// (cilium_host, the health endpoint).
	hostAddresses(n *cluster.Node, ev *cluster.Evidence) []HostAddress
	// podsLocal reports whether, in the mode, the pods' addresses stay inside the cluster even
	// though the datapath routes them without a tunnel (the routes live on the nodes alone, or
	// the cloud routes them between the cluster's nodes only): the networks around do not see them.
	podsLocal(mode string) bool
	// nodeSubnets are the node's subnets as the model's agent published them (an address with
	// its prefix length), none when it publishes none.
	nodeSubnets(n *cluster.Node) []netip.Prefix
	// pools are the model's IPAM pools handed out to nodes in blocks, with their blocks.
	pools(ev *cluster.Evidence) []Pool
	// marks are the node's own signs of the model (annotations, labels, conditions, its
	// CiliumNode): the reason, "" when it has none.
	marks(n *cluster.Node, ev *cluster.Evidence) string
	// clusterSigns are the cluster's signs of the model for a node without marks of any model.
	clusterSigns(n *cluster.Node, ev *cluster.Evidence) []string
	// mode decides the model's mode on the node, with the evidence for it.
	mode(n *cluster.Node, ev *cluster.Evidence) (string, []string)
	// podCIDRs are where the node's pod addresses come from.
	podCIDRs(n *cluster.Node, ev *cluster.Evidence) ([]netip.Prefix, CIDRSource)
	// tunnel is the node's tunnel device and its addresses in the mode, nil for none.
	tunnel(n *cluster.Node, mode string, ev *cluster.Evidence) *Tunnel
	// transport are the node addresses other nodes send its pod traffic to (the tunnel endpoint or
	// the next hop the model programs), with where they were read.
	transport(n *cluster.Node, ev *cluster.Evidence) ([]netip.Addr, string)
	// addresses are the pod addresses the node can be given, 0 with ok false when the model sets
	// no per-node limit; the source says why.
	addresses(nn *NodeNetwork, ev *cluster.Evidence) (n uint64, ok bool, source string)
	// usable is how many addresses of a node CIDR the model's IPAM hands out.
	usable(p netip.Prefix) (uint64, string)
	// clusterRanges are the cluster-wide pod ranges the model's own configuration names.
	clusterRanges(ev *cluster.Evidence) []SourcedCIDR
	// limits are the platform limits the model's nodes are subject to.
	limits(nodes []*NodeNetwork, opts LimitOptions) []Limit
}

// models are the descriptors in detection order: a node's own marks are tried in this order,
// then the cluster's signs in the same order.
var models = []Model{ciliumModel{}, calicoModel{}, flannelModel{}, antreaModel{}, awsModel{}, weaveModel{},
	azureOverlayModel{}, azureCNIModel{}, kubenetModel{}}

// lookup is the descriptor of a model name; the unknown model's for a name it does not know.
func lookup(n Name) Model {
	for _, m := range models {
		if m.Name() == n {
			return m
		}
	}
	return unknownModel{}
}

// Models are every known descriptor, in detection order.
func Models() []Model { return append([]Model(nil), models...) }

// EnforcementState says whether NetworkPolicies take effect.
type EnforcementState string

// Enforcement states.
const (
	Enforced      EnforcementState = "yes"
	NotEnforced   EnforcementState = "no"
	EnforcedMaybe EnforcementState = "unknown"
)

// Enforcement is whether a model enforces NetworkPolicy, and why.
type Enforcement struct {
	State  EnforcementState `json:"state"`
	Reason string           `json:"reason"`
}

// String is "yes (calico)", "no: ..." or "unknown: ...".
func (e Enforcement) String() string {
	if e.State == Enforced {
		return "yes (" + e.Reason + ")"
	}
	if e.Reason == "" {
		return string(e.State)
	}
	return string(e.State) + ": " + e.Reason
}

// policyEngines are the DaemonSets of policy engines that run beside a CNI that enforces no
// policy (Flannel, kubenet), by name: their presence makes NetworkPolicy enforced.
var policyEngines = map[string]string{
	"kube-router": "kube-router's network policy controller",
	"canal":       "Calico (canal: Calico policy over Flannel)",
	"calico-node": "Calico in policy-only mode",
}

// policyEngine is the policy engine the cluster runs beside its CNI, if any.
func policyEngine(ev *cluster.Evidence) (Enforcement, bool) {
	if ev == nil {
		return Enforcement{}, false
	}
	for _, ds := range ev.DaemonSets {
		if what, ok := policyEngines[ds.Name]; ok {
			return Enforcement{State: Enforced, Reason: what + ", DaemonSet " + ds.Namespace + "/" + ds.Name}, true
		}
	}
	return Enforcement{}, false
}

// base holds the defaults of a model: a bridge-less routed veth, no tunnel, host-local IPAM on
// spec.podCIDRs, the node's InternalIPs as transport, and no limits of its own.
type base struct{}

func (base) Agent() string                                                { return "the network plugin" }
func (base) NodeCIDRIPAM(*cluster.Evidence) bool                          { return false }
func (base) Datapath(string, *cluster.Node) Datapath                      { return DatapathUnknown }
func (base) Encap(string, *cluster.Node, bool) *Encap                     { return nil }
func (base) HostEnd() HostEnd                                             { return HostEndVeth }
func (base) Bridge() string                                               { return "" }
func (base) GatewayDevice() string                                        { return "" }
func (base) CloudHint(*cluster.Node) string                               { return "" }
func (base) InterfaceHint() string                                        { return "set the agent's interface" }
func (base) KeepsBlackholes() bool                                        { return false }
func (base) PolicyKinds() []schema.GroupVersionResource                   { return nil }
func (base) Needs(*cluster.Node) cluster.Needs                            { return cluster.Needs{} }
func (base) HostLocal() bool                                              { return true }
func (base) SharedSubnet(*cluster.Node) string                            { return "" }
func (base) nodeSubnets(*cluster.Node) []netip.Prefix                     { return nil }
func (base) podsLocal(string) bool                                        { return false }
func (base) marks(*cluster.Node, *cluster.Evidence) string                { return "" }
func (base) addressWarning(*cluster.Node) (string, string)                { return "", "" }
func (base) hostAddresses(*cluster.Node, *cluster.Evidence) []HostAddress { return nil }
func (base) pools(*cluster.Evidence) []Pool                               { return nil }
func (base) clusterSigns(*cluster.Node, *cluster.Evidence) []string {
	return nil
}
func (base) mode(*cluster.Node, *cluster.Evidence) (string, []string) { return "", nil }
func (base) PodDevice(string, string) string                          { return "veth…" }
func (base) TunnelNextHop(_ string, dst *NodeNetwork, _ string, v4 bool) string {
	return tunnelAddress(dst, v4)
}
func (base) Gateway(n *cluster.Node, _ *cluster.Evidence, v4 bool) string {
	return bridgeAddress(n, v4)
}
func (base) Policy(ev *cluster.Evidence) Enforcement {
	if e, ok := policyEngine(ev); ok {
		return e
	}
	return Enforcement{State: EnforcedMaybe}
}
func (base) podCIDRs(n *cluster.Node, _ *cluster.Evidence) ([]netip.Prefix, CIDRSource) {
	return specCIDRs(n)
}
func (base) tunnel(*cluster.Node, string, *cluster.Evidence) *Tunnel { return nil }
func (base) transport(n *cluster.Node, _ *cluster.Evidence) ([]netip.Addr, string) {
	return n.InternalIPs, TransportInternalIP
}
func (base) addresses(nn *NodeNetwork, _ *cluster.Evidence) (uint64, bool, string) {
	return usableOf(nn.PodCIDRs, ipam.HostLocalUsable), len(nn.PodCIDRs) > 0, hostLocalRule
}
func (base) usable(p netip.Prefix) (uint64, string)        { return ipam.HostLocalUsable(p), hostLocalRule }
func (base) clusterRanges(*cluster.Evidence) []SourcedCIDR { return nil }
func (base) limits([]*NodeNetwork, LimitOptions) []Limit   { return nil }

const hostLocalRule = "host-local IPAM loses the network, gateway and broadcast addresses"

// TransportInternalIP is the transport source when the model programs the node's InternalIP.
const TransportInternalIP = "node InternalIP"

// specCIDRs are the node's spec.podCIDRs, or none.
func specCIDRs(n *cluster.Node) ([]netip.Prefix, CIDRSource) {
	if len(n.PodCIDRs) == 0 {
		return nil, SourceNone
	}
	return n.PodCIDRs, SourceSpec
}

// bridgeAddress is the bridge's address in the node CIDR of the family: its first address.
func bridgeAddress(n *cluster.Node, v4 bool) string {
	for _, p := range n.PodCIDRs {
		if p.Addr().Is4() == v4 {
			return p.Masked().Addr().Next().String()
		}
	}
	return ""
}

// usableOf sums the usable addresses of the node's CIDRs; of a dual-stack node only IPv4 counts,
// the scarce family.
func usableOf(cidrs []netip.Prefix, rule func(netip.Prefix) uint64) uint64 {
	var n uint64
	for _, p := range cidrs {
		if p.Addr().Is4() || len(cidrs) == 1 {
			n += rule(p)
		}
	}
	return n
}

// hashedDevice is prefix + the first 11 hex digits of sha1("<namespace>.<pod>"), as Calico and
// the AWS VPC CNI name a pod's host-side veth.
func hashedDevice(prefix, namespace, name string) string {
	h := sha1.Sum([]byte(namespace + "." + name))
	return prefix + hex.EncodeToString(h[:])[:11]
}

// proxyARPGateway is the link-local gateway routed models give pods (the host answers ARP for it).
func proxyARPGateway(v4 bool) string {
	if v4 {
		return "169.254.1.1"
	}
	return "fe80::1"
}

// unknownModel is a network nothing identifies: a bridge on spec.podCIDRs is the best guess.
type unknownModel struct{ base }

func (unknownModel) Name() Name       { return Unknown }
func (unknownModel) Bridge() string   { return "cbr0" }
func (unknownModel) HostEnd() HostEnd { return HostEndBridge }

// Usable is how many addresses of a node CIDR the model's IPAM hands out, and the rule.
func Usable(m Model, p netip.Prefix) (uint64, string) { return m.usable(p) }

// tunnelAddress is dst's tunnel device address of the family, else its transport address.
func tunnelAddress(dst *NodeNetwork, v4 bool) string {
	if t := dst.Tunnel; t != nil {
		for _, a := range t.Addresses {
			if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() == v4 {
				return a
			}
		}
	}
	return dst.TransportAddr(v4)
}
