package report

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/probe"
)

// hostLocalInventory: three kubenet nodes (host-local on spec.podCIDRs) and their pods.
func hostLocalInventory() *cluster.Inventory {
	run := func(name, node string, ips ...string) cluster.Pod {
		return cluster.Pod{Namespace: "shop", Name: name, Node: node, IPs: addrs(ips...), Phase: corev1.PodRunning}
	}
	return &cluster.Inventory{
		Nodes: []cluster.Node{
			{Name: "k1", Ready: "Ready", AllocatablePods: 110, InternalIPs: addrs("10.240.0.4"), PodCIDRs: prefixes("10.244.1.0/24")},
			{Name: "k2", Ready: "Ready", AllocatablePods: 110, InternalIPs: addrs("10.240.0.5"), PodCIDRs: prefixes("10.244.2.0/24")},
			{Name: "k3", Ready: "Ready", AllocatablePods: 110, InternalIPs: addrs("10.240.0.6"), PodCIDRs: prefixes("10.244.3.0/24")},
		},
		Pods: []cluster.Pod{
			run("web-1", "k1", "10.244.1.5"),
			run("web-2", "k1", "10.244.1.9"), // no reservation: an orphan candidate
			run("web-3", "k2", "10.244.2.5"),
		},
	}
}

func TestIPAMCheckHostLocal(t *testing.T) {
	inv := hostLocalInventory()
	v := netmodel.Resolve(inv)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-3 * time.Hour)
	res := func(addr, sandbox string, since time.Time) probe.Reservation {
		return probe.Reservation{Network: "kubenet", Address: netip.MustParseAddr(addr), Container: "0123456789abcdef0123", Interface: "eth0", Since: since, Sandbox: sandbox,
			File: "/var/lib/cni/networks/kubenet/" + addr}
	}
	k1 := &probe.HostLocalNode{Node: "k1", DataDir: "/var/lib/cni/networks", State: probe.StoreOK, Networks: []string{"kubenet"}, Runtime: "/run/containerd", RuntimeState: "ok", Now: now,
		Reservations: []probe.Reservation{
			res("10.244.1.5", probe.SandboxRunning, old),                   // held by web-1
			res("10.244.1.6", probe.SandboxGone, old),                      // leaked
			res("10.244.1.7", probe.SandboxGone, now.Add(-20*time.Second)), // too young to tell
			res("10.244.1.8", probe.SandboxRunning, old),                   // a sandbox runs: a pod on its way
			res("10.244.2.5", probe.SandboxGone, old),                      // web-3 holds it, but on k2: leaked here
		}}
	k2 := &probe.HostLocalNode{Node: "k2", DataDir: "/var/lib/cni/networks", State: probe.StoreOK, Networks: []string{"kubenet"}, RuntimeState: "not found", Now: now,
		Reservations: []probe.Reservation{
			res("10.244.2.5", probe.SandboxUnknown, old), // held by web-3
			res("10.244.2.6", probe.SandboxUnknown, old), // held by nobody, runtime not visible: unproven
		}}
	if diff := cmp.Diff([]PodAddress{{Pod: "shop/web-2", Node: "k1", Address: netip.MustParseAddr("10.244.1.9")}}, HostLocalOrphans(inv, v, []*probe.HostLocalNode{k1, k2}),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("orphan candidates (-want +got):\n%s", diff)
	}
	stores := &NodeStores{HostLocal: []*probe.HostLocalNode{k1, k2}, Failed: map[string]string{},
		Orphans: []PodAddress{{Pod: "shop/web-2", Node: "k1", Address: netip.MustParseAddr("10.244.1.9")}}}
	c := BuildIPAMCheck(inv, v, nil, stores)
	want := []brief{
		{"leaked", "10.244.1.6", "host-local k1:/var/lib/cni/networks/kubenet/10.244.1.6", "sandbox 0123456789abc (eth0)", "nobody"},
		{"leaked", "10.244.2.5", "host-local k1:/var/lib/cni/networks/kubenet/10.244.2.5", "sandbox 0123456789abc (eth0)", "pod/shop/web-3"},
		{"orphaned", "10.244.1.9", "pod status", "", "pod/shop/web-2"},
	}
	if diff := cmp.Diff(want, briefs(c)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if f := c.Findings[0]; f.Since != "2026-12-01T09:00:00Z" || !strings.Contains(f.Next, "remove the file /var/lib/cni/networks/kubenet/10.244.1.6 on the node") {
		t.Errorf("leak: since %q, next %q", f.Since, f.Next)
	}
	var unproven []string
	for _, u := range c.Unproven {
		unproven = append(unproven, u.Node+" "+u.Reservation.Address.String()+": "+u.Why)
	}
	wantUnproven := []string{
		"k1 10.244.1.7: reserved 20s ago: a pod may be starting",
		"k2 10.244.2.6: the container runtime's sandboxes are not visible on the node (not found): name its state directory with --runtime-state-dir",
	}
	if diff := cmp.Diff(wantUnproven, unproven); diff != "" {
		t.Errorf("unproven (-want +got):\n%s", diff)
	}
	var states []string
	for _, s := range c.Stores {
		states = append(states, s.Name+": "+string(s.State))
	}
	wantStores := []string{
		"host-local reservations on node k1 (/var/lib/cni/networks): read",
		"host-local reservations on node k2 (/var/lib/cni/networks): read",
		"host-local reservations on 1 node(s): not visible through the API",
	}
	if diff := cmp.Diff(wantStores, states); diff != "" {
		t.Errorf("stores (-want +got):\n%s", diff)
	}
	if c.Checked.Claims != 7 || len(c.Gaps()) != 0 {
		t.Errorf("checked %+v, gaps %v", c.Checked, c.Gaps())
	}

	// a node whose probe failed is a gap; pods of one namespace make nothing leaked
	inv = hostLocalInventory()
	inv.PodsNamespace = "shop"
	c = BuildIPAMCheck(inv, netmodel.Resolve(inv), nil, &NodeStores{HostLocal: []*probe.HostLocalNode{k1}, Failed: map[string]string{"k3": "the probe of node/k3 did not finish within --timeout"}})
	if len(c.Findings) != 0 || len(c.Unproven) != 0 {
		t.Errorf("with pods of one namespace: %v, unproven %v", briefs(c), c.Unproven)
	}
	if diff := cmp.Diff([]string{"host-local reservations on node k3 (the probe of node/k3 did not finish within --timeout)"}, c.Gaps()); diff != "" {
		t.Errorf("gaps (-want +got):\n%s", diff)
	}
}

// TestIPAMCheckWhereabouts: a Whereabouts allocation of a deleted pod is leaked, with the
// reconciler as next step; a live pod's is not (its status lists only the primary address); the
// pool is no node's capacity.
func TestIPAMCheckWhereabouts(t *testing.T) {
	inv := hostLocalInventory()
	store := "Whereabouts IPPool kube-system/macvlan"
	wb := func(addr, pod string) cluster.AddressClaim {
		return cluster.AddressClaim{Address: netip.MustParseAddr(addr), Store: store, Kind: cluster.ClaimPod, Namespace: "shop", Pod: pod, Secondary: true}
	}
	inv.Claims = &cluster.Claims{Addresses: []cluster.AddressClaim{wb("192.168.50.2", "web-1"), wb("192.168.50.3", "gone")},
		Stores: []cluster.ClaimStore{{Name: "Whereabouts IPPools (whereabouts.cni.cncf.io/v1alpha1)", State: cluster.StoreRead, Objects: 1, Secondary: true}}}
	v := netmodel.Resolve(inv)
	c := BuildIPAMCheck(inv, v, nil, nil)
	if diff := cmp.Diff([]brief{{"leaked", "192.168.50.3", store, "pod/shop/gone", "nobody"}}, briefs(c)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(c.Findings) == 1 && !strings.Contains(c.Findings[0].Next, "ip-reconciler") {
		t.Errorf("next: %s", c.Findings[0].Next)
	}
	u := BuildCIDRUsage(inv, v, &cluster.ClusterIPs{}, CIDRUsageConfig{WarnAt: 0.8})
	for _, n := range u.Nodes {
		if n.Leaked != 0 {
			t.Errorf("node %s counts %d leaked of a secondary network", n.Name, n.Leaked)
		}
	}
	if len(u.LeakedFrom) != 0 {
		t.Errorf("leakedFrom %v", u.LeakedFrom)
	}
}
