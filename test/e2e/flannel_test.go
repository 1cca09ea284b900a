//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podnet/kubectl-podnet/internal/overlay"
	"github.com/podnet/kubectl-podnet/internal/report"
	"github.com/podnet/kubectl-podnet/internal/trace"
)

const netcheckImage = "podnet.local/netcheck:test" // busybox with iproute2 and iputils, built by node-up --count

// realNode is one of the --count nodes: its name, underlay address and network namespace.
type realNode struct{ name, ip, netns string }

// flannelNodes starts a cluster of its own with count real nodes on flanneld (cni: flannel-vxlan
// or flannel-host-gw); node-down happens with the cluster's down.
// (its name must not be e2e-SCENARIO: clusterFor names the shared scenario clusters so)
func flannelNodes(t *testing.T, name, cni string, count int) (*cluster, []realNode, func(args ...string) string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("real nodes (network namespaces, kubelet, containerd, flanneld) need root; CI runs as root")
	}
	c := ownCluster(t, name, "")
	hc := func(args ...string) string {
		cmd := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), append(args, "--name", c.name)...)
		cmd.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("hack/cluster %v: %v\n%s", args, err, stderr)
		}
		return string(out)
	}
	hc("node-up", "--count", fmt.Sprint(count), "--cni", cni)
	env := map[string]string{}
	for _, l := range strings.Split(hc("node-env"), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			env[k] = v
		}
	}
	var nodes []realNode
	for i := 1; i <= count; i++ {
		nodes = append(nodes, realNode{env[fmt.Sprintf("NODE_%d_NAME", i)], env[fmt.Sprintf("NODE_%d_IP", i)], env[fmt.Sprintf("NODE_%d_NETNS", i)]})
	}
	if env["UNDERLAY_NETNS"] == "" || nodes[count-1].netns == "" {
		t.Fatalf("node-env: %v", env)
	}
	return c, nodes, hc
}

// checkOverlay runs check overlay with the netcheck image and reads its JSON.
func checkOverlay(t *testing.T, c *cluster, args ...string) (result, *overlay.Report) {
	t.Helper()
	r := c.podnet(t, append([]string{"check", "overlay", "--image", netcheckImage, "--image-pull-policy", "Never", "--probe-namespace", "default", "-o", "json"}, args...)...)
	var rep overlay.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check overlay %v: exit %d: %v\n%s\n%s", args, r.code, err, r.stdout, r.stderr)
	}
	if left := c.kubectl(t, "get", "pods", "-A", "-l", "app.kubernetes.io/managed-by=kubectl-podnet", "-o", "name"); strings.TrimSpace(left) != "" {
		t.Errorf("check overlay left probe pods: %s", left)
	}
	return r, &rep
}

// checksOf are a report's checks of one kind, by "from -> to" (or the node, for devices).
func checksOf(rep *overlay.Report, kind overlay.Kind) map[string]overlay.Check {
	out := map[string]overlay.Check{}
	for _, p := range rep.Pairs {
		for _, c := range p.Checks {
			if c.Check == kind {
				out[c.From+" -> "+c.To] = c
			}
		}
	}
	return out
}

// inNode runs a command in a node's network namespace: the test's own view of what flanneld programmed.
func inNode(t *testing.T, n realNode, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=/run/netns/" + n.netns}, args...)...).Output()
	if err != nil {
		t.Fatalf("in %s: %v: %v", n.name, args, err)
	}
	return out
}

type kernelVXLAN struct {
	mac, addr string
	vni, port int
	local     string
	underlay  string
}

// vxlanOf reads flannel.1 of a node from its kernel.
func vxlanOf(t *testing.T, n realNode) kernelVXLAN {
	t.Helper()
	var links []struct {
		Address  string `json:"address"`
		LinkInfo struct {
			InfoData struct {
				ID    int    `json:"id"`
				Local string `json:"local"`
				Link  string `json:"link"`
				Port  int    `json:"port"`
			} `json:"info_data"`
		} `json:"linkinfo"`
		AddrInfo []struct {
			Family string `json:"family"`
			Local  string `json:"local"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(inNode(t, n, "ip", "-j", "-d", "addr", "show", "dev", "flannel.1"), &links); err != nil || len(links) != 1 {
		t.Fatalf("flannel.1 on %s: %v %+v", n.name, err, links)
	}
	l := links[0]
	k := kernelVXLAN{mac: l.Address, vni: l.LinkInfo.InfoData.ID, port: l.LinkInfo.InfoData.Port, local: l.LinkInfo.InfoData.Local, underlay: l.LinkInfo.InfoData.Link}
	for _, a := range l.AddrInfo {
		if a.Family == "inet" {
			k.addr = a.Local
		}
	}
	return k
}

func podManifest(name, node string, hostNetwork bool, command ...string) string {
	cmd, _ := json.Marshal(command)
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":"default","labels":{"app":%q}},"spec":{"nodeName":%q,"hostNetwork":%t,
"terminationGracePeriodSeconds":0,"securityContext":{"runAsNonRoot":true,"runAsUser":65534,"seccompProfile":{"type":"RuntimeDefault"}},
"containers":[{"name":"app","image":%q,"imagePullPolicy":"Never","command":%s,
"securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}`, name, name, node, hostNetwork, testImage, cmd)
}

func startPods(t *testing.T, c *cluster, manifests ...string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "pods.json")
	if err := os.WriteFile(f, []byte(`{"apiVersion":"v1","kind":"List","items":[`+strings.Join(manifests, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c.kubectl(t, "apply", "-f", f)
	c.kubectl(t, "wait", "--for=condition=Ready", "pods", "--all", "-n", "default", "--timeout=90s")
}

func tracePath(t *testing.T, c *cluster, args ...string) (result, *trace.Path) {
	t.Helper()
	r := c.podnet(t, append(append([]string{"trace"}, args...), "--image", netcheckImage, "--image-pull-policy", "Never", "--probe-namespace", "default", "-o", "json")...)
	var p trace.Path
	if r.stdout != "" {
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
			t.Fatalf("trace %v: %v\n%s", args, err, r.stdout)
		}
	}
	return r, &p
}

// allLive fails the test unless every live check of the path is ok and the connection was made.
func allLive(t *testing.T, r result, p *trace.Path, wantDevices int) {
	t.Helper()
	if r.code != 0 || p.Probe == nil {
		t.Fatalf("exit %d, stderr %s, probe %+v", r.code, r.stderr, p.Probe)
	}
	if len(p.Probe.Checks) == 0 {
		t.Errorf("no route checks: %+v", p.Probe)
	}
	for _, ch := range p.Probe.Checks {
		if ch.Status != trace.StatusOK {
			t.Errorf("hop %d in %s: expected %s, seen %s: %s (%s)", ch.Hop, ch.In, ch.Expected, ch.Seen, ch.Status, ch.Reason)
		}
	}
	if len(p.Probe.Devices) != wantDevices {
		t.Errorf("%d tunnel device checks, want %d: %+v", len(p.Probe.Devices), wantDevices, p.Probe.Devices)
	}
	for _, d := range p.Probe.Devices {
		if d.Status != trace.StatusOK {
			t.Errorf("%s in %s: expected %s, seen %s: %s (%s)", d.Device, d.In, d.Expected, d.Seen, d.Status, d.Reason)
		}
	}
	if p.Probe.Connect == nil || p.Probe.Connect.Result != "connected" || !p.Probe.Connect.Agrees {
		t.Errorf("connect: %+v", p.Probe.Connect)
	}
}

func encapHop(p *trace.Path) *trace.Hop {
	for i := range p.Hops {
		if p.Hops[i].Encap != nil {
			return &p.Hops[i]
		}
	}
	return nil
}

// TestFlannelVXLANOnRealNodes: three real nodes on real flanneld (VXLAN). What the model predicts
// (nodes, trace) equals what flanneld programmed in each node's kernel, read here with nsenter;
// trace --probe checks every hop on the nodes themselves and --connect connects, for pod to pod
// across nodes and on one node, pod to node and node to pod.
func TestFlannelVXLANOnRealNodes(t *testing.T) {
	c, nodes, underlay := flannelNodes(t, "e2e-real-flannel-vxlan", "flannel-vxlan", 3)
	startPods(t, c,
		podManifest("client", nodes[0].name, false, "sleep", "3600"),
		podManifest("peer", nodes[0].name, false, "httpd", "-f", "-p", "8080", "-h", "/"),
		podManifest("server", nodes[1].name, false, "httpd", "-f", "-p", "8080", "-h", "/"),
		podManifest("hostsrv", nodes[1].name, true, "httpd", "-f", "-p", "18081", "-h", "/"),
	)
	kernel := map[string]kernelVXLAN{}
	for _, n := range nodes {
		kernel[n.name] = vxlanOf(t, n)
	}

	t.Run("the model equals what flanneld programmed", func(t *testing.T) {
		r := c.podnet(t, "nodes", "-o", "json")
		if r.code != 0 {
			t.Fatalf("nodes: exit %d: %s", r.code, r.stderr)
		}
		var rep report.NodesReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("nodes -o json: %v\n%s", err, r.stdout)
		}
		byName := map[string]report.NodeRow{}
		for _, n := range rep.Nodes {
			byName[n.Name] = n
		}
		for _, n := range nodes {
			nn, k := byName[n.name], kernel[n.name]
			if nn.Network.String() != "flannel/vxlan" {
				t.Errorf("%s: network %s, want flannel/vxlan", n.name, nn.Network)
			}
			if nn.Tunnel == nil || nn.Tunnel.Device != "flannel.1" || len(nn.Tunnel.Addresses) != 1 || nn.Tunnel.Addresses[0] != k.addr {
				t.Errorf("%s: tunnel %+v, the kernel's flannel.1 holds %s", n.name, nn.Tunnel, k.addr)
			}
			if len(nn.Transport) != 1 || nn.Transport[0] != k.local || k.local != n.ip {
				t.Errorf("%s: transport %v, flannel.1 is bound to %s, the node's address is %s", n.name, nn.Transport, k.local, n.ip)
			}
			if k.underlay != "eth0" || k.vni != 1 || k.port != 8472 {
				t.Errorf("%s: flannel.1 %+v", n.name, k)
			}
			// every peer is in the node's FDB (VTEP MAC -> outer destination), its neighbours
			// (tunnel address -> VTEP MAC) and its routes (pod CIDR via the tunnel address, onlink)
			fdb := string(inNode(t, n, "bridge", "fdb", "show", "dev", "flannel.1"))
			neigh := string(inNode(t, n, "ip", "neigh", "show", "dev", "flannel.1"))
			routes := string(inNode(t, n, "ip", "route", "show", "dev", "flannel.1"))
			for _, peer := range nodes {
				if peer.name == n.name {
					continue
				}
				pk, pn := kernel[peer.name], byName[peer.name]
				if !strings.Contains(fdb, pk.mac+" dst "+peer.ip+" ") {
					t.Errorf("%s: no FDB entry %s dst %s:\n%s", n.name, pk.mac, peer.ip, fdb)
				}
				if !strings.Contains(neigh, pk.addr+" lladdr "+pk.mac) {
					t.Errorf("%s: no neighbour %s lladdr %s:\n%s", n.name, pk.addr, pk.mac, neigh)
				}
				if len(pn.PodCIDRs) != 1 {
					t.Fatalf("%s: pod CIDRs %v", peer.name, pn.PodCIDRs)
				}
				if want := pn.PodCIDRs[0] + " via " + pk.addr + " onlink"; !strings.Contains(routes, want) {
					t.Errorf("%s: no route %q:\n%s", n.name, want, routes)
				}
			}
		}
	})

	t.Run("pod to pod across nodes", func(t *testing.T) {
		r, p := tracePath(t, c, "default/client", "default/server", "--probe", "--connect", "--port", "8080")
		h := encapHop(p)
		src, dst := kernel[nodes[0].name], kernel[nodes[1].name]
		if h == nil || h.Encap.Kind != "vxlan" || h.Encap.VNI != src.vni || h.Encap.Port != src.port || h.Encap.OuterSrc != src.local || h.Encap.OuterDst != dst.local || h.Encap.Device != "flannel.1" {
			t.Fatalf("encapsulation %+v, the kernel's flannel.1: %+v -> %+v", h, src, dst)
		}
		if h.Lookup == nil || h.Lookup.Via != dst.addr || h.Lookup.Dev != "flannel.1" {
			t.Errorf("the tunnel hop's route %+v, want via %s dev flannel.1", h.Lookup, dst.addr)
		}
		// flannel.1 on both ends, and the sending end's neighbour and FDB entries for the far VTEP
		allLive(t, r, p, 4)
		seen := map[trace.Aspect]string{}
		for _, d := range p.Probe.Devices {
			if d.In == "node "+nodes[0].name {
				seen[d.Aspect] = d.Seen
			}
		}
		if want := dst.addr + " lladdr " + dst.mac; seen[trace.AspectNeighbour] != want {
			t.Errorf("neighbour seen %q, the kernel has %q", seen[trace.AspectNeighbour], want)
		}
		if want := dst.mac + " dst " + dst.local; seen[trace.AspectFDB] != want {
			t.Errorf("FDB seen %q, the kernel has %q", seen[trace.AspectFDB], want)
		}
		if want := "local " + src.local + " dev " + src.underlay; !strings.Contains(seen[trace.AspectDevice], want) {
			t.Errorf("device seen %q, want %q", seen[trace.AspectDevice], want)
		}
	})

	t.Run("pod to pod on one node", func(t *testing.T) {
		r, p := tracePath(t, c, "default/client", "default/peer", "--probe", "--connect", "--port", "8080")
		if p.Case != "same-node" || encapHop(p) != nil {
			t.Errorf("case %s, encap %+v", p.Case, encapHop(p))
		}
		allLive(t, r, p, 0)
	})

	t.Run("pod to node", func(t *testing.T) {
		// the pod's packet leaves its node unencapsulated (the node's own route to the underlay)
		r, p := tracePath(t, c, "default/client", "node/"+nodes[1].name, "--probe", "--connect", "--port", "18081")
		if p.Case != "pod-to-node" || encapHop(p) != nil {
			t.Errorf("case %s, encap %+v", p.Case, encapHop(p))
		}
		allLive(t, r, p, 0)
	})

	t.Run("node to pod", func(t *testing.T) {
		r, p := tracePath(t, c, "node/"+nodes[2].name, "default/server", "--probe", "--connect", "--port", "8080")
		h := encapHop(p)
		if h == nil || h.Encap.OuterSrc != nodes[2].ip || h.Encap.OuterDst != nodes[1].ip {
			t.Fatalf("encapsulation %+v, want %s -> %s", h, nodes[2].ip, nodes[1].ip)
		}
		allLive(t, r, p, 4)
	})

	// check overlay: healthy, then the underlay drops UDP 8472 (as a security group would), then
	// carries less than pod MTU + 50 bytes; each named, both directions, and undone
	t.Run("check overlay: healthy", func(t *testing.T) {
		r, rep := checkOverlay(t, c, "--nodes", nodes[0].name+","+nodes[1].name+","+nodes[2].name)
		if r.code != 0 || rep.Summary.Pairs != 3 || rep.Summary.OK != 3 {
			t.Fatalf("exit %d, summary %+v\n%s", r.code, rep.Summary, r.stderr)
		}
		if rep.Overlay.Kind != "vxlan" || rep.Overlay.Port != 8472 || rep.Overlay.VNI != 1 || rep.Overlay.Overhead != 50 {
			t.Errorf("overlay %+v", rep.Overlay)
		}
		for _, n := range rep.Nodes {
			k := kernel[n.Name]
			if n.Device == nil || n.Device.VNI != k.vni || n.Device.Port != k.port || n.Device.Local != k.local || n.Device.Underlay != k.underlay || n.VTEPMAC != k.mac || n.TunnelAddress != k.addr || n.PodMTU != 1450 {
				t.Errorf("%s: %+v device %+v; the kernel's flannel.1: %+v", n.Name, n, n.Device, k)
			}
		}
		// one pair per zone by default: all nodes share one, so a pair is topped up
		r, rep = checkOverlay(t, c)
		if r.code != 0 || rep.Summary.Pairs != 1 || len(rep.Nodes) != 2 {
			t.Errorf("default selection: exit %d, %d nodes, summary %+v", r.code, len(rep.Nodes), rep.Summary)
		}
	})

	t.Run("check overlay: UDP 8472 dropped", func(t *testing.T) {
		underlay("underlay", "--drop-udp", "8472")
		defer underlay("underlay", "--reset")
		r, rep := checkOverlay(t, c, "--nodes", nodes[0].name+","+nodes[2].name)
		if r.code != 2 || rep.Summary.Failed != 1 {
			t.Fatalf("exit %d, summary %+v", r.code, rep.Summary)
		}
		for _, dir := range [][2]realNode{{nodes[0], nodes[2]}, {nodes[2], nodes[0]}} {
			key := dir[0].name + " -> " + dir[1].name
			tp, up := checksOf(rep, overlay.KindTunnelPing)[key], checksOf(rep, overlay.KindUnderlayPing)[key]
			want := "UDP 8472 between " + dir[0].ip + " and " + dir[1].ip + " is dropped"
			if tp.State != overlay.Failed || !strings.Contains(tp.Cause, want) || up.State != overlay.OK {
				t.Errorf("%s: tunnel ping %+v, underlay ping %+v; want the cause %q", key, tp, up, want)
			}
		}
		if mtu := checksOf(rep, overlay.KindUnderlayMTU); mtu[nodes[0].name+" -> "+nodes[2].name].State != overlay.OK {
			t.Errorf("the underlay's MTU is fine, but: %+v", mtu)
		}
	})

	t.Run("check overlay: underlay MTU too small", func(t *testing.T) {
		underlay("underlay", "--mtu", "1400")
		defer underlay("underlay", "--reset")
		r, rep := checkOverlay(t, c, "--nodes", nodes[1].name+","+nodes[2].name)
		if r.code != 2 || rep.Summary.Failed != 1 {
			t.Fatalf("exit %d, summary %+v", r.code, rep.Summary)
		}
		key := nodes[1].name + " -> " + nodes[2].name
		tp, tm, um := checksOf(rep, overlay.KindTunnelPing)[key], checksOf(rep, overlay.KindTunnelMTU)[key], checksOf(rep, overlay.KindUnderlayMTU)[key]
		want := "pod MTU 1450 + 50 bytes VXLAN = 1500 exceeds the underlay's path MTU 1400 between " + nodes[1].name + " and " + nodes[2].name
		if tp.State != overlay.OK || tm.State != overlay.Failed || um.State != overlay.Failed || !strings.Contains(um.Cause, want) || !strings.Contains(um.Cause, "lower the CNI's MTU to 1350") {
			t.Errorf("tunnel ping %+v, tunnel MTU %+v, underlay MTU %+v; want the cause %q", tp, tm, um, want)
		}
	})

	t.Run("check overlay: healthy again after the faults are undone", func(t *testing.T) {
		if r, rep := checkOverlay(t, c, "--nodes", nodes[0].name+","+nodes[2].name); r.code != 0 || rep.Summary.OK != 1 {
			t.Errorf("exit %d, summary %+v", r.code, rep.Summary)
		}
	})

	t.Run("no probe pod is left", func(t *testing.T) {
		if left := c.kubectl(t, "get", "pods", "-A", "-l", "app.kubernetes.io/managed-by=kubectl-podnet", "-o", "name"); strings.TrimSpace(left) != "" {
			t.Errorf("probe pods left behind: %s", left)
		}
	})
}

// TestFlannelHostGWOnRealNodes: flanneld's host-gw mode routes each node's pod CIDR via the node's
// address on the underlay, without a tunnel: predicted, probed and connected.
func TestFlannelHostGWOnRealNodes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("real nodes need root; CI runs as root")
	}
	before := machineState(t)
	c, nodes, hc := flannelNodes(t, "e2e-real-flannel-hostgw", "flannel-host-gw", 2)
	startPods(t, c,
		podManifest("client", nodes[0].name, false, "sleep", "3600"),
		podManifest("server", nodes[1].name, false, "httpd", "-f", "-p", "8080", "-h", "/"),
	)
	r, p := tracePath(t, c, "default/client", "default/server", "--probe", "--connect", "--port", "8080")
	if p.Network.String() != "flannel/host-gw" || encapHop(p) != nil {
		t.Fatalf("network %s, encap %+v", p.Network, encapHop(p))
	}
	var routed bool
	for _, h := range p.Hops {
		if l := h.Lookup; l != nil && l.In == "node "+nodes[0].name && l.Via == nodes[1].ip && l.NodeInterface {
			routed = true
		}
	}
	if !routed {
		t.Errorf("no hop on %s routes via %s on the node's interface: %+v", nodes[0].name, nodes[1].ip, p.Hops)
	}
	// the kernel's own route, as flanneld programmed it
	var dst netip.Prefix
	for _, n := range p.Nodes {
		if n.Name == nodes[1].name {
			dst = n.PodCIDRs[0]
		}
	}
	if want := dst.String() + " via " + nodes[1].ip + " dev eth0"; !strings.Contains(string(inNode(t, nodes[0], "ip", "route")), want) {
		t.Errorf("%s has no route %q", nodes[0].name, want)
	}
	allLive(t, r, p, 0)

	// no overlay to check: the underlay still carries the pod MTU
	r, rep := checkOverlay(t, c)
	if r.code != 0 || rep.Overlay.State != overlay.NoTunnel || rep.Summary.OK != 1 {
		t.Errorf("check overlay on host-gw: exit %d, overlay %+v, summary %+v\n%s", r.code, rep.Overlay, rep.Summary, r.stderr)
	}
	if len(checksOf(rep, overlay.KindTunnelPing)) != 0 || len(checksOf(rep, overlay.KindUnderlayMTU)) != 2 {
		t.Errorf("host-gw checks: %+v", rep.Pairs)
	}

	// node-down leaves the machine as it was: namespaces, links, processes, cgroups, state
	hc("node-down")
	if after := machineState(t); after != before {
		t.Errorf("node-down left the machine changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// machineState is what the real nodes change on this machine and node-down must restore: network
// namespaces, the root namespace's links, the node processes, containerd's cgroups, the state
// under /run and /var/lib/cni.
func machineState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	out, _ := exec.Command("ip", "netns", "list").Output()
	fmt.Fprintf(&b, "netns: %s\n", strings.Join(strings.Fields(string(out)), " "))
	out, _ = exec.Command("ip", "-o", "link", "show").Output()
	var links []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			links = append(links, strings.TrimSuffix(f[1], ":"))
		}
	}
	fmt.Fprintf(&b, "links: %s\n", strings.Join(links, " "))
	out, _ = exec.Command("sh", "-c", "ps -eo args | grep -E '^(/[^ ]*/)?(kubelet|containerd|flanneld|sleep infinity)|nodenet forward' | grep -v grep | sort").Output()
	fmt.Fprintf(&b, "processes:\n%s", out)
	cg, _ := filepath.Glob("/sys/fs/cgroup/*/k8s.io/*")
	var dirs []string
	for _, d := range cg {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			dirs = append(dirs, d)
		}
	}
	fmt.Fprintf(&b, "cgroups: %s\n", strings.Join(dirs, " "))
	run, _ := filepath.Glob("/run/podnet-*")
	fmt.Fprintf(&b, "run: %s\n", strings.Join(run, " "))
	_, err := os.Stat("/var/lib/cni")
	fmt.Fprintf(&b, "/var/lib/cni: %v\n", err == nil)
	return b.String()
}
