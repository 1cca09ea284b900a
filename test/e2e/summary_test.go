//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podnet/kubectl-podnet/internal/report"
)

func TestSummaryOnEveryScenario(t *testing.T) {
	for _, scenario := range scenarioNames() {
		want := scenarioWants[scenario]
		t.Run(scenario, func(t *testing.T) {
			c := clusterFor(t, scenario)
			r := c.podnet(t, "summary", "-o", "json")
			if r.code != 0 {
				t.Fatalf("summary: exit %d: %s", r.code, r.stderr)
			}
			var s report.Summary
			if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
				t.Fatalf("summary -o json: %v", err)
			}
			var nodes corev1.NodeList
			c.kubectlJSON(t, &nodes, "get", "nodes")
			var svc corev1.Service
			c.kubectlJSON(t, &svc, "get", "service", "-n", "kube-system", "kube-dns")
			var kube corev1.Service
			c.kubectlJSON(t, &kube, "get", "service", "kubernetes")
			if s.NodeNetwork.Nodes != len(nodes.Items) || s.PodNetwork.Network.String() != want.network || s.PodNetwork.DualStack != want.dualStack {
				t.Errorf("nodes %d (API %d), network %s (want %s), dual-stack %v (want %v)", s.NodeNetwork.Nodes, len(nodes.Items), s.PodNetwork.Network, want.network, s.PodNetwork.DualStack, want.dualStack)
			}
			if len(s.ClusterNetwork.ServiceCIDRs) == 0 || s.ClusterNetwork.ServiceCIDRs[0].CIDR != want.serviceCIDR {
				t.Errorf("service CIDRs %+v, want %s", s.ClusterNetwork.ServiceCIDRs, want.serviceCIDR)
			}
			d := s.ClusterNetwork.DNS
			if d == nil || d.Service != "kube-system/kube-dns" || d.ClusterIPs[0] != svc.Spec.ClusterIP || d.Ready != 2 || s.ClusterNetwork.KubernetesServiceIP != kube.Spec.ClusterIP {
				t.Errorf("cluster DNS %+v, kubernetes %s; want kube-dns %s with 2 ready endpoints, kubernetes %s", d, s.ClusterNetwork.KubernetesServiceIP, svc.Spec.ClusterIP, kube.Spec.ClusterIP)
			}
			wantProxy := "iptables"
			switch scenario {
			case "cilium-vxlan":
				wantProxy = "replaced by Cilium (kube-proxy-replacement)"
			case "calico-vxlan", "calico-ipip":
				wantProxy = "ipvs"
			}
			if s.ClusterNetwork.KubeProxy != wantProxy {
				t.Errorf("kube-proxy %q, want %q", s.ClusterNetwork.KubeProxy, wantProxy)
			}
			if len(s.Findings) != len(want.warnings) {
				t.Errorf("findings %+v, want %v", s.Findings, want.warnings)
			}
			tr := c.podnet(t, "summary")
			for _, h := range []string{"NODE NETWORK\n", "POD NETWORK\n", "CLUSTER NETWORK\n", "FINDINGS\n"} {
				if !strings.Contains(tr.stdout, h) {
					t.Errorf("summary lacks section %q:\n%s", h, tr.stdout)
				}
			}
		})
	}
}

// whoKinds maps each address of `who` output to its rows' "KIND OBJECT".
func whoKinds(t *testing.T, out string) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) >= 3 {
			got[f[0]] = append(got[f[0]], f[1]+" "+f[2])
		}
	}
	return got
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestWho(t *testing.T) {
	for _, tt := range []struct {
		scenario string
		tunnel   string // annotation holding the tunnel address, or "podcidr" for Flannel's subnet address
	}{{"aks-kubenet", ""}, {"flannel-vxlan", "podcidr"}, {"calico-vxlan", "projectcalico.org/IPv4VXLANTunnelAddr"}, {"cilium-vxlan", ""}} {
		t.Run(tt.scenario, func(t *testing.T) {
			c := clusterFor(t, tt.scenario)
			var pods corev1.PodList
			c.kubectlJSON(t, &pods, "get", "pods", "-A")
			var nodes corev1.NodeList
			c.kubectlJSON(t, &nodes, "get", "nodes")
			var dns corev1.Service
			c.kubectlJSON(t, &dns, "get", "service", "-n", "kube-system", "kube-dns")
			var app, host *corev1.Pod
			for i := range pods.Items {
				p := &pods.Items[i]
				if p.Spec.HostNetwork && host == nil {
					host = p
				}
				if !p.Spec.HostNetwork && app == nil && p.Status.Phase == corev1.PodRunning {
					app = p
				}
			}
			node := nodes.Items[0]
			addrs := []string{app.Status.PodIPs[0].IP, host.Status.PodIP, dns.Spec.ClusterIP, "8.8.8.8"}
			want := map[string]string{
				app.Status.PodIPs[0].IP: "Pod pod/" + app.Namespace + "/" + app.Name,
				host.Status.PodIP:       "HostNetworkPod pod/" + host.Namespace + "/" + host.Name,
				dns.Spec.ClusterIP:      "ServiceClusterIP service/kube-system/kube-dns",
				"8.8.8.8":               "Outside -",
			}
			if len(app.Status.PodIPs) > 1 { // dual-stack: the second family is found too
				addrs = append(addrs, app.Status.PodIPs[1].IP)
				want[app.Status.PodIPs[1].IP] = "Pod pod/" + app.Namespace + "/" + app.Name
			}
			switch tt.tunnel {
			case "podcidr":
				a := strings.Split(node.Spec.PodCIDRs[0], "/")[0]
				addrs = append(addrs, a)
				want[a] = "NodeTunnel node/" + node.Name
			case "":
			default:
				a := node.Annotations[tt.tunnel]
				addrs = append(addrs, a)
				want[a] = "NodeTunnel node/" + node.Name
			}
			if len(node.Spec.PodCIDRs) > 0 { // an address no pod holds in a node's CIDR
				free := strings.TrimSuffix(node.Spec.PodCIDRs[0], ".0/24") + ".250"
				addrs = append(addrs, free)
				want[free] = "NodePodCIDR node/" + node.Name
			}
			r := c.podnet(t, append([]string{"who"}, addrs...)...)
			if r.code != 0 {
				t.Fatalf("who: exit %d: %s", r.code, r.stderr)
			}
			got := whoKinds(t, r.stdout)
			for a, w := range want {
				if !contains(got[a], w) {
					t.Errorf("who %s = %v, want a row %q\n%s", a, got[a], w, r.stdout)
				}
			}
			if tt.scenario == "cilium-vxlan" {
				cr := c.podnet(t, "who", "10.0.1.93", "10.0.1.12")
				g := whoKinds(t, cr.stdout)
				if !contains(g["10.0.1.93"], "CiliumHost node/cilium-node-1") || !contains(g["10.0.1.12"], "CiliumHealth node/cilium-node-1") {
					t.Errorf("cilium_host and health addresses:\n%s", cr.stdout)
				}
			}
		})
	}
}

func TestDNSCommand(t *testing.T) {
	c := clusterFor(t, "aks-kubenet")
	r := c.podnet(t, "dns", "shop/web-0-0")
	if r.code != 0 || !strings.Contains(r.stdout, "nameserver 10.0.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n") {
		t.Errorf("dns shop/web-0-0: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	empty := clusterFor(t, "")
	r = empty.podnet(t, "dns")
	want := "error: no cluster DNS Service: neither kube-system/kube-dns nor a Service labelled k8s-app=kube-dns exists"
	// broken cluster DNS is a finding (2), not an error (1)
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("dns on a cluster without DNS: exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, want)
	}
	s := empty.podnet(t, "summary")
	if s.code != 2 || !strings.Contains(s.stdout, "cluster DNS      none found") || !strings.Contains(s.stdout, "! no cluster DNS Service") {
		t.Errorf("summary on a cluster without DNS: exit %d (want 2)\n%s", s.code, s.stdout)
	}
}

func TestSummaryAndWhoUnprivileged(t *testing.T) {
	c := clusterFor(t, "calico-vxlan")
	viewer := c.name + "-viewer"
	s := c.podnet(t, "summary", "--context", viewer)
	// what could be read is printed; the exit code says the answer is incomplete (4)
	if s.code != 4 || !strings.Contains(s.stderr, "note: cannot list nodes (forbidden)") || !strings.Contains(s.stdout, "cluster DNS      unknown (Service kube-system/kube-dns: forbidden)") ||
		!strings.Contains(s.stderr, "error: the answer is incomplete: could not read ") {
		t.Errorf("summary as viewer: exit %d (want 4)\n%s\n%s", s.code, s.stdout, s.stderr)
	}
	d := c.podnet(t, "dns", "--context", viewer)
	if d.code != 4 || !strings.Contains(d.stdout, "cluster DNS   unknown (Service kube-system/kube-dns: forbidden)") {
		t.Errorf("dns as viewer: exit %d (want 4)\n%s\n%s", d.code, d.stdout, d.stderr)
	}
	w := c.podnet(t, "who", "--context", viewer, "192.168.219.65")
	if w.code != 0 || !strings.Contains(w.stderr, "note: cannot list pods (forbidden)") || !strings.Contains(w.stderr, "cannot list Services (forbidden)") {
		t.Errorf("who as viewer: exit %d\n%s\n%s", w.code, w.stdout, w.stderr)
	}
}
