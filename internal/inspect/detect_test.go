package inspect

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDetectNode(t *testing.T) {
	ciliumCfg := &CiliumConfig{IPAM: "cluster-pool", RoutingMode: "tunnel", TunnelProtocol: "geneve"}
	tests := []struct {
		name string
		node Node
		ev   Evidence
		want string
	}{
		{"ciliumnode object", Node{Name: "a"}, Evidence{CiliumNodes: map[string]*CiliumNode{"a": {}}, Cilium: ciliumCfg}, "cilium/geneve"},
		{"cilium native routing", Node{Name: "a", NetworkUnavail: &Condition{Status: "False", Reason: "CiliumIsUp"}},
			Evidence{Cilium: &CiliumConfig{RoutingMode: "native"}}, "cilium/native"},
		{"cilium without config", Node{Name: "a", NetworkUnavail: &Condition{Reason: "CiliumIsUp"}}, Evidence{}, "cilium"},
		{"aks cilium dataplane", Node{Labels: map[string]string{"kubernetes.azure.com/ebpf-dataplane": "cilium"}}, Evidence{Cilium: ciliumCfg}, "cilium/geneve"},
		{"calico vxlan annotation", Node{Annotations: map[string]string{annCalicoVXLANTunnel: "192.168.1.0"}}, Evidence{}, "calico/vxlan"},
		{"calico ipip annotation", Node{Annotations: map[string]string{annCalicoIPIPTunnel: "192.168.1.0"}}, Evidence{}, "calico/ipip"},
		{"calico wireguard wins", Node{Annotations: map[string]string{annCalicoIPIPTunnel: "192.168.1.0", annCalicoWireguard: "192.168.1.1"}}, Evidence{}, "calico/wireguard"},
		{"calico bgp from pools", Node{Annotations: map[string]string{annCalicoIPv4Address: "10.0.0.1/24"}},
			Evidence{CalicoPools: []CalicoPool{{Name: "p", IPIPMode: "Never", VXLANMode: "Never"}}}, "calico/bgp"},
		{"calico cross-subnet", Node{Annotations: map[string]string{annCalicoVXLANTunnel: "192.168.1.0"}},
			Evidence{CalicoPools: []CalicoPool{{Name: "p", VXLANMode: "CrossSubnet", IPIPMode: "Never"}}}, "calico/vxlan-crosssubnet"},
		{"calico from condition only", Node{NetworkUnavail: &Condition{Reason: "CalicoIsUp"}},
			Evidence{CalicoPools: []CalicoPool{{Name: "p", IPIPMode: "Always", VXLANMode: "Never"}}}, "calico/ipip"},
		{"calico disabled pool ignored", Node{NetworkUnavail: &Condition{Reason: "CalicoIsUp"}},
			Evidence{CalicoPools: []CalicoPool{{Name: "old", IPIPMode: "Always", Disabled: true}, {Name: "p", VXLANMode: "Always"}}}, "calico/vxlan"},
		{"flannel annotation", Node{Annotations: map[string]string{annFlannelBackend: "host-gw"}}, Evidence{}, "flannel/host-gw"},
		{"flannel from configmap", Node{NetworkUnavail: &Condition{Reason: "FlannelIsUp"}}, Evidence{Flannel: &FlannelConfig{Backend: "wireguard"}}, "flannel/wireguard"},
		{"antrea", Node{Annotations: map[string]string{annAntreaTransport: `{"ipv4":"10.0.0.1"}`}}, Evidence{}, "antrea/geneve"},
		{"azure overlay", Node{Labels: map[string]string{"kubernetes.azure.com/azure-cni-overlay": "true"}}, Evidence{}, "azure-cni-overlay/overlay"},
		{"azure node subnet label", Node{Labels: map[string]string{"kubernetes.azure.com/network-plugin": "azure"}}, Evidence{}, "azure-cni/node-subnet"},
		{"azure node subnet from cns", Node{ProviderID: "azure:///subscriptions/x"}, Evidence{DaemonSets: []DaemonSetRef{{Name: "azure-cns"}}}, "azure-cni/node-subnet"},
		{"aks kubenet", Node{ProviderID: "azure:///subscriptions/x", PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")}, NetworkUnavail: &Condition{Reason: "RouteCreated"}}, Evidence{}, "kubenet"},
		{"gce routes", Node{ProviderID: "gce://p/z/n", PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.4.1.0/24")}, NetworkUnavail: &Condition{Reason: "RouteCreated"}}, Evidence{}, "kubenet"},
		{"aws vpc cni", Node{ProviderID: "aws:///us-west-2a/i-1"}, Evidence{DaemonSets: []DaemonSetRef{{Name: "aws-node"}}}, "aws-vpc-cni/native"},
		{"weave", Node{}, Evidence{DaemonSets: []DaemonSetRef{{Name: "weave-net"}}}, "weave/vxlan"},
		{"calico daemonset beats nothing", Node{}, Evidence{DaemonSets: []DaemonSetRef{{Name: "calico-node"}}, CalicoPools: []CalicoPool{{VXLANMode: "Always"}}}, "calico/vxlan"},
		{"unknown", Node{PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")}}, Evidence{}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DetectNode(&tt.node, &tt.ev)
			if got.String() != tt.want {
				t.Errorf("DetectNode() = %s (evidence %v), want %s", got, got.Evidence, tt.want)
			}
			if len(got.Evidence) == 0 {
				t.Errorf("DetectNode() gave no evidence")
			}
		})
	}
}

func TestNodeTunnel(t *testing.T) {
	cidr := []netip.Prefix{netip.MustParsePrefix("10.244.3.0/24"), netip.MustParsePrefix("fd00:10:244:3::/64")}
	tests := []struct {
		name string
		node Node
		nw   Network
		ev   Evidence
		want string
	}{
		{"calico vxlan dual", Node{Annotations: map[string]string{annCalicoVXLANTunnel: "192.168.5.64", annCalicoVXLANTunnelV6: "fd5f::40"}}, Network{Model: ModelCalico, Mode: "vxlan"}, Evidence{}, "vxlan 192.168.5.64,fd5f::40"},
		{"calico ipip", Node{Annotations: map[string]string{annCalicoIPIPTunnel: "192.168.5.64"}}, Network{Model: ModelCalico, Mode: "ipip-crosssubnet"}, Evidence{}, "ipip 192.168.5.64"},
		{"calico bgp", Node{}, Network{Model: ModelCalico, Mode: "bgp"}, Evidence{}, "-"},
		{"flannel vxlan uses the subnet addresses", Node{PodCIDRs: cidr}, Network{Model: ModelFlannel, Mode: "vxlan"}, Evidence{}, "vxlan 10.244.3.0,fd00:10:244:3::"},
		{"flannel host-gw has no tunnel", Node{PodCIDRs: cidr}, Network{Model: ModelFlannel, Mode: "host-gw"}, Evidence{}, "-"},
		{"cilium from CiliumNode", Node{Name: "n"}, Network{Model: ModelCilium, Mode: "vxlan"},
			Evidence{CiliumNodes: map[string]*CiliumNode{"n": {CiliumInternalIP: []netip.Addr{netip.MustParseAddr("10.0.1.93")}}}}, "vxlan 10.0.1.93"},
		{"cilium native", Node{Name: "n"}, Network{Model: ModelCilium, Mode: "native"}, Evidence{}, "-"},
		{"antrea gateway", Node{PodCIDRs: cidr[:1]}, Network{Model: ModelAntrea, Mode: "geneve"}, Evidence{}, "geneve 10.244.3.1"},
		{"kubenet", Node{PodCIDRs: cidr}, Network{Model: ModelKubenet}, Evidence{}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NodeTunnel(&tt.node, tt.nw, &tt.ev).String(); got != tt.want {
				t.Errorf("NodeTunnel() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClusterNetworkMixed(t *testing.T) {
	got := ClusterNetwork([]Network{{Model: ModelCalico, Mode: "vxlan"}, {Model: ModelCalico, Mode: "vxlan"}, {Model: ModelUnknown}}, &Evidence{})
	want := Network{Model: ModelCalico, Mode: "vxlan", Evidence: []string{"mixed: calico/vxlan on 2 node(s), unknown on 1 node(s)"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ClusterNetwork() (-want +got):\n%s", diff)
	}
}

func TestParseCiliumConfig(t *testing.T) {
	tests := []struct {
		name string
		data map[string]string
		want *CiliumConfig
	}{
		{"defaults", map[string]string{}, &CiliumConfig{IPAM: "cluster-pool", RoutingMode: "tunnel", TunnelProtocol: "vxlan"}},
		{"legacy tunnel key", map[string]string{"tunnel": "geneve"}, &CiliumConfig{IPAM: "cluster-pool", RoutingMode: "tunnel", TunnelProtocol: "geneve"}},
		{"legacy disabled", map[string]string{"tunnel": "disabled", "ipam": "kubernetes"}, &CiliumConfig{IPAM: "kubernetes", RoutingMode: "native"}},
		{"pools", map[string]string{"cluster-pool-ipv4-cidr": "10.0.0.0/8 10.200.0.0/16", "cluster-pool-ipv6-cidr": "fd00::/104", "cluster-pool-ipv4-mask-size": "25", "enable-wireguard": "true"},
			&CiliumConfig{IPAM: "cluster-pool", RoutingMode: "tunnel", TunnelProtocol: "vxlan", ClusterPoolCIDRs: []string{"10.0.0.0/8", "10.200.0.0/16", "fd00::/104"}, ClusterPoolMaskSize: 25, WireGuard: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseCiliumConfig(tt.data)); diff != "" {
				t.Errorf("parseCiliumConfig() (-want +got):\n%s", diff)
			}
		})
	}
}
