package report

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

// Summary is the three networks of a cluster at a glance: `kubectl podnet summary`.
type Summary struct {
	NodeNetwork    NodeNetworkSummary    `json:"nodeNetwork"`
	PodNetwork     PodNetworkSummary     `json:"podNetwork"`
	ClusterNetwork ClusterNetworkSummary `json:"clusterNetwork"`
	Findings       []Warning             `json:"findings"`
	Notes          []string              `json:"notes,omitempty"`
}

// NodeNetworkSummary is the machines' network.
type NodeNetworkSummary struct {
	Nodes int `json:"nodes"`
	// InternalRanges are the ranges the InternalIPs fall in (netmodel.AddressRanges).
	InternalRanges []string `json:"internalRanges"`
	Zones          []string `json:"zones,omitempty"`
	ExternalIPs    []string `json:"externalIPs,omitempty"`
}

// PodNetworkSummary is the pods' network.
type PodNetworkSummary struct {
	Network         netmodel.Network       `json:"network"`
	PodCIDRs        []netmodel.SourcedCIDR `json:"podCIDRs"`
	NodeMasks       []int                  `json:"nodeMasks,omitempty"`
	Pods            int                    `json:"pods"`
	HostNetworkPods int                    `json:"hostNetworkPods"`
	DualStack       bool                   `json:"dualStack"`
}

// ClusterNetworkSummary is the Services' network.
type ClusterNetworkSummary struct {
	ServiceCIDRs        []netmodel.SourcedCIDR `json:"serviceCIDRs"`
	KubeProxy           string                 `json:"kubeProxy"`
	KubernetesServiceIP string                 `json:"kubernetesServiceIP,omitempty"`
	DNS                 *cluster.ClusterDNS    `json:"dns,omitempty"`
}

// BuildSummary sums up the inventory (and the cluster DNS, when read) into the three networks.
func BuildSummary(inv *cluster.Inventory, v *netmodel.View, dns *cluster.ClusterDNS) *Summary {
	nodes := BuildNodes(inv, v)
	s := &Summary{Findings: nodes.Warnings, Notes: nodes.Notes}
	s.NodeNetwork.Nodes = len(inv.Nodes)
	var internal []netip.Addr
	zones := map[string]int{}
	for _, n := range inv.Nodes {
		for _, a := range n.InternalIPs {
			internal = append(internal, a)
		}
		for _, a := range n.ExternalIPs {
			s.NodeNetwork.ExternalIPs = append(s.NodeNetwork.ExternalIPs, a.String())
		}
		if n.Zone != "" {
			zones[n.Zone]++
		}
	}
	for _, p := range netmodel.AddressRanges(internal) {
		s.NodeNetwork.InternalRanges = append(s.NodeNetwork.InternalRanges, p.String())
	}
	for z := range zones {
		s.NodeNetwork.Zones = append(s.NodeNetwork.Zones, z)
	}
	sort.Strings(s.NodeNetwork.Zones)

	s.PodNetwork.Network = nodes.Cluster.Network
	s.PodNetwork.PodCIDRs = nodes.Cluster.PodCIDRs
	s.PodNetwork.Pods = nodes.Cluster.Pods
	s.PodNetwork.HostNetworkPods = nodes.Cluster.HostNetworkPods
	masks := map[int]bool{}
	fams := map[bool]bool{}
	for _, n := range nodes.Nodes {
		for _, c := range n.PodCIDRs {
			if p, err := netip.ParsePrefix(c); err == nil {
				masks[p.Bits()] = true
				fams[p.Addr().Is4()] = true
			}
		}
	}
	for m := range masks {
		s.PodNetwork.NodeMasks = append(s.PodNetwork.NodeMasks, m)
	}
	sort.Ints(s.PodNetwork.NodeMasks)
	for _, c := range nodes.Cluster.PodCIDRs {
		if p, err := netip.ParsePrefix(c.CIDR); err == nil {
			fams[p.Addr().Is4()] = true
		}
	}
	s.PodNetwork.DualStack = fams[true] && fams[false]

	s.ClusterNetwork.ServiceCIDRs = nodes.Cluster.ServiceCIDRs
	s.ClusterNetwork.KubeProxy = KubeProxyMode(&inv.Evidence).String()
	if inv.Evidence.KubernetesServiceIP.IsValid() {
		s.ClusterNetwork.KubernetesServiceIP = inv.Evidence.KubernetesServiceIP.String()
	}
	s.ClusterNetwork.DNS = dns
	if dns != nil {
		switch {
		case dns.Service == "" && len(dns.Unknown) == 0:
			s.Findings = append(s.Findings, Warning{Kind: "NoClusterDNS", Object: "service/kube-system/kube-dns",
				Message: "no cluster DNS Service (kube-system/kube-dns, or one labelled k8s-app=kube-dns): pods with dnsPolicy ClusterFirst cannot resolve names"})
		case dns.Service != "" && dns.Ready == 0:
			s.Findings = append(s.Findings, Warning{Kind: "NoReadyDNS", Object: "service/" + dns.Service,
				Message: "the cluster DNS Service " + dns.Service + " has no ready endpoint: name resolution fails in every pod"})
		}
	}
	return s
}

// ServiceProxy is what implements Services on the nodes.
type ServiceProxy string

// Service proxies.
const (
	ProxyIptables       ServiceProxy = "iptables"
	ProxyIPVS           ServiceProxy = "ipvs"
	ProxyNftables       ServiceProxy = "nftables"
	ProxyCilium         ServiceProxy = "cilium"
	ProxyModeUnknown    ServiceProxy = "kube-proxy-mode-unknown"
	ProxyUnknown        ServiceProxy = "unknown"
	ProxyAbsent         ServiceProxy = "absent"
	ProxyOtherKubeProxy ServiceProxy = "other"
)

// KubeProxy is how Services are implemented, with the mode kube-proxy's config names.
type KubeProxy struct {
	Proxy ServiceProxy
	// Mode is kube-proxy's configured mode, for ProxyOtherKubeProxy (userspace, kernelspace).
	Mode string
}

// String is what summary shows.
func (k KubeProxy) String() string {
	switch k.Proxy {
	case ProxyCilium:
		return "replaced by Cilium (kube-proxy-replacement)"
	case ProxyModeUnknown:
		return "kube-proxy (mode unknown: ConfigMap kube-system/kube-proxy not read)"
	case ProxyUnknown:
		return "unknown"
	case ProxyAbsent:
		return "absent (no kube-proxy DaemonSet or ConfigMap)"
	}
	return k.Mode
}

// Implementation names what translates ClusterIPs, for a path through a Service.
func (k KubeProxy) Implementation() string {
	switch k.Proxy {
	case ProxyCilium:
		return "Cilium eBPF (kube-proxy replacement)"
	case ProxyIptables, ProxyIPVS, ProxyNftables:
		return "kube-proxy (" + k.Mode + ")"
	}
	return "kube-proxy (mode unknown)"
}

// EBPF reports whether the translation happens in the pod's connect() (Cilium's socket LB).
func (k KubeProxy) EBPF() bool { return k.Proxy == ProxyCilium }

// KubeProxyMode says how Services are implemented: kube-proxy's mode, replaced by Cilium, absent.
func KubeProxyMode(ev *cluster.Evidence) KubeProxy {
	if ev.Cilium != nil {
		switch strings.ToLower(ev.Cilium.KubeProxyReplacement) {
		case "true", "strict":
			return KubeProxy{Proxy: ProxyCilium}
		}
	}
	switch {
	case ev.KubeProxy != nil:
		switch m := ServiceProxy(ev.KubeProxy.Mode); m {
		case ProxyIptables, ProxyIPVS, ProxyNftables:
			return KubeProxy{Proxy: m, Mode: ev.KubeProxy.Mode}
		}
		return KubeProxy{Proxy: ProxyOtherKubeProxy, Mode: ev.KubeProxy.Mode}
	case ev.HasDaemonSet("kube-proxy"):
		return KubeProxy{Proxy: ProxyModeUnknown}
	case ev.DaemonSets == nil && len(ev.Unknown) > 0:
		return KubeProxy{Proxy: ProxyUnknown}
	}
	return KubeProxy{Proxy: ProxyAbsent}
}
