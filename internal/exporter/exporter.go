// Package exporter keeps cidr-usage's figures current for Prometheus: it mirrors nodes and pods
// through watches (cluster.Mirror), reads the IPAM evidence again every interval, recomputes the
// report on change (debounced) and serves the gauges of render.UsageMetrics, with its own health.
// It knows nothing of cobra; the command gives it clients, a listener and a Config.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// Config are the exporter's knobs.
type Config struct {
	// EvidenceInterval is how often the IPAM evidence (pools, blocks, ClusterIPs, config maps) is
	// read again; nodes and pods are watched.
	EvidenceInterval time.Duration
	// Debounce is the least time between two computations of the figures: after a change they
	// are computed again when scraped, at most once per Debounce.
	Debounce time.Duration
	// Usage are cidr-usage's knobs that change figures (the Azure CNI node subnet).
	Usage report.CIDRUsageConfig
}

// Store names, as the health gauges label them.
const (
	StoreNodes    = "nodes"
	StorePods     = "pods"
	StoreEvidence = "evidence"
)

// stores are the stores, in the order the health gauges and /readyz list them.
var stores = []string{StoreNodes, StorePods, StoreEvidence}

// StoreState is where one store stands: a mirror's state, or the evidence's.
type StoreState = cluster.MirrorState

// Figures are the usage gauges of the last complete read, and when they were computed.
type Figures struct {
	Metrics  []render.Metric
	At       time.Time
	Duration time.Duration
}

// Exporter follows a cluster and serves its figures.
type Exporter struct {
	clients cluster.Clients
	cfg     Config
	nodes   *cluster.Mirror[cluster.Node]
	pods    *cluster.Mirror[cluster.Pod]
	kick    chan struct{}
	figures atomic.Pointer[Figures]
	// dirty: something changed since the figures were computed; computing serialises computations
	dirty     atomic.Bool
	computing sync.Mutex

	mu       sync.Mutex
	evidence *evidenceRead
	evState  StoreState
	unknown  string // the evidence last said unreadable, for logging changes only
	unread   int    // how many reads of the last evidence read were refused
	// failedReads counts the evidence reads in a row that failed in part for a passing reason
	failedReads int
	restarts    map[[2]string]float64
	synced      map[string]time.Time
}

// evidenceRead is one complete read of the evidence.
type evidenceRead struct {
	ev     cluster.Evidence
	ips    *cluster.ClusterIPs
	claims *cluster.Claims
	at     time.Time
}

// New builds an exporter on the clients; Run starts it.
func New(c cluster.Clients, cfg Config) *Exporter {
	e := &Exporter{clients: c, cfg: cfg, kick: make(chan struct{}, 1), evState: cluster.MirrorSyncing,
		restarts: map[[2]string]float64{}, synced: map[string]time.Time{}}
	hooks := func(store string) cluster.MirrorHooks {
		return cluster.MirrorHooks{
			Changed: func() { e.touch(store); e.poke() },
			State:   func(s cluster.MirrorState, err error) { e.stateChanged(store, s, err) },
			Restart: func(reason string) { e.restarted(store, reason) },
		}
	}
	e.nodes = cluster.NewNodeMirror(c, hooks(StoreNodes))
	e.pods = cluster.NewPodMirror(c, hooks(StorePods))
	return e
}

func (e *Exporter) poke() {
	e.dirty.Store(true)
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

func (e *Exporter) touch(store string) {
	e.mu.Lock()
	e.synced[store] = time.Now()
	e.mu.Unlock()
}

func (e *Exporter) restarted(store, reason string) {
	e.mu.Lock()
	e.restarts[[2]string{store, reason}]++
	e.mu.Unlock()
}

func (e *Exporter) stateChanged(store string, s cluster.MirrorState, err error) {
	switch s {
	case cluster.MirrorForbidden:
		klog.Warningf("%s: cannot list or watch them (%v): their gauges are left out until RBAC allows it (get, list, watch %s); trying again every few minutes", store, err, store)
	case cluster.MirrorStale:
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			klog.Warningf("%s: the watch expired (%v): reading them all again; serving the last figures meanwhile, marked stale (podnet_exporter_up 0)", store, err)
			break
		}
		klog.Warningf("%s: the watch broke (%v): serving the last figures, marked stale (podnet_exporter_up 0), until it is back", store, err)
	case cluster.MirrorCurrent:
		e.touch(store)
		klog.Infof("%s: read and watched", store)
	}
	e.poke()
}

// Run follows the cluster and serves l until ctx ends.
func (e *Exporter) Run(ctx context.Context, l net.Listener) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{e}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true, ErrorLog: errorLog{}, ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", e.readyz)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "kubectl-podnet exporter: /metrics, /healthz, /readyz")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { e.nodes.Run(ctx) })
	wg.Go(func() { e.pods.Run(ctx) })
	wg.Go(func() { e.readEvidence(ctx) })
	wg.Go(func() { e.recompute(ctx) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		cancel()
	}
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shut)
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

type errorLog struct{}

func (errorLog) Println(v ...any) { klog.Error(v...) }

// readEvidence reads the evidence now and every interval. A read that failed for a passing
// reason (the server down) keeps the last one and marks the evidence stale.
func (e *Exporter) readEvidence(ctx context.Context) {
	t := time.NewTicker(e.cfg.EvidenceInterval)
	defer t.Stop()
	for {
		e.readEvidenceOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (e *Exporter) readEvidenceOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, max(e.cfg.EvidenceInterval, 30*time.Second))
	defer cancel()
	ev, ips, claims := cluster.GatherEvidence(ctx, e.clients, cluster.Options{ClusterIPs: true, Claims: cluster.ClaimsAddresses})
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
		return
	}
	failed := ev.Transient + ips.Transient
	if claims != nil {
		failed += claims.Transient
	}
	unknown := strings.Join(append(slices.Clone(ev.Unknown), ips.Unknown...), "; ")
	e.mu.Lock()
	defer e.poke()
	defer e.mu.Unlock()
	if failed > 0 {
		e.failedReads++
		if e.evState != cluster.MirrorStale && e.evidence != nil {
			klog.Warningf("evidence: %d read(s) failed (%s): serving the last figures, marked stale, until a read succeeds", failed, unknown)
			e.evState = cluster.MirrorStale
		}
		if e.failedReads < acceptPartialAfter {
			if e.evidence == nil {
				klog.Warningf("evidence: %d read(s) failed (%s): trying again in %s", failed, unknown, e.cfg.EvidenceInterval)
			}
			return
		}
		// a part that keeps failing (an aggregated API down, a slow list) must not hold back the
		// rest for good: take what was read, its failed parts left out, and stay stale
		if e.failedReads == acceptPartialAfter {
			klog.Warningf("evidence: %d reads in a row failed in part (%s): serving what they read, without the failed parts, still marked stale", acceptPartialAfter, unknown)
		}
		e.evidence = &evidenceRead{ev: ev, ips: ips, claims: claims, at: time.Now()}
		e.unread = len(ev.Unknown) + len(ips.Unknown)
		return
	}
	e.failedReads = 0
	if unknown != e.unknown {
		if unknown != "" {
			klog.Warningf("evidence: could not read %s: the gauges that need it are left out", unknown)
		} else if e.unknown != "" {
			klog.Infof("evidence: everything is readable again")
		}
		e.unknown = unknown
	}
	e.unread = len(ev.Unknown) + len(ips.Unknown)
	e.evidence = &evidenceRead{ev: ev, ips: ips, claims: claims, at: time.Now()}
	e.evState = cluster.MirrorCurrent
	e.synced[StoreEvidence] = e.evidence.at
}

// acceptPartialAfter is how many evidence reads in a row may fail in part before what they did
// read is served (still marked stale).
const acceptPartialAfter = 3

// recompute computes the first figures as soon as every store is read (readiness waits for
// them); later ones are computed when scraped (Fresh), so that a cluster that changes all the
// time costs one computation per scrape, not one per change.
func (e *Exporter) recompute(ctx context.Context) {
	for e.Figures() == nil {
		select {
		case <-ctx.Done():
			return
		case <-e.kick:
		}
		e.computing.Lock()
		e.dirty.Store(false)
		if !e.compute() {
			e.dirty.Store(true)
		}
		e.computing.Unlock()
	}
}

// Fresh computes the figures again when something changed since they were computed and the last
// computation is at least the debounce old; it returns the figures to serve.
func (e *Exporter) Fresh() *Figures {
	e.computing.Lock()
	defer e.computing.Unlock()
	f := e.Figures()
	if !e.dirty.Load() || f != nil && time.Since(f.At) < e.cfg.Debounce {
		return f
	}
	e.dirty.Store(false)
	if !e.compute() {
		e.dirty.Store(true) // a store is being read: the last figures stay, marked stale
	}
	return e.Figures()
}

// compute builds the report from the mirrors and the evidence, when each is either whole or
// forbidden, and says whether it did; otherwise the last figures stay (and the health gauges say
// they are stale). The pods are copied out of their mirror for the computation only: nothing of
// the size of the cluster is kept beside the mirrors.
func (e *Exporter) compute() bool {
	start := time.Now()
	e.mu.Lock()
	evr := e.evidence
	e.mu.Unlock()
	if evr == nil {
		return false
	}
	nodes, nodesOK := e.nodes.Snapshot(nil)
	nodesForbidden := e.nodes.State() == cluster.MirrorForbidden
	pods, podsOK := e.pods.Snapshot(nil)
	podsForbidden := e.pods.State() == cluster.MirrorForbidden
	if !nodesOK && !nodesForbidden || !podsOK && !podsForbidden {
		return false
	}
	inv := &cluster.Inventory{Nodes: nodes, Evidence: evr.ev, ClusterIPs: evr.ips, Claims: evr.claims}
	if podsOK {
		inv.Pods = pods
	} else {
		inv.PodsUnknown = true
	}
	if !nodesOK {
		inv.Nodes, inv.NodesUnknown = cluster.NodesFromPods(inv.Pods), true
	}
	slices.SortFunc(inv.Nodes, func(a, b cluster.Node) int { return strings.Compare(a.Name, b.Name) })
	u := report.BuildCIDRUsage(inv, netmodel.Resolve(inv), evr.ips, e.cfg.Usage)
	e.figures.Store(&Figures{Metrics: render.UsageMetrics(u), At: time.Now(), Duration: time.Since(start)})
	return true
}

// Figures are the last figures computed, nil before the first.
func (e *Exporter) Figures() *Figures { return e.figures.Load() }

// Health is where every store stands.
type Health struct {
	States   map[string]StoreState
	Objects  map[string]int
	Synced   map[string]time.Time
	Restarts map[[2]string]float64
	// Unreadable counts the evidence reads the last evidence read could not make (RBAC, absent
	// API groups): the gauges that need them are left out.
	Unreadable int
}

// Waiting are the stores neither current nor forbidden, as "store state", in stores' order.
func (h Health) Waiting() []string {
	var out []string
	for _, s := range stores {
		if st := h.States[s]; st != cluster.MirrorCurrent && st != cluster.MirrorForbidden {
			out = append(out, fmt.Sprintf("%s %s", s, st))
		}
	}
	return out
}

// Up says whether the figures are current: every store is current, or forbidden (whose gauges
// are left out, not stale).
func (h Health) Up() bool { return len(h.Waiting()) == 0 }

// Health says where every store stands now.
func (e *Exporter) Health() Health {
	h := Health{States: map[string]StoreState{StoreNodes: e.nodes.State(), StorePods: e.pods.State()},
		Objects: map[string]int{StoreNodes: e.nodes.Len(), StorePods: e.pods.Len()}}
	e.mu.Lock()
	defer e.mu.Unlock()
	h.States[StoreEvidence] = e.evState
	h.Unreadable = e.unread
	h.Synced, h.Restarts = maps.Clone(e.synced), maps.Clone(e.restarts)
	return h
}

// readyz is ready once the first figures are computed; until then it says what is still read.
func (e *Exporter) readyz(w http.ResponseWriter, _ *http.Request) {
	if e.Figures() != nil {
		fmt.Fprintln(w, "ok")
		return
	}
	waiting := e.Health().Waiting()
	w.WriteHeader(http.StatusServiceUnavailable)
	if len(waiting) == 0 {
		waiting = append(waiting, "computing the first figures")
	}
	fmt.Fprintf(w, "not ready: %s\n", strings.Join(waiting, ", "))
}
