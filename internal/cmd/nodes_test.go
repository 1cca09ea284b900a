package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/report"
)

func flannelNode(name, ip, cidr string, ready bool) *corev1.Node {
	st := corev1.ConditionTrue
	if !ready {
		st = corev1.ConditionFalse
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"topology.kubernetes.io/zone": "zone-a"},
			Annotations: map[string]string{"flannel.alpha.coreos.com/backend-type": "vxlan", "unrelated/annotation": "x"}},
		Status: corev1.NodeStatus{
			Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: name}},
			Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st, Message: "kubelet stopped posting node status"}},
			NodeInfo:    corev1.NodeSystemInfo{KernelVersion: "6.1.0", ContainerRuntimeVersion: "containerd://1.7.24"},
		},
	}
	if cidr != "" {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidr, []string{cidr}
	}
	return n
}

func pod(ns, name, node, ip string, host bool) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: node, HostNetwork: host},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: ip}}}}
}

func flannelCluster() []runtime.Object {
	return []runtime.Object{
		flannelNode("node-2", "192.168.56.12", "10.244.1.0/24", true),
		flannelNode("node-1", "192.168.56.11", "10.244.0.0/24", true),
		flannelNode("node-3", "192.168.56.13", "", false),
		pod("shop", "web-1", "node-1", "10.244.0.2", false),
		pod("shop", "web-2", "node-1", "10.244.0.3", false),
		pod("shop", "web-3", "node-2", "10.244.1.2", false),
		pod("kube-system", "kube-proxy-a", "node-1", "192.168.56.11", true),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-config"},
			Data: map[string]string{"ClusterConfiguration": "networking:\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n"}},
	}
}

// fakeFactory serves objs: typed ones from the fake clientset, unstructured ones (custom resources,
// or API objects read through the dynamic client) from the fake dynamic client, listed in discovery.
func fakeFactory(objs []runtime.Object) ClientFactory {
	return func(flags *genericclioptions.ConfigFlags) (*Clients, error) {
		var typed, dynamic []runtime.Object
		kinds := map[schema.GroupVersionResource]string{}
		var resources []*metav1.APIResourceList
		for _, o := range objs {
			u, ok := o.(*unstructured.Unstructured)
			if !ok {
				typed = append(typed, o)
				continue
			}
			dynamic = append(dynamic, u)
			gv, _ := schema.ParseGroupVersion(u.GetAPIVersion())
			plural := strings.ToLower(u.GetKind()) + "s"
			kinds[gv.WithResource(plural)] = u.GetKind() + "List"
			resources = append(resources, &metav1.APIResourceList{GroupVersion: u.GetAPIVersion(), APIResources: []metav1.APIResource{{Name: plural, Kind: u.GetKind()}}})
		}
		kube := fake.NewClientset(typed...)
		kube.Resources = append(kube.Resources, resources...)
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), kinds, dynamic...)
		ns, explicit := "default", false
		if flags.Namespace != nil && *flags.Namespace != "" {
			ns, explicit = *flags.Namespace, true
		}
		return &Clients{Clients: cluster.Clients{Kube: kube, Dynamic: dyn, Discovery: kube.Discovery()}, Server: "https://127.0.0.1:6443", Namespace: ns, NamespaceExplicit: explicit}, nil
	}
}

// runCmd runs `kubectl podnet ARGS` against fake clients and returns stdout, stderr and the error.
func runCmd(t *testing.T, objs []runtime.Object, args ...string) (string, string, error) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := newCmdRoot(genericclioptions.NewConfigFlags(false), streams, fakeFactory(objs))
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func TestNodesTable(t *testing.T) {
	out, errOut, err := runCmd(t, flannelCluster(), "nodes")
	if err != nil {
		t.Fatalf("nodes: %v", err)
	}
	want := `NAME     STATUS     INTERNAL-IP     EXTERNAL-IP   POD-CIDRS       TUNNEL             PODS    NETWORK
node-1   Ready      192.168.56.11   -             10.244.0.0/24   vxlan 10.244.0.0   2/110   flannel/vxlan
node-2   Ready      192.168.56.12   -             10.244.1.0/24   vxlan 10.244.1.0   1/110   flannel/vxlan
node-3   NotReady   192.168.56.13   -             -               vxlan              0/110   flannel/vxlan
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	wantErr := `warning: node node-3 has no pod CIDR, and flannel hands out pod addresses from it: pods scheduled there cannot get an address
warning: node node-3 is NotReady: kubelet stopped posting node status
network flannel/vxlan · pod CIDR 10.244.0.0/16 (kubeadm-config) · service CIDR 10.96.0.0/12 (kubeadm-config) · 3 nodes · 3 pods on the pod network, 1 on the host network
`
	if diff := cmp.Diff(wantErr, errOut); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

func TestNodesSortAndNoHeaders(t *testing.T) {
	out, _, err := runCmd(t, flannelCluster(), "nodes", "--sort-by", "pods", "--no-headers")
	if err != nil {
		t.Fatalf("nodes: %v", err)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		names = append(names, strings.Fields(l)[0])
	}
	if diff := cmp.Diff([]string{"node-1", "node-2", "node-3"}, names); diff != "" {
		t.Errorf("order (-want +got):\n%s\n%s", diff, out)
	}
}

func TestNodesWide(t *testing.T) {
	out, _, err := runCmd(t, flannelCluster(), "nodes", "-o", "wide", "-l", "topology.kubernetes.io/zone=zone-a")
	if err != nil {
		t.Fatalf("nodes: %v", err)
	}
	lines := strings.Split(out, "\n")
	wantHeader := "NAME     STATUS     INTERNAL-IP     EXTERNAL-IP   POD-CIDRS       TUNNEL             PODS    NETWORK         ZONE     INSTANCE-TYPE   KERNEL   CONTAINER-RUNTIME     EVIDENCE"
	if lines[0] != wantHeader {
		t.Errorf("header\n got %q\nwant %q", lines[0], wantHeader)
	}
	wantRow := "node-1   Ready      192.168.56.11   -             10.244.0.0/24   vxlan 10.244.0.0   2/110   flannel/vxlan   zone-a   -               6.1.0    containerd://1.7.24   node annotations flannel.alpha.coreos.com/*; annotation flannel.alpha.coreos.com/backend-type=vxlan"
	if lines[1] != wantRow {
		t.Errorf("row\n got %q\nwant %q", lines[1], wantRow)
	}
}

func TestNodesJSON(t *testing.T) {
	out, _, err := runCmd(t, flannelCluster(), "nodes", "-o", "json")
	if err != nil {
		t.Fatalf("nodes: %v", err)
	}
	var rep report.NodesReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(rep.Nodes) != 3 || rep.Nodes[0].Name != "node-1" || rep.Nodes[0].Pods != 2 || rep.Nodes[0].Tunnel.Device != "flannel.1" {
		t.Errorf("nodes = %+v", rep.Nodes)
	}
	var kinds []string
	for _, w := range rep.Warnings {
		kinds = append(kinds, w.Kind+" "+w.Object)
	}
	if diff := cmp.Diff([]string{"NoPodCIDR node/node-3", "NotReady node/node-3"}, kinds); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestNodesBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nodes", "-o", "xml"}, `unknown output format "xml": use wide, json, yaml, name, jsonpath=..., jsonpath-as-json=..., jsonpath-file=..., go-template=..., go-template-file=..., custom-columns=..., custom-columns-file=...`},
		{[]string{"nodes", "--sort-by", "age"}, `cannot sort by "age": use one of NAME, STATUS, INTERNAL-IP, POD-CIDRS, PODS, NETWORK, ZONE`},
		{[]string{"nodes", "--color", "sometimes"}, `invalid --color "sometimes": use auto, always or never`},
		{[]string{"nodes", "extra"}, `unknown command "extra" for "kubectl podnet nodes"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runCmd(t, nil, tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestNodesPrinters: kubectl's printer formats over the nodes report.
func TestNodesPrinters(t *testing.T) {
	cols := filepath.Join(t.TempDir(), "cols")
	if err := os.WriteFile(cols, []byte("NAME       CIDRS\n.name      .podCIDRs[*]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-o", "name"}, "node/node-1\nnode/node-2\nnode/node-3\n"},
		{[]string{"-o", "jsonpath={.nodes[*].name}"}, "node-1 node-2 node-3"},
		{[]string{"-o", `jsonpath={range .nodes[*]}{.name}{"\t"}{.capacity.podIPs}{"\n"}{end}`}, "node-1\t109\nnode-2\t110\nnode-3\t0\n"},
		{[]string{"-o", "jsonpath-as-json={.cluster.podCIDRs[0]}"}, "[\n    {\n        \"cidr\": \"10.244.0.0/16\",\n        \"source\": \"kubeadm-config\"\n    }\n]\n"},
		{[]string{"-o", "go-template={{range .nodes}}{{.name}} {{.network.model}}\n{{end}}"}, "node-1 flannel\nnode-2 flannel\nnode-3 flannel\n"},
		{[]string{"-o", "custom-columns=NAME:.name,CIDRS:.podCIDRs[*],TRANSPORT:.transportAddresses[0]"},
			"NAME      CIDRS           TRANSPORT\nnode-1    10.244.0.0/24   192.168.56.11\nnode-2    10.244.1.0/24   192.168.56.12\nnode-3    <none>          192.168.56.13\n"},
		{[]string{"-o", "custom-columns=NAME:.name", "--no-headers"}, "node-1\nnode-2\nnode-3\n"},
		{[]string{"-o", "custom-columns-file=" + cols}, "NAME      CIDRS\nnode-1    10.244.0.0/24\nnode-2    10.244.1.0/24\nnode-3    <none>\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, _, err := runCmd(t, flannelCluster(), append([]string{"nodes", "--sort-by", "NAME"}, tt.args...)...)
			if err != nil {
				t.Fatalf("nodes %v: %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []struct{ arg, want string }{
		{"jsonpath={.nodes[", "-o jsonpath: "},
		{"go-template={{.nodes", "-o go-template: "},
		{"custom-columns=NAME", `custom-columns column "NAME" is not HEADER:PATH`},
		{"custom-columns-file=/nonexistent", "reading the custom-columns file: "},
		{"jsonpath", "output format jsonpath needs a template: -o jsonpath=TEMPLATE"},
		{"json=x", `output format "json=x" takes no argument: use -o json`},
	} {
		if _, _, err := runCmd(t, flannelCluster(), "nodes", "-o", bad.arg); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("nodes -o %s: error %v, want it to say %q", bad.arg, err, bad.want)
		}
	}
}
