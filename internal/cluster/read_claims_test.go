package cluster

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestBlockAndCiliumClaims(t *testing.T) {
	block := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "10-244-1-0-30"},
		"spec": map[string]any{"cidr": "10.244.1.0/30", "affinity": "host:n1",
			"allocations": []any{int64(0), nil, int64(1), nil},
			"attributes": []any{
				map[string]any{"handle_id": "vxlan-tunnel-addr-n1", "secondary": map[string]any{"node": "n1", "type": "vxlanTunnelAddress"}},
				map[string]any{"handle_id": "k8s-pod-network.0a1b", "secondary": map[string]any{"namespace": "shop", "pod": "web-1", "node": "n2", "timestamp": "2026-11-01 10:00:00 +0000 UTC"}},
			}}}}
	got, err := blockClaims(block)
	if err != nil {
		t.Fatal(err)
	}
	want := []AddressClaim{
		{Address: netip.MustParseAddr("10.244.1.0"), Store: "IPAMBlock 10-244-1-0-30", Kind: ClaimTunnel, Handle: "vxlan-tunnel-addr-n1", Node: "n1", BlockNode: "n1"},
		{Address: netip.MustParseAddr("10.244.1.2"), Store: "IPAMBlock 10-244-1-0-30", Kind: ClaimPod, Handle: "k8s-pod-network.0a1b", Namespace: "shop", Pod: "web-1", Node: "n2", BlockNode: "n1", Since: "2026-11-01 10:00:00 +0000 UTC"},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("block claims (-want +got):\n%s", diff)
	}
	for _, bad := range []map[string]any{
		{"cidr": "nope"},
		{"cidr": "10.244.1.0/30", "allocations": []any{int64(3)}, "attributes": []any{}},
		{"cidr": "10.244.1.0/30", "allocations": []any{nil, nil, nil, nil, nil}},
		{"cidr": "10.244.1.0/30", "allocations": "x"},
	} {
		if _, err := blockClaims(&unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "b"}, "spec": bad}}); err == nil {
			t.Errorf("malformed block %v: no error", bad)
		}
	}

	cn := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "n1"},
		"status": map[string]any{"ipam": map[string]any{"used": map[string]any{
			"10.0.1.1":  map[string]any{"owner": "router"},
			"10.0.1.2":  map[string]any{"owner": "health"},
			"10.0.1.20": map[string]any{"owner": "shop/web-1 [restored]", "resource": "pod"},
			"10.0.1.21": map[string]any{"resource": "pod"},
		}}}}}
	claims, err := ciliumClaims(cn)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, c := range claims {
		kinds[c.Address.String()] = string(c.Kind) + " " + c.Namespace + "/" + c.Pod
	}
	wantKinds := map[string]string{"10.0.1.1": "router /", "10.0.1.2": "health /", "10.0.1.20": "pod shop/web-1", "10.0.1.21": "unattributed /"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("cilium claims (-want +got):\n%s", diff)
	}
}

func TestWhereaboutsClaims(t *testing.T) {
	pool := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "macvlan-10.10.0.0-16", "namespace": "kube-system"},
		"spec": map[string]any{"range": "10.10.0.0/16", "allocations": map[string]any{
			"2":   map[string]any{"id": "c0ffee", "podref": "shop/web-1", "ifname": "net1"},
			"258": map[string]any{"id": "beef", "podref": "vm/virt-launcher-a", "ipamclaimref": "vm/a.net1"},
		}}}}
	got, err := whereaboutsClaims(pool)
	if err != nil {
		t.Fatal(err)
	}
	want := []AddressClaim{
		{Address: netip.MustParseAddr("10.10.0.2"), Store: "Whereabouts IPPool kube-system/macvlan-10.10.0.0-16", Kind: ClaimPod, Handle: "c0ffee", Namespace: "shop", Pod: "web-1", Secondary: true},
		// a persistent address owned by an IPAMClaim outlives its pods: never a pod's leak
		{Address: netip.MustParseAddr("10.10.1.2"), Store: "Whereabouts IPPool kube-system/macvlan-10.10.0.0-16", Kind: ClaimOther, Handle: "beef", Secondary: true},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	// IPv6 offsets past 64 bits, from the range's address as written
	v6 := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "p6"},
		"spec": map[string]any{"range": "fd00::100/56", "allocations": map[string]any{"18446744073709551616": map[string]any{"id": "x", "podref": "a/b"}}}}}
	got, err = whereaboutsClaims(v6)
	if err != nil || len(got) != 1 || got[0].Address != netip.MustParseAddr("fd00::1:0:0:0:100") {
		t.Errorf("IPv6: %v, %v", got, err)
	}
	for _, bad := range []map[string]any{
		{"range": "nope"},
		{"range": "10.10.0.0/30", "allocations": map[string]any{"-1": map[string]any{}}},
		{"range": "10.10.0.0/30", "allocations": map[string]any{"x": map[string]any{}}},
		{"range": "10.10.0.0/30", "allocations": map[string]any{"4": map[string]any{}}},
	} {
		if _, err := whereaboutsClaims(&unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "p"}, "spec": bad}}); err == nil {
			t.Errorf("malformed pool %v: no error", bad)
		}
	}

	// a secondary address's pod is only checked for existence: its status lists the primary address
	pods := (&Inventory{Pods: []Pod{{Namespace: "shop", Name: "web-1", IPs: []netip.Addr{netip.MustParseAddr("10.244.0.5")}, Phase: "Running"}}}).PodIndex()
	if r := want[0].LeakReason(pods); r != "" {
		t.Errorf("live pod's secondary address called leaked: %s", r)
	}
	gone := want[0]
	gone.Pod = "web-2"
	if r := gone.LeakReason(pods); r != "pod shop/web-2 no longer exists" {
		t.Errorf("gone pod's secondary address: %q", r)
	}
}

// TestClaimsOfUnknownVersions: a store served only at a version podnet does not read is
// unreadable, named with the version; a store at none is simply absent.
func TestClaimsOfUnknownVersions(t *testing.T) {
	ev := &Evidence{Resources: map[string]bool{"crd.projectcalico.org/v2/ipamblocks": true, "crd.projectcalico.org/v2/ipamblocks/status": true, "cilium.io/v2/ciliumnodes": true}}
	if got := unknownVersion(ev, GVRCalicoBlocksV3, GVRCalicoBlocksV1); got != "crd.projectcalico.org/v2" {
		t.Errorf("blocks: %q", got)
	}
	if got := unknownVersion(ev, GVRWhereaboutsPools); got != "" {
		t.Errorf("whereabouts: %q", got)
	}
}
