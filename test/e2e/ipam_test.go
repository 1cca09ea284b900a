//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/podnet/kubectl-podnet/internal/report"
)

// ipamCheck runs ipam check -o json and decodes it.
func ipamCheck(t *testing.T, c *cluster, args ...string) (*report.IPAMCheck, result) {
	t.Helper()
	r := c.podnet(t, append([]string{"ipam", "check", "-o", "json"}, args...)...)
	var rep report.IPAMCheck
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("ipam check -o json (exit %d): %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	return &rep, r
}

// TestIPAMCheckCleanScenarios: every scenario is a clean cluster as its platform writes it, so
// the check finds nothing there and exits 0; where a store exists it was read.
func TestIPAMCheckCleanScenarios(t *testing.T) {
	for _, scenario := range scenarioNames() {
		t.Run(scenario, func(t *testing.T) {
			c := clusterFor(t, scenario)
			rep, r := ipamCheck(t, c)
			// the Calico scenarios hold one pod on an address borrowed from another node's block
			wantCode := 0
			for _, f := range rep.Findings {
				if f.Kind == report.FindStale && strings.HasSuffix(f.HeldBy, "-borrowed") && strings.HasPrefix(f.Reason, "borrowed: ") {
					wantCode = 2
					continue
				}
				t.Errorf("finding on a clean scenario: %+v", f)
			}
			if strings.HasPrefix(scenario, "calico") != (wantCode == 2) || r.code != wantCode {
				t.Errorf("exit %d (want %d), findings %+v\n%s", r.code, wantCode, rep.Findings, r.stderr)
			}
			for _, s := range rep.Stores {
				if s.State == "unreadable" {
					t.Errorf("store %s unreadable: %s", s.Name, s.Reason)
				}
			}
			if strings.HasPrefix(scenario, "calico") && rep.Checked.Claims == 0 || strings.HasPrefix(scenario, "cilium") && rep.Checked.Claims == 0 {
				t.Errorf("no claims read on %s: %+v", scenario, rep.Stores)
			}
		})
	}
}

// TestIPAMCheckFindsPlantedState: on a Calico cluster of its own, the state real failures leave:
// a pod deleted while its CNI DEL never ran (kwok runs no CNI, so its block allocation stays) and
// the block affinity of a node deleted without Calico's controllers cleaning up. Both are found and
// named; a user who cannot read the IPAM stores is told which, and is shown no leak.
func TestIPAMCheckFindsPlantedState(t *testing.T) {
	c := ownCluster(t, "e2e-ipam", "calico-vxlan")
	// a pod goes while its CNI never releases the address (kwok runs no CNI: nothing does)
	var pod struct {
		Status struct {
			PodIP string `json:"podIP"`
		} `json:"status"`
	}
	c.kubectlJSON(t, &pod, "get", "pod", "-n", "shop", "web-1-1")
	c.kubectl(t, "delete", "pod", "-n", "shop", "web-1-1", "--grace-period=0", "--force", "--wait=true")
	// the block affinity of a node deleted without Calico's controllers cleaning up
	aff := `{"apiVersion":"crd.projectcalico.org/v1","kind":"BlockAffinity","metadata":{"name":"calico-node-9-192-168-99-0-26"},"spec":{"state":"confirmed","node":"calico-node-9","cidr":"192.168.99.0/26","deleted":"false"}}`
	apply := exec.Command(kubectlBin, "apply", "-f", "-")
	apply.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig)
	apply.Stdin = strings.NewReader(aff)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}

	rep, r := ipamCheck(t, c)
	if r.code != 2 {
		t.Errorf("exit %d, want 2 (findings): %s", r.code, r.stderr)
	}
	var leaked, stale bool
	for _, f := range rep.Findings {
		switch {
		case f.Kind == report.FindLeaked && f.Address == pod.Status.PodIP && f.ClaimedFor == "pod/shop/web-1-1" && f.HeldBy == "nobody" && strings.Contains(f.Next, "calicoctl ipam release --ip="+pod.Status.PodIP):
			leaked = true
		case f.Kind == report.FindStale && f.Address == "192.168.99.0/26" && f.ClaimedFor == "node/calico-node-9":
			stale = true
		case f.Kind == report.FindStale && strings.HasPrefix(f.Reason, "borrowed: "):
			// the scenario's own borrowed address
		default:
			t.Errorf("unexpected finding %+v", f)
		}
	}
	if !leaked || !stale {
		t.Errorf("leaked %s found: %v; stale affinity found: %v\n%+v", pod.Status.PodIP, leaked, stale, rep.Findings)
	}
	table := c.podnet(t, "ipam", "check")
	if table.code != 2 || !strings.Contains(table.stdout, "leaked") || !strings.Contains(table.stderr, "Calico IPAMBlocks (crd.projectcalico.org/v1): read") {
		t.Errorf("table: exit %d\n%s\n%s", table.code, table.stdout, table.stderr)
	}

	// cidr-usage counts the leaked address on the node whose block holds it, out of its capacity
	u, _ := cidrUsage(t, c)
	var blockNode string
	for _, f := range rep.Findings {
		if f.Kind == report.FindLeaked && f.Address == pod.Status.PodIP {
			blockNode = strings.TrimPrefix(f.Store, "IPAMBlock ")
		}
	}
	total := 0
	for _, n := range u.Nodes {
		total += n.Leaked
	}
	if total != 1 || len(u.LeakedFrom) == 0 || !strings.Contains(strings.Join(u.Notes, "\n"), "1 address(es) on 1 node(s) are claimed by the IPAM for pods that no longer hold them") {
		t.Errorf("cidr-usage: %d leaked (block %s), counted from %v, notes %q", total, blockNode, u.LeakedFrom, u.Notes)
	}
	if tbl := c.podnet(t, "cidr-usage"); !strings.Contains(tbl.stdout, "LEAKED") {
		t.Errorf("cidr-usage table without a LEAKED column:\n%s", tbl.stdout)
	}
	prom := c.podnet(t, "cidr-usage", "-o", "prometheus")
	if !strings.Contains(prom.stdout, "# TYPE podnet_node_pod_ips_leaked gauge") {
		t.Errorf("no leaked gauge:\n%s", prom.stdout)
	}

	// a user who may read pods but not the IPAM stores learns which stores it could not see, and
	// nothing is called leaked from what it could not read
	c.kubectl(t, "create", "clusterrole", "podnet-pods-only", "--verb=get,list,watch", "--resource=pods,nodes,namespaces,services")
	c.kubectl(t, "create", "clusterrolebinding", "podnet-pods-only", "--clusterrole=podnet-pods-only", "--user=podnet-pods")
	rep, r = ipamCheck(t, c, "--as", "podnet-pods")
	for _, f := range rep.Findings {
		if f.Kind == report.FindLeaked || f.Kind == report.FindOrphaned {
			t.Errorf("without the stores: %+v", f)
		}
	}
	if r.code != 2 && r.code != 4 || !strings.Contains(r.stderr, "IPAMBlocks") {
		t.Errorf("without the stores: exit %d\n%s", r.code, r.stderr)
	}
}

// TestIPAMCheckCiliumStaleUsed: on a Cilium cluster of its own, a pod goes while the agent never
// releases its address (kwok runs no agent: the CiliumNode keeps the status.ipam.used entry, as it
// does when an agent misses a CNI DEL). The check names it; cidr-usage counts it on that node.
func TestIPAMCheckCiliumStaleUsed(t *testing.T) {
	c := ownCluster(t, "e2e-ipam-cilium", "cilium-vxlan")
	rep, r := ipamCheck(t, c)
	if r.code != 0 || len(rep.Findings) != 0 {
		t.Fatalf("before: exit %d, findings %+v", r.code, rep.Findings)
	}
	c.kubectl(t, "delete", "pod", "-n", "shop", "web-2-0", "--grace-period=0", "--force", "--wait=true")
	rep, r = ipamCheck(t, c)
	want := report.IPAMFinding{Kind: report.FindLeaked, Address: "10.0.3.20", Store: "CiliumNode cilium-node-3", ClaimedFor: "pod/shop/web-2-0", HeldBy: "nobody"}
	if r.code != 2 || len(rep.Findings) != 1 {
		t.Fatalf("exit %d, findings %+v", r.code, rep.Findings)
	}
	got := rep.Findings[0]
	if got.Kind != want.Kind || got.Address != want.Address || got.Store != want.Store || got.ClaimedFor != want.ClaimedFor || got.HeldBy != want.HeldBy ||
		got.Reason != "pod shop/web-2-0 no longer exists" || !strings.Contains(got.Next, "cilium-node-3") {
		t.Errorf("finding %+v, want %+v", got, want)
	}
	u, _ := cidrUsage(t, c)
	for _, n := range u.Nodes {
		if wantLeaked := map[bool]int{true: 1, false: 0}[n.Name == "cilium-node-3"]; n.Leaked != wantLeaked {
			t.Errorf("cidr-usage: node %s leaked %d, want %d", n.Name, n.Leaked, wantLeaked)
		}
	}
	if strings.Join(u.LeakedFrom, ",") != "CiliumNodes (cilium.io/v2)" {
		t.Errorf("cidr-usage counted leaks from %v", u.LeakedFrom)
	}
}
