package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// A Mirror keeps a lean copy of every pod or every node current for a long-running reader (the
// exporter): it reads them all once, through a watch-list stream where the server sends one (else
// in pages), and then follows their watch, decoding each event with the inventory's lean decoders
// (podproto.go, nodeproto.go). Only reduced objects are kept. A broken watch is resumed from the
// last resourceVersion seen; an expired one (410) is read again from the start, in place: until
// that read ends, the copy is the last one known and says so (MirrorStale).

// MirrorState is where a mirror stands.
type MirrorState string

// Mirror states.
const (
	// MirrorSyncing: the first read has not ended; nothing is known yet.
	MirrorSyncing MirrorState = "syncing"
	// MirrorCurrent: read and watched.
	MirrorCurrent MirrorState = "current"
	// MirrorStale: read once, but the watch is broken or the objects are being read again; the
	// copy is the last one known.
	MirrorStale MirrorState = "stale"
	// MirrorForbidden: RBAC does not let the reader list or watch the kind; nothing is kept.
	MirrorForbidden MirrorState = "forbidden"
)

// Restart reasons, as a mirror reports them.
const (
	RestartExpired = "expired" // 410 Gone: the resourceVersion is too old, everything is read again
	RestartClosed  = "closed"  // the server ended the watch (its timeout); resumed where it stopped
	RestartError   = "error"   // the connection or the request failed; retried with a backoff
)

// MirrorHooks are told what a mirror does. Each may be nil; none may block.
type MirrorHooks struct {
	// Changed is called after every change to a mirror that was read once, and when a read ends.
	Changed func()
	// State is called when the state changes, with the error that caused it (nil when none).
	State func(MirrorState, error)
	// Restart is called when a watch is started again, with why (Restart*).
	Restart func(reason string)
}

// objKey names an object: a PodKey, without namespace for nodes.
type objKey = PodKey

type mirrorItem[T any] struct {
	v   T
	gen uint32
}

// mirrorKind is how one kind is read and decoded.
type mirrorKind[T any] struct {
	resource string
	key      func(*T) objKey
	// proto decodes one object's raw protobuf (without its envelope)
	proto func(b []byte, in interner) (T, error)
	// json decodes one object's JSON
	json func(b []byte, in interner) (T, error)
	// page decodes one page of a LIST, in either encoding
	page func(body []byte, in interner, out []T) ([]T, error)
}

// Mirror is a lean copy of every object of one kind. Its zero value is not usable: see
// NewPodMirror and NewNodeMirror.
type Mirror[T any] struct {
	kind  mirrorKind[T]
	rest  rest.Interface
	hooks MirrorHooks
	// ResyncAfter bounds how long one watch request stays open before it is renewed.
	watchTimeout time.Duration

	mu       sync.RWMutex
	items    map[objKey]mirrorItem[T]
	gen      uint32
	synced   bool // a first read ended
	state    MirrorState
	rv       string
	in       interner
	noStream bool // the server does not send watch-list streams: read in pages
	reading  bool // a read from the start is under way: items of two generations are held
	watchSeq uint64
}

// NewPodMirror mirrors every pod of the cluster through c.CoreREST.
func NewPodMirror(c Clients, hooks MirrorHooks) *Mirror[Pod] {
	return newMirror(c.CoreREST, hooks, mirrorKind[Pod]{
		resource: "pods",
		key:      (*Pod).Key,
		proto:    decodePod,
		json: func(b []byte, in interner) (Pod, error) {
			var p corev1.Pod
			if err := json.Unmarshal(b, &p); err != nil {
				return Pod{}, err
			}
			return reducePod(&p, in), nil
		},
		page: decodePodPage,
	})
}

// NewNodeMirror mirrors every node of the cluster through c.CoreREST.
func NewNodeMirror(c Clients, hooks MirrorHooks) *Mirror[Node] {
	return newMirror(c.CoreREST, hooks, mirrorKind[Node]{
		resource: "nodes",
		key:      func(n *Node) objKey { return objKey{Name: n.Name} },
		proto: func(b []byte, _ interner) (Node, error) {
			n, err := decodeNodeLean(b)
			if err != nil {
				return Node{}, err
			}
			return reduceNode(n), nil
		},
		json: func(b []byte, _ interner) (Node, error) {
			var n corev1.Node
			if err := json.Unmarshal(b, &n); err != nil {
				return Node{}, err
			}
			return reduceNode(&n), nil
		},
		page: func(body []byte, _ interner, out []Node) ([]Node, error) { return decodeNodePage(body, out) },
	})
}

func newMirror[T any](r rest.Interface, hooks MirrorHooks, kind mirrorKind[T]) *Mirror[T] {
	return &Mirror[T]{kind: kind, rest: r, hooks: hooks, items: map[objKey]mirrorItem[T]{}, state: MirrorSyncing, in: newInterner(),
		watchTimeout: 5 * time.Minute}
}

// State is where the mirror stands.
func (m *Mirror[T]) State() MirrorState {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.state
}

// Len is the number of objects held.
func (m *Mirror[T]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.items)
}

// Snapshot appends every object held to dst and says whether they are a whole copy: false while
// the first read has not ended, while the objects are being read again after an expired watch
// (the copy is then part old, part new), and when the kind is forbidden.
func (m *Mirror[T]) Snapshot(dst []T) ([]T, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.synced || m.state == MirrorForbidden || m.reading {
		return dst, false
	}
	dst = slices.Grow(dst, len(m.items))
	for _, it := range m.items {
		dst = append(dst, it.v)
	}
	return dst, true
}

func (m *Mirror[T]) setState(s MirrorState, err error) {
	m.mu.Lock()
	changed := m.state != s
	m.state = s
	m.mu.Unlock()
	if changed && m.hooks.State != nil {
		m.hooks.State(s, err)
	}
}

func (m *Mirror[T]) changed() {
	if m.hooks.Changed != nil {
		m.hooks.Changed()
	}
}

func (m *Mirror[T]) restarted(reason string) {
	if m.hooks.Restart != nil {
		m.hooks.Restart(reason)
	}
}

// resumeSettles is how long a resumed watch must hold before the copy is current again.
const resumeSettles = time.Second

// errWatchClosed is a watch the server ended cleanly.
var errWatchClosed = errors.New("the server closed the watch")

// Run reads and follows the kind until ctx ends. It never gives up: a forbidden kind is tried
// again every few minutes (RBAC may be fixed), a failing server with a growing backoff.
func (m *Mirror[T]) Run(ctx context.Context) {
	relist := true
	fails := 0
	for ctx.Err() == nil {
		var err error
		began := time.Now()
		if relist {
			err = m.relistAndWatch(ctx)
		} else {
			err = m.watch(ctx, false)
		}
		if ctx.Err() != nil {
			return
		}
		lasted := time.Since(began)
		if lasted > time.Minute {
			fails = 0 // a watch that held a while: the next failure starts the backoff afresh
		}
		var wait time.Duration
		var bad *badEvent
		switch {
		case errors.As(err, &bad):
			// an event that cannot be read would come again on resuming: everything again, after
			// a growing wait (the same object may be read again in the next read)
			klog.Warningf("%s: %v: reading them all again", m.kind.resource, err)
			m.restarted(RestartError)
			relist = true
			fails++
			wait = backoff(fails, time.Second, 5*time.Minute)
			if m.isSynced() {
				m.setState(MirrorStale, err)
			}
		case apierrors.IsResourceExpired(err) || apierrors.IsGone(err) || apierrors.HasStatusCause(err, metav1.CauseTypeResourceVersionTooLarge):
			// the resourceVersion is older than the server keeps (or newer than it has, after a
			// restore): resuming would fail again; everything again, now
			m.restarted(RestartExpired)
			relist, fails = true, 0
			if m.isSynced() {
				m.setState(MirrorStale, err)
			}
		case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
			m.forbid(err)
			relist = true
			fails++
			wait = backoff(fails, 30*time.Second, 5*time.Minute)
		case errors.Is(err, errWatchClosed):
			m.restarted(RestartClosed)
			relist = m.relistDue()
			if lasted < time.Second {
				wait = time.Second // a server (or proxy) that ends every watch at once is not asked again at once
			}
		default:
			m.restarted(RestartError)
			fails++
			wait = backoff(fails, 500*time.Millisecond, 30*time.Second)
			if m.isSynced() {
				m.setState(MirrorStale, err)
			}
			relist = m.relistDue()
			klog.V(2).Infof("%s: %v; again in %s", m.kind.resource, err, wait.Round(time.Millisecond))
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}

// relistDue says whether the next watch must read everything again: nothing was read yet, no
// resourceVersion is known, or a read from the start was cut off (resuming its old resourceVersion
// would leave its half-read generation in place for good).
func (m *Mirror[T]) relistDue() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return !m.synced || m.state == MirrorForbidden || m.rv == "" || m.reading
}

// badEvent is a watch event that cannot be decoded: resuming would send it again.
type badEvent struct{ err error }

func (e *badEvent) Error() string { return e.err.Error() }

func (e *badEvent) Unwrap() error { return e.err }

// backoff is min(base*2^(n-1), most), jittered by up to a fifth.
func backoff(n int, base, most time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

func (m *Mirror[T]) isSynced() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.synced && m.state != MirrorForbidden
}

func (m *Mirror[T]) rvNow() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.rv
}

// forbid drops the copy: what RBAC no longer lets us read is not shown from memory.
func (m *Mirror[T]) forbid(err error) {
	m.mu.Lock()
	m.items, m.synced, m.rv, m.reading = map[objKey]mirrorItem[T]{}, false, "", false
	m.mu.Unlock()
	m.setState(MirrorForbidden, err)
	m.changed()
}

// relistAndWatch reads every object again into a new generation, then follows the watch. The
// objects of the old generation stay until the read ends, so a reader of a stale copy never sees
// zeros. A watch-list stream does both in one request; a server without one is paged, then
// watched from the list's resourceVersion.
func (m *Mirror[T]) relistAndWatch(ctx context.Context) error {
	m.mu.Lock()
	m.gen++
	m.reading = true
	m.mu.Unlock()
	if !m.noStream {
		err := m.watch(ctx, true)
		var refused *streamRefused
		if !errors.As(err, &refused) {
			return err
		}
		klog.V(2).Infof("%s: %v; reading them in pages, then watching", m.kind.resource, refused.err)
		m.mu.Lock()
		m.noStream = true
		m.mu.Unlock()
	}
	if err := m.page(ctx); err != nil {
		return err
	}
	return m.watch(ctx, false)
}

// streamRefused is a server that does not send a watch-list stream.
type streamRefused struct{ err error }

func (e *streamRefused) Error() string { return e.err.Error() }

// pageTimeout bounds one page of a LIST.
const pageTimeout = time.Minute

// page reads every object in pages into the current generation and ends the read.
func (m *Mirror[T]) page(ctx context.Context) error {
	cont, rv := "", ""
	var items []T
	for {
		req := m.rest.Get().Resource(m.kind.resource).Param("limit", strconv.Itoa(PageSize))
		if cont != "" {
			req = req.Param("continue", cont)
		}
		pctx, cancel := context.WithTimeout(ctx, pageTimeout)
		buf, err := readRaw(pctx, req)
		cancel()
		if err != nil {
			return err
		}
		meta, err := pageMeta(buf.Bytes())
		if err == nil {
			items, err = m.kind.page(buf.Bytes(), m.in, items[:0])
		}
		pageBuffers.Put(buf)
		if err != nil {
			return fmt.Errorf("reading a page of %s: %w", m.kind.resource, err)
		}
		m.mu.Lock()
		for i := range items {
			m.items[m.kind.key(&items[i])] = mirrorItem[T]{items[i], m.gen}
		}
		m.mu.Unlock()
		rv = meta.rv
		if cont = meta.cont; cont == "" {
			break
		}
	}
	m.endRead(rv)
	return nil
}

// endRead ends a read from the start: the objects it did not see are gone.
func (m *Mirror[T]) endRead(rv string) {
	m.mu.Lock()
	for k, it := range m.items {
		if it.gen != m.gen {
			delete(m.items, k)
		}
	}
	m.synced, m.rv, m.reading = true, rv, false
	n := len(m.items)
	m.mu.Unlock()
	klog.V(2).Infof("%s: %d read, watching from resourceVersion %s", m.kind.resource, n, rv)
	m.setState(MirrorCurrent, nil)
	m.changed()
}

// watch follows the kind from the last resourceVersion, or, with initial, as a watch-list stream
// whose initial events are a read from the start. It returns when the watch ends (never nil).
func (m *Mirror[T]) watch(ctx context.Context, initial bool) error {
	timeout := m.watchTimeout + time.Duration(rand.Int64N(int64(m.watchTimeout)))
	// the server ends the watch after timeoutSeconds; past that and a margin, the connection is
	// taken for dead (a proxy that holds it open and sends nothing)
	ctx, cancel := context.WithTimeout(ctx, timeout+watchMargin)
	defer cancel()
	req := m.rest.Get().Resource(m.kind.resource).
		Param("watch", "1").
		Param("allowWatchBookmarks", "true").
		Param("timeoutSeconds", strconv.Itoa(int(timeout.Seconds()))).
		SetHeader("Accept", watchStreamAccept+", application/json")
	if initial {
		req = req.Param("sendInitialEvents", "true").
			Param("resourceVersionMatch", string(metav1.ResourceVersionMatchNotOlderThan))
	} else {
		req = req.Param("resourceVersion", m.rvNow())
	}
	body, err := req.Stream(ctx)
	if err != nil {
		if initial && refusesStream(err) {
			return &streamRefused{err}
		}
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("the watch of %s did not answer within %s", m.kind.resource, timeout+watchMargin)
		}
		return err
	}
	defer body.Close()
	m.mu.Lock()
	m.watchSeq++
	seq := m.watchSeq
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.watchSeq++ // a settle timer of this watch finds it over
		m.mu.Unlock()
	}()
	if !initial {
		// current once the resumed watch holds for a moment: a server that restarted answers a
		// resourceVersion older than its cache with 200 and then an expired (410) error event
		t := time.AfterFunc(resumeSettles, func() { m.settle(seq) })
		defer t.Stop()
	}
	events, err := newEventReader(body)
	if err != nil {
		return err
	}
	ended := !initial
	for {
		typ, obj, err := events.next()
		if errors.Is(err, io.EOF) {
			if !ended {
				return fmt.Errorf("reading %s: %w", m.kind.resource, errStreamIncomplete)
			}
			return errWatchClosed
		}
		if err != nil {
			return fmt.Errorf("reading the watch of %s: %w", m.kind.resource, err)
		}
		switch typ {
		case "ADDED", "MODIFIED", "DELETED":
			if !ended && typ != "ADDED" {
				// not a watch-list stream: a server that ignored sendInitialEvents
				return &streamRefused{fmt.Errorf("a %s event before the end of the initial events", typ)}
			}
			if err := m.apply(typ, obj, events.json, !ended); err != nil {
				return &badEvent{err}
			}
		case "BOOKMARK":
			rv, end, err := events.bookmark(obj)
			if err != nil {
				return &badEvent{fmt.Errorf("reading a bookmark of %s: %w", m.kind.resource, err)}
			}
			if !ended && end {
				ended = true
				m.endRead(rv)
				continue
			}
			if rv != "" && ended {
				m.mu.Lock()
				m.rv = rv
				m.mu.Unlock()
			}
		case "ERROR":
			return events.status(obj)
		}
	}
}

// watchMargin is how long past its timeoutSeconds a watch may stay open before it is dropped.
const watchMargin = 30 * time.Second

// settle makes a resumed watch's copy current, if that watch (seq) still runs and no read from
// the start is under way.
func (m *Mirror[T]) settle(seq uint64) {
	m.mu.Lock()
	ok := m.watchSeq == seq && m.synced && !m.reading && m.state != MirrorForbidden
	m.mu.Unlock()
	if ok {
		m.setState(MirrorCurrent, nil)
	}
}

// refusesStream says whether a watch-list request's error means the server does not stream:
// an older server or the WatchList feature off refuse its parameters as invalid or bad.
func refusesStream(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || apierrors.IsMethodNotSupported(err)
}

// apply puts one event's object into the copy, or takes it out.
func (m *Mirror[T]) apply(typ string, obj []byte, isJSON, initial bool) error {
	var v T
	var err error
	if isJSON {
		v, err = m.kind.json(obj, m.in)
	} else {
		v, err = m.kind.proto(obj, m.in)
	}
	if err != nil {
		return fmt.Errorf("decoding a %s event of %s: %w", typ, m.kind.resource, err)
	}
	rv := objectRV(obj, isJSON)
	k := m.kind.key(&v)
	m.mu.Lock()
	if typ == "DELETED" {
		delete(m.items, k)
	} else {
		m.items[k] = mirrorItem[T]{v, m.gen}
	}
	if !initial && rv != "" {
		m.rv = rv
	}
	m.mu.Unlock()
	if !initial {
		m.changed()
	}
	return nil
}

// objectRV is an object's metadata.resourceVersion.
func objectRV(obj []byte, isJSON bool) string {
	if isJSON {
		var o struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(obj, &o)
		return o.Metadata.ResourceVersion
	}
	rv := ""
	_ = decodeFields(obj, func(num, wire int, d []byte, _ uint64) error {
		if num != 1 || wire != 2 {
			return nil
		}
		return decodeFields(d, func(n, w int, b []byte, _ uint64) error {
			if n == 6 && w == 2 {
				rv = string(b)
			}
			return nil
		})
	})
	return rv
}

// eventReader reads a watch's events in either encoding: protobuf frames, or JSON lines from a
// server (or proxy) that does not speak protobuf.
type eventReader struct {
	frames *frameReader
	dec    *json.Decoder
	json   bool
}

func newEventReader(body io.Reader) (*eventReader, error) {
	fr := newFrameReader(body)
	b, err := fr.r.Peek(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(b) == 1 && (b[0] == '{' || b[0] == ' ' || b[0] == '\n') {
		return &eventReader{dec: json.NewDecoder(fr.r), json: true}, nil
	}
	return &eventReader{frames: fr}, nil
}

// next is the next event's type and object (raw protobuf without its envelope, or JSON); the
// bytes are valid until the following call.
func (r *eventReader) next() (string, []byte, error) {
	if r.json {
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := r.dec.Decode(&ev); err != nil {
			return "", nil, err
		}
		return ev.Type, ev.Object, nil
	}
	frame, err := r.frames.next()
	if err != nil {
		return "", nil, err
	}
	ev, err := decodeWatchEvent(frame)
	if err != nil {
		return "", nil, err
	}
	return ev.typ, ev.object, nil
}

func (r *eventReader) bookmark(obj []byte) (rv string, end bool, err error) {
	if !r.json {
		return bookmarkEnd(obj)
	}
	var o metav1.PartialObjectMetadata
	if err := json.Unmarshal(obj, &o); err != nil {
		return "", false, err
	}
	return o.ResourceVersion, o.Annotations[initialEventsEnd] == "true", nil
}

func (r *eventReader) status(obj []byte) error {
	if !r.json {
		return statusError(obj)
	}
	var st metav1.Status
	if err := json.Unmarshal(obj, &st); err != nil {
		return fmt.Errorf("an error event from the watch: %s", strings.TrimSpace(string(bytes.TrimSpace(obj))))
	}
	return &apierrors.StatusError{ErrStatus: st}
}
