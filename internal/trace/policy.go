package trace

import (
	"fmt"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/policy"
)

// PolicyVerdict is what the cluster's policies, of every kind, say of the traffic, and whether the
// network plugin enforces NetworkPolicy at all.
type PolicyVerdict struct {
	policy.Verdict
	Enforced netmodel.Enforcement `json:"enforced"`
}

// String sums the verdict up in one line.
func (v PolicyVerdict) String() string {
	return fmt.Sprintf("%s (egress: %s, ingress: %s; enforced: %s)", v.Verdict.Verdict, v.Egress.Verdict, v.Ingress.Verdict, v.Enforced)
}
