package cluster

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// jsonAPI is an API server's pods endpoint speaking JSON, scripted per request kind: a watch-list
// stream, a LIST, or a watch from a resourceVersion. Each handler writes its answer; a watch that
// returns without error holds the connection until the test ends.
type jsonAPI struct {
	mu       sync.Mutex
	requests []string
	stream   func(w *eventWriter) int // 200: hold the stream open; 0: end it; else fail with that status
	list     func(n int) (int, []string, string)
	watch    func(n int, rv string, w *eventWriter) int
	lists    int
	watches  int
	done     chan struct{}
}

type eventWriter struct {
	w http.ResponseWriter
}

func (e *eventWriter) send(typ string, obj any) {
	b, _ := json.Marshal(map[string]any{"type": typ, "object": obj})
	_, _ = e.w.Write(append(b, '\n'))
	e.w.(http.Flusher).Flush()
}

func jsonPod(name, rv string) *corev1.Pod {
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: rv},
		Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}}}}
}

func jsonBookmark(rv string, end bool) *corev1.Pod {
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{ResourceVersion: rv}}
	if end {
		p.Annotations = map[string]string{initialEventsEnd: "true"}
	}
	return p
}

func status(code int32, reason metav1.StatusReason) *metav1.Status {
	return &metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusFailure, Code: code, Reason: reason, Message: string(reason)}
}

func (a *jsonAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	var kind string
	switch {
	case q.Get("sendInitialEvents") == "true":
		kind = "stream"
	case q.Get("watch") == "1":
		kind = "watch rv=" + q.Get("resourceVersion")
	default:
		kind = "list"
	}
	a.requests = append(a.requests, kind)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fail := func(code int) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(status(int32(code), metav1.StatusReason(http.StatusText(code))))
	}
	switch {
	case kind == "stream":
		switch code := a.stream(&eventWriter{w}); code {
		case 0: // the server ends the response
			return
		case 200:
		default:
			fail(code)
			return
		}
	case kind == "list":
		a.mu.Lock()
		a.lists++
		n := a.lists
		a.mu.Unlock()
		code, names, rv := a.list(n)
		if code != 200 {
			fail(code)
			return
		}
		l := corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: metav1.ListMeta{ResourceVersion: rv}}
		for _, name := range names {
			l.Items = append(l.Items, *jsonPod(name, rv))
		}
		_ = json.NewEncoder(w).Encode(l)
		return
	default:
		a.mu.Lock()
		a.watches++
		n := a.watches
		a.mu.Unlock()
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		if a.watch(n, q.Get("resourceVersion"), &eventWriter{w}) != 200 {
			return
		}
	}
	select {
	case <-a.done:
	case <-r.Context().Done():
	}
}

func (a *jsonAPI) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

type mirrorLog struct {
	mu       sync.Mutex
	states   []MirrorState
	restarts []string
}

func runMirror(t *testing.T, a *jsonAPI) (*Mirror[Pod], *mirrorLog) {
	t.Helper()
	a.done = make(chan struct{})
	srv := httptest.NewServer(a)
	kube, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	l := &mirrorLog{}
	m := NewPodMirror(Clients{CoreREST: kube.CoreV1().RESTClient()}, MirrorHooks{
		State: func(s MirrorState, _ error) { l.mu.Lock(); l.states = append(l.states, s); l.mu.Unlock() },
		Restart: func(r string) {
			l.mu.Lock()
			l.restarts = append(l.restarts, r)
			l.mu.Unlock()
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { m.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); close(a.done); <-stopped; srv.Close() })
	return m, l
}

func names(m *Mirror[Pod]) ([]string, bool) {
	pods, ok := m.Snapshot(nil)
	out := make([]string, 0, len(pods))
	for _, p := range pods {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out, ok
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("not within 5 s: %s", what)
}

// TestMirrorWatchListStream: one watch-list request reads every pod (ADDED, then the bookmark that
// ends the initial events) and goes on with the changes after it; nothing is whole before the end.
func TestMirrorWatchListStream(t *testing.T) {
	release := make(chan struct{})
	a := &jsonAPI{stream: func(w *eventWriter) int {
		w.send("ADDED", jsonPod("a", "1"))
		w.send("ADDED", jsonPod("b", "2"))
		<-release
		w.send("BOOKMARK", jsonBookmark("5", true))
		w.send("DELETED", jsonPod("a", "6"))
		w.send("ADDED", jsonPod("c", "7"))
		w.send("MODIFIED", jsonPod("b", "8"))
		return 200
	}}
	m, _ := runMirror(t, a)
	waitFor(t, "two pods read", func() bool { return m.Len() == 2 })
	if got, ok := names(m); ok || m.State() != MirrorSyncing {
		t.Errorf("before the end of the initial events: %v whole=%v state %s, want nothing whole, syncing", got, ok, m.State())
	}
	close(release)
	waitFor(t, "b and c", func() bool { got, ok := names(m); return ok && slices.Equal(got, []string{"b", "c"}) })
	if m.State() != MirrorCurrent || m.rvNow() != "8" {
		t.Errorf("state %s, resourceVersion %s; want current at 8", m.State(), m.rvNow())
	}
	if got := a.seen(); !slices.Equal(got, []string{"stream"}) {
		t.Errorf("requests %v, want the one stream", got)
	}
}

// TestMirrorPagedExpiredRelist: a server that refuses watch-list streams is listed and watched
// from the list's resourceVersion; a watch that expires (410) is listed again, in place: the pods
// gone meanwhile are dropped, the copy was stale, then current again.
func TestMirrorPagedExpiredRelist(t *testing.T) {
	a := &jsonAPI{
		stream: func(*eventWriter) int { return http.StatusUnprocessableEntity }, // WatchList off
		list: func(n int) (int, []string, string) {
			if n == 1 {
				return 200, []string{"a", "b"}, "5"
			}
			return 200, []string{"b", "c"}, "9"
		},
		watch: func(n int, rv string, w *eventWriter) int {
			if n == 1 {
				w.send("ERROR", status(http.StatusGone, metav1.StatusReasonExpired))
				return 410
			}
			return 200
		},
	}
	m, l := runMirror(t, a)
	waitFor(t, "b and c after the relist", func() bool { got, ok := names(m); return ok && slices.Equal(got, []string{"b", "c"}) })
	waitFor(t, "current", func() bool { return m.State() == MirrorCurrent })
	want := []string{"stream", "list", "watch rv=5", "list", "watch rv=9"}
	if got := a.seen(); !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Equal(l.restarts, []string{RestartExpired}) {
		t.Errorf("restarts %v, want one expired", l.restarts)
	}
	if !slices.Contains(l.states, MirrorStale) {
		t.Errorf("states %v: never stale while listing again", l.states)
	}
}

// TestMirrorForbidden: RBAC refusing the pods leaves nothing whole and the state forbidden; the
// mirror keeps trying (not tested: minutes) without dying.
func TestMirrorForbidden(t *testing.T) {
	a := &jsonAPI{
		stream: func(*eventWriter) int { return http.StatusForbidden },
		list:   func(int) (int, []string, string) { return http.StatusForbidden, nil, "" },
		watch:  func(int, string, *eventWriter) int { return 200 },
	}
	m, _ := runMirror(t, a)
	waitFor(t, "forbidden", func() bool { return m.State() == MirrorForbidden })
	if got, ok := names(m); ok || len(got) != 0 {
		t.Errorf("forbidden: %v whole=%v", got, ok)
	}
}

// TestMirrorResumesAfterClose: a watch the server ends is resumed from the last resourceVersion
// seen (an event's or a bookmark's), not listed again.
func TestMirrorResumesAfterClose(t *testing.T) {
	a := &jsonAPI{
		stream: func(w *eventWriter) int {
			w.send("ADDED", jsonPod("a", "1"))
			w.send("BOOKMARK", jsonBookmark("3", true))
			w.send("ADDED", jsonPod("b", "4"))
			w.send("BOOKMARK", jsonBookmark("7", false))
			return 0 // the server ends the watch
		},
		watch: func(n int, rv string, w *eventWriter) int {
			w.send("DELETED", jsonPod("a", "8"))
			return 200
		},
	}
	m, l := runMirror(t, a)
	waitFor(t, "b only", func() bool { got, ok := names(m); return ok && slices.Equal(got, []string{"b"}) })
	if got := a.seen(); !slices.Equal(got, []string{"stream", "watch rv=7"}) {
		t.Errorf("requests %v, want the stream, then a watch from the bookmark's 7", got)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Equal(l.restarts, []string{RestartClosed}) {
		t.Errorf("restarts %v, want one closed", l.restarts)
	}

}

// TestMirrorCutRelistReadsAgain: a read from the start (after a 410) that is cut off is begun
// again, never resumed from the expired resourceVersion: that would leave the half-read copy, not
// whole, for good.
func TestMirrorCutRelistReadsAgain(t *testing.T) {
	streams := 0
	var mu sync.Mutex
	a := &jsonAPI{stream: func(w *eventWriter) int {
		mu.Lock()
		streams++
		n := streams
		mu.Unlock()
		switch n {
		case 1:
			w.send("ADDED", jsonPod("a", "1"))
			w.send("ADDED", jsonPod("b", "2"))
			w.send("BOOKMARK", jsonBookmark("5", true))
			w.send("ERROR", status(http.StatusGone, metav1.StatusReasonExpired))
			return 0
		case 2:
			w.send("ADDED", jsonPod("b", "8"))
			return 0 // cut off before the end of its initial events
		}
		w.send("ADDED", jsonPod("b", "8"))
		w.send("ADDED", jsonPod("c", "9"))
		w.send("BOOKMARK", jsonBookmark("9", true))
		return 200
	}, watch: func(int, string, *eventWriter) int { return 200 }}
	m, _ := runMirror(t, a)
	waitFor(t, "b and c", func() bool { got, ok := names(m); return ok && slices.Equal(got, []string{"b", "c"}) })
	if got := a.seen(); !slices.Equal(got, []string{"stream", "stream", "stream"}) {
		t.Errorf("requests %v, want three streams (no resume from the expired 5)", got)
	}
	if m.State() != MirrorCurrent {
		t.Errorf("state %s", m.State())
	}
}

// TestMirrorBadEventReadsAgainAfterAWait: an event that cannot be decoded is not resumed past
// (it would come again) but read again from the start, after a wait: a bad object must not make
// the mirror hammer the API server with reads of every pod.
func TestMirrorBadEventReadsAgainAfterAWait(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	a := &jsonAPI{stream: func(w *eventWriter) int {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		w.send("ADDED", jsonPod("a", "1"))
		if n == 1 {
			w.send("ADDED", json.RawMessage(`{"metadata":"not an object"}`))
			return 200
		}
		w.send("BOOKMARK", jsonBookmark("5", true))
		return 200
	}, watch: func(int, string, *eventWriter) int { return 200 }}
	m, l := runMirror(t, a)
	waitFor(t, "a, read again", func() bool { got, ok := names(m); return ok && slices.Equal(got, []string{"a"}) })
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 2 || times[1].Sub(times[0]) < 700*time.Millisecond {
		t.Errorf("reads at %v: want a second read after about a second", times)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Equal(l.restarts, []string{RestartError}) {
		t.Errorf("restarts %v", l.restarts)
	}
}
