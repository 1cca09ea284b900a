package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/probe"
)

func TestTrace(t *testing.T) {
	out, errOut, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "shop/web-3")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	wantErr := `note: vxlan adds 50 bytes: the pod MTU must be the node MTU minus 50 (1450 on a 1500 network for VXLAN)
note: give --port N to check NetworkPolicies along the path
`
	if diff := cmp.Diff(wantErr, errOut); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	want := `pod/shop/web-1 (10.244.0.2, node node-1) -> pod/shop/web-3 (10.244.1.2, node node-2)
network flannel/vxlan · cross-node
[pod shop/web-1: eth0] ─▶ [node node-1: veth… › flannel.1] ══vxlan (UDP 8472, VNI 1)══▶ [node node-2: flannel.1 › cni0] ─▶ [pod shop/web-3]

HOP   WHERE            DEVICE      WHAT
 1    pod shop/web-1   eth0        default route via 10.244.0.1
                                   route: default via 10.244.0.1 dev eth0
 2    node node-1      veth…       the veth (cni0's port) hands it to bridge cni0, which routes it on the host
 3    node node-1      flannel.1   encapsulated (vxlan) towards node node-2
                                   route: 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink
                                   vxlan outer 192.168.56.11 -> 192.168.56.12 (UDP 8472, VNI 1), 50 bytes of overhead
 4    network          -           outer packet 192.168.56.11 -> 192.168.56.12, UDP 8472, VNI 1
 5    node node-2      flannel.1   decapsulated: the inner packet is routed to the pod
 6    node node-2      cni0        the route 10.244.1.0/24 dev cni0 sends it onto bridge cni0, which forwards it by MAC (learned by ARP) to the pod's veth
                                   route: 10.244.1.0/24 dev cni0
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestTracePolicyVerdict(t *testing.T) {
	deny := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny-all"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	out, errOut, err := runCmd(t, append(flannelCluster(), deny), "trace", "shop/web-1", "shop/web-3", "--port", "80")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	for _, want := range []string{
		"network policy for port 80: denied\n",
		"  egress of pod/shop/web-1: no policy\n",
		"  ingress of pod/shop/web-3: denied by NetworkPolicy/shop/deny-all (network-policy)\n",
		"  enforced: no: flannel alone does not enforce NetworkPolicy",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if want := "note: 1 policy objects could apply to these pods but flannel alone does not enforce NetworkPolicy"; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
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
		{[]string{"trace", "shop/web-1", "10.9.9.9"}, "no pod and no node has address 10.9.9.9, and it is in no node's pod CIDR nor the service CIDR: it is outside the cluster's known ranges ('kubectl podnet who 10.9.9.9' says more)"},
		{[]string{"trace", "shop/web-1", "10.244.1.77"}, "no running pod has address 10.244.1.77: it is in node node-2's pod CIDR 10.244.1.0/24, but it is free (or its pod is gone); find what used it with 'kubectl podnet who 10.244.1.77'"},
		{[]string{"trace", "shop/web-1", "10.96.0.10"}, "10.96.0.10 is in the service CIDR 10.96.0.0/12 (ServiceCIDR kubernetes): a ClusterIP is no pod; trace to the Service as svc/NAME ('kubectl podnet who 10.96.0.10' names it)"},
		{[]string{"trace", "shop/web-1", "10.244.0.9"}, "10.244.0.9 was held by pod shop/job-1, which has finished (Succeeded): no pod holds it now"},
		{[]string{"trace", "shop/web-1", "shop/v6-only"}, "pod/shop/web-1 (10.244.0.2) and pod/shop/v6-only (fd00:10:244:1::9) are of different address families: a packet cannot go from one to the other"},
		{[]string{"trace", "shop/web-1", "svc/kube-system/kube-dns", "--port", "54"}, "service kube-system/kube-dns has no port 54/TCP (its ports: 53/UDP, 53/TCP): give --port one of them"},
		{[]string{"trace", "shop/web-1", "node/nope"}, "node nope not found: check the name (kubectl get nodes)"},
		{[]string{"trace", "shop/web-1"}, "accepts 2 arg(s), received 1"},
		{[]string{"trace", "shop/web-1", "svc/web"}, "service default/web not found: check the name and the namespace (-n)"},
		{[]string{"trace", "svc/web", "shop/web-1"}, "svc/web: a Service is only a destination; trace from a pod, a node or an address"},
	}
	job := pod("shop", "job-1", "node-1", "10.244.0.9", false)
	job.Status.Phase = corev1.PodSucceeded
	objs := append(flannelCluster(), dnsObjects(true)...)
	objs = append(objs, job, pod("kube-system", "coredns-1", "node-1", "10.244.0.5", false), pod("shop", "v6-only", "node-2", "fd00:10:244:1::9", false),
		&unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR",
			"metadata": map[string]any{"name": "kubernetes"}, "spec": map[string]any{"cidrs": []any{"10.96.0.0/12"}}}})
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runCmd(t, objs, tt.args...)
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
		return &Clients{Clients: cluster.Clients{Kube: kube, Dynamic: dyn, Discovery: kube.Discovery()}, Namespace: "default"}, nil
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

// cannedProbes swaps the path prober for canned outputs by namespace, for the time of a test.
func cannedProbes(t *testing.T, outputs map[string]string) *[]string {
	t.Helper()
	var ran []string
	var mu sync.Mutex
	old := pathProber
	pathProber = func(_ context.Context, _ *TraceOptions, _ *probe.Runner, in string, opts probe.Options) (string, string, error) {
		mu.Lock()
		ran = append(ran, in+": "+opts.Script)
		mu.Unlock()
		out, ok := outputs[in]
		if !ok {
			return "", "", fmt.Errorf("cannot create the node probe pod: you need 'create pods' in namespace default (or choose another with --probe-namespace)")
		}
		return out, "podnet-test", nil
	}
	t.Cleanup(func() { pathProber = old })
	return &ran
}

const addrText = "@@podnet format text\n@@podnet section addr\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n" +
	"2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel qlen 1000\n    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n    inet %s/24 brd 192.168.56.255 scope global eth0\n@@podnet exit 0\n"

func section(name, out, exit string) string {
	return "@@podnet section " + name + "\n" + out + "@@podnet exit " + exit + "\n"
}

func TestTraceProbeMismatch(t *testing.T) {
	flannelDev := func(local string) string {
		return "5: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default\n    link/ether fe:3e:c8:01:39:68 brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 68 maxmtu 65535\n    vxlan id 1 local " + local + " dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300\n"
	}
	ran := cannedProbes(t, map[string]string{
		"pod shop/web-1": fmt.Sprintf(addrText, "10.244.0.2") + section("lookup 10.244.1.2", "10.244.1.2 via 10.244.0.1 dev eth0  src 10.244.0.2 \n", "0") +
			section("connect 10.244.1.2 80", "nc: timed out\n", "1") + "@@podnet end\n",
		// node-1 lost its route to node-2's CIDR: the packet follows the default route, unencapsulated
		"node node-1": fmt.Sprintf(addrText, "192.168.56.11") + section("lookup 10.244.1.2 from 10.244.0.2 iif cni0", "10.244.1.2 from 10.244.0.2 via 192.168.56.1 dev eth0 iif cni0 \n    cache \n", "0") +
			section("device flannel.1", flannelDev("192.168.56.11"), "0") +
			// and its FDB still sends node-2's VTEP to node-2's old address
			section("fdb flannel.1", "ba:2c:49:6d:01:7e dst 192.168.56.99 self permanent\n", "0") +
			section("neigh flannel.1", "10.244.1.0 lladdr ba:2c:49:6d:01:7e PERMANENT\n", "0") + "@@podnet end\n",
		// node-2's flannel picked another interface for its tunnel
		"node node-2": fmt.Sprintf(addrText, "192.168.56.12") + section("lookup 10.244.1.2", "10.244.1.2 dev cni0 src 10.244.1.1 uid 0 \n    cache \n", "0") +
			section("device flannel.1", flannelDev("10.0.2.15"), "0") + "@@podnet end\n",
	})
	out, _, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "shop/web-3", "--probe", "--connect", "--port", "80")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Fatalf("want exit 3 when the live check disagrees, got %v", err)
	}
	want := `
live check (ip route get in each namespace, the tunnel devices on the nodes):
HOP   WHERE            CHECK       RESULT
 1    pod shop/web-1   route       expected 10.244.1.2 via 10.244.0.1 dev eth0
                                   seen     10.244.1.2 via 10.244.0.1 dev eth0
                                   ok
 3    node node-1      route       expected 10.244.1.2 from 10.244.0.2 iif cni0 via 10.244.1.0 dev flannel.1
                                   seen     10.244.1.2 via 192.168.56.1 dev eth0
                                   MISMATCH: leaves by eth0, not flannel.1
                                   likely cause: no tunnel route for 10.244.1.2 on this node, so it follows the node's own routes out of eth0 unencapsulated and the underlay drops it: flanneld has not programmed the route (agent down, or the destination node unknown to it)
 6    node node-2      route       expected 10.244.1.2 dev cni0
                                   seen     10.244.1.2 dev cni0
                                   ok
 -    node node-1      flannel.1   expected vxlan VNI 1 UDP 8472 local 192.168.56.11, up
                                   seen     vxlan VNI 1 UDP 8472 local 192.168.56.11 dev eth0, up, mtu 1450
                                   ok
 -    node node-2      flannel.1   expected vxlan VNI 1 UDP 8472 local 192.168.56.12, up
                                   seen     vxlan VNI 1 UDP 8472 local 10.0.2.15 dev eth0, up, mtu 1450
                                   MISMATCH: local address 10.0.2.15, not the node's InternalIP 192.168.56.12
                                   likely cause: the agent picked another interface for the tunnel (several NICs?): other nodes send to the InternalIP; set flanneld's --iface (or --iface-regex, --iface-can-reach)

TCP connect from pod shop/web-1 to 10.244.1.2:80: timeout (expected: connected)
  nc: timed out
  likely cause: packets are lost on the way: see the mismatches above
`
	if !strings.Contains(out, want) {
		t.Errorf("stdout lacks the live check:\n%s\nwant:\n%s", out, want)
	}
	if len(*ran) != 3 || !strings.Contains(strings.Join(*ran, "\n"), "nc -z -w 5 10.244.1.2 80") {
		t.Errorf("probes run: %v", *ran)
	}
}

// TestTraceProbeStaleFDB: the route uses the tunnel, the neighbour names the far VTEP, and the FDB
// still sends that VTEP to the far node's old address.
func TestTraceProbeStaleFDB(t *testing.T) {
	dev := func(local string) string {
		return "5: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default\n    link/ether fe:3e:c8:01:39:68 brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 68 maxmtu 65535\n    vxlan id 1 local " + local + " dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300\n"
	}
	cannedProbes(t, map[string]string{
		"pod shop/web-1": fmt.Sprintf(addrText, "10.244.0.2") + section("lookup 10.244.1.2", "10.244.1.2 via 10.244.0.1 dev eth0  src 10.244.0.2 \n", "0") + "@@podnet end\n",
		"node node-1": fmt.Sprintf(addrText, "192.168.56.11") + section("lookup 10.244.1.2 from 10.244.0.2 iif cni0", "10.244.1.2 from 10.244.0.2 via 10.244.1.0 dev flannel.1 iif cni0 \n    cache \n", "0") +
			section("device flannel.1", dev("192.168.56.11"), "0") +
			section("fdb flannel.1", "ba:2c:49:6d:01:7e dst 192.168.56.99 self permanent\n", "0") +
			section("neigh flannel.1", "10.244.1.0 lladdr ba:2c:49:6d:01:7e PERMANENT\n", "0") + "@@podnet end\n",
		"node node-2": fmt.Sprintf(addrText, "192.168.56.12") + section("lookup 10.244.1.2", "10.244.1.2 dev cni0 src 10.244.1.1 uid 0 \n    cache \n", "0") +
			section("device flannel.1", dev("192.168.56.12"), "0") + "@@podnet end\n",
	})
	out, _, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "shop/web-3", "--probe")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Fatalf("want exit 3 when the FDB is stale, got %v", err)
	}
	want := ` -    node node-1      flannel.1 neighbour   expected 10.244.1.0 lladdr (the far VTEP's MAC)
                                             seen     10.244.1.0 lladdr ba:2c:49:6d:01:7e
                                             ok
 -    node node-1      flannel.1 fdb         expected ba:2c:49:6d:01:7e dst 192.168.56.12
                                             seen     ba:2c:49:6d:01:7e dst 192.168.56.99
                                             MISMATCH: the outer destination is 192.168.56.99, not 192.168.56.12
                                             likely cause: node node-2's VTEP is sent to an old address (the node was re-addressed, or publishes another address than the one it is reached at): restart flanneld on this node, or fix the node's public address
`
	if !strings.Contains(out, want) {
		t.Errorf("stdout lacks the forwarding checks:\n%s\nwant:\n%s", out, want)
	}
}

func TestTraceProbeAllOK(t *testing.T) {
	cannedProbes(t, map[string]string{
		"pod shop/web-1": fmt.Sprintf(addrText, "10.244.0.2") + section("lookup 10.244.0.3", "10.244.0.3 dev eth0  src 10.244.0.2 \n", "0") +
			section("connect 10.244.0.3 8080", "", "0") + "@@podnet end\n",
	})
	out, _, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "shop/web-2", "--probe", "--connect", "--port", "8080")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	for _, want := range []string{" 1    pod shop/web-1   route   expected 10.244.0.3 dev eth0\n", "TCP connect from pod shop/web-1 to 10.244.0.3:8080: connected\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestTraceProbeErrors(t *testing.T) {
	cannedProbes(t, map[string]string{})
	_, _, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "shop/web-3", "--probe")
	if err == nil || !strings.Contains(err.Error(), "node node-1: cannot create the node probe pod") {
		t.Errorf("every probe failed: error = %v", err)
	}
	for _, args := range [][]string{{"--connect"}, {"--connect", "--port", "53/udp"}} {
		_, _, err := runCmd(t, flannelCluster(), append([]string{"trace", "shop/web-1", "shop/web-3"}, args...)...)
		if err == nil || err.Error() != "--connect makes a TCP connection: give the port with --port N (TCP)" {
			t.Errorf("%v: error = %v", args, err)
		}
	}
}

func TestTraceDualStackPicksTheFamily(t *testing.T) {
	a := pod("shop", "a", "node-1", "10.244.0.2", false)
	a.Status.PodIPs = append(a.Status.PodIPs, corev1.PodIP{IP: "fd00:10:244::2"})
	b := pod("shop", "b", "node-2", "10.244.1.2", false)
	b.Status.PodIPs = append(b.Status.PodIPs, corev1.PodIP{IP: "fd00:10:244:1::2"})
	objs := []runtime.Object{flannelNode("node-1", "192.168.56.11", "10.244.0.0/24", true), flannelNode("node-2", "192.168.56.12", "10.244.1.0/24", true), a, b}
	out, _, err := runCmd(t, objs, "trace", "shop/a", "fd00:10:244:1::2", "-o", "json")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	for _, want := range []string{`"ip": "fd00:10:244::2"`, `"ip": "fd00:10:244:1::2"`, `"device": "flannel-v6.1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the IPv6 path lacks %s:\n%s", want, out)
		}
	}
}

func TestTraceServicePortMapsToTarget(t *testing.T) {
	objs := append(flannelCluster(), dnsObjects(true)...)
	objs = append(objs, pod("kube-system", "coredns-1", "node-1", "10.244.0.5", false))
	for _, o := range objs {
		if s, ok := o.(*corev1.Service); ok && s.Name == "kube-dns" {
			s.Spec.Ports[1].TargetPort = intstr.FromInt32(8053)
		}
	}
	out, _, err := runCmd(t, objs, "trace", "shop/web-3", "svc/kube-system/kube-dns", "--port", "53")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	for _, want := range []string{"route: DNAT 10.96.0.10:53/TCP -> 10.244.0.5:8053/TCP", "network policy for port 53: no policy"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestTraceToAServiceAddressWithoutServiceCIDRObjects(t *testing.T) {
	// before Kubernetes 1.33 there are no ServiceCIDR objects: kubeadm-config says the range
	_, _, err := runCmd(t, flannelCluster(), "trace", "shop/web-1", "10.96.0.10")
	want := "10.96.0.10 is in the service CIDR 10.96.0.0/12 (kubeadm-config): a ClusterIP is no pod; trace to the Service as svc/NAME ('kubectl podnet who 10.96.0.10' names it)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// trace reads the namespaced policies of the two ends' namespaces only, and the cluster-scoped
// kinds whole.
func TestTraceReadsOnlyItsNamespacesPolicies(t *testing.T) {
	kube := fake.NewClientset(flannelCluster()...)
	kube.Resources = append(kube.Resources, &metav1.APIResourceList{GroupVersion: "cilium.io/v2", APIResources: []metav1.APIResource{
		{Name: "ciliumnetworkpolicies", Kind: "CiliumNetworkPolicy", Namespaced: true}, {Name: "ciliumclusterwidenetworkpolicies", Kind: "CiliumClusterwideNetworkPolicy"}}})
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		{Group: "cilium.io", Version: "v2", Resource: "ciliumnetworkpolicies"}:            "CiliumNetworkPolicyList",
		{Group: "cilium.io", Version: "v2", Resource: "ciliumclusterwidenetworkpolicies"}: "CiliumClusterwideNetworkPolicyList",
	})
	factory := func(*genericclioptions.ConfigFlags) (*Clients, error) {
		return &Clients{Clients: cluster.Clients{Kube: kube, Dynamic: dyn, Discovery: kube.Discovery()}, Namespace: "default"}, nil
	}
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	root := newCmdRoot(genericclioptions.NewConfigFlags(false), streams, factory)
	root.SetArgs([]string{"trace", "shop/web-1", "shop/web-3", "--port", "80"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	var lists []string
	for _, a := range append(kube.Actions(), dyn.Actions()...) {
		if a.GetVerb() == "list" && strings.Contains(a.GetResource().Resource, "policies") {
			lists = append(lists, a.GetResource().Resource+" in "+a.GetNamespace())
		}
	}
	want := []string{"networkpolicies in shop", "ciliumnetworkpolicies in shop", "ciliumclusterwidenetworkpolicies in "}
	if diff := cmp.Diff(want, lists); diff != "" {
		t.Errorf("policy lists (-want +got):\n%s", diff)
	}
}
