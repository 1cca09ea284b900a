package report

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	corev1 "k8s.io/api/core/v1"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, 0, len(ss))
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestBuildNodesWarnings(t *testing.T) {
	inv := &cluster.Inventory{
		Nodes: []cluster.Node{
			{Name: "a", Ready: "Ready", InternalIPs: addrs("10.0.0.1"), PodCIDRs: prefixes("10.244.0.0/24"), AllocatablePods: 110,
				Annotations: map[string]string{"flannel.alpha.coreos.com/backend-type": "vxlan"}},
			{Name: "b", Ready: "Ready", InternalIPs: addrs("10.0.0.2"), PodCIDRs: prefixes("10.244.0.0/25"), AllocatablePods: 110,
				Annotations: map[string]string{"flannel.alpha.coreos.com/backend-type": "vxlan"}},
			{Name: "c", Ready: "NotReady", InternalIPs: addrs("10.0.0.3"), AllocatablePods: 110, ReadyCondition: &cluster.Condition{Status: "False", Message: "cni plugin not initialized"},
				Annotations: map[string]string{"flannel.alpha.coreos.com/backend-type": "vxlan"}, NetworkUnavail: &cluster.Condition{Status: "True", Reason: "NoRouteCreated", Message: "no route"}},
		},
		Pods: []cluster.Pod{
			{Namespace: "x", Name: "p1", Node: "a", IPs: addrs("10.244.0.5"), Phase: corev1.PodRunning},
			{Namespace: "x", Name: "p2", Node: "a", IPs: addrs("10.99.0.5"), Phase: corev1.PodRunning},
			{Namespace: "x", Name: "done", Node: "a", IPs: addrs("10.99.0.6"), Phase: corev1.PodSucceeded},
			{Namespace: "x", Name: "h", Node: "a", IPs: addrs("10.0.0.1"), HostNetwork: true, Phase: corev1.PodRunning},
		},
		Evidence: cluster.Evidence{CIDRNotAvailable: map[string]string{"c": "Node c status is now: CIDRNotAvailable"}, Kubeadm: &cluster.KubeadmNetworking{PodSubnet: "10.244.0.0/16", ServiceSubnet: "10.96.0.0/12"}},
	}
	r := BuildNodes(inv, netmodel.Resolve(inv))
	want := []Warning{
		{Kind: WarnPodOutsideCIDR, Object: "node/a", Message: "1 pod(s) on node a have addresses outside its pod CIDR 10.244.0.0/24 (e.g. pod x/p2 has 10.99.0.5): the route to them points elsewhere"},
		{Kind: WarnNoPodCIDR, Object: "node/c", Message: `node c has no pod CIDR, and flannel hands out pod addresses from it: pods scheduled there cannot get an address; event CIDRNotAvailable: "Node c status is now: CIDRNotAvailable": the cluster CIDR is exhausted, widen it (kube-controller-manager --cluster-cidr) or remove nodes`},
		{Kind: WarnNetworkUnavailable, Object: "node/c", Message: "node c reports NetworkUnavailable=True (NoRouteCreated: no route): its network plugin has not set up its routes"},
		{Kind: WarnNotReady, Object: "node/c", Message: "node c is NotReady: cni plugin not initialized"},
		{Kind: WarnOverlappingCIDRs, Object: "node/b", Message: "nodes a and b have overlapping pod CIDRs 10.244.0.0/24 and 10.244.0.0/25: pods on them can get the same address"},
	}
	if diff := cmp.Diff(want, r.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if got := []int{r.Nodes[0].Pods, r.Nodes[0].HostNetworkPods, r.Cluster.Pods, r.Cluster.HostNetworkPods}; !cmp.Equal(got, []int{2, 1, 2, 1}) {
		t.Errorf("pod counts [node pods, node host pods, cluster pods, cluster host pods] = %v, want [2 1 2 1]", got)
	}
	wantCIDRs := []netmodel.SourcedCIDR{{CIDR: "10.244.0.0/16", Source: "kubeadm-config"}}
	if diff := cmp.Diff(wantCIDRs, r.Cluster.PodCIDRs); diff != "" {
		t.Errorf("cluster pod CIDRs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]netmodel.SourcedCIDR{{CIDR: "10.96.0.0/12", Source: "kubeadm-config"}}, r.Cluster.ServiceCIDRs); diff != "" {
		t.Errorf("service CIDRs (-want +got):\n%s", diff)
	}
}

func TestCalicoAddressMismatch(t *testing.T) {
	inv := &cluster.Inventory{Nodes: []cluster.Node{
		{Name: "ok", Ready: "Ready", InternalIPs: addrs("10.0.0.11"), Annotations: map[string]string{"projectcalico.org/IPv4Address": "10.0.0.11/24", "projectcalico.org/IPv4IPIPTunnelAddr": "192.168.1.0"}},
		{Name: "bad", Ready: "Ready", InternalIPs: addrs("10.0.0.12"), Annotations: map[string]string{"projectcalico.org/IPv4Address": "172.17.0.1/16", "projectcalico.org/IPv4IPIPTunnelAddr": "192.168.2.0"}},
	}}
	r := BuildNodes(inv, netmodel.Resolve(inv))
	want := []Warning{{Kind: WarnCalicoAddress, Object: "node/bad", Message: "Calico autodetected 172.17.0.1 for node bad but its InternalIP is 10.0.0.12: other nodes send tunnel and BGP traffic to the wrong address; set IP_AUTODETECTION_METHOD=kubernetes-internal-ip on calico-node"}}
	if diff := cmp.Diff(want, r.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestCalicoPodsOutsideNodeCIDRAreFine(t *testing.T) {
	// kubeadm gives Calico nodes a podCIDR that Calico's IPAM ignores: no warning.
	inv := &cluster.Inventory{
		Nodes: []cluster.Node{{Name: "n", Ready: "Ready", PodCIDRs: prefixes("192.168.0.0/24"), Annotations: map[string]string{"projectcalico.org/IPv4VXLANTunnelAddr": "192.168.84.128"}}},
		Pods:  []cluster.Pod{{Namespace: "x", Name: "p", Node: "n", IPs: addrs("192.168.84.130"), Phase: corev1.PodRunning}},
	}
	if w := BuildNodes(inv, netmodel.Resolve(inv)).Warnings; len(w) != 0 {
		t.Errorf("warnings = %v, want none", w)
	}
}

func TestCoveringPrefixes(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"10.244.0.0/24", "10.244.1.0/24", "10.244.3.0/24"}, []string{"10.244.0.0/22"}},
		{[]string{"10.244.0.0/24"}, []string{"10.244.0.0/24"}},
		{[]string{"10.0.0.0/32", "128.0.0.0/32"}, []string{"0.0.0.0/0"}},
		{[]string{"10.244.1.0/24", "fd00:10:244:1::/64", "fd00:10:244:2::/64"}, []string{"10.244.1.0/24", "fd00:10:244::/62"}},
		{[]string{"fd00::1/128", "fd00::1/128"}, []string{"fd00::1/128"}},
		{nil, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range netmodel.CoveringPrefixes(prefixes(tt.in...)) {
			got = append(got, p.String())
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("CoveringPrefixes(%v) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestInPrefixes(t *testing.T) {
	ps := prefixes("10.244.1.0/24")
	if !inPrefixes(addrs("10.244.1.7", "fd00::7"), ps) {
		t.Errorf("an IPv6 address with no IPv6 CIDR to judge by counts as inside")
	}
	if inPrefixes(addrs("10.244.2.7"), ps) {
		t.Errorf("10.244.2.7 is not in 10.244.1.0/24")
	}
}
