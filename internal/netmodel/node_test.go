package netmodel

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

func pfx(ss ...string) []netip.Prefix {
	out := []netip.Prefix{}
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func ips(ss ...string) []netip.Addr {
	out := []netip.Addr{}
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// TestResolvePodCIDRsBySource: the node's pod CIDRs are those its model's IPAM hands out, not
// whatever spec.podCIDRs holds.
func TestResolvePodCIDRsBySource(t *testing.T) {
	decoy := pfx("10.244.3.0/24")
	cn := map[string]*cluster.CiliumNode{"n": {Name: "n", PodCIDRs: pfx("10.0.7.0/24"), PoolCIDRs: pfx("10.20.0.0/27", "10.21.0.0/28")}}
	tests := []struct {
		name       string
		node       cluster.Node
		ev         cluster.Evidence
		wantCIDRs  []netip.Prefix
		wantSource CIDRSource
	}{
		{"cilium cluster-pool ignores the controller manager's CIDR", cluster.Node{Name: "n", PodCIDRs: decoy},
			cluster.Evidence{Cilium: &cluster.CiliumConfig{IPAM: "cluster-pool", RoutingMode: "tunnel", TunnelProtocol: "vxlan"}, CiliumNodes: cn}, pfx("10.0.7.0/24"), SourceCiliumNode},
		{"cilium multi-pool", cluster.Node{Name: "n", PodCIDRs: decoy},
			cluster.Evidence{Cilium: &cluster.CiliumConfig{IPAM: "multi-pool"}, CiliumNodes: cn}, pfx("10.20.0.0/27", "10.21.0.0/28"), SourceCiliumPools},
		{"cilium kubernetes IPAM uses spec.podCIDRs", cluster.Node{Name: "n", PodCIDRs: decoy},
			cluster.Evidence{Cilium: &cluster.CiliumConfig{IPAM: "kubernetes"}, CiliumNodes: cn}, decoy, SourceSpec},
		{"cilium ENI IPAM has no node CIDR", cluster.Node{Name: "n", PodCIDRs: decoy},
			cluster.Evidence{Cilium: &cluster.CiliumConfig{IPAM: "eni"}, CiliumNodes: cn}, pfx(), SourceCloudSubnet},
		{"calico blocks, not kubeadm's podCIDR", cluster.Node{Name: "n", PodCIDRs: decoy, Annotations: map[string]string{annCalicoVXLANTunnel: "192.168.9.0"}},
			cluster.Evidence{CalicoBlocks: []cluster.CalicoBlock{{CIDR: netip.MustParsePrefix("192.168.9.64/26"), Node: "n"}, {CIDR: netip.MustParsePrefix("192.168.9.0/26"), Node: "n"}, {CIDR: netip.MustParsePrefix("192.168.1.0/26"), Node: "other"}}},
			pfx("192.168.9.0/26", "192.168.9.64/26"), SourceCalicoBlocks},
		{"aws pods come from the VPC", cluster.Node{Name: "n", PodCIDRs: decoy, ProviderID: "aws:///us-west-2a/i-1"},
			cluster.Evidence{DaemonSets: []cluster.DaemonSetRef{{Name: "aws-node"}}}, pfx(), SourceCloudSubnet},
		{"azure cni node subnet", cluster.Node{Name: "n", Labels: map[string]string{"kubernetes.azure.com/network-plugin": "azure"}}, cluster.Evidence{}, pfx(), SourceCloudSubnet},
		{"flannel", cluster.Node{Name: "n", PodCIDRs: decoy, Annotations: map[string]string{annFlannelBackend: "vxlan"}}, cluster.Evidence{}, decoy, SourceSpec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nn := ResolveNode(&tt.node, &tt.ev, nil)
			if diff := cmp.Diff(tt.wantCIDRs, nn.PodCIDRs, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" || nn.Source != tt.wantSource {
				t.Errorf("pod CIDRs (-want +got):\n%s\nsource %q, want %q", diff, nn.Source, tt.wantSource)
			}
		})
	}
}

// TestTransportIsWhatTheCNIProgrammed: the outer destination of a tunnel is the address the CNI
// publishes for the node, not its first InternalIP.
func TestTransportIsWhatTheCNIProgrammed(t *testing.T) {
	internal := ips("10.0.0.13")
	tests := []struct {
		name    string
		node    cluster.Node
		ev      cluster.Evidence
		want    string
		wantSrc string
	}{
		{"calico node address", cluster.Node{Name: "n", InternalIPs: internal, Annotations: map[string]string{annCalicoIPv4Address: "10.1.0.13/24", annCalicoVXLANTunnel: "192.168.17.0"}},
			cluster.Evidence{}, "10.1.0.13", "annotation projectcalico.org/IPv4Address"},
		{"flannel public-ip", cluster.Node{Name: "n", InternalIPs: internal, Annotations: map[string]string{annFlannelBackend: "vxlan", annFlannelPublicIP: "172.30.0.13"}},
			cluster.Evidence{}, "172.30.0.13", "annotation flannel.alpha.coreos.com/public-ip"},
		{"flannel public-ip-overwrite not yet taken up: peers still use public-ip", cluster.Node{Name: "n", InternalIPs: internal, Annotations: map[string]string{annFlannelBackend: "vxlan", annFlannelPublicIP: "10.0.0.13", annFlannelPublicIPOver: "172.30.0.13"}},
			cluster.Evidence{}, "10.0.0.13", "annotation flannel.alpha.coreos.com/public-ip"},
		{"cilium node IP from the CiliumNode", cluster.Node{Name: "n", InternalIPs: internal},
			cluster.Evidence{Cilium: &cluster.CiliumConfig{RoutingMode: "tunnel", TunnelProtocol: "vxlan", IPAM: "cluster-pool"}, CiliumNodes: map[string]*cluster.CiliumNode{"n": {InternalIPs: ips("10.2.0.13")}}},
			"10.2.0.13", "CiliumNode spec.addresses InternalIP"},
		{"antrea transport interface", cluster.Node{Name: "n", InternalIPs: internal, Annotations: map[string]string{annAntreaTransport: "10.3.0.13,fd00:3::13"}},
			cluster.Evidence{Antrea: &cluster.AntreaConfig{TrafficEncapMode: "encap", TunnelType: "geneve", TransportInterface: "eth1"}}, "10.3.0.13", "annotation node.antrea.io/transport-addresses"},
		{"antrea without a transport interface: the node IP", cluster.Node{Name: "n", InternalIPs: internal, Annotations: map[string]string{annAntreaTransport: "10.3.0.13"}},
			cluster.Evidence{Antrea: &cluster.AntreaConfig{TrafficEncapMode: "encap", TunnelType: "geneve"}}, "10.0.0.13", TransportInternalIP},
		{"kubenet: the InternalIP", cluster.Node{Name: "n", InternalIPs: internal, Labels: map[string]string{"kubernetes.azure.com/network-plugin": "kubenet"}},
			cluster.Evidence{}, "10.0.0.13", TransportInternalIP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nn := ResolveNode(&tt.node, &tt.ev, nil)
			if got := nn.TransportAddr(true); got != tt.want || nn.TransportSource != tt.wantSrc {
				t.Errorf("transport = %s (%s), want %s (%s)", got, nn.TransportSource, tt.want, tt.wantSrc)
			}
		})
	}
	// the encapsulation's outer addresses are the two transports
	ev := &cluster.Evidence{}
	a := ResolveNode(&cluster.Node{Name: "a", InternalIPs: ips("10.0.0.11"), Annotations: map[string]string{annCalicoIPv4Address: "10.0.0.11/24", annCalicoIPIPTunnel: "192.168.1.0"}}, ev, nil)
	b := ResolveNode(&cluster.Node{Name: "b", InternalIPs: internal, Annotations: map[string]string{annCalicoIPv4Address: "10.1.0.13/24", annCalicoIPIPTunnel: "192.168.2.0"}}, ev, nil)
	want := &Encap{Kind: "ipip", Device: "tunl0", OuterSrc: "10.0.0.11", OuterDst: "10.1.0.13", Overhead: 20}
	if diff := cmp.Diff(want, a.Encap(&b, true)); diff != "" {
		t.Errorf("encap (-want +got):\n%s", diff)
	}
	if got := a.Model().TunnelNextHop(a.Network.Mode, &b, "192.168.2.0/26", true); got != "10.1.0.13" {
		t.Errorf("IPIP next hop = %s, want Calico's node address 10.1.0.13", got)
	}
}

// TestCapacity: max-pods counts host-network pods; the AWS VPC CNI's ENIs hold ENIs x (IPv4 - 1)
// pod addresses, 16 per slot with prefix delegation on Nitro.
func TestCapacity(t *testing.T) {
	aws := func(itype string, maxPods int64) cluster.Node {
		return cluster.Node{Name: "n", InstanceType: itype, AllocatablePods: maxPods, ProviderID: "aws:///us-west-2a/i-1"}
	}
	awsEv := func(env map[string]string) cluster.Evidence {
		return cluster.Evidence{DaemonSets: []cluster.DaemonSetRef{{Name: "aws-node", Env: env}}}
	}
	pd := map[string]string{envPrefixDelegation: "true"}
	kubenet := cluster.Node{Name: "n", AllocatablePods: 110, PodCIDRs: pfx("10.244.1.0/24"), Labels: map[string]string{"kubernetes.azure.com/network-plugin": "kubenet"}}
	small := cluster.Node{Name: "n", AllocatablePods: 110, PodCIDRs: pfx("10.244.1.0/26"), Labels: map[string]string{"kubernetes.azure.com/network-plugin": "kubenet"}}
	calico := cluster.Node{Name: "n", AllocatablePods: 110, Annotations: map[string]string{annCalicoVXLANTunnel: "192.168.9.0"}}
	calicoEv := cluster.Evidence{MaxBlocksPerHost: 1, CalicoPools: []cluster.CalicoPool{{Name: "p", CIDR: "192.168.0.0/16", BlockSize: 26}}, CalicoBlocks: []cluster.CalicoBlock{{CIDR: netip.MustParsePrefix("192.168.9.0/26"), Node: "n"}}}
	tests := []struct {
		name   string
		node   cluster.Node
		ev     cluster.Evidence
		counts PodCounts
		want   Capacity
	}{
		{"aws m5.large full: 27 pod IPs and 2 host-network pods fill 29", aws("m5.large", 29), awsEv(nil), PodCounts{OnPodNetwork: 27, OnHostNetwork: 2},
			Capacity{MaxPods: 29, HostNetworkPods: 2, Addresses: 27, PodIPs: 27, Binding: BindMaxPods, Used: 27, Utilisation: 1}},
		{"aws m5.large with max-pods raised: the ENIs bind", aws("m5.large", 58), awsEv(nil), PodCounts{OnPodNetwork: 27, OnHostNetwork: 2},
			Capacity{MaxPods: 58, HostNetworkPods: 2, Addresses: 27, PodIPs: 27, Binding: BindAddresses, Used: 27, Utilisation: 1}},
		{"aws prefix delegation on nitro: max-pods binds", aws("m5.large", 110), awsEv(pd), PodCounts{OnPodNetwork: 54, OnHostNetwork: 2},
			Capacity{MaxPods: 110, HostNetworkPods: 2, Addresses: 432, PodIPs: 108, Binding: BindMaxPods, Used: 54, Utilisation: 0.5}},
		{"aws prefix delegation on xen falls back to secondary IPs", aws("m4.large", 110), awsEv(pd), PodCounts{OnPodNetwork: 9, OnHostNetwork: 2},
			Capacity{MaxPods: 110, HostNetworkPods: 2, Addresses: 18, PodIPs: 18, Binding: BindAddresses, Used: 9, Utilisation: 0.5}},
		{"aws custom networking: the primary ENI holds no pods", aws("m5.large", 110), awsEv(map[string]string{envCustomNetworking: "true"}), PodCounts{OnHostNetwork: 2},
			Capacity{MaxPods: 110, HostNetworkPods: 2, Addresses: 18, PodIPs: 18, Binding: BindAddresses}},
		{"aws unknown instance type: max-pods", aws("x9.huge", 40), awsEv(nil), PodCounts{OnHostNetwork: 4},
			Capacity{MaxPods: 40, HostNetworkPods: 4, PodIPs: 36, Binding: BindMaxPods}},
		{"kubenet: host-network pods take max-pods slots", kubenet, cluster.Evidence{}, PodCounts{OnPodNetwork: 10, OnHostNetwork: 10},
			Capacity{MaxPods: 110, HostNetworkPods: 10, Addresses: 253, PodIPs: 100, Binding: BindMaxPods, Used: 10, Utilisation: 0.1}},
		{"kubenet /26: the addresses bind", small, cluster.Evidence{}, PodCounts{OnPodNetwork: 61},
			Capacity{MaxPods: 110, Addresses: 61, PodIPs: 61, Binding: BindAddresses, Used: 61, Utilisation: 1}},
		{"calico maxBlocksPerHost caps the node", calico, calicoEv, PodCounts{OnPodNetwork: 32},
			Capacity{MaxPods: 110, Addresses: 64, PodIPs: 64, Binding: BindAddresses, Used: 32, Utilisation: 0.5}},
		{"kubenet without a CIDR", cluster.Node{Name: "n", AllocatablePods: 110, Labels: map[string]string{"kubernetes.azure.com/network-plugin": "kubenet"}}, cluster.Evidence{}, PodCounts{},
			Capacity{MaxPods: 110, Binding: BindNoPodCIDR}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResolveNode(&tt.node, &tt.ev, &tt.counts).Capacity
			got.AddressSource = ""
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("capacity (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryModelIsDescribed: each model name has its own descriptor, found by its name.
func TestEveryModelIsDescribed(t *testing.T) {
	seen := map[Name]bool{}
	for _, m := range Models() {
		if seen[m.Name()] {
			t.Errorf("model %s described twice", m.Name())
		}
		seen[m.Name()] = true
		if lookup(m.Name()).Name() != m.Name() {
			t.Errorf("lookup(%s) gives %s", m.Name(), lookup(m.Name()).Name())
		}
	}
	for _, n := range []Name{Kubenet, Flannel, Calico, Cilium, AWSVPCCNI, AzureCNI, AzureCNIOverlay, Antrea, Weave} {
		if !seen[n] {
			t.Errorf("model %s has no descriptor", n)
		}
	}
	if lookup("nonsense").Name() != Unknown {
		t.Errorf("an unknown name must give the unknown model")
	}
}

// TestAntreaModes: Antrea's trafficEncapMode and tunnelType decide its tunnel, case aside.
func TestAntreaModes(t *testing.T) {
	n := cluster.Node{Name: "n", InternalIPs: ips("10.0.0.1"), PodCIDRs: pfx("10.244.1.0/24"), Annotations: map[string]string{annAntreaTransport: "10.0.0.1"}}
	tests := []struct {
		encap, tunnel string
		want          string // network, then encapsulation
		cidrs         CIDRSource
	}{
		{"encap", "geneve", "antrea/geneve geneve UDP 6081 cross-subnet false", SourceSpec},
		{"Encap", "vxlan", "antrea/vxlan vxlan UDP 4789 cross-subnet false", SourceSpec},
		{"hybrid", "geneve", "antrea/geneve+hybrid geneve UDP 6081 cross-subnet true", SourceSpec},
		{"noEncap", "geneve", "antrea/noencap none", SourceSpec},
		{"networkPolicyOnly", "geneve", "antrea/networkpolicyonly none", SourceCloudSubnet},
		{"encap", "gre", "antrea/gre gre UDP 0 cross-subnet false", SourceSpec},
	}
	for _, tt := range tests {
		ev := cluster.Evidence{Antrea: &cluster.AntreaConfig{TrafficEncapMode: tt.encap, TunnelType: tt.tunnel}}
		nn := ResolveNode(&n, &ev, nil)
		got := nn.Network.String() + " none"
		if e := nn.Encap(&nn, true); e != nil {
			got = fmt.Sprintf("%s %s UDP %d cross-subnet %v", nn.Network, e.Kind, e.Port, e.CrossSubnetOnly)
		}
		if got != tt.want || nn.Source != tt.cidrs {
			t.Errorf("%s/%s: %s (pod CIDRs from %s), want %s (%s)", tt.encap, tt.tunnel, got, nn.Source, tt.want, tt.cidrs)
		}
	}
}

// TestTunnelMAC: flannel's VXLAN VTEP MAC comes from its backend-data annotation; Calico publishes
// none on the Kubernetes node.
func TestTunnelMAC(t *testing.T) {
	pods := pfx("10.244.1.0/24")
	tests := []struct {
		name string
		node cluster.Node
		want *Tunnel
	}{
		{"flannel vxlan with backend-data", cluster.Node{Name: "n", PodCIDRs: pods, Annotations: map[string]string{annFlannelBackend: "vxlan",
			annFlannelBackendData: `{"VNI":1,"VtepMAC":"4a:3f:9c:12:7e:01"}`}},
			&Tunnel{Kind: "vxlan", Device: "flannel.1", Addresses: []string{"10.244.1.0"}, MAC: "4a:3f:9c:12:7e:01"}},
		{"flannel vxlan VNI 4 names the device", cluster.Node{Name: "n", PodCIDRs: pods, Annotations: map[string]string{annFlannelBackend: "vxlan",
			annFlannelBackendData: `{"VNI":4,"VtepMAC":"4a:3f:9c:12:7e:02"}`}},
			&Tunnel{Kind: "vxlan", Device: "flannel.4", Addresses: []string{"10.244.1.0"}, MAC: "4a:3f:9c:12:7e:02"}},
		{"flannel vxlan without backend-data", cluster.Node{Name: "n", PodCIDRs: pods, Annotations: map[string]string{annFlannelBackend: "vxlan"}},
			&Tunnel{Kind: "vxlan", Device: "flannel.1", Addresses: []string{"10.244.1.0"}}},
		{"flannel vxlan with unreadable backend-data", cluster.Node{Name: "n", PodCIDRs: pods, Annotations: map[string]string{annFlannelBackend: "vxlan", annFlannelBackendData: "{"}},
			&Tunnel{Kind: "vxlan", Device: "flannel.1", Addresses: []string{"10.244.1.0"}}},
		{"flannel host-gw has no tunnel", cluster.Node{Name: "n", PodCIDRs: pods, Annotations: map[string]string{annFlannelBackend: "host-gw", annFlannelBackendData: "null"}}, nil},
		{"calico vxlan publishes no MAC on the node", cluster.Node{Name: "n", Annotations: map[string]string{annCalicoVXLANTunnel: "192.168.9.0"}},
			&Tunnel{Kind: "vxlan", Device: "vxlan.calico", Addresses: []string{"192.168.9.0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nn := ResolveNode(&tt.node, &cluster.Evidence{}, nil)
			if diff := cmp.Diff(tt.want, nn.Tunnel); diff != "" {
				t.Errorf("tunnel (-want +got):\n%s", diff)
			}
		})
	}
}
