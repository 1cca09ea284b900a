package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

// The exporter's cost, against its targets: at P pods, the initial sync (start to /readyz 200)
// within 1.2x the wall time of `cidr-usage -o json` on the same server, the steady-state RSS at
// most 150 MB, and under 5% of one core while pods change 10 times a second.
const (
	syncTarget   = 1.2   // x cidr-usage's wall time
	rssTargetMB  = 150.0 // MB, steady state
	cpuTargetPct = 5.0   // % of one core under churn
	clkTck       = 100   // USER_HZ: the unit of utime and stime in /proc/PID/stat on Linux
)

// exporterOpts are the knobs of `bench exporter`.
type exporterOpts struct {
	kubeconfig, plugin, logDir string
	pods, runs                 int
	rate                       float64
	churn, idle                time.Duration
}

// exporterBench measures the exporter: see the constants above. It prints a table; a target
// missed is printed as MISSED, not returned as an error. Figures that do not follow the churn are
// an error: the exporter is then broken and its cost means nothing.
func exporterBench(o exporterOpts) error {
	if o.plugin == "" {
		return fmt.Errorf("--plugin is required")
	}
	if o.logDir == "" {
		o.logDir = os.TempDir()
	}
	env := []string{"KUBECONFIG=" + o.kubeconfig}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// the exporters started are stopped whatever happens, a signal included
	var running []*exporterProc
	defer func() {
		for _, p := range running {
			p.stop()
		}
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		for _, p := range running {
			p.stop()
		}
		os.Exit(130)
	}()

	// warm-up, as measure: the watch cache has caught up once a watch-list stream is served
	floorCmd := &command{name: streamFloorName, runs: [][]string{{self, "floor", "--mode", "stream", "--kubeconfig", o.kubeconfig}}}
	warm := &command{name: "warm-up", runs: floorCmd.runs}
	for try := 1; ; try++ {
		if err := warm.runOnce(env); err == nil {
			break
		} else if try == 120 {
			return err
		}
		time.Sleep(time.Second)
	}
	usage := &command{name: "kubectl podnet cidr-usage -o json", runs: [][]string{{o.plugin, "cidr-usage", "-o", "json"}}, okExit: []int{2}}
	if err := usage.runOnce(env); err != nil { // warm-up, not kept
		return err
	}
	usage.walls, usage.cpus, usage.rss = nil, nil, 0

	// alternating rounds of cidr-usage, the stream floor and one exporter start each; the
	// exporter of the last round keeps running for the steady state and the churn
	var syncs, syncs0, peaks, computes []float64
	var exp *exporterProc
	for r := 0; r < o.runs; r++ {
		steps := []func() error{
			func() error { return usage.runOnce(env) },
			func() error { return floorCmd.runOnce(env) },
			func() error {
				// the same without the debounce, to tell its share of the sync
				p, err := startExporter(o.plugin, o.kubeconfig, filepath.Join(o.logDir, fmt.Sprintf("exporter-debounce0-%d.log", r+1)), "--debounce", "0")
				if err != nil {
					return err
				}
				running = append(running, p)
				d, err := p.waitReady(10 * time.Minute)
				p.stop()
				running = running[:len(running)-1]
				if err != nil {
					return err
				}
				syncs0 = append(syncs0, d.Seconds())
				fmt.Fprintf(os.Stderr, "bench: exporter start %d with --debounce 0: ready in %.2fs\n", r+1, d.Seconds())
				return nil
			},
			func() error {
				p, err := startExporter(o.plugin, o.kubeconfig, filepath.Join(o.logDir, fmt.Sprintf("exporter-%d.log", r+1)))
				if err != nil {
					return err
				}
				running = append(running, p)
				d, err := p.waitReady(10 * time.Minute)
				if err != nil {
					return err
				}
				syncs = append(syncs, d.Seconds())
				st := p.status()
				peaks = append(peaks, st["VmHWM"])
				m, err := p.scrape()
				if err != nil {
					return err
				}
				computes = append(computes, m[`podnet_exporter_update_duration_seconds`])
				fmt.Fprintf(os.Stderr, "bench: exporter start %d: ready in %.2fs (computing the figures %.2fs), peak RSS %.1f MB, %.0f pods held\n",
					r+1, d.Seconds(), m[`podnet_exporter_update_duration_seconds`], st["VmHWM"], m[`podnet_exporter_store_objects{store="pods"}`])
				if r < o.runs-1 {
					p.stop()
					running = running[:len(running)-1]
				} else {
					exp = p
				}
				return nil
			},
		}
		for i := range steps {
			j := (r + i) % len(steps)
			if r%2 == 1 {
				j = (r + len(steps) - 1 - i) % len(steps)
			}
			// the exporter of the last round starts last, so that it runs alone from then on
			if r == o.runs-1 {
				j = i
			}
			if err := steps[j](); err != nil {
				return err
			}
		}
	}
	usageWall, floorWall, syncWall := median(usage.walls), median(floorCmd.walls), median(syncs)

	// steady state: idle for a while after the sync
	m0, err := exp.scrape()
	if err != nil {
		return err
	}
	basePods := m0[`podnet_exporter_store_objects{store="pods"}`]
	if int(basePods) != o.pods {
		return fmt.Errorf("the exporter holds %.0f pods, not the %d loaded", basePods, o.pods)
	}
	cpu0, t0 := exp.cpuSeconds(), time.Now()
	time.Sleep(o.idle)
	idlePct := 100 * (exp.cpuSeconds() - cpu0) / time.Since(t0).Seconds()
	idleStatus := exp.status()
	mIdle, err := exp.scrape()
	if err != nil {
		return err
	}

	// churn: pods change o.rate times a second, the exporter's CPU over that window
	kube, err := churnClient(o.kubeconfig)
	if err != nil {
		return err
	}
	node0 := nodeName(0)
	usedKey := fmt.Sprintf(`podnet_node_pod_ips_used{node=%q}`, node0)
	baseUsed, ok := m0[usedKey]
	if !ok {
		return fmt.Errorf("no %s on /metrics", usedKey)
	}
	lastUpdate0 := m0["podnet_exporter_last_update_timestamp_seconds"]
	var samples []map[string]float64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	scrapes := make(chan struct{})
	go func() { // a scrape every 15 s, as Prometheus would
		defer close(scrapes)
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if m, err := exp.scrape(); err == nil {
					samples = append(samples, m)
				}
			}
		}
	}()
	cpu1, t1 := exp.cpuSeconds(), time.Now()
	ch, err := churn(ctx, kube, o.rate, o.churn, churnKeep)
	churnWall := time.Since(t1).Seconds()
	churnPct := 100 * (exp.cpuSeconds() - cpu1) / churnWall
	cancel()
	<-scrapes
	if err != nil {
		if ch != nil {
			_ = ch.cleanup(context.Background(), kube)
		}
		return err
	}
	churnEnd := time.Now()
	// the figures follow: the pods kept are counted, on the node and in the store
	kept := float64(len(ch.live))
	wantPods, wantUsed := basePods+kept, baseUsed+kept
	_, err = exp.waitMetrics(60*time.Second, func(m map[string]float64) bool {
		return m[`podnet_exporter_store_objects{store="pods"}`] == wantPods && m[usedKey] == wantUsed &&
			m["podnet_exporter_last_update_timestamp_seconds"] > float64(churnEnd.UnixNano())/1e9
	})
	followed := err == nil
	endStatus := exp.status()
	// every scrape during the churn saw figures newer than the one before
	newer, prev := 0, lastUpdate0
	var durs []float64
	for _, s := range samples {
		if ts := s["podnet_exporter_last_update_timestamp_seconds"]; ts > prev {
			newer++
			prev = ts
		}
		durs = append(durs, s["podnet_exporter_update_duration_seconds"])
	}
	// and follow the pods' deletion
	if err := ch.cleanup(context.Background(), kube); err != nil {
		return err
	}
	var backOK bool
	if followed {
		_, err := exp.waitMetrics(60*time.Second, func(m map[string]float64) bool {
			return m[`podnet_exporter_store_objects{store="pods"}`] == basePods && m[usedKey] == baseUsed
		})
		backOK = err == nil
	}

	// the table
	fmt.Printf("\nexporter, %d pods; %d alternating rounds (medians); churn %.0f s at %.1f pod changes/s (%d made: %d creates, %d status updates, %d deletes)\n",
		o.pods, o.runs, churnWall, float64(ch.ops)/churnWall, ch.ops, ch.creates, ch.updates, ch.deletes)
	fmt.Printf("%-52s %22s %14s %9s  %s\n", "figure", "measured", "target", "ratio", "verdict")
	row := func(name, measured, target string, ratio float64, ok bool) {
		r := "-"
		if ratio > 0 {
			r = fmt.Sprintf("%.2fx", ratio)
		}
		v := "-"
		if target != "-" {
			v = verdict(ok)
		}
		fmt.Printf("%-52s %22s %14s %9s  %s\n", name, measured, target, r, v)
	}
	sec := func(s float64) string { return fmt.Sprintf("%.2f s", s) }
	// a median with the range of the runs
	med := func(xs []float64) string {
		return fmt.Sprintf("%.2f s (%.1f-%.1f)", median(xs), slices.Min(xs), slices.Max(xs))
	}
	mb := func(x float64) string { return fmt.Sprintf("%.1f MB", x) }
	row("cidr-usage -o json, wall", med(usage.walls), "-", 0, true)
	row("floor: pods watch-list stream + nodes, discarded", med(floorCmd.walls), "-", 0, true)
	row("exporter initial sync (start -> /readyz 200)", med(syncs), "<= 1.2x cidr", syncWall/usageWall, syncWall/usageWall <= syncTarget)
	row("  the same, against the floor", "", "-", syncWall/floorWall, true)
	row("  of which computing the figures (update_duration)", sec(median(computes)), "-", 0, true)
	row("  the same with --debounce 0 (not the default)", med(syncs0), "-", median(syncs0)/usageWall, true)
	row("  peak RSS during the sync (VmHWM)", mb(max0(peaks)), "-", 0, true)
	row(fmt.Sprintf("steady RSS, %s idle after sync (VmRSS)", o.idle), mb(idleStatus["VmRSS"]), "<= 150 MB", idleStatus["VmRSS"]/rssTargetMB, idleStatus["VmRSS"] <= rssTargetMB)
	row("  of which anonymous (RssAnon) / code pages (RssFile)", mb(idleStatus["RssAnon"])+" / "+mb(idleStatus["RssFile"]), "-", 0, true)
	row("  process_resident_memory_bytes", mb(mIdle["process_resident_memory_bytes"]/(1<<20)), "-", 0, true)
	row("  go heap in use (go_memstats_heap_inuse_bytes)", mb(mIdle["go_memstats_heap_inuse_bytes"]/(1<<20)), "-", 0, true)
	row("CPU idle (% of one core)", fmt.Sprintf("%.2f %%", idlePct), "-", 0, true)
	row(fmt.Sprintf("CPU under churn, %.0f changes/s (%% of one core)", o.rate), fmt.Sprintf("%.2f %%", churnPct), "< 5 %", churnPct/cpuTargetPct, churnPct < cpuTargetPct)
	row("  scrapes (every 15 s) that saw newer figures", fmt.Sprintf("%d of %d", newer, len(samples)), "-", 0, true)
	row("  computing the figures, longest (update_duration)", sec(max0(durs)), "-", 0, true)
	row("RSS after churn (VmRSS)", mb(endStatus["VmRSS"]), "<= 150 MB", endStatus["VmRSS"]/rssTargetMB, endStatus["VmRSS"] <= rssTargetMB)
	row("  peak RSS over the whole run (VmHWM)", mb(endStatus["VmHWM"]), "-", 0, true)
	fol := fmt.Sprintf("pods %.0f->%.0f, %s used %.0f->%.0f", basePods, wantPods, "node0", baseUsed, wantUsed)
	fmt.Printf("figures follow the churn: %s: %s; and back after deleting them: %s\n", fol, yes(followed), yes(backOK))
	if !followed || !backOK {
		return fmt.Errorf("the exporter's figures did not follow the pods' changes (see %s)", o.logDir)
	}
	return nil
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func max0(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// exporterProc is one running `kubectl podnet exporter`.
type exporterProc struct {
	cmd     *exec.Cmd
	start   time.Time
	addr    string
	log     *os.File
	done    chan struct{}
	stopped bool
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func startExporter(plugin, kubeconfig, logFile string, extra ...string) (*exporterProc, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(plugin, append([]string{"exporter", "--kubeconfig", kubeconfig, "--listen", addr}, extra...)...)
	cmd.Stdout, cmd.Stderr = f, f
	p := &exporterProc{cmd: cmd, addr: addr, log: f, done: make(chan struct{})}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

var httpc = &http.Client{Timeout: 10 * time.Second}

// waitReady polls /readyz every 20 ms and returns the time from the start to its first 200.
func (p *exporterProc) waitReady(limit time.Duration) (time.Duration, error) {
	for time.Since(p.start) < limit {
		select {
		case <-p.done:
			return 0, fmt.Errorf("the exporter exited before it was ready (%s); see %s", p.cmd.ProcessState, p.log.Name())
		default:
		}
		resp, err := httpc.Get("http://" + p.addr + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.start), nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("the exporter was not ready within %s; see %s", limit, p.log.Name())
}

// stop ends the exporter (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (p *exporterProc) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
}

// cpuSeconds is the process's utime + stime so far.
func (p *exporterProc) cpuSeconds() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// the fields after the command name, which is in parentheses and may hold spaces
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// utime and stime are fields 14 and 15 of the line, 12 and 13 after the state (field 3)
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clkTck
}

// status is /proc/PID/status's memory lines (VmRSS, VmHWM, ...) in MB.
func (p *exporterProc) status() map[string]float64 {
	out := map[string]float64{}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, " kB")), 64)
		if err == nil {
			out[k] = n / 1024
		}
	}
	return out
}

// scrape reads /metrics (text format) into series -> value; a series is its name and labels as
// printed, e.g. podnet_exporter_store_objects{store="pods"}.
func (p *exporterProc) scrape() (map[string]float64, error) {
	resp, err := httpc.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// waitMetrics scrapes every 250 ms until ok holds, and returns that scrape.
func (p *exporterProc) waitMetrics(limit time.Duration, ok func(map[string]float64) bool) (map[string]float64, error) {
	deadline := time.Now().Add(limit)
	var m map[string]float64
	for time.Now().Before(deadline) {
		var err error
		if m, err = p.scrape(); err == nil && ok(m) {
			return m, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return m, errors.New("timed out")
}

// The churn: pods of their own, on the first node, each created (bound, Pending, no address),
// given an address (status: Running, podIP), then deleted. Every step is one write, so one watch
// event the exporter has to apply and recompute for; churnKeep pods are alive at any time.
const (
	churnNS   = "team-00"
	churnKeep = 10
)

type churnStats struct {
	ops, creates, updates, deletes int
	live                           []string
}

func churnClient(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 1000, 1000
	return kubernetes.NewForConfig(cfg)
}

// churn makes rate pod changes a second for d, with keep pods alive at any time, and leaves
// keep pods alive (with addresses) at the end.
func churn(ctx context.Context, kube kubernetes.Interface, rate float64, d time.Duration, keep int) (*churnStats, error) {
	// a bare cluster runs no controller: the ServiceAccount admission wants the default account
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: churnNS}}
	if _, err := kube.CoreV1().ServiceAccounts(churnNS).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	pods := kube.CoreV1().Pods(churnNS)
	st := &churnStats{}
	seq := 0
	pending := "" // created, no address yet
	step := func() error {
		switch {
		case pending != "":
			ip := fmt.Sprintf("10.16.0.%d", 100+seq%100)
			patch := fmt.Sprintf(`{"status":{"phase":"Running","hostIP":%q,"hostIPs":[{"ip":%q}],"podIP":%q,"podIPs":[{"ip":%q}]}}`,
				nodeIP(0), nodeIP(0), ip, ip)
			if _, err := pods.Patch(ctx, pending, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
				return err
			}
			st.live = append(st.live, pending)
			pending = ""
			st.updates++
		case len(st.live) < keep:
			seq++
			name := fmt.Sprintf("churn-%06d", seq)
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "churn"}},
				Spec: corev1.PodSpec{NodeName: nodeName(0), AutomountServiceAccountToken: ptr.To(false),
					TerminationGracePeriodSeconds: ptr.To(int64(0)),
					Containers:                    []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}}}
			if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
				return err
			}
			pending = name
			st.creates++
		default:
			if err := pods.Delete(ctx, st.live[0], metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
				return err
			}
			st.live = st.live[1:]
			st.deletes++
		}
		st.ops++
		return nil
	}
	// after the first keep pods, one in three steps creates, one gives an address, one deletes
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-t.C:
		}
		if err := step(); err != nil {
			return st, fmt.Errorf("churn: %w", err)
		}
	}
	// end with keep pods, every one with an address
	for pending != "" || len(st.live) != keep {
		if err := step(); err != nil {
			return st, fmt.Errorf("churn: %w", err)
		}
	}
	return st, nil
}

// cleanup deletes the pods the churn left.
func (st *churnStats) cleanup(ctx context.Context, kube kubernetes.Interface) error {
	for _, name := range st.live {
		err := kube.CoreV1().Pods(churnNS).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	st.live = nil
	return nil
}

// churnAlone is `bench churn`: the churn on its own, its pods removed at the end.
func churnAlone(kubeconfig string, rate float64, d time.Duration) error {
	kube, err := churnClient(kubeconfig)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := churn(context.Background(), kube, rate, d, churnKeep)
	if st != nil {
		fmt.Fprintf(os.Stderr, "churn: %d changes in %.1fs (%d creates, %d status updates, %d deletes)\n",
			st.ops, time.Since(start).Seconds(), st.creates, st.updates, st.deletes)
		if cerr := st.cleanup(context.Background(), kube); err == nil {
			err = cerr
		}
	}
	return err
}
