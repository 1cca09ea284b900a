package netmodel

import (
	"testing"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// Flannel and kubenet enforce nothing themselves, an unknown plugin may not; a policy engine's
// DaemonSet beside them does.
func TestPolicyEngineBesideTheCNI(t *testing.T) {
	for _, m := range []Model{flannelModel{}, kubenetModel{}, unknownModel{}} {
		if got := m.Policy(&cluster.Evidence{}); got.State == Enforced {
			t.Errorf("%s alone: %s, want not enforced or unknown", m.Name(), got)
		}
		ev := &cluster.Evidence{DaemonSets: []cluster.DaemonSetRef{{Namespace: "kube-system", Name: "kube-router"}}}
		if got := m.Policy(ev); got.State != Enforced || got.Reason != "kube-router's network policy controller, DaemonSet kube-system/kube-router" {
			t.Errorf("%s with kube-router: %s", m.Name(), got)
		}
	}
}
