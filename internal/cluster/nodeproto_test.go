package cluster

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sampleNodes are nodes as kubelets and network plugins write them: images, volumes, every
// condition, allocatable resources of several kinds, plugin annotations beside others.
func sampleNodes() []corev1.Node {
	full := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "aks-pool0-38195521-vmss000000", UID: "u1", ResourceVersion: "812",
			Labels: map[string]string{corev1.LabelTopologyZone: "westeurope-1", corev1.LabelInstanceTypeStable: "Standard_D4s_v5", corev1.LabelOSStable: "linux", "agentpool": "pool0"},
			Annotations: map[string]string{"projectcalico.org/IPv4Address": "10.224.0.4/16", "flannel.alpha.coreos.com/public-ip": "10.224.0.4",
				"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
		Spec: corev1.NodeSpec{PodCIDR: "10.244.0.0/24", PodCIDRs: []string{"10.244.0.0/24", "fd00:10:244::/64"}, ProviderID: "azure:///subscriptions/x/vmss/0", Unschedulable: true,
			Taints: []corev1.Taint{{Key: "node.kubernetes.io/unschedulable", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("250")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3860m"), corev1.ResourceMemory: resource.MustParse("12Gi"), corev1.ResourcePods: resource.MustParse("110"), "hugepages-2Mi": resource.MustParse("0")},
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory"},
				{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse, Reason: "RouteCreated", Message: "RouteController created a route"},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: metav1.Unix(1700000000, 0)},
			},
			Addresses:    []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "vmss000000"}, {Type: corev1.NodeInternalIP, Address: "10.224.0.4"}, {Type: corev1.NodeInternalIP, Address: "fd00::4"}, {Type: corev1.NodeExternalIP, Address: "20.1.2.3"}, {Type: corev1.NodeInternalIP, Address: "not-an-ip"}},
			NodeInfo:     corev1.NodeSystemInfo{MachineID: "m", KernelVersion: "5.15.0-1073-azure", OSImage: "Ubuntu 22.04.5 LTS", ContainerRuntimeVersion: "containerd://1.7.25-1", KubeletVersion: "v1.31.5", OperatingSystem: "linux", Architecture: "amd64"},
			Images:       []corev1.ContainerImage{{Names: []string{"mcr.microsoft.com/oss/kubernetes/pause:3.6"}, SizeBytes: 300000}},
			VolumesInUse: []corev1.UniqueVolumeName{"kubernetes.io/csi/disk.csi.azure.com^x"},
		},
	}
	return []corev1.Node{
		full,
		{ObjectMeta: metav1.ObjectMeta{Name: "bare"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "not-ready", Labels: map[string]string{corev1.LabelFailureDomainBetaZone: "z2", corev1.LabelInstanceType: "m5.large"}},
			Spec: corev1.NodeSpec{PodCIDR: "10.244.9.0/24"},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status."}},
				Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1k")}}},
	}
}

func TestDecodeNodePageMatchesTypedDecoding(t *testing.T) {
	nodes := sampleNodes()
	var want []Node
	for i := range nodes {
		want = append(want, reduceNode(&nodes[i]))
	}
	list := &corev1.NodeList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "NodeList"}, Items: nodes}
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			var body []byte
			if enc == "protobuf" {
				body = encodeProto(t, list)
			} else {
				body, _ = json.Marshal(list)
			}
			got, err := decodeNodePage(body, nil)
			if err != nil {
				t.Fatalf("decodeNodePage() error = %v", err)
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("decodeNodePage() (-typed +lean):\n%s", diff)
			}
		})
	}
	if got := want[0]; got.AllocatablePods != 110 || len(got.Annotations) != 2 || got.Ready != "Ready" || got.NetworkUnavail == nil || len(got.InternalIPs) != 2 {
		t.Errorf("the sample does not exercise the reduction: %+v", got)
	}
}

func TestDecodeNodePageRejectsGarbage(t *testing.T) {
	for _, body := range [][]byte{[]byte("k8s\x00\x12\xff"), []byte("k8s\x00"), []byte("{not json"), append([]byte("k8s\x00\x12\x05"), 0x12, 0x03, 0x0a, 0x80)} {
		if _, err := decodeNodePage(body, nil); err == nil {
			t.Errorf("decodeNodePage(%q) gave no error", body)
		}
	}
}

func FuzzDecodeNodePage(f *testing.F) {
	f.Add(encodeProto(f, &corev1.NodeList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "NodeList"}, Items: sampleNodes()}))
	f.Add([]byte("k8s\x00"))
	f.Add([]byte(`{"items":[{"metadata":{"name":"a"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = decodeNodePage(body, nil) // must never panic
	})
}

func BenchmarkDecodeNodePage(b *testing.B) {
	var items []corev1.Node
	for i := 0; i < PageSize; i++ {
		n := sampleNodes()[0]
		n.Name = fmt.Sprintf("node-%d", i)
		items = append(items, n)
	}
	body := encodeProto(b, &corev1.NodeList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "NodeList"}, Items: items})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeNodePage(body, make([]Node, 0, PageSize)); err != nil {
			b.Fatal(err)
		}
	}
}
