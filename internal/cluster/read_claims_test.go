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
