package cmd

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/podnet/kubectl-podnet/internal/inspect"
)

func TestTrace(t *testing.T) {
	out, _, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "shop/web-3")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	want := `pod/shop/web-1 (10.244.0.2, node node-1) -> pod/shop/web-3 (10.244.1.2, node node-2)
network flannel/vxlan · cross-node

 1  pod shop/web-1               eth0               default route via 10.244.0.1
                                                    route: default via 10.244.0.1 dev eth0
 2  node node-1                  veth…              the veth (cni0's port) hands it to bridge cni0, which routes it on the host
 3  node node-1                  flannel.1          encapsulated (vxlan) towards node node-2
                                                    route: 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink
                                                    vxlan outer 192.168.56.11 -> 192.168.56.12 (UDP 8472, VNI 1), 50 bytes of overhead
 4  network                      -                  outer packet 192.168.56.11 -> 192.168.56.12, UDP 8472, VNI 1
 5  node node-2                  flannel.1          decapsulated: the inner packet is routed to the pod
 6  node node-2                  cni0               the route 10.244.1.0/24 dev cni0 sends it onto bridge cni0, which forwards it by MAC (learned by ARP) to the pod's veth
                                                    route: 10.244.1.0/24 dev cni0
note: vxlan adds 50 bytes: the pod MTU must be the node MTU minus 50 (1450 on a 1500 network for VXLAN)
note: give --port N to check NetworkPolicies along the path
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestTracePolicyVerdict(t *testing.T) {
	deny := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny-all"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	out, _, err := runCmd(t, append(flannelCluster(), deny), "trace", "shop/web-1", "shop/web-3", "--port", "80")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	for _, want := range []string{
		"network policy for port 80: denied\n",
		"  egress of pod/shop/web-1: no policy\n",
		"  ingress of pod/shop/web-3: denied: selected by shop/deny-all, none of which allows it\n",
		"  enforced: no: flannel alone does not enforce NetworkPolicy",
		"note: 1 NetworkPolicies exist in these namespaces but flannel alone does not enforce NetworkPolicy",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if _, _, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "shop/web-3", "--port", "80/icmp"); err == nil || !strings.Contains(err.Error(), "the protocol must be tcp, udp or sctp") {
		t.Errorf("bad protocol: %v", err)
	}
}

func TestTraceErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"trace", "shop/web-1", "shop/nope"}, "pod shop/nope not found: check the name and the namespace (-n)"},
		{[]string{"trace", "shop/web-1", "10.9.9.9"}, "no running pod and no node has address 10.9.9.9: find what it is with 'kubectl podnet who 10.9.9.9'"},
		{[]string{"trace", "shop/web-1", "node/nope"}, "node nope not found: check the name (kubectl get nodes)"},
		{[]string{"trace", "shop/web-1"}, "accepts 2 arg(s), received 1"},
		{[]string{"trace", "shop/web-1", "svc/web"}, "service default/web not found: check the name and the namespace (-n)"},
		{[]string{"trace", "svc/web", "shop/web-1"}, "svc/web: a Service is only a destination; trace from a pod, a node or an address"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runCmd(t, flannelCluster(), tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestTraceReadsLittle counts the API calls of a trace: the two pods, their nodes, discovery and
// the plugins' DaemonSets; never the pod list.
func TestTraceReadsLittle(t *testing.T) {
	kube := fake.NewClientset(flannelCluster()...)
	factory := func(*genericclioptions.ConfigFlags) (*Clients, error) {
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{})
		return &Clients{Clients: inspect.Clients{Kube: kube, Dynamic: dyn, Discovery: kube.Discovery()}, Namespace: "default"}, nil
	}
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	root := newCmdRoot(genericclioptions.NewConfigFlags(false), streams, factory)
	root.SetArgs([]string{"trace", "shop/web-1", "shop/web-3", "--port", "5432/tcp"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, a := range kube.Actions() {
		calls = append(calls, a.GetVerb()+" "+a.GetResource().Resource)
		if a.GetVerb() == "list" && a.GetResource().Resource == "pods" {
			t.Errorf("a trace listed pods")
		}
	}
	if len(calls) > 10 {
		t.Errorf("%d API calls, want at most 10: %v", len(calls), calls)
	}
}

func TestTraceDiagrams(t *testing.T) {
	dot, _, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "shop/web-3", "-o", "dot")
	if err != nil || !strings.HasPrefix(dot, "digraph podnet_trace {") || !strings.Contains(dot, "  h3 [label=\"node node-1\\nflannel.1\\nvxlan (UDP 8472, VNI 1)\"];") || !strings.Contains(dot, "  h5 -> h6;") {
		t.Errorf("dot (%v):\n%s", err, dot)
	}
	mm, _, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "shop/web-3", "-o", "mermaid")
	if err != nil || !strings.HasPrefix(mm, "flowchart LR\n") || !strings.Contains(mm, `  h1["pod shop/web-1<br/>eth0"]`) || !strings.Contains(mm, "  h1 --> h2") {
		t.Errorf("mermaid (%v):\n%s", err, mm)
	}
}

func TestTraceToService(t *testing.T) {
	objs := append(flannelCluster(), dnsObjects(true)...)
	objs = append(objs, pod("kube-system", "coredns-1", "node-1", "10.244.0.5", false))
	out, _, err := runCmd(t, objs, "trace", "shop/web-3", "svc/kube-system/kube-dns", "-o", "json")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	for _, want := range []string{`"chosen": "10.244.0.5"`, `"implementation": "kube-proxy (mode unknown)"`, `"route": "DNAT 10.96.0.10 -\u003e 10.244.0.5"`, `"case": "cross-node"`, "1 endpoint(s) of kube-system/kube-dns are not ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	_, _, err = runCmd(t, objs, "trace", "shop/web-3", "svc/kube-system/kube-dns", "--endpoint", "10.244.1.5")
	if err == nil || !strings.Contains(err.Error(), "--endpoint 10.244.1.5 is not a ready endpoint of service kube-system/kube-dns (ready: 10.244.0.5)") {
		t.Errorf("not-ready --endpoint: %v", err)
	}
}
