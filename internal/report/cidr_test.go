package report

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	corev1 "k8s.io/api/core/v1"
)

// kubenetInventory is an AKS kubenet cluster: a /22 cluster CIDR with /24 per node, three nodes
// holding CIDRs (one released in the middle), one starved.
func kubenetInventory() *cluster.Inventory {
	node := func(name, cidr string) cluster.Node {
		n := cluster.Node{Name: name, Ready: "Ready", ProviderID: "azure:///subscriptions/x/" + name, AllocatablePods: 110, NetworkUnavail: &cluster.Condition{Status: "False", Reason: "RouteCreated"}}
		if cidr != "" {
			n.PodCIDRs = prefixes(cidr)
		}
		return n
	}
	inv := &cluster.Inventory{
		Nodes: []cluster.Node{node("a", "10.244.0.0/24"), node("b", "10.244.2.0/24"), node("c", "10.244.3.0/24"), node("d", "")},
		Evidence: cluster.Evidence{
			KubeProxy:        &cluster.KubeProxyConfig{Mode: "iptables", ClusterCIDR: "10.244.0.0/22"},
			ServiceCIDRs:     []cluster.ServiceCIDR{{Name: "kubernetes", CIDRs: []string{"10.0.0.0/28"}}},
			CIDRNotAvailable: map[string]string{"d": "Node d status is now: CIDRNotAvailable"},
		},
	}
	for i := 0; i < 100; i++ { // node a is nearly full of pods
		inv.Pods = append(inv.Pods, cluster.Pod{Namespace: "x", Name: fmt.Sprintf("p%d", i), Node: "a", IPs: addrs(fmt.Sprintf("10.244.0.%d", i+2)), Phase: corev1.PodRunning})
	}
	inv.Pods = append(inv.Pods,
		cluster.Pod{Namespace: "x", Name: "done", Node: "b", IPs: addrs("10.244.2.9"), Phase: corev1.PodSucceeded},
		cluster.Pod{Namespace: "x", Name: "host", Node: "b", IPs: addrs("10.224.0.5"), HostNetwork: true, Phase: corev1.PodRunning},
		cluster.Pod{Namespace: "x", Name: "q", Node: "b", IPs: addrs("10.244.2.10"), Phase: corev1.PodRunning})
	return inv
}

func TestCIDRUsageKubenet(t *testing.T) {
	x := &cluster.ClusterIPs{CountedFrom: "IPAddress objects", Addresses: addrs("10.0.0.1", "10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14", "10.0.0.15", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.96.0.1")}
	inv := kubenetInventory()
	u := BuildCIDRUsage(inv, netmodel.Resolve(inv), x, CIDRUsageConfig{WarnAt: 80})

	wantRanges := []RangeUsage{{CIDR: "10.244.0.0/22", Source: "kube-proxy clusterCIDR", NodeMask: 24, Slots: 4, Allocated: 3, Free: 1, Holes: 1, Starved: []string{"d"}, Utilisation: 0.75}}
	if diff := cmp.Diff(wantRanges, u.Ranges); diff != "" {
		t.Errorf("ranges (-want +got):\n%s", diff)
	}
	hl := "host-local IPAM loses the network, gateway and broadcast addresses"
	// node b runs a host-network pod: it takes one of the 110 max-pods slots and no address
	wantNodes := []NodeUsage{
		{Name: "a", CIDRs: []string{"10.244.0.0/24"}, Source: "spec.podCIDRs", Usable: 253, AddressSource: hl, Used: 100, MaxPods: 110, Capacity: 110, Binding: "max-pods", Utilisation: 100.0 / 110},
		{Name: "b", CIDRs: []string{"10.244.2.0/24"}, Source: "spec.podCIDRs", Usable: 253, AddressSource: hl, Used: 1, MaxPods: 110, HostNetworkPods: 1, Capacity: 109, Binding: "max-pods", Utilisation: 1.0 / 109},
		{Name: "c", CIDRs: []string{"10.244.3.0/24"}, Source: "spec.podCIDRs", Usable: 253, AddressSource: hl, Used: 0, MaxPods: 110, Capacity: 110, Binding: "max-pods"},
		{Name: "d", CIDRs: []string{}, Source: "none", Usable: 0, AddressSource: hl, Used: 0, MaxPods: 110, Capacity: 0, Binding: "no pod CIDR"},
	}
	if diff := cmp.Diff(wantNodes, u.Nodes); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	// 10.0.0.0/28 holds 14 ClusterIPs; 12 of the 13 addresses are inside it
	wantSvc := []ServiceUsage{{CIDR: "10.0.0.0/28", Source: "ServiceCIDR kubernetes", Usable: 14, Allocated: 12, CountedFrom: "IPAddress objects", Utilisation: 12.0 / 14}}
	if diff := cmp.Diff(wantSvc, u.Services); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	if got := u.Limits[0]; got.Name != "Azure route table (kubenet)" || got.Limit != 400 || got.Used != 3 {
		t.Errorf("first limit = %+v, want the Azure route table with 3 of 400 routes", got)
	}
	var kinds []string
	for _, w := range u.Warnings {
		kinds = append(kinds, w.Kind+" "+w.Object)
	}
	wantKinds := []string{"NoPodCIDR node/d", "NodeAddresses node/a", "ServiceCIDR 10.0.0.0/28"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if u.Max != 1 {
		t.Errorf("max utilisation = %v, want 1 (a node without a CIDR)", u.Max)
	}
}

func TestCIDRUsageRouteCap(t *testing.T) {
	// 380 kubenet nodes on Azure have used 95% of the 400 routes, whatever the CIDR allows
	inv := &cluster.Inventory{Evidence: cluster.Evidence{KubeProxy: &cluster.KubeProxyConfig{ClusterCIDR: "10.0.0.0/8"}}}
	for i := 0; i < 380; i++ {
		inv.Nodes = append(inv.Nodes, cluster.Node{Name: fmt.Sprintf("n%d", i), Ready: "Ready", ProviderID: "azure:///x", AllocatablePods: 110,
			PodCIDRs: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/24", i/256, i%256))}})
	}
	u := BuildCIDRUsage(inv, netmodel.Resolve(inv), &cluster.ClusterIPs{}, CIDRUsageConfig{WarnAt: 80, PlanNodes: 450})
	route := u.Limits[0]
	if route.Used != 380 || route.Utilisation != 0.95 {
		t.Errorf("route table = %+v, want 380 of 400 (95%%)", route)
	}
	if u.Max != 0.95 {
		t.Errorf("max = %v, want 0.95", u.Max)
	}
	p := u.Plan
	if p.Holds || p.Binding != "Azure route table (kubenet)" {
		t.Errorf("plan for 450 nodes: holds %v, binds first %q; want no, the route table", p.Holds, p.Binding)
	}
}

func TestCIDRUsagePlan(t *testing.T) {
	inv := kubenetInventory()
	inv.Evidence.KubeProxy.ClusterCIDR = "10.244.0.0/16"
	u := BuildCIDRUsage(inv, netmodel.Resolve(inv), &cluster.ClusterIPs{}, CIDRUsageConfig{WarnAt: 80, PlanNodes: 300, PlanMax: 250})
	want := &PlanResult{Nodes: 300, MaxPods: 250, NodeMask: 24, Holds: false, Binding: "node CIDRs (/24) in cluster CIDR 10.244.0.0/16",
		Smallest: []string{"10.244.0.0/15"},
		Checks: []PlanCheck{
			{Name: "node CIDRs (/24) in cluster CIDR 10.244.0.0/16", Need: 300, Have: 256, Source: "one node CIDR per node (kube-controller-manager --node-cidr-mask-size)"},
			{Name: "pod addresses in a /24 node CIDR", Need: 250, Have: 253, OK: true, Source: "host-local IPAM loses the network, gateway and broadcast addresses"},
			{Name: "Azure route table (kubenet)", Need: 300, Have: 400, OK: true, Source: "AKS kubenet: one user-defined route per node pod CIDR, at most 400 routes per route table, so at most 400 nodes"},
			{Name: "nodes per cluster", Need: 300, Have: 5000, OK: true, Source: "Kubernetes scalability thresholds: clusters are designed for at most 5,000 nodes"},
			{Name: "pods per cluster", Need: 75000, Have: 150000, OK: true, Source: "Kubernetes scalability thresholds: at most 150,000 pods"},
		}}
	if diff := cmp.Diff(want, u.Plan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	// a /25 node mask cannot hold 250 pods
	u = BuildCIDRUsage(inv, netmodel.Resolve(inv), &cluster.ClusterIPs{}, CIDRUsageConfig{WarnAt: 80, PlanNodes: 100, PlanMax: 250, PlanMask: 25})
	if u.Plan.Holds || u.Plan.Binding != "pod addresses in a /25 node CIDR" {
		t.Errorf("plan /25 for 250 pods: holds %v, binds first %q", u.Plan.Holds, u.Plan.Binding)
	}
}

func TestCIDRUsageCalicoAndCilium(t *testing.T) {
	inv := &cluster.Inventory{
		Nodes: []cluster.Node{
			{Name: "c1", Ready: "Ready", AllocatablePods: 110, Annotations: map[string]string{"projectcalico.org/IPv4VXLANTunnelAddr": "192.168.1.0"}},
			{Name: "c2", Ready: "Ready", AllocatablePods: 110, Annotations: map[string]string{"projectcalico.org/IPv4VXLANTunnelAddr": "192.168.1.64"}},
		},
		Evidence: cluster.Evidence{
			MaxBlocksPerHost: 2,
			CalicoPools:      []cluster.CalicoPool{{Name: "p", CIDR: "192.168.1.0/24", BlockSize: 26, VXLANMode: "Always"}, {Name: "old", CIDR: "172.20.0.0/24", BlockSize: 26, Disabled: true}},
			CalicoBlocks: []cluster.CalicoBlock{
				{CIDR: netip.MustParsePrefix("192.168.1.0/26"), Node: "c1", Allocated: 60, Borrowed: 2},
				{CIDR: netip.MustParsePrefix("192.168.1.64/26"), Node: "c2", Allocated: 10},
				{CIDR: netip.MustParsePrefix("192.168.1.128/26"), Node: "c1", Allocated: 3},
			},
		},
	}
	u := BuildCIDRUsage(inv, netmodel.Resolve(inv), &cluster.ClusterIPs{}, CIDRUsageConfig{WarnAt: 80})
	want := []PoolUsage{
		{Name: "p", CIDR: "192.168.1.0/24", BlockSize: 26, Addresses: 256, Allocated: 73, Borrowed: 2, Blocks: 3, MaxBlocks: 4, BlocksBy: map[string]int{"c1": 2, "c2": 1}, Utilisation: 0.75},
		{Name: "old", CIDR: "172.20.0.0/24", BlockSize: 26, Disabled: true, Addresses: 256, MaxBlocks: 4, BlocksBy: map[string]int{}},
	}
	if diff := cmp.Diff(want, u.Pools); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}
	var kinds []string
	for _, w := range u.Warnings {
		kinds = append(kinds, w.Kind+" "+w.Object)
	}
	if diff := cmp.Diff([]string{"MaxBlocksPerHost node/c1"}, kinds); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if len(u.Ranges) != 0 {
		t.Errorf("Calico pools are not cluster CIDRs carved into node CIDRs: %+v", u.Ranges)
	}

	cil := &cluster.Inventory{
		Nodes: []cluster.Node{{Name: "n1", Ready: "Ready", AllocatablePods: 110}},
		Pods:  []cluster.Pod{{Namespace: "x", Name: "p", Node: "n1", IPs: addrs("10.0.1.20"), Phase: corev1.PodRunning}},
		Evidence: cluster.Evidence{
			Cilium:      &cluster.CiliumConfig{IPAM: "cluster-pool", ClusterPoolCIDRs: []string{"10.0.0.0/16"}, ClusterPoolMaskSize: 24, RoutingMode: "tunnel", TunnelProtocol: "vxlan"},
			CiliumNodes: map[string]*cluster.CiliumNode{"n1": {Name: "n1", PodCIDRs: prefixes("10.0.1.0/24"), Used: 3}},
		},
	}
	u = BuildCIDRUsage(cil, netmodel.Resolve(cil), &cluster.ClusterIPs{}, CIDRUsageConfig{WarnAt: 80})
	if r := u.Ranges[0]; r.CIDR != "10.0.0.0/16" || r.NodeMask != 24 || r.Slots != 256 || r.Allocated != 1 {
		t.Errorf("cilium cluster-pool range = %+v", r)
	}
	if n := u.Nodes[0]; n.Source != "CiliumNode" || n.Usable != 252 || n.Used != 1 {
		t.Errorf("cilium node = %+v, want 252 usable (4 reserved) and 1 used", n)
	}
}

func TestCheckPlanMask(t *testing.T) {
	cilium := &CIDRUsage{Network: netmodel.Network{Model: netmodel.Cilium}, Ranges: []RangeUsage{{CIDR: "10.0.0.0/8"}, {CIDR: "fd00::/104"}}}
	none := &CIDRUsage{Network: netmodel.Network{Model: netmodel.AWSVPCCNI}}
	tests := []struct {
		u    *CIDRUsage
		mask int
		want string
	}{
		{cilium, 0, ""},
		{cilium, 24, ""},
		{cilium, 29, ""},
		{cilium, 8, ""},
		{cilium, 7, "--node-cidr-mask /7 does not fit in cluster CIDR 10.0.0.0/8: a node CIDR cannot be larger than the range it is cut from; give a mask from /8 up"},
		{cilium, 30, "--node-cidr-mask /30 leaves a node no pod address under cilium (Cilium reserves 2 addresses per CIDR, plus cilium_host and health): give a mask of /29 or shorter"},
		{none, 24, "--node-cidr-mask /24 has no IPv4 cluster pod CIDR to plan in (none is known for this cluster, model aws-vpc-cni); plan without it, or read the CIDR with 'kubectl podnet summary'"},
	}
	for _, tt := range tests {
		err := CheckPlanMask(tt.u, tt.mask)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("%s /%d: %v, want %q", tt.u.Network.Model, tt.mask, err, tt.want)
		}
	}
}

// TestCIDRUsageSubtractsLeaked: addresses a CiliumNode still lists for pods that are gone are no
// capacity; they are counted per node, named in a note, and nothing is counted without the store.
func TestCIDRUsageSubtractsLeaked(t *testing.T) {
	claim := func(addr, pod string) cluster.AddressClaim {
		return cluster.AddressClaim{Address: netip.MustParseAddr(addr), Store: "CiliumNode n1", Kind: cluster.ClaimPod, Namespace: "x", Pod: pod, Node: "n1"}
	}
	inv := &cluster.Inventory{
		Nodes: []cluster.Node{{Name: "n1", Ready: "Ready", AllocatablePods: 110, InternalIPs: addrs("172.18.0.2")}},
		Pods:  []cluster.Pod{{Namespace: "x", Name: "p", Node: "n1", IPs: addrs("10.0.1.20"), Phase: corev1.PodRunning}},
		Evidence: cluster.Evidence{
			Cilium:      &cluster.CiliumConfig{IPAM: "cluster-pool", ClusterPoolCIDRs: []string{"10.0.0.0/16"}, ClusterPoolMaskSize: 26, RoutingMode: "tunnel", TunnelProtocol: "vxlan"},
			CiliumNodes: map[string]*cluster.CiliumNode{"n1": {Name: "n1", PodCIDRs: prefixes("10.0.1.0/26")}},
		},
		Claims: &cluster.Claims{
			Addresses: []cluster.AddressClaim{claim("10.0.1.20", "p"), claim("10.0.1.30", "old"), claim("10.0.1.31", "older"),
				{Address: netip.MustParseAddr("10.0.1.1"), Store: "CiliumNode n1", Kind: cluster.ClaimRouter, Handle: "router", Node: "n1"}},
			Stores: []cluster.ClaimStore{{Name: "CiliumNodes (cilium.io/v2)", State: cluster.StoreRead, Objects: 1}},
		},
	}
	u := BuildCIDRUsage(inv, netmodel.Resolve(inv), &cluster.ClusterIPs{}, CIDRUsageConfig{WarnAt: 0.8})
	n := u.Nodes[0]
	if n.Usable != 60 || n.Leaked != 2 || n.Capacity != 58 || n.Binding != netmodel.BindAddresses || n.Used != 1 {
		t.Errorf("node: usable %d, leaked %d, capacity %d (%s), used %d; want 60, 2, 58 (addresses), 1", n.Usable, n.Leaked, n.Capacity, n.Binding, n.Used)
	}
	if diff := cmp.Diff([]string{"CiliumNodes (cilium.io/v2)"}, u.LeakedFrom); diff != "" {
		t.Errorf("leakedFrom (-want +got):\n%s", diff)
	}
	want := "2 address(es) on 1 node(s) are claimed by the IPAM for pods that no longer hold them: they are not counted as usable; 'kubectl podnet ipam check' names each and how to release it"
	if !slices.Contains(u.Notes, want) {
		t.Errorf("notes %q lack %q", u.Notes, want)
	}

	// pods of one namespace prove no leak
	inv.PodsNamespace = "x"
	u = BuildCIDRUsage(inv, netmodel.Resolve(inv), &cluster.ClusterIPs{}, CIDRUsageConfig{WarnAt: 0.8})
	if n := u.Nodes[0]; n.Leaked != 0 || n.Capacity != 60 {
		t.Errorf("with pods of one namespace: leaked %d, capacity %d", n.Leaked, n.Capacity)
	}
}
