//go:build e2e

package e2e

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"go4.org/netipx"
	corev1 "k8s.io/api/core/v1"

	"github.com/podnet/kubectl-podnet/internal/trace"
)

// TestTraceMatchesKernel builds each scenario's datapath for real, in network namespaces of its
// own, the way each CNI builds it (a namespace per node on a shared underlay, one per pod, the
// model's bridge or /32 host routes with proxy ARP, its tunnel devices with their names, ports
// and VNIs, the cloud's route table as a router), with the scenario's own addresses. Then it
// traces between pods and nodes and asks the kernel, with `ip route get` in the namespace each
// predicted hop names, whether it takes the route the trace predicts. Where the emulation is
// complete, it also sends real packets (ping, and a TCP connection through a Service's DNAT).
//
// This kernel has veth, bridge and vxlan but neither ipip, geneve nor wireguard devices: VXLAN
// modes get real vxlan devices; Calico IPIP gets a stand-in device named tunl0 (a veth), which
// checks the routing decision (device and next hop) but not the IPIP encapsulation itself.
//
// Only the namespaces the test creates are touched (named pnk<N>-...), and they are removed
// afterwards. No packet leaves them.
func TestTraceMatchesKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("building network namespaces needs root; CI runs as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 is not installed")
	}
	for i, tt := range []struct {
		scenario string
		realPing bool // the emulated datapath carries packets (no eBPF, no stand-in device)
	}{
		{"flannel-vxlan", true},
		{"calico-vxlan", true},
		{"calico-ipip", false},
		{"cilium-vxlan", false},
		{"aws-vpc-cni", true},
		{"aks-kubenet", true},
		{"azure-cni-overlay", true},
	} {
		t.Run(tt.scenario, func(t *testing.T) {
			c := clusterFor(t, tt.scenario)
			w := newWorld(t, fmt.Sprintf("pnk%d", i))
			data := readCluster(t, c)
			w.build(t, data)

			pods := data.podsOnPodNetwork()
			src := pods[0]
			var same, other *corev1.Pod
			for _, p := range pods[1:] {
				if p.Spec.NodeName == src.Spec.NodeName && same == nil {
					same = p
				}
				if p.Spec.NodeName != src.Spec.NodeName && other == nil {
					other = p
				}
			}
			if same == nil || other == nil {
				t.Fatalf("scenario %s needs two pods on one node and one on another", tt.scenario)
			}
			ref := func(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }
			pairs := [][2]string{
				{ref(src), ref(same)},
				{ref(src), ref(other)},
				{ref(src), "node/" + other.Spec.NodeName},
				{"node/" + src.Spec.NodeName, ref(other)},
			}
			for _, p := range pods {
				own := slices.ContainsFunc(data.blocks[p.Spec.NodeName], func(b netip.Prefix) bool { return b.Contains(podIPv4(p)) })
				if n := p.Spec.NodeName; n != src.Spec.NodeName && w.transport[n] != w.nodeIPs[n] && own {
					pairs = append(pairs, [2]string{ref(src), ref(p)}) // a node reached at its CNI's own address
					break
				}
			}
			for _, pr := range pairs {
				p := c.tracePath(t, pr[0], pr[1])
				checked := w.checkLookups(t, p)
				// two pods on one bridge talk at layer 2: the source's lookup is the only one
				if want := 2; checked < want && !(p.Case == "same-node" && checked == 1) {
					t.Errorf("%s -> %s (%s): only %d hops predict a routing decision; want the source's and the destination's at least", pr[0], pr[1], p.Case, checked)
				}
				w.checkTunnels(t, p)
				if tt.realPing {
					w.ping(t, p)
				}
			}
			if tt.scenario == "aks-kubenet" {
				// from an application pod (not one of the Service's own endpoints: that needs hairpin)
				i := slices.IndexFunc(pods, func(p *corev1.Pod) bool { return p.Namespace == "shop" })
				w.checkServiceDNAT(t, c, ref(pods[i]))
			}
		})
	}
}

// clusterData is what the emulation is built from, read with kubectl.
type clusterData struct {
	model  string // flannel, calico-vxlan, calico-ipip, cilium, aws, kubenet, azure-overlay
	nodes  []corev1.Node
	pods   []corev1.Pod
	blocks map[string][]netip.Prefix // Calico blocks by node
	cilium map[string]ciliumNode
}

type ciliumNode struct {
	host netip.Addr
	cidr netip.Prefix
}

func readCluster(t *testing.T, c *cluster) *clusterData {
	d := &clusterData{blocks: map[string][]netip.Prefix{}, cilium: map[string]ciliumNode{}}
	var nodes corev1.NodeList
	c.kubectlJSON(t, &nodes, "get", "nodes")
	d.nodes = nodes.Items
	if len(d.nodes) == 0 {
		// without nodes there is no underlay to build: say so, rather than fail on an empty prefix
		t.Fatalf("cluster %s (scenario %s) has no nodes: its scenario did not load, or a test removed them", c.name, c.scenario)
	}
	var pods corev1.PodList
	c.kubectlJSON(t, &pods, "get", "pods", "-A")
	d.pods = pods.Items
	switch c.scenario {
	case "flannel-vxlan":
		d.model = "flannel"
	case "calico-vxlan", "calico-ipip":
		d.model = c.scenario
		var blocks struct {
			Items []struct {
				Spec struct {
					CIDR     string `json:"cidr"`
					Affinity string `json:"affinity"`
				} `json:"spec"`
			} `json:"items"`
		}
		group := map[string]string{"calico-vxlan": "crd.projectcalico.org", "calico-ipip": "projectcalico.org"}[c.scenario]
		c.kubectlJSON(t, &blocks, "get", "ipamblocks."+group)
		for _, b := range blocks.Items {
			if n, ok := strings.CutPrefix(b.Spec.Affinity, "host:"); ok {
				d.blocks[n] = append(d.blocks[n], netip.MustParsePrefix(b.Spec.CIDR))
			}
		}
	case "cilium-vxlan":
		d.model = "cilium"
		var cns struct {
			Items []struct {
				Metadata struct{ Name string } `json:"metadata"`
				Spec     struct {
					Addresses []struct{ IP, Type string } `json:"addresses"`
					IPAM      struct {
						PodCIDRs []string `json:"podCIDRs"`
					} `json:"ipam"`
				} `json:"spec"`
			} `json:"items"`
		}
		c.kubectlJSON(t, &cns, "get", "ciliumnodes.cilium.io")
		for _, cn := range cns.Items {
			var n ciliumNode
			for _, a := range cn.Spec.Addresses {
				if a.Type == "CiliumInternalIP" {
					n.host = netip.MustParseAddr(a.IP)
				}
			}
			n.cidr = netip.MustParsePrefix(cn.Spec.IPAM.PodCIDRs[0])
			d.cilium[cn.Metadata.Name] = n
		}
	case "aws-vpc-cni":
		d.model = "aws"
	case "aks-kubenet":
		d.model = "kubenet"
	case "azure-cni-overlay":
		d.model = "azure-overlay"
	default:
		t.Fatalf("no emulation for scenario %s", c.scenario)
	}
	return d
}

// podsOnPodNetwork are the running pods with an IPv4 address of the pod network, by name.
func (d *clusterData) podsOnPodNetwork() []*corev1.Pod {
	var out []*corev1.Pod
	for i := range d.pods {
		p := &d.pods[i]
		if !p.Spec.HostNetwork && p.Status.Phase == corev1.PodRunning && podIPv4(p).IsValid() {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name })
	return out
}

func podIPv4(p *corev1.Pod) netip.Addr {
	for _, a := range p.Status.PodIPs {
		if ip, err := netip.ParseAddr(a.IP); err == nil && ip.Is4() {
			return ip
		}
	}
	return netip.Addr{}
}

func nodeIPv4(n *corev1.Node) netip.Addr {
	for _, a := range n.Status.Addresses {
		if ip, err := netip.ParseAddr(a.Address); err == nil && a.Type == corev1.NodeInternalIP && ip.Is4() {
			return ip
		}
	}
	return netip.Addr{}
}

func nodeCIDRv4(n *corev1.Node) netip.Prefix {
	for _, c := range n.Spec.PodCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is4() {
			return p
		}
	}
	return netip.Prefix{}
}

// world is the test's network namespaces: fab (the underlay switch and the cloud's router), one
// per node, one per pod.
type world struct {
	prefix  string
	fab     string
	nodeNS  map[string]string // node name -> namespace
	podNS   map[string]string // ns/name -> namespace
	nodeIPs map[string]netip.Addr
	// transport is the address the CNI publishes for the node's tunnels (Calico's node address),
	// which may differ from its InternalIP: the node then holds it on a second address of eth0
	transport map[string]netip.Addr
	gateway   netip.Addr
	created   []string
}

func newWorld(t *testing.T, prefix string) *world {
	w := &world{prefix: prefix, nodeNS: map[string]string{}, podNS: map[string]string{}, nodeIPs: map[string]netip.Addr{}, transport: map[string]netip.Addr{}}
	w.removeAll() // what a killed run may have left, of our own prefix only
	t.Cleanup(w.removeAll)
	w.fab = w.netns(t, prefix+"-fab")
	return w
}

func (w *world) removeAll() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], w.prefix+"-") {
			_ = exec.Command("ip", "netns", "delete", f[0]).Run()
		}
	}
}

func (w *world) netns(t *testing.T, name string) string {
	t.Helper()
	run(t, "ip", "netns", "add", name)
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	w.created = append(w.created, name)
	return name
}

// run runs a command and fails the test if it fails.
func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func sysctl(t *testing.T, ns, key, value string) {
	t.Helper()
	run(t, "ip", "netns", "exec", ns, "sh", "-c", "echo "+value+" > /proc/sys/"+strings.ReplaceAll(key, ".", "/"))
}

// build lays out the underlay and every node and pod the way the model does.
func (w *world) build(t *testing.T, d *clusterData) {
	t.Helper()
	var nodeIPs netipx.IPSetBuilder
	for i := range d.nodes {
		nodeIPs.Add(nodeIPv4(&d.nodes[i]))
	}
	set, _ := nodeIPs.IPSet()
	underlay := coveringPrefix(set.Ranges())
	if underlay.Bits() < 8 {
		// no subnet spans that much: a node carries an address its scenario did not give it
		var addrs []string
		for i := range d.nodes {
			addrs = append(addrs, d.nodes[i].Name+"="+nodeIPv4(&d.nodes[i]).String())
		}
		t.Fatalf("the nodes' InternalIPs span %s, not one subnet: %s", underlay, strings.Join(addrs, ", "))
	}
	if underlay.Bits() > 24 {
		underlay = netip.PrefixFrom(underlay.Addr(), 24).Masked() // room for the gateway, as a real subnet has
	}
	// the gateway: the subnet's first address, as clouds do, unless a node holds it
	w.gateway = underlay.Masked().Addr().Next()
	for set.Contains(w.gateway) {
		w.gateway = w.gateway.Next()
	}
	run(t, "ip", "-n", w.fab, "link", "add", "br0", "type", "bridge")
	run(t, "ip", "-n", w.fab, "addr", "add", netip.PrefixFrom(w.gateway, underlay.Bits()).String(), "dev", "br0")
	run(t, "ip", "-n", w.fab, "link", "set", "br0", "up")
	sysctl(t, w.fab, "net.ipv4.ip_forward", "1")
	for i := range d.nodes {
		n := &d.nodes[i]
		ns := w.netns(t, fmt.Sprintf("%s-n%d", w.prefix, i))
		w.nodeNS[n.Name], w.nodeIPs[n.Name] = ns, nodeIPv4(n)
		port := fmt.Sprintf("n%d", i)
		run(t, "ip", "-n", w.fab, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
		run(t, "ip", "-n", w.fab, "link", "set", port, "master", "br0", "up")
		run(t, "ip", "-n", ns, "addr", "add", netip.PrefixFrom(nodeIPv4(n), underlay.Bits()).String(), "dev", "eth0")
		run(t, "ip", "-n", ns, "link", "set", "eth0", "up")
		run(t, "ip", "-n", ns, "route", "add", "default", "via", w.gateway.String(), "dev", "eth0")
		sysctl(t, ns, "net.ipv4.ip_forward", "1")
		sysctl(t, ns, "net.ipv4.conf.all.rp_filter", "0")
		sysctl(t, ns, "net.ipv4.conf.eth0.rp_filter", "0")
		w.transport[n.Name] = nodeIPv4(n)
		if a, err := netip.ParsePrefix(n.Annotations["projectcalico.org/IPv4Address"]); err == nil && strings.HasPrefix(d.model, "calico") && a.Addr() != nodeIPv4(n) {
			// the address Calico picked (another interface of the node): held, and routed to it
			w.transport[n.Name] = a.Addr()
			run(t, "ip", "-n", ns, "addr", "add", a.Addr().String()+"/32", "dev", "eth0")
			run(t, "ip", "-n", w.fab, "route", "add", a.Addr().String()+"/32", "via", nodeIPv4(n).String())
		}
	}
	for i := range d.nodes {
		w.buildNode(t, d, &d.nodes[i], i)
	}
	pods := d.podsOnPodNetwork()
	for i, p := range pods {
		w.buildPod(t, d, p, i)
	}
	// the cloud's routes: kubenet's and Azure CNI Overlay's route table (a node CIDR per node),
	// the VPC's knowledge of every pod address (AWS)
	for i := range d.nodes {
		n := &d.nodes[i]
		switch d.model {
		case "kubenet", "azure-overlay":
			if c := nodeCIDRv4(n); c.IsValid() {
				run(t, "ip", "-n", w.fab, "route", "add", c.String(), "via", nodeIPv4(n).String())
			}
		}
	}
	if d.model == "aws" {
		for _, p := range pods {
			if !underlay.Contains(podIPv4(p)) {
				run(t, "ip", "-n", w.fab, "route", "add", podIPv4(p).String()+"/32", "via", w.nodeIPs[p.Spec.NodeName].String())
			}
		}
	}
}

// coveringPrefix is the smallest prefix holding every range.
func coveringPrefix(rs []netipx.IPRange) netip.Prefix {
	lo, hi := rs[0].From(), rs[len(rs)-1].To()
	for bits := 30; bits >= 0; bits-- {
		p := netip.PrefixFrom(lo, bits).Masked()
		if p.Contains(hi) {
			return p
		}
	}
	return netip.PrefixFrom(lo, 0)
}

func vtepMAC(i int) string { return fmt.Sprintf("02:70:6e:00:00:%02x", i+1) }

// buildNode adds the node's bridge, tunnel device and routes to the other nodes.
func (w *world) buildNode(t *testing.T, d *clusterData, n *corev1.Node, i int) {
	ns := w.nodeNS[n.Name]
	ip := func(args ...string) { t.Helper(); run(t, append([]string{"ip", "-n", ns}, args...)...) }
	cidr := nodeCIDRv4(n)
	switch d.model {
	case "flannel", "kubenet":
		br := map[string]string{"flannel": "cni0", "kubenet": "cbr0"}[d.model]
		ip("link", "add", br, "type", "bridge")
		ip("addr", "add", netip.PrefixFrom(cidr.Masked().Addr().Next(), cidr.Bits()).String(), "dev", br)
		ip("link", "set", br, "up")
	}
	switch d.model {
	case "flannel":
		// flannel.1: VNI 1, UDP 8472, the subnet's network address, static ARP and FDB per peer
		ip("link", "add", "flannel.1", "address", vtepMAC(i), "type", "vxlan", "id", "1", "local", w.nodeIPs[n.Name].String(), "dev", "eth0", "dstport", "8472", "nolearning")
		ip("addr", "add", cidr.Masked().Addr().String()+"/32", "dev", "flannel.1")
		ip("link", "set", "flannel.1", "up")
		for j := range d.nodes {
			o := &d.nodes[j]
			if o.Name == n.Name {
				continue
			}
			oc := nodeCIDRv4(o)
			vtep := oc.Masked().Addr().String()
			ip("route", "add", oc.String(), "via", vtep, "dev", "flannel.1", "onlink")
			ip("neigh", "add", vtep, "lladdr", vtepMAC(j), "dev", "flannel.1", "nud", "permanent")
			run(t, "ip", "netns", "exec", ns, "bridge", "fdb", "append", vtepMAC(j), "dev", "flannel.1", "dst", w.nodeIPs[o.Name].String(), "self", "permanent")
		}
	case "calico-vxlan", "calico-ipip":
		for _, b := range d.blocks[n.Name] {
			ip("route", "add", "blackhole", b.String()) // Calico's route for its own blocks
		}
		dev := "tunl0"
		if d.model == "calico-vxlan" {
			dev = "vxlan.calico"
			ip("link", "add", dev, "address", vtepMAC(i), "type", "vxlan", "id", "4096", "local", w.transport[n.Name].String(), "dev", "eth0", "dstport", "4789", "nolearning")
			ip("addr", "add", n.Annotations["projectcalico.org/IPv4VXLANTunnelAddr"]+"/32", "dev", dev)
		} else {
			// stand-in: no ipip in this kernel; a veth named tunl0 carries the routing decision
			ip("link", "add", dev, "type", "veth", "peer", "name", "tunl0-peer")
			ip("link", "set", "tunl0-peer", "up")
			ip("addr", "add", n.Annotations["projectcalico.org/IPv4IPIPTunnelAddr"]+"/32", "dev", dev)
		}
		ip("link", "set", dev, "up")
		for j := range d.nodes {
			o := &d.nodes[j]
			if o.Name == n.Name {
				continue
			}
			via := w.transport[o.Name].String() // IPIP: to the node's Calico address
			if d.model == "calico-vxlan" {
				via = o.Annotations["projectcalico.org/IPv4VXLANTunnelAddr"]
				ip("neigh", "add", via, "lladdr", vtepMAC(j), "dev", dev, "nud", "permanent")
				run(t, "ip", "netns", "exec", ns, "bridge", "fdb", "append", vtepMAC(j), "dev", dev, "dst", w.transport[o.Name].String(), "self", "permanent")
			}
			for _, b := range d.blocks[o.Name] {
				ip("route", "add", b.String(), "via", via, "dev", dev, "onlink")
			}
		}
	case "cilium":
		// cilium_host/cilium_net, every pod CIDR routed to cilium_host, cilium_vxlan in
		// collect-metadata mode (its eBPF programs pick the remote node)
		me := d.cilium[n.Name]
		ip("link", "add", "cilium_host", "type", "veth", "peer", "name", "cilium_net")
		ip("addr", "add", me.host.String()+"/32", "dev", "cilium_host")
		ip("link", "set", "cilium_net", "up")
		ip("link", "set", "cilium_host", "up")
		ip("link", "add", "cilium_vxlan", "type", "vxlan", "external", "dstport", "8472")
		ip("link", "set", "cilium_vxlan", "up")
		for _, o := range d.cilium {
			ip("route", "add", o.cidr.String(), "via", me.host.String(), "dev", "cilium_host", "src", me.host.String())
		}
	}
}

// hostDevice is the host side of a pod's veth, named the way the model names it.
func hostDevice(model string, p *corev1.Pod, i int) string {
	h := sha1.Sum([]byte(p.Namespace + "." + p.Name))
	hx := hex.EncodeToString(h[:])
	switch model {
	case "calico-vxlan", "calico-ipip":
		return "cali" + hx[:11]
	case "aws":
		return "eni" + hx[:11]
	case "cilium":
		return fmt.Sprintf("lxc%011x", i+0xabc)
	case "azure-overlay":
		return "azv" + hx[:11]
	}
	return fmt.Sprintf("veth%08x", i+0x1000)
}

func (w *world) buildPod(t *testing.T, d *clusterData, p *corev1.Pod, i int) {
	node := w.nodeNS[p.Spec.NodeName]
	ns := w.netns(t, fmt.Sprintf("%s-p%d", w.prefix, i))
	w.podNS[p.Namespace+"/"+p.Name] = ns
	host := hostDevice(d.model, p, i)
	podIP := podIPv4(p)
	run(t, "ip", "-n", node, "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns)
	run(t, "ip", "-n", node, "link", "set", host, "up")
	pip := func(args ...string) { t.Helper(); run(t, append([]string{"ip", "-n", ns}, args...)...) }
	switch d.model {
	case "flannel", "kubenet":
		br := map[string]string{"flannel": "cni0", "kubenet": "cbr0"}[d.model]
		cidr := nodeCIDRv4(nodeByName(d, p.Spec.NodeName))
		run(t, "ip", "-n", node, "link", "set", host, "master", br)
		pip("addr", "add", netip.PrefixFrom(podIP, cidr.Bits()).String(), "dev", "eth0")
		pip("link", "set", "eth0", "up")
		pip("route", "add", "default", "via", cidr.Masked().Addr().Next().String(), "dev", "eth0")
	default:
		// /32 on eth0, a link-scope gateway the host answers for, a host route into the veth
		gw := "169.254.1.1"
		if d.model == "cilium" {
			gw = d.cilium[p.Spec.NodeName].host.String()
		} else {
			// Calico's Felix sets proxy_delay to 0 too: the kernel's default answers proxy ARP
			// after a random delay of up to 0.8 s, which, over four or five resolutions on a
			// path, outlasts a ping's wait
			sysctl(t, node, "net.ipv4.conf."+host+".proxy_arp", "1")
			sysctl(t, node, "net.ipv4.neigh."+host+".proxy_delay", "0")
		}
		pip("addr", "add", podIP.String()+"/32", "dev", "eth0")
		pip("link", "set", "eth0", "up")
		pip("route", "add", gw, "dev", "eth0", "scope", "link")
		pip("route", "add", "default", "via", gw, "dev", "eth0")
		if d.model != "cilium" {
			run(t, "ip", "-n", node, "route", "add", podIP.String()+"/32", "dev", host, "scope", "link")
		}
		if d.model == "aws" {
			// the node answers the VPC's ARP for its pods' secondary addresses
			sysctl(t, node, "net.ipv4.conf.eth0.proxy_arp", "1")
			sysctl(t, node, "net.ipv4.neigh.eth0.proxy_delay", "0")
		}
	}
}

func nodeByName(d *clusterData, name string) *corev1.Node {
	for i := range d.nodes {
		if d.nodes[i].Name == name {
			return &d.nodes[i]
		}
	}
	return nil
}

// nsOf is the namespace a lookup's "in" names.
func (w *world) nsOf(t *testing.T, in string) string {
	t.Helper()
	switch {
	case in == "cloud":
		return w.fab
	case strings.HasPrefix(in, "node "):
		if ns := w.nodeNS[strings.TrimPrefix(in, "node ")]; ns != "" {
			return ns
		}
	case strings.HasPrefix(in, "pod "):
		if ns := w.podNS[strings.TrimPrefix(in, "pod ")]; ns != "" {
			return ns
		}
	}
	t.Fatalf("the trace names %q, which the emulation does not have", in)
	return ""
}

// kernelRoute is `ip -j route get` in a namespace.
type kernelRoute struct {
	Type    string `json:"type"`
	Dst     string `json:"dst"`
	Gateway string `json:"gateway"`
	Dev     string `json:"dev"`
}

func routeGet(t *testing.T, ns, query string) kernelRoute {
	t.Helper()
	out := run(t, append([]string{"ip", "-n", ns, "-j", "route", "get"}, strings.Fields(query)...)...)
	var rs []kernelRoute
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 1 {
		t.Fatalf("ip -n %s route get %s: %v\n%s", ns, query, err, out)
	}
	return rs[0]
}

// checkLookups compares each hop's predicted routing decision with the kernel's, and returns how
// many hops it checked.
func (w *world) checkLookups(t *testing.T, p *trace.Path) int {
	t.Helper()
	n := 0
	for i, h := range p.Hops {
		l := h.Lookup
		if l == nil {
			continue
		}
		n++
		ns := w.nsOf(t, l.In)
		got := routeGet(t, ns, l.Query())
		where := fmt.Sprintf("%s -> %s, hop %d (%s): ip route get %s", p.Src, p.Dst, i+1, h.Where, l.Query())
		if l.Local {
			if got.Type != "local" {
				t.Errorf("%s: the trace says local delivery, the kernel %+v", where, got)
			}
			continue
		}
		if got.Type != "" && got.Type != "unicast" {
			t.Errorf("%s: the kernel answers route type %s (%+v)", where, got.Type, got)
			continue
		}
		switch {
		case l.Dev != "" && got.Dev != l.Dev,
			l.DevPrefix != "" && !strings.HasPrefix(got.Dev, l.DevPrefix),
			l.NodeInterface && got.Dev != "eth0":
			t.Errorf("%s: the trace predicts %s, the kernel leaves by %s (via %q)", where, l, got.Dev, got.Gateway)
		}
		switch {
		case l.AnyVia:
		case got.Gateway != l.Via:
			t.Errorf("%s: the trace predicts %s, the kernel goes via %q dev %s", where, l, got.Gateway, got.Dev)
		}
		// the device the trace names for the hop is the one the kernel picks
		if l.Dev != "" && h.Device != "" && h.Device != l.Dev && h.Encap == nil && !strings.HasSuffix(h.Device, "…") && p.Network.Model != "cilium" {
			t.Errorf("%s: the hop names device %s, its lookup %s", where, h.Device, l.Dev)
		}
	}
	return n
}

// checkTunnels compares a predicted encapsulation with the device the namespace has: its kind, VNI
// and UDP port (real vxlan devices), or its presence (stand-ins).
func (w *world) checkTunnels(t *testing.T, p *trace.Path) {
	t.Helper()
	for _, h := range p.Hops {
		if h.Encap == nil {
			continue
		}
		ns := w.nsOf(t, h.Where)
		out := run(t, "ip", "-n", ns, "-d", "-j", "link", "show", "dev", h.Encap.Device)
		var links []struct {
			LinkInfo struct {
				Kind string `json:"info_kind"`
				Data struct {
					ID       int    `json:"id"`
					Port     int    `json:"port"`
					Local    string `json:"local"`
					External bool   `json:"external"`
				} `json:"info_data"`
			} `json:"linkinfo"`
		}
		if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
			t.Fatalf("%s: ip -d link show %s: %v\n%s", h.Where, h.Encap.Device, err, out)
		}
		li := links[0].LinkInfo
		if li.Kind != "vxlan" {
			t.Logf("%s: %s is a stand-in (%s): the routing decision is checked, not the %s encapsulation", h.Where, h.Encap.Device, li.Kind, h.Encap.Kind)
			continue
		}
		if h.Encap.Kind != "vxlan" || h.Encap.Port != li.Data.Port || h.Encap.VNI != 0 && h.Encap.VNI != li.Data.ID {
			t.Errorf("%s: the trace predicts %s UDP %d VNI %d on %s; the device is %s UDP %d VNI %d", h.Where, h.Encap.Kind, h.Encap.Port, h.Encap.VNI, h.Encap.Device, li.Kind, li.Data.Port, li.Data.ID)
		}
		if li.Data.External {
			continue // collect-metadata (Cilium): eBPF picks the outer addresses per packet
		}
		// the outer addresses: the device's local address, and the FDB's destination for the peer
		if li.Data.Local != h.Encap.OuterSrc {
			t.Errorf("%s: the trace predicts outer source %s; %s has local %s", h.Where, h.Encap.OuterSrc, h.Encap.Device, li.Data.Local)
		}
		var fdb []struct {
			Dst string `json:"dst"`
		}
		if err := json.Unmarshal([]byte(run(t, "ip", "netns", "exec", ns, "bridge", "-j", "fdb", "show", "dev", h.Encap.Device)), &fdb); err != nil {
			t.Fatalf("%s: bridge fdb show dev %s: %v", h.Where, h.Encap.Device, err)
		}
		if !slices.ContainsFunc(fdb, func(e struct {
			Dst string `json:"dst"`
		}) bool {
			return e.Dst == h.Encap.OuterDst
		}) {
			t.Errorf("%s: the trace predicts outer destination %s; the FDB of %s has %+v", h.Where, h.Encap.OuterDst, h.Encap.Device, fdb)
		}
	}
}

// ping sends one real echo request along the path (from the source's namespace to the
// destination address), and for a tunnel checks that the tunnel device carried it.
func (w *world) ping(t *testing.T, p *trace.Path) {
	t.Helper()
	from := ""
	switch p.Src.Kind {
	case "pod":
		from = w.podNS[p.Src.Namespace+"/"+p.Src.Name]
	case "node":
		from = w.nodeNS[p.Src.Name]
	}
	var tunnel, tunnelNS string
	for _, h := range p.Hops {
		if h.Encap != nil && tunnel == "" {
			tunnel, tunnelNS = h.Encap.Device, w.nsOf(t, h.Where)
		}
	}
	before := txPackets(t, tunnelNS, tunnel)
	// The first echo waits for every neighbour on the path (both ways) to be resolved; one more
	// try keeps a slow resolution on a busy machine from failing the test, while a path that does
	// not carry packets fails all three.
	var out []byte
	var err error
	for try := 1; try <= 3; try++ {
		out, err = exec.Command("ip", "netns", "exec", from, "busybox", "ping", "-c", "1", "-W", "3", p.Dst.IP.String()).CombinedOutput()
		if err == nil {
			break
		}
		t.Logf("%s -> %s: ping %s, try %d: %v", p.Src, p.Dst, p.Dst.IP, try, err)
	}
	if err != nil {
		t.Errorf("%s -> %s: ping %s along the emulated path failed three times: %v\n%s", p.Src, p.Dst, p.Dst.IP, err, out)
		return
	}
	if tunnel != "" && txPackets(t, tunnelNS, tunnel) <= before {
		t.Errorf("%s -> %s: the echo request did not go through %s", p.Src, p.Dst, tunnel)
	}
}

func txPackets(t *testing.T, ns, dev string) int {
	t.Helper()
	if dev == "" {
		return 0
	}
	out := run(t, "ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev)
	var links []struct {
		Stats struct {
			TX struct {
				Packets int `json:"packets"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -s link show %s: %v", dev, err)
	}
	return links[0].Stats.TX.Packets
}

// checkServiceDNAT programs kube-proxy's DNAT for the Service the trace goes through on the
// source's node (iptables, in that namespace only), listens on the chosen endpoint and connects
// from the source pod to the ClusterIP: the connection must reach the endpoint the trace names.
func (w *world) checkServiceDNAT(t *testing.T, c *cluster, src string) {
	t.Helper()
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Log("iptables is not installed: the Service DNAT is not checked")
		return
	}
	p := c.tracePath(t, src, "svc/kube-system/kube-dns", "--port", "53")
	if p.Service == nil {
		t.Fatalf("trace to svc/kube-system/kube-dns has no service step")
	}
	if !slices.ContainsFunc(p.Hops, func(h trace.Hop) bool { return strings.HasPrefix(h.Route, "DNAT ") }) {
		t.Errorf("no DNAT hop in %+v", p.Hops)
	}
	w.checkLookups(t, p)
	node := w.nodeNS[p.Src.Node]
	run(t, "ip", "netns", "exec", node, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", p.Service.ClusterIP, "-p", "tcp", "--dport", "53",
		"-j", "DNAT", "--to-destination", p.Service.Chosen+":53")
	epNS := w.podNS[p.Dst.Namespace+"/"+p.Dst.Name]
	listener := exec.Command("ip", "netns", "exec", epNS, "busybox", "nc", "-l", "-p", "53", "-e", "echo", "served-by-endpoint")
	if err := listener.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = listener.Process.Kill(); _ = listener.Wait() })
	var out []byte
	var err error
	for range 20 { // the listener may not be bound yet
		out, err = exec.Command("ip", "netns", "exec", w.podNS[src], "busybox", "timeout", "3", "busybox", "nc", "-w", "2", p.Service.ClusterIP, "53").CombinedOutput()
		if strings.Contains(string(out), "served-by-endpoint") {
			return
		}
		exec.Command("sleep", "0.1").Run()
	}
	t.Errorf("TCP to %s:53 from %s through the DNAT the trace predicts did not reach endpoint %s: %v\n%s", p.Service.ClusterIP, src, p.Service.Chosen, err, out)
}
