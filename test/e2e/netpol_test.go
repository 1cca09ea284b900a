//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// netpolPod is a pod of the policy test on the real node: a server listening on 80 and 8080, or a
// client that sleeps.
func netpolPod(ns, name, app string, server bool) string {
	cmd := `["sleep","3600"]`
	ports := ""
	if server {
		cmd = `["sh","-c","httpd -p 80 && exec httpd -f -p 8080"]`
		ports = `,"ports":[{"name":"http","containerPort":80},{"name":"alt","containerPort":8080}]`
	}
	return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","namespace":"` + ns + `","labels":{"app":"` + app + `"}},
"spec":{"nodeName":"` + nodeName + `","terminationGracePeriodSeconds":0,
"containers":[{"name":"app","image":"` + testImage + `","imagePullPolicy":"Never","command":` + cmd + ports + `}]}}`
}

// connectResult is the part of trace --connect -o json the test compares.
type connectResult struct {
	NetworkPolicy struct {
		Verdict  string `json:"verdict"`
		Enforced struct {
			State  string `json:"state"`
			Reason string `json:"reason"`
		} `json:"enforced"`
	} `json:"networkPolicy"`
	Probe struct {
		Connect struct {
			Result   string `json:"result"`
			Expected string `json:"expected"`
			Agrees   bool   `json:"agrees"`
		} `json:"connect"`
	} `json:"probe"`
}

// TestNetworkPolicyEnforcedByKubeRouter: on the real node, kube-router's network policy controller
// (a real enforcer, test-only) enforces upstream NetworkPolicy; for a table of policies and
// connections, the verdict of trace --port --connect and of policy matrix equals what real packets
// do.
func TestNetworkPolicyEnforcedByKubeRouter(t *testing.T) {
	c := realNodeCluster(t)
	hack := func(args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(repoRoot, "hack", "cluster"), append(args, "--name", c.name)...)
		cmd.Env = append(os.Environ(), "PODNET_CLUSTER_STATE="+stateDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hack/cluster %v: %v\n%s", args, err, out)
		}
	}
	hack("netpol-up")
	t.Cleanup(func() { hack("netpol-down") })
	for _, ns := range []string{"np", "np-other"} {
		c.kubectl(t, "create", "namespace", ns)
		c.kubectl(t, "label", "namespace", ns, "team="+ns)
		t.Cleanup(func() { c.kubectl(t, "delete", "namespace", ns, "--wait=false") })
	}
	dir := t.TempDir()
	for _, p := range []struct {
		ns, name, app string
		server        bool
	}{{"np", "srv", "srv", true}, {"np", "good", "good", false}, {"np", "bad", "bad", false}, {"np-other", "good", "good", false}} {
		f := filepath.Join(dir, p.ns+"-"+p.name+".json")
		if err := os.WriteFile(f, []byte(netpolPod(p.ns, p.name, p.app, p.server)), 0o600); err != nil {
			t.Fatal(err)
		}
		c.kubectl(t, "apply", "-f", f)
	}
	for _, ns := range []string{"np", "np-other"} {
		c.kubectl(t, "wait", "--for=condition=Ready", "pod", "--all", "-n", ns, "--timeout=90s")
	}

	policies := map[string]string{
		"allow-good-80": `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"allow-good-80","namespace":"np"},
"spec":{"podSelector":{"matchLabels":{"app":"srv"}},"ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"good"}}}],"ports":[{"port":"http"}]}]}}`,
		"allow-team-other": `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"allow-team-other","namespace":"np"},
"spec":{"podSelector":{"matchLabels":{"app":"srv"}},"ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"team":"np-other"}}}],"ports":[{"port":8000,"endPort":8100}]}]}}`,
		"bad-egress-alt": `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"bad-egress-alt","namespace":"np"},
"spec":{"podSelector":{"matchLabels":{"app":"bad"}},"policyTypes":["Egress"],"egress":[{"ports":[{"port":8080}]}]}}`,
	}
	apply := func(names ...string) {
		t.Helper()
		c.kubectl(t, "delete", "networkpolicy", "--all", "-n", "np", "--wait=true")
		for _, n := range names {
			f := filepath.Join(dir, n+".json")
			if err := os.WriteFile(f, []byte(policies[n]), 0o600); err != nil {
				t.Fatal(err)
			}
			c.kubectl(t, "apply", "-f", f)
		}
		// kube-router programs a change from its informers; give it a sync period at most
		time.Sleep(3 * time.Second)
	}
	connect := func(src, port string) connectResult {
		t.Helper()
		r := c.podnet(t, append([]string{"trace", src, "np/srv", "--port", port, "--connect", "-o", "json", "--limit", "50", "--probe-namespace", "np"}, probeArgs()...)...)
		var out connectResult
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("trace %s np/srv --port %s --connect: exit %d: %v\n%s", src, port, r.code, err, r.stderr)
		}
		if (r.code == 0) != out.Probe.Connect.Agrees {
			t.Errorf("trace %s --port %s: exit %d but agrees=%v", src, port, r.code, out.Probe.Connect.Agrees)
		}
		return out
	}
	matrixVerdicts := func() map[string]string {
		t.Helper()
		r := c.podnet(t, "policy", "matrix", "--namespaces", "np,np-other", "--to", "app=srv", "--port", "80,8080", "-o", "json")
		if r.code != 0 {
			t.Fatalf("policy matrix: exit %d: %s", r.code, r.stderr)
		}
		var m matrixJSON
		if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
			t.Fatal(err)
		}
		if m.Enforced.State != "yes" || !strings.Contains(m.Enforced.Reason, "kube-router") {
			t.Errorf("matrix: enforced %+v, want kube-router", m.Enforced)
		}
		out := map[string]string{}
		for _, cell := range m.Cells {
			// a group holds the pods no policy tells apart (all of a namespace, without policies)
			g := m.Groups[cell.From]
			for _, p := range g.Pods {
				out[g.Namespace+"/"+p+" "+strings.TrimSuffix(cell.Port, "/TCP")] = cell.Verdict
			}
		}
		return out
	}
	for _, tc := range []struct {
		policies []string
		src      string
		port     string
		verdict  string
		result   string
	}{
		{nil, "np/good", "80", "no policy", "connected"},
		{[]string{"allow-good-80"}, "np/good", "80", "allowed", "connected"},
		{[]string{"allow-good-80"}, "np/bad", "80", "denied", "blocked"},
		{[]string{"allow-good-80"}, "np/good", "8080", "denied", "blocked"},
		{[]string{"allow-good-80"}, "np-other/good", "80", "denied", "blocked"},
		{[]string{"allow-good-80", "allow-team-other"}, "np-other/good", "8080", "allowed", "connected"},
		{[]string{"allow-good-80", "allow-team-other"}, "np-other/good", "80", "denied", "blocked"},
		{[]string{"bad-egress-alt"}, "np/bad", "80", "denied", "blocked"},
		{[]string{"bad-egress-alt"}, "np/bad", "8080", "allowed", "connected"},
	} {
		name := strings.Join(tc.policies, "+") + " " + tc.src + ":" + tc.port
		t.Run(name, func(t *testing.T) {
			apply(tc.policies...)
			got := connect(tc.src, tc.port)
			if got.NetworkPolicy.Enforced.State != "yes" || !strings.Contains(got.NetworkPolicy.Enforced.Reason, "kube-router") {
				t.Fatalf("enforcement %+v, want enforced by kube-router", got.NetworkPolicy.Enforced)
			}
			blocked := got.Probe.Connect.Result != "connected"
			if got.NetworkPolicy.Verdict != tc.verdict || blocked != (tc.result == "blocked") || !got.Probe.Connect.Agrees {
				t.Errorf("verdict %s, connection %s (expected %q, agrees %v); want %s and %s",
					got.NetworkPolicy.Verdict, got.Probe.Connect.Result, got.Probe.Connect.Expected, got.Probe.Connect.Agrees, tc.verdict, tc.result)
			}
			ns, pod, _ := strings.Cut(tc.src, "/")
			if v := matrixVerdicts()[ns+"/"+pod+" "+tc.port]; v != tc.verdict {
				t.Errorf("policy matrix says %s for %s:%s, want %s", v, tc.src, tc.port, tc.verdict)
			}
		})
	}
}
