package exporter

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// evidenceExporter is an exporter whose Services list fails as failing says (nil: it works).
func evidenceExporter(failing *error) *Exporter {
	kube := fake.NewClientset()
	kube.PrependReactor("list", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		if *failing != nil {
			return true, nil, *failing
		}
		return false, nil, nil
	})
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	return New(cluster.Clients{Kube: kube, Dynamic: dyn, Discovery: kube.Discovery()}, Config{EvidenceInterval: time.Second})
}

// TestEvidenceFailures: a read that fails for a passing reason keeps the last evidence and marks
// it stale; one that keeps failing in part is served without that part after three reads, still
// stale; a forbidden part is no failure (its gauges are left out, the store is current); a whole
// read makes it current again.
func TestEvidenceFailures(t *testing.T) {
	var failing error
	e := evidenceExporter(&failing)
	ctx := context.Background()
	down := apierrors.NewServiceUnavailable("the server is restarting")
	state := func() (StoreState, *evidenceRead) {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.evState, e.evidence
	}

	failing = down
	e.readEvidenceOnce(ctx)
	if s, ev := state(); s != cluster.MirrorSyncing || ev != nil {
		t.Fatalf("first read failed: state %s, evidence %v; want syncing and none", s, ev != nil)
	}
	failing = nil
	e.readEvidenceOnce(ctx)
	s, good := state()
	if s != cluster.MirrorCurrent || good == nil || good.ips.CountedFrom != "Services" {
		t.Fatalf("a whole read: state %s, evidence %+v", s, good)
	}
	failing = down
	for i := 1; i <= 3; i++ {
		e.readEvidenceOnce(ctx)
		s, ev := state()
		if s != cluster.MirrorStale {
			t.Errorf("failed read %d: state %s, want stale", i, s)
		}
		if i < 3 && ev != good {
			t.Errorf("failed read %d replaced the last good evidence", i)
		}
		if i == 3 && (ev == good || ev.ips.CountedFrom != "") {
			t.Errorf("third failed read in a row: want what it read served, without the Services")
		}
	}
	failing = apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "", errors.New("no RBAC"))
	e.readEvidenceOnce(ctx)
	if s, ev := state(); s != cluster.MirrorCurrent || ev.ips.CountedFrom != "" || e.Health().Unreadable == 0 {
		t.Errorf("forbidden Services: state %s, counted from %q, unreadable %d; want current, none, some", s, ev.ips.CountedFrom, e.Health().Unreadable)
	}
	if !e.dirty.Load() {
		t.Errorf("an evidence read did not mark the figures for computing")
	}
}
