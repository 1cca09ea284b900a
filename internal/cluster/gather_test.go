package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func testPod(ns, name, node, ip string, host bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: node, HostNetwork: host},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, HostIPs: []corev1.HostIP{{IP: "10.0.0.1"}}}}
	return p
}

func fakeClients(objs []runtime.Object, dyn []runtime.Object, resources []*metav1.APIResourceList) (Clients, *fake.Clientset) {
	kube := fake.NewClientset(objs...)
	kube.Discovery().(*fakediscovery.FakeDiscovery).Resources = resources
	scheme := runtime.NewScheme()
	d := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{
		GVRCiliumNodes: "CiliumNodeList", GVRCalicoPoolsV1: "IPPoolList", GVRCalicoPoolsV3: "IPPoolList", GVRServiceCIDRs: "ServiceCIDRList",
		GVRCalicoBlocksV1: "IPAMBlockList", GVRCalicoBlocksV3: "IPAMBlockList",
	}, dyn...)
	return Clients{Kube: kube, Dynamic: d, Discovery: kube.Discovery()}, kube
}

func forbid(kube *fake.Clientset, verb, resource, namespace string) {
	kube.PrependReactor(verb, resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		if namespace == "*" || a.GetNamespace() == namespace {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", fmt.Errorf("user cannot %s %s", verb, resource))
		}
		return false, nil, nil
	})
}

func TestGatherDegradesWhenNodesForbidden(t *testing.T) {
	c, kube := fakeClients([]runtime.Object{
		testPod("shop", "web", "node-a", "10.244.1.5", false),
		testPod("kube-system", "proxy", "node-a", "10.0.0.1", true),
	}, nil, nil)
	forbid(kube, "list", "nodes", "*")
	inv, err := Gather(context.Background(), c, Options{Namespace: "default"})
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	if len(inv.Nodes) != 1 || inv.Nodes[0].Name != "node-a" || !inv.Nodes[0].FromPods || inv.Nodes[0].InternalIPs[0].String() != "10.0.0.1" {
		t.Errorf("nodes derived from pods = %+v, want node-a with InternalIP 10.0.0.1", inv.Nodes)
	}
	want := []string{"cannot list nodes (forbidden): nodes are derived from their pods (spec.nodeName, status.hostIPs); pod CIDRs, conditions and annotations are unknown"}
	if diff := cmp.Diff(want, inv.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestGatherFallsBackToNamespace(t *testing.T) {
	c, kube := fakeClients([]runtime.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}},
		testPod("shop", "web", "node-a", "10.244.1.5", false),
		testPod("other", "db", "node-a", "10.244.1.6", false),
	}, nil, nil)
	forbid(kube, "list", "pods", "")
	inv, err := Gather(context.Background(), c, Options{Namespace: "shop"})
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	if len(inv.Pods) != 1 || inv.Pods[0].Name != "web" || inv.PodsNamespace != "shop" {
		t.Errorf("pods = %+v (namespace %q), want only shop/web", inv.Pods, inv.PodsNamespace)
	}
	want := []string{"cannot list pods in all namespaces (forbidden): showing pods of namespace shop only"}
	if diff := cmp.Diff(want, inv.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestGatherPodsForbiddenEverywhere(t *testing.T) {
	c, kube := fakeClients([]runtime.Object{&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}}, nil, nil)
	forbid(kube, "list", "pods", "*")
	inv, err := Gather(context.Background(), c, Options{Namespace: "shop"})
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	want := []string{"cannot list pods, not even in namespace shop (forbidden): pod counts are unknown; ask for 'list pods' RBAC"}
	if diff := cmp.Diff(want, inv.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestGatherOtherErrorsFail(t *testing.T) {
	c, kube := fakeClients(nil, nil, nil)
	kube.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewUnauthorized("token expired")
	})
	if _, err := Gather(context.Background(), c, Options{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("Gather() error = %v, want Unauthorized", err)
	}
}

func TestGatherPagesPods(t *testing.T) {
	var objs []runtime.Object
	for i := 0; i < 1234; i++ {
		objs = append(objs, testPod("ns", fmt.Sprintf("p%04d", i), "n", fmt.Sprintf("10.244.%d.%d", i/250, i%250+1), false))
	}
	c, _ := fakeClients(objs, nil, nil)
	var seen []int
	inv, err := Gather(context.Background(), c, Options{Progress: func(kind string, n int) {
		if kind == "pods" {
			seen = append(seen, n)
		}
	}})
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	if len(inv.Pods) != 1234 || len(seen) == 0 || seen[len(seen)-1] != 1234 {
		t.Errorf("got %d pods, progress %v; want 1234 pods and progress ending at 1234", len(inv.Pods), seen)
	}
}

func TestGatherEvidence(t *testing.T) {
	resources := []*metav1.APIResourceList{
		{GroupVersion: "cilium.io/v2", APIResources: []metav1.APIResource{{Name: "ciliumnodes"}}},
		{GroupVersion: "crd.projectcalico.org/v1", APIResources: []metav1.APIResource{{Name: "ippools"}, {Name: "ipamblocks"}}},
	}
	cn := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "cilium.io/v2", "kind": "CiliumNode", "metadata": map[string]any{"name": "n1"},
		"spec": map[string]any{"addresses": []any{map[string]any{"type": "CiliumInternalIP", "ip": "10.0.1.93"}}, "ipam": map[string]any{"podCIDRs": []any{"10.0.1.0/24"}},
			"health": map[string]any{"ipv4": "10.0.1.12"}},
		"status": map[string]any{"ipam": map[string]any{"used": map[string]any{"10.0.1.20": map[string]any{}, "10.0.1.21": map[string]any{}}}}}}
	pool := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": map[string]any{"name": "default-ipv4-ippool"},
		"spec": map[string]any{"cidr": "192.168.0.0/16", "vxlanMode": "Always", "natOutgoing": true}}}
	block := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "crd.projectcalico.org/v1", "kind": "IPAMBlock", "metadata": map[string]any{"name": "192-168-1-0-26"},
		"spec": map[string]any{"cidr": "192.168.1.0/26", "affinity": "host:n1", "allocations": []any{int64(0), nil, int64(1), int64(2)},
			"attributes": []any{
				map[string]any{"handle_id": "vxlan-tunnel-addr-n1", "secondary": map[string]any{"node": "n1", "type": "vxlanTunnelAddress"}},
				map[string]any{"handle_id": "k8s-pod-network.a", "secondary": map[string]any{"node": "n1", "pod": "a", "namespace": "x"}},
				map[string]any{"handle_id": "k8s-pod-network.b", "secondary": map[string]any{"node": "n2", "pod": "b", "namespace": "x"}},
			}}}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-proxy"}, Data: map[string]string{"config.conf": "mode: ipvs\nclusterCIDR: 10.244.0.0/16\n"}}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium"}, Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, NumberReady: 2}}
	ignored := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "node-exporter"}}
	c, kube := fakeClients([]runtime.Object{cm, ds, ignored}, []runtime.Object{cn, pool, block}, resources)
	forbid(kube, "get", "configmaps", "*")
	// configmaps forbidden: kube-proxy is unknown, not an error
	inv, err := Gather(context.Background(), c, Options{})
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	ev := inv.Evidence
	if diff := cmp.Diff([]DaemonSetRef{{Namespace: "kube-system", Name: "cilium", Desired: 3, Ready: 2}}, ev.DaemonSets); diff != "" {
		t.Errorf("daemonsets (-want +got):\n%s", diff)
	}
	if got := ev.CiliumNodes["n1"]; got == nil || got.Used != 2 || got.PodCIDRs[0].String() != "10.0.1.0/24" || got.CiliumInternalIP[0].String() != "10.0.1.93" || got.HealthIPs[0].String() != "10.0.1.12" {
		t.Errorf("CiliumNode n1 = %+v", got)
	}
	wantPools := []CalicoPool{{Name: "default-ipv4-ippool", APIGroup: "crd.projectcalico.org", CIDR: "192.168.0.0/16", BlockSize: 26, IPIPMode: "Never", VXLANMode: "Always", NATOutgoing: true}}
	if diff := cmp.Diff(wantPools, ev.CalicoPools); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}
	wantBlocks := []CalicoBlock{{Name: "192-168-1-0-26", APIGroup: "crd.projectcalico.org", CIDR: netip.MustParsePrefix("192.168.1.0/26"), Node: "n1", Allocated: 3, Borrowed: 1, BorrowedBy: map[string]int{"n2": 1}}}
	if diff := cmp.Diff(wantBlocks, ev.CalicoBlocks, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
	if ev.KubeProxy != nil {
		t.Errorf("kube-proxy config read although forbidden: %+v", ev.KubeProxy)
	}
	wantUnknown := []string{"ConfigMap kube-system/kube-proxy: forbidden", "ConfigMap kube-system/kubeadm-config: forbidden", "ConfigMap kube-system/cilium-config: forbidden", "ConfigMap kube-flannel/kube-flannel-cfg: forbidden", "ConfigMap kube-system/kube-flannel-cfg: forbidden"}
	if diff := cmp.Diff(wantUnknown, ev.Unknown); diff != "" {
		t.Errorf("unknown (-want +got):\n%s", diff)
	}
}
