package netmodel

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/podnet/kubectl-podnet/internal/cluster"
)

func TestDetect(t *testing.T) {
	ciliumCfg := &cluster.CiliumConfig{IPAM: "cluster-pool", RoutingMode: "tunnel", TunnelProtocol: "geneve"}
	tests := []struct {
		name string
		node cluster.Node
		ev   cluster.Evidence
		want string
	}{
		{"ciliumnode object", cluster.Node{Name: "a"}, cluster.Evidence{CiliumNodes: map[string]*cluster.CiliumNode{"a": {}}, Cilium: ciliumCfg}, "cilium/geneve"},
		{"cilium native routing", cluster.Node{Name: "a", NetworkUnavail: &cluster.Condition{Status: "False", Reason: "CiliumIsUp"}},
			cluster.Evidence{Cilium: &cluster.CiliumConfig{RoutingMode: "native"}}, "cilium/native"},
		{"cilium without config", cluster.Node{Name: "a", NetworkUnavail: &cluster.Condition{Reason: "CiliumIsUp"}}, cluster.Evidence{}, "cilium"},
		{"aks cilium dataplane", cluster.Node{Labels: map[string]string{"kubernetes.azure.com/ebpf-dataplane": "cilium"}}, cluster.Evidence{Cilium: ciliumCfg}, "cilium/geneve"},
		{"calico vxlan annotation", cluster.Node{Annotations: map[string]string{annCalicoVXLANTunnel: "192.168.1.0"}}, cluster.Evidence{}, "calico/vxlan"},
		{"calico ipip annotation", cluster.Node{Annotations: map[string]string{annCalicoIPIPTunnel: "192.168.1.0"}}, cluster.Evidence{}, "calico/ipip"},
		{"calico wireguard wins", cluster.Node{Annotations: map[string]string{annCalicoIPIPTunnel: "192.168.1.0", annCalicoWireguard: "192.168.1.1"}}, cluster.Evidence{}, "calico/wireguard"},
		{"calico bgp from pools", cluster.Node{Annotations: map[string]string{annCalicoIPv4Address: "10.0.0.1/24"}},
			cluster.Evidence{CalicoPools: []cluster.CalicoPool{{Name: "p", IPIPMode: "Never", VXLANMode: "Never"}}}, "calico/bgp"},
		{"calico cross-subnet", cluster.Node{Annotations: map[string]string{annCalicoVXLANTunnel: "192.168.1.0"}},
			cluster.Evidence{CalicoPools: []cluster.CalicoPool{{Name: "p", VXLANMode: "CrossSubnet", IPIPMode: "Never"}}}, "calico/vxlan-crosssubnet"},
		{"calico from condition only", cluster.Node{NetworkUnavail: &cluster.Condition{Reason: "CalicoIsUp"}},
			cluster.Evidence{CalicoPools: []cluster.CalicoPool{{Name: "p", IPIPMode: "Always", VXLANMode: "Never"}}}, "calico/ipip"},
		{"calico disabled pool ignored", cluster.Node{NetworkUnavail: &cluster.Condition{Reason: "CalicoIsUp"}},
			cluster.Evidence{CalicoPools: []cluster.CalicoPool{{Name: "old", IPIPMode: "Always", Disabled: true}, {Name: "p", VXLANMode: "Always"}}}, "calico/vxlan"},
		{"flannel annotation", cluster.Node{Annotations: map[string]string{annFlannelBackend: "host-gw"}}, cluster.Evidence{}, "flannel/host-gw"},
		{"flannel from configmap", cluster.Node{NetworkUnavail: &cluster.Condition{Reason: "FlannelIsUp"}}, cluster.Evidence{Flannel: &cluster.FlannelConfig{Backend: "wireguard"}}, "flannel/wireguard"},
		{"antrea", cluster.Node{Annotations: map[string]string{annAntreaTransport: "10.0.0.1"}}, cluster.Evidence{}, "antrea/geneve"},
		{"azure overlay", cluster.Node{Labels: map[string]string{"kubernetes.azure.com/azure-cni-overlay": "true"}}, cluster.Evidence{}, "azure-cni-overlay/overlay"},
		{"azure node subnet label", cluster.Node{Labels: map[string]string{"kubernetes.azure.com/network-plugin": "azure"}}, cluster.Evidence{}, "azure-cni/node-subnet"},
		{"azure node subnet from cns", cluster.Node{ProviderID: "azure:///subscriptions/x"}, cluster.Evidence{DaemonSets: []cluster.DaemonSetRef{{Name: "azure-cns"}}}, "azure-cni/node-subnet"},
		{"aks kubenet", cluster.Node{ProviderID: "azure:///subscriptions/x", PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")}, NetworkUnavail: &cluster.Condition{Reason: "RouteCreated"}}, cluster.Evidence{}, "kubenet"},
		{"gce routes", cluster.Node{ProviderID: "gce://p/z/n", PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.4.1.0/24")}, NetworkUnavail: &cluster.Condition{Reason: "RouteCreated"}}, cluster.Evidence{}, "kubenet"},
		{"aws vpc cni", cluster.Node{ProviderID: "aws:///us-west-2a/i-1"}, cluster.Evidence{DaemonSets: []cluster.DaemonSetRef{{Name: "aws-node"}}}, "aws-vpc-cni/native"},
		{"weave", cluster.Node{}, cluster.Evidence{DaemonSets: []cluster.DaemonSetRef{{Name: "weave-net"}}}, "weave/vxlan"},
		{"calico daemonset beats nothing", cluster.Node{}, cluster.Evidence{DaemonSets: []cluster.DaemonSetRef{{Name: "calico-node"}}, CalicoPools: []cluster.CalicoPool{{VXLANMode: "Always"}}}, "calico/vxlan"},
		{"unknown", cluster.Node{PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")}}, cluster.Evidence{}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Detect(&tt.node, &tt.ev)
			if got.String() != tt.want {
				t.Errorf("Detect() = %s (evidence %v), want %s", got, got.Evidence, tt.want)
			}
			if len(got.Evidence) == 0 {
				t.Errorf("Detect() gave no evidence")
			}
		})
	}
}

func TestNodeTunnel(t *testing.T) {
	cidr := []netip.Prefix{netip.MustParsePrefix("10.244.3.0/24"), netip.MustParsePrefix("fd00:10:244:3::/64")}
	tests := []struct {
		name string
		node cluster.Node
		nw   Network
		ev   cluster.Evidence
		want string
	}{
		{"calico vxlan dual", cluster.Node{Annotations: map[string]string{annCalicoVXLANTunnel: "192.168.5.64", annCalicoVXLANTunnelV6: "fd5f::40"}}, Network{Model: Calico, Mode: "vxlan"}, cluster.Evidence{}, "vxlan 192.168.5.64,fd5f::40"},
		{"calico ipip", cluster.Node{Annotations: map[string]string{annCalicoIPIPTunnel: "192.168.5.64"}}, Network{Model: Calico, Mode: "ipip-crosssubnet"}, cluster.Evidence{}, "ipip 192.168.5.64"},
		{"calico bgp", cluster.Node{}, Network{Model: Calico, Mode: "bgp"}, cluster.Evidence{}, "-"},
		{"flannel vxlan uses the subnet addresses", cluster.Node{PodCIDRs: cidr}, Network{Model: Flannel, Mode: "vxlan"}, cluster.Evidence{}, "vxlan 10.244.3.0,fd00:10:244:3::"},
		{"flannel host-gw has no tunnel", cluster.Node{PodCIDRs: cidr}, Network{Model: Flannel, Mode: "host-gw"}, cluster.Evidence{}, "-"},
		{"cilium from CiliumNode", cluster.Node{Name: "n"}, Network{Model: Cilium, Mode: "vxlan"},
			cluster.Evidence{CiliumNodes: map[string]*cluster.CiliumNode{"n": {CiliumInternalIP: []netip.Addr{netip.MustParseAddr("10.0.1.93")}}}}, "vxlan 10.0.1.93"},
		{"cilium native", cluster.Node{Name: "n"}, Network{Model: Cilium, Mode: "native"}, cluster.Evidence{}, "-"},
		{"antrea gateway", cluster.Node{PodCIDRs: cidr[:1]}, Network{Model: Antrea, Mode: "geneve"}, cluster.Evidence{}, "geneve 10.244.3.1"},
		{"kubenet", cluster.Node{PodCIDRs: cidr}, Network{Model: Kubenet}, cluster.Evidence{}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lookup(tt.nw.Model).tunnel(&tt.node, tt.nw.Mode, &tt.ev).String(); got != tt.want {
				t.Errorf("tunnel() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClusterNetworkMixed(t *testing.T) {
	got := ClusterNetwork([]Network{{Model: Calico, Mode: "vxlan"}, {Model: Calico, Mode: "vxlan"}, {Model: Unknown}}, &cluster.Evidence{})
	want := Network{Model: Calico, Mode: "vxlan", Evidence: []string{"mixed: calico/vxlan on 2 node(s), unknown on 1 node(s)"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ClusterNetwork() (-want +got):\n%s", diff)
	}
}
