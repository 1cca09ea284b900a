package netmodel

import (
	"fmt"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/google/go-cmp/cmp"
	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// ranges is "role cidr reach [node-network] (source)" per range.
func ranges(a *Addressing) []string {
	var out []string
	for _, r := range a.Ranges {
		s := fmt.Sprintf("%s %s %s", r.Role, r.CIDR, r.Reach)
		if r.OfNodeNetwork {
			s += " node-network"
		}
		out = append(out, s+" ("+r.Source+")")
	}
	return out
}

func TestClusterAddressing(t *testing.T) {
	azure := "azure:///subscriptions/x/vm-"
	kubeadm := &cluster.KubeadmNetworking{PodSubnet: "10.244.0.0/16", ServiceSubnet: "10.96.0.0/12"}
	for _, tc := range []struct {
		name   string
		inv    cluster.Inventory
		want   []string
		shared bool
	}{
		{
			name: "AKS kubenet: pods routed by the route table, one cluster per subnet",
			inv: cluster.Inventory{
				Nodes: []cluster.Node{
					{Name: "a", ProviderID: azure + "a", InternalIPs: ips("10.224.0.4"), PodCIDRs: pfx("10.244.0.0/24"), NetworkUnavail: &cluster.Condition{Reason: "RouteCreated"}},
					{Name: "b", ProviderID: azure + "b", InternalIPs: ips("10.224.0.9"), PodCIDRs: pfx("10.244.1.0/24"), NetworkUnavail: &cluster.Condition{Reason: "RouteCreated"}},
				},
				Evidence: cluster.Evidence{KubeProxy: &cluster.KubeProxyConfig{ClusterCIDR: "10.244.0.0/16"},
					ServiceCIDRs: []cluster.ServiceCIDR{{Name: "kubernetes", CIDRs: []string{"10.0.0.0/16"}}}},
			},
			want: []string{
				"nodes 10.224.0.0/28 underlay (smallest prefix covering the InternalIPs in it (2 nodes))",
				"pods 10.244.0.0/16 network (kube-proxy clusterCIDR)",
				"services 10.0.0.0/16 cluster (ServiceCIDR kubernetes)",
			},
			shared: true,
		},
		{
			name: "Calico VXLAN: the subnets calico-node published, unless it autodetected another interface",
			inv: cluster.Inventory{
				Nodes: []cluster.Node{
					{Name: "a", InternalIPs: ips("10.0.1.5"), Annotations: map[string]string{annCalicoIPv4Address: "10.0.1.5/24", annCalicoVXLANTunnel: "192.168.9.0"}},
					{Name: "b", InternalIPs: ips("10.0.2.5"), Annotations: map[string]string{annCalicoIPv4Address: "10.0.2.5/24", annCalicoVXLANTunnel: "192.168.7.0"}},
					{Name: "c", InternalIPs: ips("10.0.3.7"), Annotations: map[string]string{annCalicoIPv4Address: "172.17.0.1/16", annCalicoVXLANTunnel: "192.168.8.0"}},
				},
				Evidence: cluster.Evidence{Kubeadm: kubeadm, CalicoPools: []cluster.CalicoPool{{Name: "default-ipv4-ippool", CIDR: "192.168.0.0/16", BlockSize: 26, VXLANMode: "Always", IPIPMode: "Never"}}},
			},
			want: []string{
				"nodes 10.0.1.0/24 underlay (node subnet published by calico-node (1 node))",
				"nodes 10.0.2.0/24 underlay (node subnet published by calico-node (1 node))",
				"nodes 10.0.3.7/32 underlay (smallest prefix covering the InternalIPs in it (1 node))",
				"pods 192.168.0.0/16 cluster (IPPool default-ipv4-ippool)",
				"services 10.96.0.0/12 cluster (kubeadm-config)",
			},
		},
		{
			name: "AWS VPC CNI: pods are the VPC's addresses, taken from the pod IPs",
			inv: cluster.Inventory{
				Nodes: []cluster.Node{
					{Name: "a", ProviderID: "aws:///eu-west-1a/i-1", InternalIPs: ips("10.0.1.10")},
					{Name: "b", ProviderID: "aws:///eu-west-1b/i-2", InternalIPs: ips("10.0.2.10")},
				},
				Pods: []cluster.Pod{
					{Name: "web", Node: "a", IPs: ips("10.0.1.77"), Phase: corev1.PodRunning},
					{Name: "db", Node: "b", IPs: ips("10.0.2.201"), Phase: corev1.PodRunning},
					{Name: "aws-node", Node: "a", IPs: ips("10.0.1.10"), HostNetwork: true, Phase: corev1.PodRunning},
				},
				Evidence: cluster.Evidence{DaemonSets: []cluster.DaemonSetRef{{Name: "aws-node"}},
					ServiceCIDRs: []cluster.ServiceCIDR{{Name: "kubernetes", CIDRs: []string{"172.20.0.0/16"}}}},
			},
			want: []string{
				"nodes 10.0.0.0/22 underlay (smallest prefix covering the InternalIPs in it (2 nodes))",
				"pods 10.0.0.0/22 underlay node-network (smallest prefix covering the pod IPs in it (the node network's addresses))",
				"services 172.20.0.0/16 cluster (ServiceCIDR kubernetes)",
			},
		},
		{
			name: "Azure CNI Overlay: a private pod CIDR, routed between the cluster's nodes only",
			inv: cluster.Inventory{
				Nodes: []cluster.Node{
					{Name: "a", ProviderID: azure + "a", InternalIPs: ips("10.224.0.4"), PodCIDRs: pfx("10.244.0.0/24"), Labels: map[string]string{"kubernetes.azure.com/azure-cni-overlay": "true"}},
				},
				Evidence: cluster.Evidence{KubeProxy: &cluster.KubeProxyConfig{ClusterCIDR: "10.244.0.0/16"}},
			},
			want: []string{
				"nodes 10.224.0.4/32 underlay (smallest prefix covering the InternalIPs in it (1 node))",
				"pods 10.244.0.0/16 cluster (kube-proxy clusterCIDR)",
			},
		},
		{
			name: "Flannel host-gw: routes on the nodes alone",
			inv: cluster.Inventory{
				Nodes: []cluster.Node{
					{Name: "a", InternalIPs: ips("192.168.56.11"), PodCIDRs: pfx("10.244.0.0/24"), Annotations: map[string]string{annFlannelBackend: "host-gw"}},
				},
				Evidence: cluster.Evidence{Kubeadm: kubeadm},
			},
			want: []string{
				"nodes 192.168.56.11/32 underlay (smallest prefix covering the InternalIPs in it (1 node))",
				"pods 10.244.0.0/16 cluster (kubeadm-config)",
				"services 10.96.0.0/12 cluster (kubeadm-config)",
			},
		},
		{
			name: "dual-stack Flannel: one range per family, pods behind the tunnel",
			inv: cluster.Inventory{
				Nodes: []cluster.Node{
					{Name: "a", InternalIPs: ips("192.168.56.11", "fd00:56::11"), PodCIDRs: pfx("10.244.0.0/24", "fd00:10:244::/64"), Annotations: map[string]string{annFlannelBackend: "vxlan"}},
					{Name: "b", InternalIPs: ips("192.168.56.12", "fd00:56::12"), PodCIDRs: pfx("10.244.1.0/24", "fd00:10:244:1::/64"), Annotations: map[string]string{annFlannelBackend: "vxlan"}},
				},
				Evidence: cluster.Evidence{Flannel: &cluster.FlannelConfig{Network: "10.244.0.0/16", IPv6Network: "fd00:10:244::/56", Backend: "vxlan"},
					ServiceCIDRs: []cluster.ServiceCIDR{{Name: "kubernetes", CIDRs: []string{"10.96.0.0/12", "fd00:10:96::/112"}}}},
			},
			want: []string{
				"nodes 192.168.56.8/29 underlay (smallest prefix covering the InternalIPs in it (2 nodes))",
				"nodes fd00:56::10/126 underlay (smallest prefix covering the InternalIPs in it (2 nodes))",
				"pods 10.244.0.0/16 cluster (kube-flannel-cfg)",
				"pods fd00:10:244::/56 cluster (kube-flannel-cfg)",
				"services 10.96.0.0/12 cluster (ServiceCIDR kubernetes)",
				"services fd00:10:96::/112 cluster (ServiceCIDR kubernetes)",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := ClusterAddressing(&tc.inv, Resolve(&tc.inv))
			if d := cmp.Diff(tc.want, ranges(a)); d != "" {
				t.Errorf("ranges (-want +got):\n%s", d)
			}
			if (a.SharedSubnet != "") != tc.shared {
				t.Errorf("shared subnet rule %q, want one: %v", a.SharedSubnet, tc.shared)
			}
			if len(a.NodeAddresses) == 0 {
				t.Errorf("no node addresses")
			}
		})
	}
}

func TestAddressRanges(t *testing.T) {
	for _, tc := range []struct {
		addrs []string
		want  []string
	}{
		{[]string{"10.224.0.4", "10.224.0.7", "10.224.0.5"}, []string{"10.224.0.4/30"}},
		// far apart: not one 10.0.0.0/8 that would claim everything between
		{[]string{"10.0.1.5", "10.200.0.5", "10.0.2.9"}, []string{"10.0.0.0/22", "10.200.0.5/32"}},
		{[]string{"192.168.1.4", "10.0.0.4"}, []string{"10.0.0.4/32", "192.168.1.4/32"}},
		{[]string{"fd00:1::4", "10.0.0.4", "fd00:1::9", "fd00:2::1"}, []string{"10.0.0.4/32", "fd00:1::/124", "fd00:2::1/128"}},
		{[]string{"::ffff:10.0.0.4", "10.0.0.5"}, []string{"10.0.0.4/31"}},
		{nil, []string{}},
	} {
		var in []netip.Addr
		for _, a := range tc.addrs {
			in = append(in, netip.MustParseAddr(a))
		}
		got := []string{}
		for _, p := range AddressRanges(in) {
			got = append(got, p.String())
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("AddressRanges(%v) (-want +got):\n%s", tc.addrs, d)
		}
	}
}
