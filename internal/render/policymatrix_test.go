package render

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podnet/kubectl-podnet/internal/policy"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// testMatrix has three groups of real-length names, two ports and every verdict.
func testMatrix() *report.PolicyMatrix {
	side := func(v policy.Result, by ...string) *report.MatrixSide {
		return &report.MatrixSide{Verdict: v, DecidedBy: by}
	}
	none := side(policy.NoPolicy)
	np := "NetworkPolicy/payments-production/postgres-from-ledger (network-policy)"
	unknown := &report.MatrixSide{Verdict: policy.Unknown, Unknown: []string{"CiliumNetworkPolicy/payments-production/l7: an L7 rule (HTTP, DNS, Kafka, TLS) decides per request on this port"}}
	m := &report.PolicyMatrix{
		Ports: []string{"5432/TCP", "8080/TCP"},
		Groups: []report.MatrixGroup{
			{ID: 0, Namespace: "payments-production", Name: "ledger-writer", Labels: map[string]string{"app": "ledger-writer", "pod-template-hash": "7d9f8b6c5d"}, Pods: []string{"ledger-writer-7d9f8b6c5d-x2k4q", "ledger-writer-7d9f8b6c5d-z9q2m"}, Source: true, Destination: true},
			{ID: 1, Namespace: "payments-production", Name: "postgres-primary", Labels: map[string]string{"app": "postgres", "role": "primary"}, Pods: []string{"postgres-primary-0"}, Source: true, Destination: true},
			{ID: 2, Namespace: "payments-production", Name: "debug-shell", Pods: []string{"debug-shell"}, Source: true},
		},
		Policies: map[string]int{"NetworkPolicy": 1, "CiliumNetworkPolicy": 1},
	}
	for _, from := range []int{0, 1, 2} {
		for _, to := range []int{0, 1} {
			for _, port := range m.Ports {
				c := report.MatrixCell{From: from, To: to, Port: port, Verdict: policy.NoPolicy, Egress: none, Ingress: none}
				switch {
				case to == 1 && from == 0:
					c.Verdict, c.Ingress = policy.Allowed, side(policy.Allowed, np)
				case to == 1:
					c.Verdict, c.Ingress = policy.Denied, side(policy.Denied, np)
				case port == "8080/TCP" && from == 2:
					c.Verdict, c.Ingress = policy.Unknown, unknown
				}
				m.AddCell(c)
			}
		}
	}
	return m
}

func TestPolicyMatrixGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		color bool
	}{{"policy-matrix.golden", false}, {"policy-matrix-color.golden", true}} {
		var b bytes.Buffer
		pal := NewPalette(&b, "never")
		if tc.color {
			pal = NewPalette(&b, "always")
		}
		if err := PolicyMatrix(&b, testMatrix(), TableOptions{Palette: pal}); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.name, b.String())
	}
	var b bytes.Buffer
	if err := PolicyMatrixCSV(&b, testMatrix()); err != nil {
		t.Fatal(err)
	}
	golden(t, "policy-matrix.csv.golden", b.String())
}

func TestPolicyWhatIfGolden(t *testing.T) {
	m := testMatrix()
	m = &report.PolicyMatrix{Ports: m.Ports, Groups: m.Groups, Policies: m.Policies}
	m.WhatIf = &report.WhatIf{
		Added: []string{"NetworkPolicy/payments-production/deny-all"},
		Changes: []report.MatrixChange{
			{From: 0, To: 1, Port: "5432/TCP", Was: policy.Allowed, Is: policy.Denied, DecidedBy: []string{"NetworkPolicy/payments-production/deny-all (network-policy)"}},
			{From: 2, To: 0, Port: "8080/TCP", Was: policy.Unknown, Is: policy.Denied, DecidedBy: []string{"NetworkPolicy/payments-production/deny-all (network-policy)"}},
		},
		Connections: []report.ServiceConnection{{Client: 0, Service: "payments-production/postgres", Port: "5432/TCP", Backend: 1, Before: 1, After: 0, State: report.ConnectionBroken}},
	}
	var b bytes.Buffer
	if err := PolicyWhatIf(&b, m, TableOptions{Palette: NewPalette(&b, "never")}); err != nil {
		t.Fatal(err)
	}
	golden(t, "policy-whatif.golden", b.String())
	b.Reset()
	if err := PolicyMatrixCSV(&b, m); err != nil {
		t.Fatal(err)
	}
	golden(t, "policy-whatif.csv.golden", b.String())
}

// The streamed JSON is what encoding/json writes for the whole matrix.
func TestPolicyMatrixJSONStreams(t *testing.T) {
	for _, m := range []*report.PolicyMatrix{testMatrix(), {Ports: []string{"80/TCP"}}} {
		var want, got bytes.Buffer
		if err := JSON(&want, m); err != nil {
			t.Fatal(err)
		}
		if err := PolicyMatrixJSON(&got, m); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), got.String()); diff != "" {
			t.Errorf("(-encoding/json +streamed):\n%s", diff)
		}
	}
}
