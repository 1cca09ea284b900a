//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// policyData is a file of testdata/policy.
func policyData(name string) string {
	return filepath.Join(repoRoot, "test", "e2e", "testdata", "policy", name)
}

// traceVerdict is the policy part of trace -o json.
type traceVerdict struct {
	NetworkPolicy struct {
		Verdict string `json:"verdict"`
		Egress  struct {
			Verdict   string   `json:"verdict"`
			DecidedBy []string `json:"decidedBy"`
			Unknown   []string `json:"unknown"`
		} `json:"egress"`
		Ingress struct {
			Verdict   string   `json:"verdict"`
			DecidedBy []string `json:"decidedBy"`
			Unknown   []string `json:"unknown"`
		} `json:"ingress"`
	} `json:"networkPolicy"`
}

func (c *cluster) policyVerdict(t *testing.T, src, dst, port string, extra ...string) traceVerdict {
	t.Helper()
	r := c.podnet(t, append([]string{"trace", src, dst, "--port", port, "-o", "json"}, extra...)...)
	if r.code != 0 {
		t.Fatalf("trace %s %s --port %s: exit %d: %s", src, dst, port, r.code, r.stderr)
	}
	var v traceVerdict
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("trace -o json: %v\n%s", err, r.stdout)
	}
	return v
}

// expect checks a verdict and that one of the deciders (or unknown reasons) contains want.
func expectVerdict(t *testing.T, what string, v traceVerdict, verdict, want string) {
	t.Helper()
	n := v.NetworkPolicy
	all := append(append(append([]string{}, n.Egress.DecidedBy...), n.Ingress.DecidedBy...), append(n.Egress.Unknown, n.Ingress.Unknown...)...)
	if n.Verdict != verdict || !slices.ContainsFunc(all, func(s string) bool { return strings.Contains(s, want) }) {
		t.Errorf("%s: verdict %s by %q, want %s naming %q", what, n.Verdict, all, verdict, want)
	}
}

// matrixJSON is what policy matrix -o json prints.
type matrixJSON struct {
	Enforced struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	} `json:"enforced"`
	Groups []struct {
		ID        int      `json:"id"`
		Namespace string   `json:"namespace"`
		Name      string   `json:"name"`
		Pods      []string `json:"pods"`
	} `json:"groups"`
	Cells []struct {
		From, To int
		Port     string `json:"port"`
		Verdict  string `json:"verdict"`
	} `json:"cells"`
	WhatIf *struct {
		Changes []struct {
			From, To int
			Port     string `json:"port"`
			Before   string `json:"before"`
			After    string `json:"after"`
		} `json:"changes"`
		Connections []struct {
			Client  int    `json:"client"`
			Service string `json:"service"`
			State   string `json:"state"`
		} `json:"connections"`
	} `json:"whatIf"`
}

func (m matrixJSON) group(t *testing.T, ns, name string) int {
	t.Helper()
	for _, g := range m.Groups {
		if g.Namespace == ns && g.Name == name {
			return g.ID
		}
	}
	t.Fatalf("no group %s/%s in %+v", ns, name, m.Groups)
	return -1
}

func (m matrixJSON) cell(t *testing.T, from, to int, port string) string {
	t.Helper()
	for _, c := range m.Cells {
		if c.From == from && c.To == to && c.Port == port {
			return c.Verdict
		}
	}
	t.Fatalf("no cell %d -> %d %s", from, to, port)
	return ""
}

// withCRDs installs a plugin's policy CRDs and its objects, and removes both when the test ends.
func (c *cluster) withCRDs(t *testing.T, crds, objects string) {
	t.Helper()
	c.kubectl(t, "apply", "-f", policyData(crds))
	c.kubectl(t, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
	t.Cleanup(func() { c.kubectl(t, "delete", "-f", policyData(crds), "--wait=true") })
	c.kubectl(t, "apply", "-f", policyData(objects))
}

func (c *cluster) matrix(t *testing.T, wantCode int, args ...string) (matrixJSON, result) {
	t.Helper()
	r := c.podnet(t, append([]string{"policy", "matrix", "--namespaces", "pay,ops", "-o", "json"}, args...)...)
	if r.code != wantCode {
		t.Fatalf("policy matrix %v: exit %d, want %d: %s", args, r.code, wantCode, r.stderr)
	}
	var m matrixJSON
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("policy matrix -o json: %v\n%s", err, r.stdout)
	}
	return m, r
}

// TestPolicyKindsOnRealAPI installs each plugin's policy CRDs on a real API server in turn, with
// objects as the projects write them, and checks trace --port and policy matrix against the
// documented semantics; then a user who may not read one kind, and a what-if that breaks the
// app's database connection.
func TestPolicyKindsOnRealAPI(t *testing.T) {
	c := ownCluster(t, "e2e-policy", "flannel-vxlan")
	c.kubectl(t, "apply", "-f", policyData("app.yaml"))
	c.kubectl(t, "wait", "--for=condition=Ready", "pod", "--all", "-n", "pay", "--timeout=60s")
	c.kubectl(t, "wait", "--for=condition=Ready", "pod", "--all", "-n", "ops", "--timeout=60s")
	if !waitFor(60*time.Second, func() bool {
		return strings.Contains(c.kubectl(t, "get", "endpointslices", "-n", "pay", "-l", "kubernetes.io/service-name=db", "-o", "jsonpath={.items[*].endpoints[*].targetRef.name}"), "db-0")
	}) {
		t.Fatal("the EndpointSlice of Service pay/db never named db-0")
	}

	// upstream NetworkPolicy alone
	expectVerdict(t, "web -> db", c.policyVerdict(t, "pay/web-0", "pay/db-0", "5432"), "allowed", "NetworkPolicy/pay/db-from-web")
	expectVerdict(t, "tool -> db", c.policyVerdict(t, "ops/tool-0", "pay/db-0", "5432"), "denied", "NetworkPolicy/pay/db-from-web")
	m, r := c.matrix(t, 0)
	if m.Enforced.State != "no" || !strings.Contains(r.stderr, "flannel alone does not enforce NetworkPolicy") {
		t.Errorf("matrix on flannel: enforced %+v, stderr %q; want not enforced, said", m.Enforced, r.stderr)
	}
	web, db, tool := m.group(t, "pay", "app=web"), m.group(t, "pay", "db-0"), m.group(t, "ops", "tool-0")
	for _, tc := range []struct {
		from, to int
		port     string
		want     string
	}{{web, db, "5432/TCP", "allowed"}, {tool, db, "5432/TCP", "denied"}, {web, db, "8080/TCP", "denied"}, {tool, web, "8080/TCP", "no policy"}} {
		if got := m.cell(t, tc.from, tc.to, tc.port); got != tc.want {
			t.Errorf("matrix %d -> %d %s: %s, want %s", tc.from, tc.to, tc.port, got, tc.want)
		}
	}

	t.Run("admin and baseline tiers", func(t *testing.T) {
		c.withCRDs(t, "crds-admin.yaml", "admin.yaml")
		// the admin tier's Allow comes before NetworkPolicy's isolation
		expectVerdict(t, "tool -> db", c.policyVerdict(t, "ops/tool-0", "pay/db-0", "5432"), "allowed", "AdminNetworkPolicy/ops-to-pay (admin)")
		// no NetworkPolicy selects web: the baseline decides
		expectVerdict(t, "db -> web", c.policyVerdict(t, "pay/db-0", "pay/web-1", "8080"), "denied", "BaselineAdminNetworkPolicy/default (baseline)")
		// a NetworkPolicy that selects db hides the baseline
		expectVerdict(t, "web -> db", c.policyVerdict(t, "pay/web-0", "pay/db-0", "5432"), "allowed", "NetworkPolicy/pay/db-from-web")
		c.kubectl(t, "apply", "-f", policyData("admin-v1alpha2.yaml"))
		expectVerdict(t, "web -> db, v1alpha2", c.policyVerdict(t, "pay/web-0", "pay/db-0", "5432"), "denied", "ClusterNetworkPolicy/no-web-to-db (admin)")
	})

	t.Run("calico tiers", func(t *testing.T) {
		c.withCRDs(t, "crds-calico.yaml", "calico.yaml")
		expectVerdict(t, "web -> db", c.policyVerdict(t, "pay/web-0", "pay/db-0", "5432"), "denied", "GlobalNetworkPolicy/security.deny-web-db (calico tier security)")
		// the rest passes to the default tier, where Calico holds the NetworkPolicies
		expectVerdict(t, "tool -> db", c.policyVerdict(t, "ops/tool-0", "pay/db-0", "5432"), "denied", "NetworkPolicy/pay/db-from-web (calico tier default)")
	})

	t.Run("cilium", func(t *testing.T) {
		c.withCRDs(t, "crds-cilium.yaml", "cilium.yaml")
		expectVerdict(t, "web -> db", c.policyVerdict(t, "pay/web-0", "pay/db-0", "5432"), "denied", "CiliumClusterwideNetworkPolicy/deny-web-db")
		expectVerdict(t, "tool -> web", c.policyVerdict(t, "ops/tool-0", "pay/web-0", "8080"), "unknown", "an L7 rule")

		// a user who may read NetworkPolicies but not Cilium's policies gets unknown, never "no policy"
		c.kubectl(t, "create", "clusterrole", "podnet-np-only", "--verb=get,list", "--resource=pods,namespaces,nodes,services,networkpolicies.networking.k8s.io,endpointslices.discovery.k8s.io,configmaps,daemonsets.apps")
		c.kubectl(t, "create", "clusterrolebinding", "podnet-np-only", "--clusterrole=podnet-np-only", "--user=podnet-np-only")
		defer c.kubectl(t, "delete", "clusterrole,clusterrolebinding", "podnet-np-only")
		r := c.podnet(t, "trace", "ops/tool-0", "pay/db-0", "--port", "5432", "-o", "json", "--as", "podnet-np-only")
		var v traceVerdict
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("trace --as podnet-np-only: exit %d: %v\n%s", r.code, err, r.stderr)
		}
		expectVerdict(t, "tool -> db, forbidden", v, "unknown", "cannot read the CiliumClusterwideNetworkPolicies (forbidden): you need 'list ciliumclusterwidenetworkpolicies.cilium.io'")
		_, r = c.matrix(t, 4, "--as", "podnet-np-only")
		if !strings.Contains(r.stderr, "cannot read the CiliumNetworkPolicies in namespace pay (forbidden)") || !strings.Contains(r.stderr, "the verdicts are incomplete") {
			t.Errorf("matrix as podnet-np-only: stderr lacks the forbidden read:\n%s", r.stderr)
		}
	})

	t.Run("antrea tiers", func(t *testing.T) {
		c.withCRDs(t, "crds-antrea.yaml", "antrea.yaml")
		expectVerdict(t, "tool -> db", c.policyVerdict(t, "ops/tool-0", "pay/db-0", "5432"), "allowed", "AntreaClusterNetworkPolicy/ops-to-db (antrea tier securityops)")
		expectVerdict(t, "tool -> db 5433", c.policyVerdict(t, "ops/tool-0", "pay/db-0", "5433"), "denied", "NetworkPolicy/pay/db-from-web")
	})

	t.Run("what-if", func(t *testing.T) {
		m, r := c.matrix(t, 2, "--with", policyData("deny-db.yaml"))
		if !strings.Contains(r.stderr, "the change breaks 1 client -> Service connection(s): pay/app=web (2 pods) -> pay/db 5432/TCP (broken)") {
			t.Errorf("stderr lacks the broken connection:\n%s", r.stderr)
		}
		web, db := m.group(t, "pay", "app=web"), m.group(t, "pay", "db-0")
		if m.WhatIf == nil || len(m.WhatIf.Changes) != 1 || m.WhatIf.Changes[0].From != web || m.WhatIf.Changes[0].To != db || m.WhatIf.Changes[0].Before != "allowed" || m.WhatIf.Changes[0].After != "denied" {
			t.Errorf("what-if changes %+v, want only web -> db turning denied", m.WhatIf)
		}
		// removing the policy opens db to everyone: connections are restored, none breaks
		m, _ = c.matrix(t, 0, "--without", "networkpolicy/pay/db-from-web")
		tool := m.group(t, "ops", "tool-0")
		restored := false
		for _, conn := range m.WhatIf.Connections {
			restored = restored || conn.Client == tool && conn.Service == "pay/db" && conn.State == "restored"
			if conn.State != "restored" {
				t.Errorf("--without: connection %+v, want only restored ones", conn)
			}
		}
		if len(m.WhatIf.Changes) == 0 || !restored {
			t.Errorf("--without: %+v, want changes and tool's connection to db restored", m.WhatIf)
		}
		// nothing was applied
		if out := c.kubectl(t, "get", "networkpolicy", "-n", "pay", "db-from-web", "-o", "jsonpath={.spec.ingress[0].ports[0].port}"); out != "pg" {
			t.Errorf("the what-if changed the cluster: db-from-web's port is %q", out)
		}
	})
}
