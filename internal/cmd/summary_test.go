package cmd

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func dnsObjects(ready bool) []runtime.Object {
	return []runtime.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-dns", Labels: map[string]string{"k8s-app": "kube-dns"}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
				Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-dns-abcde", Labels: map[string]string{discoveryv1.LabelServiceName: "kube-dns"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"10.244.0.5"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}, NodeName: ptr.To("node-1"), TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "kube-system", Name: "coredns-1"}},
				{Addresses: []string{"10.244.1.5"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}, NodeName: ptr.To("node-2"), TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "kube-system", Name: "coredns-2"}},
			}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "coredns"}, Data: map[string]string{"Corefile": `.:53 {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
    }
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
}
corp.example:53 {
    forward . 10.10.0.53 10.10.0.54
}
`}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes"}, Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.1", ClusterIPs: []string{"10.96.0.1"}}},
	}
}

func TestSummary(t *testing.T) {
	out, errOut, err := runCmd(t, append(flannelCluster(), dnsObjects(true)...), "summary")
	if err != nil {
		t.Fatalf("summary: %v", err)
	}
	want := `NODE NETWORK
  nodes            3 nodes in 1 zone (zone-a)
  internal range   192.168.56.8/29
  external IPs     none

POD NETWORK
  model            flannel/vxlan
  evidence         node annotations flannel.alpha.coreos.com/*; annotation flannel.alpha.coreos.com/backend-type=vxlan
  pod CIDR         10.244.0.0/16 (kubeadm-config)
  node mask        /24
  pods             3 pods on the pod network, 1 on the host network
  dual-stack       no

CLUSTER NETWORK
  service CIDR     10.96.0.0/12 (kubeadm-config)
  kube-proxy       absent (no kube-proxy DaemonSet or ConfigMap)
  kubernetes API   10.96.0.1
  cluster DNS      kube-system/kube-dns 10.96.0.10 (53/UDP,53/TCP), 1 of 2 endpoints ready

FINDINGS
  ! node node-3 has no pod CIDR, and flannel hands out pod addresses from it: pods scheduled there cannot get an address
  ! node node-3 is NotReady: kubelet stopped posting node status
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if errOut != "" {
		t.Errorf("stderr = %q, want nothing", errOut)
	}
}

func TestWho(t *testing.T) {
	objs := append(flannelCluster(), dnsObjects(true)...)
	out, _, err := runCmd(t, objs, "who", "10.244.0.2", "192.168.56.11", "10.96.0.10", "10.244.1.77", "10.244.0.0", "10.96.0.99", "8.8.8.8", "169.254.1.1")
	if err != nil {
		t.Fatalf("who: %v", err)
	}
	want := `ADDRESS         KIND               OBJECT                         DETAIL
10.244.0.2      Pod                pod/shop/web-1                 on node node-1
10.244.0.2      NodePodCIDR        node/node-1                    10.244.0.0/24 (spec.podCIDRs)
10.244.0.2      ClusterPodCIDR     10.244.0.0/16                  kubeadm-config
192.168.56.11   HostNetworkPod     pod/kube-system/kube-proxy-a   on node node-1, host network: shares the node's address
192.168.56.11   NodeInternalIP     node/node-1                    -
10.96.0.10      ServiceClusterIP   service/kube-system/kube-dns   ClusterIP, endpoints: 10.244.0.5 ready, 10.244.1.5 not ready
10.96.0.10      ServiceCIDR        10.96.0.0/12                   kubeadm-config
10.244.1.77     NodePodCIDR        node/node-2                    10.244.1.0/24 (spec.podCIDRs) free: no pod holds it
10.244.1.77     ClusterPodCIDR     10.244.0.0/16                  kubeadm-config
10.244.0.0      NodeTunnel         node/node-1                    vxlan device flannel.1 (flannel/vxlan)
10.244.0.0      NodePodCIDR        node/node-1                    10.244.0.0/24 (spec.podCIDRs)
10.244.0.0      ClusterPodCIDR     10.244.0.0/16                  kubeadm-config
10.96.0.99      ServiceCIDR        10.96.0.0/12                   kubeadm-config, no Service has it
8.8.8.8         Outside            -                              outside every known range of this cluster: a public address
169.254.1.1     Outside            -                              outside every known range: link-local (169.254.0.0/16 or fe80::/10; e.g. Calico's and Azure CNI's gateway 169.254.1.1)
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestWhoBadAddress(t *testing.T) {
	_, _, err := runCmd(t, nil, "who", "10.1.2.3/24", "300.1.1.1", "10.0.0.1")
	want := `not an IP address: "10.1.2.3/24", "300.1.1.1" (give IPv4 like 10.244.3.17 or IPv6 like fd00::5, without a prefix length)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if _, _, err := runCmd(t, nil, "who"); err == nil || !strings.Contains(err.Error(), "requires at least 1 arg") {
		t.Errorf("who without addresses: error = %v", err)
	}
}

func TestDNS(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}, Spec: corev1.PodSpec{
		DNSPolicy: corev1.DNSClusterFirst,
		DNSConfig: &corev1.PodDNSConfig{Searches: []string{"corp.example"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}, {Name: "edns0"}}},
	}}
	out, _, err := runCmd(t, append(dnsObjects(true), pod), "dns", "shop/web")
	if err != nil {
		t.Fatalf("dns: %v", err)
	}
	want := `cluster DNS   kube-system/kube-dns 10.96.0.10 (53/UDP,53/TCP), 1 of 2 endpoints ready
domain        cluster.local
endpoint      10.244.0.5 ready kube-system/coredns-1 on node node-1
endpoint      10.244.1.5 not ready kube-system/coredns-2 on node node-2
forward       zone .:53 to /etc/resolv.conf
forward       zone corp.example:53 to 10.10.0.53 10.10.0.54

pod shop/web: dnsPolicy ClusterFirst
# resolv.conf as kubelet writes it
nameserver 10.96.0.10
search shop.svc.cluster.local svc.cluster.local cluster.local corp.example
options ndots:2 edns0
# ... plus what comes from the node's own resolv.conf
# nameserver assumed to be kubelet's --cluster-dns, the ClusterIP of Service kube-system/kube-dns
# the node's own search domains follow these
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestDNSFailures(t *testing.T) {
	tests := []struct {
		name string
		objs []runtime.Object
		args []string
		want string
	}{
		{"no DNS service", nil, []string{"dns"}, "no cluster DNS Service: neither kube-system/kube-dns nor a Service labelled k8s-app=kube-dns exists; pods with dnsPolicy ClusterFirst cannot resolve names (install CoreDNS)"},
		{"no ready endpoint", dnsObjects(false), []string{"dns"}, "the cluster DNS Service kube-system/kube-dns has no ready endpoint: name resolution fails in every pod; check the CoreDNS pods"},
		{"missing pod", dnsObjects(true), []string{"dns", "nope", "-n", "shop"}, "pod shop/nope not found: check the name and the namespace (-n)"},
		{"bad pod ref", dnsObjects(true), []string{"dns", "a/b/c"}, `bad pod "a/b/c": use NAME, NAMESPACE/NAME or pod/NAME (with -n for the namespace)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCmd(t, tt.objs, tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPodResolvConfHostNetwork(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "proxy"}, Spec: corev1.PodSpec{HostNetwork: true, DNSPolicy: corev1.DNSClusterFirst}}
	out, _, err := runCmd(t, append(dnsObjects(true), pod), "dns", "pod/proxy", "-n", "kube-system")
	if err != nil {
		t.Fatalf("dns: %v", err)
	}
	if !strings.Contains(out, "# a host-network pod with dnsPolicy ClusterFirst gets the node's resolv.conf (use ClusterFirstWithHostNet for the cluster DNS)") || strings.Contains(out, "nameserver 10.96.0.10") {
		t.Errorf("host-network pod with ClusterFirst:\n%s", out)
	}
}
