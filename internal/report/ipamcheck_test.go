package report

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

func claim(addr, store, ns, pod, node, blockNode string) cluster.AddressClaim {
	c := cluster.AddressClaim{Address: netip.MustParseAddr(addr), Store: store, Kind: cluster.ClaimPod, Namespace: ns, Pod: pod, Node: node, BlockNode: blockNode,
		Handle: "k8s-pod-network." + pod, Since: "2026-11-01 10:00:00 +0000 UTC"}
	if pod == "" {
		c.Kind, c.Handle = cluster.ClaimTunnel, "vxlan-tunnel-addr-"+node
	}
	return c
}

// calicoInventory: two Calico nodes, blocks and claims with one of every finding.
func calicoInventory() *cluster.Inventory {
	run := func(ns, name, node string, ips ...string) cluster.Pod {
		return cluster.Pod{Namespace: ns, Name: name, Node: node, IPs: addrs(ips...), Phase: corev1.PodRunning}
	}
	read := []cluster.ClaimStore{{Name: "Calico IPAMBlocks (crd.projectcalico.org/v1)", State: cluster.StoreRead, Objects: 3},
		{Name: "Calico IPAMHandles (crd.projectcalico.org/v1)", State: cluster.StoreRead, Objects: 2},
		{Name: "Calico BlockAffinities (crd.projectcalico.org/v1)", State: cluster.StoreRead, Objects: 3}}
	return &cluster.Inventory{
		Nodes: []cluster.Node{
			{Name: "c1", Ready: "Ready", AllocatablePods: 110, InternalIPs: addrs("172.18.0.2"), Annotations: map[string]string{"projectcalico.org/IPv4VXLANTunnelAddr": "192.168.1.0"}},
			{Name: "c2", Ready: "Ready", AllocatablePods: 110, InternalIPs: addrs("172.18.0.3"), Annotations: map[string]string{"projectcalico.org/IPv4VXLANTunnelAddr": "192.168.1.64"}},
		},
		Pods: []cluster.Pod{
			run("shop", "web-1", "c1", "192.168.1.2"),
			run("shop", "web-2", "c2", "192.168.1.3"),  // borrowed from c1's block
			run("shop", "api-1", "c2", "192.168.1.66"), // claimed by nobody: orphaned
			run("shop", "dup-a", "c1", "192.168.1.4"),
			run("shop", "dup-b", "c2", "192.168.1.4"),
			run("shop", "sts-0", "c1", "192.168.1.9"),      // recreated: its old address 192.168.1.7 leaked
			run("shop", "pending", "c2"),                   // allocated, not yet in its status: in flight
			run("shop", "on-node-net", "c1", "172.18.0.3"), // a pod holding node c2's address
			{Namespace: "batch", Name: "done", Node: "c1", IPs: addrs("192.168.1.8"), Phase: corev1.PodSucceeded},
		},
		Evidence: cluster.Evidence{
			CalicoPools: []cluster.CalicoPool{{Name: "p", CIDR: "192.168.1.0/24", BlockSize: 26, VXLANMode: "Always"}},
			CalicoBlocks: []cluster.CalicoBlock{
				{Name: "192-168-1-0-26", CIDR: netip.MustParsePrefix("192.168.1.0/26"), Node: "c1"},
				{Name: "192-168-1-64-26", CIDR: netip.MustParsePrefix("192.168.1.64/26"), Node: "c2"},
				{Name: "10-99-0-0-26", CIDR: netip.MustParsePrefix("10.99.0.0/26"), Node: "c1"},
			},
			ServiceCIDRs: []cluster.ServiceCIDR{{Name: "kubernetes", CIDRs: []string{"10.96.0.0/12"}}},
		},
		Claims: &cluster.Claims{
			Addresses: []cluster.AddressClaim{
				claim("192.168.1.0", "IPAMBlock 192-168-1-0-26", "", "", "c1", "c1"),
				claim("192.168.1.1", "IPAMBlock 192-168-1-0-26", "", "", "gone", "c1"), // tunnel of a deleted node
				claim("192.168.1.2", "IPAMBlock 192-168-1-0-26", "shop", "web-1", "c1", "c1"),
				claim("192.168.1.3", "IPAMBlock 192-168-1-0-26", "shop", "web-2", "c2", "c1"),
				claim("192.168.1.4", "IPAMBlock 192-168-1-0-26", "shop", "dup-a", "c1", "c1"),
				claim("192.168.1.5", "IPAMBlock 192-168-1-0-26", "shop", "deleted", "c1", "c1"),
				claim("192.168.1.6", "IPAMBlock 192-168-1-0-26", "shop", "pending", "c2", "c1"),
				claim("192.168.1.7", "IPAMBlock 192-168-1-0-26", "shop", "sts-0", "c1", "c1"),
				claim("192.168.1.8", "IPAMBlock 192-168-1-0-26", "batch", "done", "c1", "c1"),
				claim("192.168.1.9", "IPAMBlock 192-168-1-0-26", "shop", "sts-0", "c1", "c1"),
				{Address: netip.MustParseAddr("192.168.1.10"), Store: "IPAMBlock 192-168-1-0-26", Kind: cluster.ClaimOther}, // names nobody: proves nothing
				claim("192.168.1.64", "IPAMBlock 192-168-1-64-26", "", "", "c2", "c2"),
			},
			Handles: []cluster.CalicoHandle{
				{Name: "k8s-pod-network.web-1", Handle: "k8s-pod-network.web-1", Blocks: map[string]int{"192.168.1.0/26": 1}},
				{Name: "k8s-pod-network.0f3c", Handle: "k8s-pod-network.0f3c", Blocks: map[string]int{"192.168.1.64/26": 1}},
			},
			Affinities: []cluster.CalicoAffinity{
				{Name: "c1-192-168-1-0-26", Node: "c1", CIDR: netip.MustParsePrefix("192.168.1.0/26"), State: "confirmed"},
				{Name: "c2-192-168-1-64-26", Node: "c2", CIDR: netip.MustParsePrefix("192.168.1.64/26"), State: "confirmed"},
				{Name: "gone-192-168-1-128-26", Node: "gone", CIDR: netip.MustParsePrefix("192.168.1.128/26"), State: "confirmed"},
			},
			Stores: read,
		},
	}
}

type brief struct{ Kind, Address, Store, ClaimedFor, HeldBy string }

func briefs(c *IPAMCheck) []brief {
	var out []brief
	for _, f := range c.Findings {
		out = append(out, brief{string(f.Kind), f.Address, f.Store, f.ClaimedFor, f.HeldBy})
	}
	return out
}

func TestIPAMCheckCalico(t *testing.T) {
	inv := calicoInventory()
	ips := &cluster.ClusterIPs{CountedFrom: "Services", Addresses: addrs("10.96.0.1", "10.0.0.10")}
	c := BuildIPAMCheck(inv, netmodel.Resolve(inv), ips, nil)
	want := []brief{
		{"duplicate", "172.18.0.3", "node/c2 InternalIP", "", "pod/shop/on-node-net and node/c2"},
		{"duplicate", "192.168.1.4", "pod status", "", "pod/shop/dup-a, pod/shop/dup-b"},
		{"leaked", "192.168.1.1", "IPAMBlock 192-168-1-0-26", "tunnel address of node/gone", "nobody"},
		{"leaked", "192.168.1.5", "IPAMBlock 192-168-1-0-26", "pod/shop/deleted", "nobody"},
		{"leaked", "192.168.1.7", "IPAMBlock 192-168-1-0-26", "pod/shop/sts-0", "nobody"},
		{"leaked", "192.168.1.8", "IPAMBlock 192-168-1-0-26", "pod/batch/done", "nobody"},
		{"leaked", "192.168.1.64/26", "IPAMHandle k8s-pod-network.0f3c", "k8s-pod-network.0f3c", "nobody"},
		{"orphaned", "192.168.1.66", "pod status", "", "pod/shop/api-1"},
		{"out-of-range", "10.0.0.10", "ClusterIP (Services)", "", "a Service"},
		{"out-of-range", "10.99.0.0/26", "IPAMBlock 10-99-0-0-26", "", "node/c1"},
		{"stale", "192.168.1.3", "IPAMBlock 192-168-1-0-26", "pod/shop/web-2", "pod/shop/web-2"},
		{"stale", "192.168.1.128/26", "BlockAffinity gone-192-168-1-128-26", "node/gone", "nobody"},
	}
	if diff := cmp.Diff(want, briefs(c)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range c.Findings {
		if f.Reason == "" || f.Next == "" {
			t.Errorf("finding %s %s has no reason or next step", f.Kind, f.Address)
		}
	}
	if c.Findings[3].Reason != "pod shop/deleted no longer exists" || c.Findings[4].Reason != "pod shop/sts-0 holds 192.168.1.9 now, not this address (an earlier pod of that name)" ||
		c.Findings[5].Reason != "pod batch/done has finished (Succeeded): its address should have been released" {
		t.Errorf("leak reasons: %q / %q / %q", c.Findings[3].Reason, c.Findings[4].Reason, c.Findings[5].Reason)
	}
	if c.Checked.Claims != 12 || c.Checked.Pods != 7 || c.Checked.Nodes != 2 {
		t.Errorf("checked = %+v", c.Checked)
	}
}

// TestIPAMCheckProvesNothingItCannotSee: a store that could not be read makes no address
// orphaned, and pods read in one namespace only make nothing leaked or orphaned.
func TestIPAMCheckProvesNothingItCannotSee(t *testing.T) {
	inv := calicoInventory()
	inv.Claims.Stores[0] = cluster.ClaimStore{Name: "Calico IPAMBlocks (crd.projectcalico.org/v1)", State: cluster.StoreUnreadable, Reason: "forbidden"}
	inv.Claims.Addresses = nil
	c := BuildIPAMCheck(inv, netmodel.Resolve(inv), nil, nil)
	for _, f := range c.Findings {
		if f.Kind == FindLeaked || f.Kind == FindOrphaned {
			t.Errorf("with the blocks unreadable: %s %s", f.Kind, f.Address)
		}
	}
	if diff := cmp.Diff([]string{"Calico IPAMBlocks (crd.projectcalico.org/v1) (forbidden)"}, c.Gaps()); diff != "" {
		t.Errorf("gaps (-want +got):\n%s", diff)
	}

	inv = calicoInventory()
	inv.PodsNamespace = "shop"
	c = BuildIPAMCheck(inv, netmodel.Resolve(inv), nil, nil)
	for _, f := range c.Findings {
		if f.Kind == FindLeaked || f.Kind == FindOrphaned || f.Kind == FindDuplicate {
			t.Errorf("with pods of one namespace: %s %s", f.Kind, f.Address)
		}
	}
}

func TestIPAMCheckCiliumAndNodeCIDRs(t *testing.T) {
	inv := &cluster.Inventory{
		Nodes: []cluster.Node{{Name: "n1", Ready: "Ready", AllocatablePods: 110, InternalIPs: addrs("172.18.0.2")}},
		Pods: []cluster.Pod{
			{Namespace: "x", Name: "p", Node: "n1", IPs: addrs("10.0.1.20"), Phase: corev1.PodRunning},
			{Namespace: "x", Name: "unclaimed", Node: "n1", IPs: addrs("10.0.1.21"), Phase: corev1.PodRunning},
			{Namespace: "x", Name: "elsewhere", Node: "n1", IPs: addrs("10.0.7.5"), Phase: corev1.PodRunning},
		},
		Evidence: cluster.Evidence{
			Cilium: &cluster.CiliumConfig{IPAM: "cluster-pool", ClusterPoolCIDRs: []string{"10.0.0.0/16"}, ClusterPoolMaskSize: 24, RoutingMode: "tunnel", TunnelProtocol: "vxlan"},
			CiliumNodes: map[string]*cluster.CiliumNode{
				"n1":   {Name: "n1", PodCIDRs: prefixes("10.0.1.0/24")},
				"gone": {Name: "gone", PodCIDRs: prefixes("10.0.9.0/24")},
			},
		},
		Claims: &cluster.Claims{
			Addresses: []cluster.AddressClaim{
				{Address: netip.MustParseAddr("10.0.1.1"), Store: "CiliumNode n1", Kind: cluster.ClaimRouter, Handle: "router", Node: "n1"},
				{Address: netip.MustParseAddr("10.0.1.20"), Store: "CiliumNode n1", Kind: cluster.ClaimPod, Namespace: "x", Pod: "p", Node: "n1"},
				{Address: netip.MustParseAddr("10.0.1.30"), Store: "CiliumNode n1", Kind: cluster.ClaimPod, Namespace: "x", Pod: "old", Node: "n1"},
			},
			Stores: []cluster.ClaimStore{{Name: "CiliumNodes (cilium.io/v2)", State: cluster.StoreRead, Objects: 2}},
		},
	}
	c := BuildIPAMCheck(inv, netmodel.Resolve(inv), nil, nil)
	want := []brief{
		{"leaked", "10.0.1.30", "CiliumNode n1", "pod/x/old", "nobody"},
		{"orphaned", "10.0.1.21", "pod status", "", "pod/x/unclaimed"},
		{"orphaned", "10.0.7.5", "pod status", "", "pod/x/elsewhere"},
		{"stale", "10.0.9.0/24", "CiliumNode gone", "node/gone", "nobody"},
	}
	if diff := cmp.Diff(want, briefs(c)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
