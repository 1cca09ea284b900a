//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fleet is three local control planes side by side (two AKS kubenet clusters on the same
// defaults, a Calico VXLAN cluster of kubeadm's defaults) in one merged kubeconfig, with a
// context whose server is gone and the contexts of users who may read nothing (NAME-viewer).
type fleet struct {
	aks, aks2, calico *cluster
	kubeconfig        string
	gone              string // the unreachable server's address
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	f := &fleet{aks: clusterFor(t, "aks-kubenet"), calico: clusterFor(t, "calico-vxlan")}
	f.aks2 = ownCluster(t, "e2e-fleet-aks2", "aks-kubenet")
	f.gone = freeAddr(t) // nothing listens there
	own, err := os.ReadFile(f.aks.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	server := regexp.MustCompile(`server: (\S+)`).FindSubmatch(own)
	if server == nil {
		t.Fatalf("no server in %s", f.aks.kubeconfig)
	}
	// gone: nothing listens; expired: the aks cluster's server, with a token it does not know
	gone := filepath.Join(t.TempDir(), "gone.kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: gone
  cluster:
    server: https://%s
    insecure-skip-tls-verify: true
- name: expired
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: gone
  user:
    token: nobody
- name: expired
  user:
    token: expired-long-ago
contexts:
- name: gone
  context: {cluster: gone, user: gone}
- name: expired
  context: {cluster: expired, user: expired}
`, f.gone, server[1])
	if err := os.WriteFile(gone, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	f.kubeconfig = strings.Join([]string{f.aks.kubeconfig, f.aks2.kubeconfig, f.calico.kubeconfig, gone}, string(os.PathListSeparator))
	return f
}

func (f *fleet) podnet(t *testing.T, args ...string) result {
	t.Helper()
	return runBin(t, pluginBin, f.kubeconfig, args...)
}

// fleetMember is one cluster of a fleet's -o json.
type fleetMember struct {
	Context string          `json:"context"`
	Status  string          `json:"status"`
	Error   string          `json:"error"`
	Unread  []string        `json:"unread"`
	Report  json.RawMessage `json:"report"`
}

func (f *fleet) members(t *testing.T, args ...string) (map[string]fleetMember, []string, result) {
	t.Helper()
	r := f.podnet(t, append(args, "-o", "json")...)
	var out struct {
		Clusters []fleetMember `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v -o json: exit %d, %v\nstderr: %s", args, r.code, err, r.stderr)
	}
	m := map[string]fleetMember{}
	var order []string
	for _, c := range out.Clusters {
		m[c.Context] = c
		order = append(order, c.Context)
	}
	return m, order, r
}

// sameJSON compares two JSON documents as values.
func sameJSON(t *testing.T, what string, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("%s: the fleet's report differs from the cluster's own (-alone +fleet):\n%s", what, d)
	}
}

func TestFleet(t *testing.T) {
	f := newFleet(t)
	names := []string{f.aks.name, f.aks2.name, f.calico.name}
	viewer := f.aks2.name + "-viewer"
	all := append(append([]string(nil), names...), "gone", viewer)
	contexts := strings.Join(all, ",")

	t.Run("nodes: one table, each row the cluster's own", func(t *testing.T) {
		r := f.podnet(t, "nodes", "--contexts", contexts, "--no-headers")
		if r.code != 4 {
			t.Fatalf("exit %d, want 4 (two contexts did not answer)\nstderr: %s", r.code, r.stderr)
		}
		got := map[string][]string{}
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			ctx, rest, _ := strings.Cut(l, " ")
			got[ctx] = append(got[ctx], strings.Join(strings.Fields(rest), " "))
		}
		for _, n := range names {
			alone := f.podnet(t, "nodes", "--context", n, "--no-headers")
			if alone.code != 0 {
				t.Fatalf("nodes --context %s: exit %d: %s", n, alone.code, alone.stderr)
			}
			var want []string
			for _, l := range strings.Split(strings.TrimSpace(alone.stdout), "\n") {
				want = append(want, strings.Join(strings.Fields(l), " "))
			}
			if d := cmp.Diff(want, got[n]); d != "" {
				t.Errorf("context %s (-alone +fleet):\n%s", n, d)
			}
		}
		if len(got) != len(names) {
			t.Errorf("rows of %d contexts, want %d: %v", len(got), len(names), got)
		}
		for _, line := range []string{
			"error: context gone (unreachable): cannot reach the API server at https://" + f.gone + ": connection refused",
			"error: context " + viewer + " (forbidden): user \"" + viewer + "\" may not list nodes",
		} {
			if !strings.Contains(r.stderr, line) {
				t.Errorf("stderr lacks %q:\n%s", line, r.stderr)
			}
		}
	})

	t.Run("summary and cidr-usage: each report the cluster's own", func(t *testing.T) {
		for _, cmd := range []string{"summary", "cidr-usage"} {
			got, order, r := f.members(t, cmd, "--contexts", contexts)
			if r.code != 4 {
				t.Errorf("%s: exit %d, want 4\nstderr: %s", cmd, r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "the answer is incomplete: context gone is unreachable; context "+viewer+" is forbidden") {
				t.Errorf("%s: the last error does not name both failed contexts:\n%s", cmd, r.stderr)
			}
			if d := cmp.Diff(all, order); d != "" {
				t.Errorf("%s: clusters not in the order given (-want +got):\n%s", cmd, d)
			}
			for _, n := range names {
				alone := runBin(t, pluginBin, f.kubeconfig, cmd, "--context", n, "-o", "json")
				if alone.code != 0 || got[n].Status != "ok" {
					t.Fatalf("%s: context %s alone exit %d, in the fleet %q: %s", cmd, n, alone.code, got[n].Status, alone.stderr)
				}
				sameJSON(t, cmd+" "+n, []byte(alone.stdout), got[n].Report)
			}
			if m := got["gone"]; m.Status != "unreachable" || !strings.Contains(m.Error, "connection refused") || m.Report != nil {
				t.Errorf("%s: context gone: %+v", cmd, m)
			}
			if m := got[viewer]; m.Status != "forbidden" || m.Report != nil {
				t.Errorf("%s: context %s: %+v", cmd, viewer, m)
			}
		}
		// credentials the server refuses: one line for the context, the others answer
		got, _, r := f.members(t, "summary", "--contexts", f.aks.name+",expired")
		if m := got["expired"]; r.code != 4 || m.Status != "unauthorized" || !strings.Contains(m.Error, "rejected the credentials (401 Unauthorized)") || got[f.aks.name].Status != "ok" {
			t.Errorf("expired credentials: exit %d, %+v\n%s", r.code, got, r.stderr)
		}
	})

	t.Run("all contexts; none answering", func(t *testing.T) {
		got, order, r := f.members(t, "cidr-usage", "--all-contexts", "--parallel", "3")
		if r.code != 4 {
			t.Errorf("exit %d, want 4\nstderr: %s", r.code, r.stderr)
		}
		var want []string
		for _, n := range names {
			want = append(want, n, n+"-admin-token", n+"-viewer")
		}
		want = append(want, "expired", "gone")
		slices.Sort(want)
		if d := cmp.Diff(want, order); d != "" {
			t.Errorf("--all-contexts (-want +got):\n%s", d)
		}
		if got[f.aks.name+"-admin-token"].Status != "ok" || got[f.calico.name+"-viewer"].Status != "forbidden" {
			t.Errorf("statuses: %+v", got)
		}
		r = f.podnet(t, "summary", "--contexts", "gone,"+viewer)
		if r.code != 1 || !strings.Contains(r.stderr, "no cluster answered: context gone is unreachable, context "+viewer+" is forbidden") {
			t.Errorf("none answering: exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("overlap: two kubenet clusters on the same defaults", func(t *testing.T) {
		var rep overlapReport
		r := f.podnet(t, "overlap", "--contexts", f.aks.name+","+f.aks2.name, "--for", "peering", "-o", "json")
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("exit %d: %v\n%s", r.code, err, r.stderr)
		}
		if r.code != 2 || !strings.Contains(r.stderr, "peering is broken: by overlap") {
			t.Errorf("exit %d, want 2 (peering broken)\n%s", r.code, r.stderr)
		}
		// the same node addresses: two VNets of one address space, which cannot be peered; kubenet's
		// pod CIDRs stay in each VNet's route table, which only a mesh minds
		want := []string{
			f.aks.name + " nodes 10.224.0.4/30 ~ " + f.aks2.name + " nodes 10.224.0.4/30: equal SameNodeAddress peering",
			f.aks.name + " pods 10.244.0.0/16 ~ " + f.aks2.name + " pods 10.244.0.0/16: equal PodsNotUnique mesh",
			f.aks.name + " services 10.0.0.0/16 ~ " + f.aks2.name + " services 10.0.0.0/16: equal ServicesNotUnique submariner",
		}
		if d := cmp.Diff(want, rep.lines()); d != "" {
			t.Errorf("overlaps (-want +got):\n%s", d)
		}
		// two contexts of one cluster: read once, not compared with itself
		r = f.podnet(t, "overlap", "--contexts", f.aks.name+","+f.aks.name+"-admin-token", "--for", "submariner", "-o", "json")
		var self overlapReport
		if err := json.Unmarshal([]byte(r.stdout), &self); err != nil || r.code != 0 || len(self.Overlaps) != 0 ||
			!strings.Contains(r.stderr, "context "+f.aks.name+"-admin-token is the cluster of context "+f.aks.name) {
			t.Errorf("one cluster under two contexts: exit %d, %v, overlaps %v\n%s", r.code, err, self.lines(), r.stderr)
		}
		// the ranges are the ones summary shows for each cluster
		var s summaryRanges
		f.aks.podnetJSON(t, &s, "summary")
		var fromSummary []string
		for _, c := range s.NodeNetwork.InternalRanges {
			fromSummary = append(fromSummary, "nodes "+c)
		}
		for _, c := range s.PodNetwork.PodCIDRs {
			fromSummary = append(fromSummary, "pods "+c.CIDR)
		}
		for _, c := range s.ClusterNetwork.ServiceCIDRs {
			fromSummary = append(fromSummary, "services "+c.CIDR)
		}
		if d := cmp.Diff(fromSummary, rep.rangesOf(f.aks.name)); d != "" {
			t.Errorf("ranges of %s against summary (-summary +overlap):\n%s", f.aks.name, d)
		}
	})

	t.Run("overlap: three clusters, disjoint pod ranges, a network, a cluster gone", func(t *testing.T) {
		var rep overlapReport
		r := f.podnet(t, "overlap", "--contexts", strings.Join(append(names, "gone"), ","), "--network", "10.224.0.0/16=vnet-aks", "-o", "json")
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("exit %d: %v\n%s", r.code, err, r.stderr)
		}
		// without --for only a cluster-level break is a finding, and there is none: exit 4 for the
		// context gone
		if r.code != 4 || !strings.Contains(r.stderr, "error: context gone (unreachable)") {
			t.Errorf("exit %d, want 4 naming the context gone\n%s", r.code, r.stderr)
		}
		lines := rep.lines()
		for _, want := range []string{
			// kubeadm's node subnet of the Calico cluster lies in AKS's default Service CIDR
			f.aks.name + " services 10.0.0.0/16 ~ " + f.calico.name + " nodes 10.0.0.0/24: contains Shadowed peering",
			f.aks2.name + " services 10.0.0.0/16 ~ " + f.calico.name + " nodes 10.0.0.0/24: contains Shadowed peering",
			f.aks.name + " nodes 10.224.0.4/30 ~ vnet-aks network 10.224.0.0/16: within HomeNetwork ",
		} {
			if !slices.Contains(lines, want) {
				t.Errorf("no overlap %q in:\n%s", want, strings.Join(lines, "\n"))
			}
		}
		for _, l := range lines {
			if strings.Contains(l, "pods 192.168.0.0/16") {
				t.Errorf("the Calico pool overlaps nothing, yet: %s", l)
			}
		}
		var verdicts []string
		for _, v := range rep.Verdicts {
			verdicts = append(verdicts, fmt.Sprintf("%s %v", v.Goal, v.Holds))
		}
		if d := cmp.Diff([]string{"cluster true", "peering false", "mesh false", "submariner false"}, verdicts); d != "" {
			t.Errorf("verdicts (-want +got):\n%s", d)
		}
		// the Calico cluster and one of the kubenet clusters alone: nothing breaks a cluster,
		// a mesh is broken only through peering (Service CIDR over nodes), and the table says so
		r = f.podnet(t, "overlap", "--contexts", f.calico.name+","+f.aks.name)
		if r.code != 0 {
			t.Errorf("calico and aks without --for: exit %d, want 0\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "peering      broken by 1") || !strings.Contains(r.stdout, "cluster      holds") {
			t.Errorf("verdict table:\n%s", r.stdout)
		}
	})
}

// summaryRanges are the ranges summary -o json states.
type summaryRanges struct {
	NodeNetwork struct {
		InternalRanges []string `json:"internalRanges"`
	} `json:"nodeNetwork"`
	PodNetwork struct {
		PodCIDRs []struct{ CIDR string } `json:"podCIDRs"`
	} `json:"podNetwork"`
	ClusterNetwork struct {
		ServiceCIDRs []struct{ CIDR string } `json:"serviceCIDRs"`
	} `json:"clusterNetwork"`
}

// overlapReport is overlap -o json, as far as the test reads it.
type overlapReport struct {
	Ranges []struct {
		Owner string `json:"owner"`
		Role  string `json:"role"`
		CIDR  string `json:"cidr"`
	} `json:"ranges"`
	Overlaps []struct {
		A, B struct {
			Owner, Role, CIDR string
		}
		Relation, Kind, Breaks string
	} `json:"overlaps"`
	Verdicts []struct {
		Goal  string `json:"goal"`
		Holds bool   `json:"holds"`
	} `json:"verdicts"`
}

func (r overlapReport) lines() []string {
	out := []string{}
	for _, o := range r.Overlaps {
		out = append(out, fmt.Sprintf("%s %s %s ~ %s %s %s: %s %s %s", o.A.Owner, o.A.Role, o.A.CIDR, o.B.Owner, o.B.Role, o.B.CIDR, o.Relation, o.Kind, o.Breaks))
	}
	return out
}

func (r overlapReport) rangesOf(owner string) []string {
	var out []string
	for _, x := range r.Ranges {
		if x.Owner == owner {
			out = append(out, x.Role+" "+x.CIDR)
		}
	}
	return out
}

// overlapReach is how far each scenario's pod addresses reach, as its network model says:
// "underlay" when joined networks see them (the VPC/VNet's own addresses: "node-network"),
// "network" when the cluster's own network routes them (AKS kubenet's route table), "cluster"
// when they stay inside it (a tunnel, Azure CNI Overlay's private CIDR, Flannel host-gw's routes
// on the nodes alone).
var overlapReach = map[string]string{
	"aks-kubenet":           "network",
	"antrea-geneve":         "cluster",
	"aws-prefix-delegation": "underlay node-network",
	"aws-vpc-cni":           "underlay node-network",
	"azure-cni":             "underlay node-network",
	"azure-cni-overlay":     "cluster",
	"calico-ipip":           "cluster",
	"calico-vxlan":          "cluster",
	"cilium-cluster-pool":   "cluster",
	"cilium-vxlan":          "cluster",
	"exhausted":             "cluster",
	"flannel-vxlan":         "cluster",
}

// TestOverlapOnEveryScenario: on every scenario, overlap's ranges of one cluster are the ones
// summary and nodes state (pod and Service CIDRs, every node address inside a node range), each
// pod range reaches as its model says, and no scenario's own ranges collide (Cilium's defaults
// would, once a node holds a CIDR in the Service CIDR).
func TestOverlapOnEveryScenario(t *testing.T) {
	for _, scenario := range scenarioNames() {
		t.Run(scenario, func(t *testing.T) {
			want, ok := overlapReach[scenario]
			if !ok {
				t.Fatalf("scenario %s: say how far its pods reach in overlapReach", scenario)
			}
			c := clusterFor(t, scenario)
			r := c.podnet(t, "overlap", "-o", "json")
			if r.code != 0 {
				t.Errorf("exit %d, want 0 (a scenario's own ranges do not collide)\n%s\n%s", r.code, r.stderr, r.stdout)
			}
			var rep struct {
				Ranges []struct {
					Owner, Role, CIDR, Reach string
					OfNodeNetwork            bool `json:"ofNodeNetwork"`
				} `json:"ranges"`
				Overlaps []struct{ Kind string } `json:"overlaps"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("%v\n%s", err, r.stdout)
			}
			// Cilium's default cluster-pool 10.0.0.0/8 holds kubeadm's default Service CIDR
			// 10.96.0.0/12 (and, in cilium-cluster-pool, the nodes' 10.128.0.0/9 of GCE's
			// default network); no node holds a /24 there yet: latent collisions, warned about
			var kinds []string
			for _, o := range rep.Overlaps {
				kinds = append(kinds, o.Kind)
			}
			wantKinds := map[string][]string{"cilium-vxlan": {"InClusterLatent"}, "cilium-cluster-pool": {"InClusterLatent", "InClusterLatent"}}[scenario]
			if strings.HasPrefix(scenario, "cilium-") {
				if !strings.Contains(r.stderr, "warning: cluster "+c.name+"'s pod range 10.0.0.0/8 holds its Service CIDR (ClusterIPs) 10.96.0.0/12, but no node holds a pod CIDR there yet") {
					t.Errorf("no warning of the latent collision:\n%s", r.stderr)
				}
			}
			if d := cmp.Diff(wantKinds, kinds); d != "" {
				t.Errorf("overlaps of the scenario's own ranges (-want +got):\n%s", d)
			}
			var s summaryRanges
			c.podnetJSON(t, &s, "summary")
			var nodes struct {
				Nodes []struct {
					Name        string   `json:"name"`
					InternalIPs []string `json:"internalIPs"`
				} `json:"nodes"`
			}
			c.podnetJSON(t, &nodes, "nodes")

			got := map[string][]netip.Prefix{}
			for _, x := range rep.Ranges {
				if x.Owner != c.name {
					t.Errorf("range of %q, want the current context %q", x.Owner, c.name)
				}
				got[x.Role] = append(got[x.Role], netip.MustParsePrefix(x.CIDR))
				if x.Role == "pods" {
					reach := x.Reach
					if x.OfNodeNetwork {
						reach += " node-network"
					}
					if reach != want {
						t.Errorf("pods %s reach %q, want %q", x.CIDR, reach, want)
					}
				}
			}
			var wantPods, wantServices []string
			for _, p := range s.PodNetwork.PodCIDRs {
				wantPods = append(wantPods, netip.MustParsePrefix(p.CIDR).Masked().String())
			}
			for _, p := range s.ClusterNetwork.ServiceCIDRs {
				wantServices = append(wantServices, netip.MustParsePrefix(p.CIDR).Masked().String())
			}
			str := func(ps []netip.Prefix) []string {
				var out []string
				for _, p := range ps {
					out = append(out, p.String())
				}
				return out
			}
			if len(wantPods) > 0 || !strings.Contains(want, "node-network") {
				if d := cmp.Diff(wantPods, str(got["pods"])); d != "" {
					t.Errorf("pod ranges against summary's pod CIDRs (-summary +overlap):\n%s", d)
				}
			} else if len(got["pods"]) == 0 {
				t.Errorf("pods of the node network, and no range covering them")
			}
			if d := cmp.Diff(wantServices, str(got["services"])); d != "" {
				t.Errorf("Service ranges against summary's (-summary +overlap):\n%s", d)
			}
			for _, n := range nodes.Nodes {
				for _, ip := range n.InternalIPs {
					a := netip.MustParseAddr(ip)
					if !slices.ContainsFunc(got["nodes"], func(p netip.Prefix) bool { return p.Contains(a) }) {
						t.Errorf("node %s's address %s is in no node range %v", n.Name, ip, got["nodes"])
					}
				}
			}
		})
	}
}
