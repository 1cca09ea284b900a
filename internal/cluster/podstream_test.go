package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
)

// watchStream encodes events as the API server writes a protobuf watch: length-delimited frames of
// WatchEvents without envelope, each object in its "k8s\0" envelope.
func watchStream(t testing.TB, events ...metav1.WatchEvent) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := streaming.NewEncoder(protobuf.LengthDelimitedFramer.NewFrameWriter(&buf), protobuf.NewRawSerializer(nil, nil))
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func added(t testing.TB, p *corev1.Pod) metav1.WatchEvent {
	p = p.DeepCopy()
	p.APIVersion, p.Kind = "v1", "Pod"
	return metav1.WatchEvent{Type: "ADDED", Object: runtime.RawExtension{Raw: encodeProto(t, p)}}
}

func bookmark(t testing.TB, rv string, end bool) metav1.WatchEvent {
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{ResourceVersion: rv}}
	if end {
		p.Annotations = map[string]string{initialEventsEnd: "true"}
	}
	return metav1.WatchEvent{Type: "BOOKMARK", Object: runtime.RawExtension{Raw: encodeProto(t, p)}}
}

func TestReadPodStreamMatchesTypedDecoding(t *testing.T) {
	pods := samplePods()
	events := []metav1.WatchEvent{bookmark(t, "5", false)} // a bookmark before the end is passed over
	in := newInterner()
	var want []Pod
	for i := range pods {
		events = append(events, added(t, &pods[i]))
		want = append(want, reducePod(&pods[i], in))
	}
	events = append(events, bookmark(t, "812", true), added(t, &pods[0])) // what follows the end is not read
	got, rv, err := readPodStream(bytes.NewReader(watchStream(t, events...)), newInterner(), nil, nil)
	if err != nil {
		t.Fatalf("readPodStream() error = %v", err)
	}
	if rv != "812" {
		t.Errorf("resourceVersion = %q, want the bookmark's 812", rv)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b Pod) bool { return fmt.Sprint(a) == fmt.Sprint(b) })); diff != "" {
		t.Errorf("readPodStream() (-typed +lean):\n%s", diff)
	}
}

func TestReadPodStreamFailures(t *testing.T) {
	pod := &samplePods()[0]
	gone := &metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"}
	full := watchStream(t, added(t, pod), bookmark(t, "9", true))
	tests := []struct {
		name   string
		stream []byte
		check  func(error) bool
	}{
		{"no end bookmark", watchStream(t, added(t, pod)), func(err error) bool { return errors.Is(err, errStreamIncomplete) }},
		{"empty", nil, func(err error) bool { return errors.Is(err, errStreamIncomplete) }},
		{"error event", watchStream(t, added(t, pod), metav1.WatchEvent{Type: "ERROR", Object: runtime.RawExtension{Raw: encodeProto(t, gone)}}),
			func(err error) bool {
				return apierrors.IsResourceExpired(err) && strings.Contains(err.Error(), "too old resource version")
			}},
		{"a plain watch", watchStream(t, added(t, pod), metav1.WatchEvent{Type: "MODIFIED", Object: runtime.RawExtension{Raw: encodeProto(t, pod)}}),
			func(err error) bool {
				return strings.Contains(err.Error(), "a MODIFIED event before the end of the initial events")
			}},
		{"cut in a frame", full[:len(full)-3], func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"cut in a length", full[:2], func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"huge frame", []byte{0x7f, 0xff, 0xff, 0xff, 0}, func(err error) bool { return errors.Is(err, errBadProto) }},
		{"json", []byte(`{"type":"ADDED","object":{}}`), func(err error) bool { return strings.Contains(err.Error(), "JSON") }},
		{"garbage frame", []byte{0, 0, 0, 2, 0x0a, 0xff}, func(err error) bool { return errors.Is(err, errBadProto) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readPodStream(bytes.NewReader(tt.stream), newInterner(), nil, nil)
			if err == nil || !tt.check(err) {
				t.Errorf("error = %v", err)
			}
		})
	}
}

func FuzzReadPodStream(f *testing.F) {
	pods := samplePods()
	f.Add(watchStream(f, added(f, &pods[0]), added(f, &pods[1]), bookmark(f, "3", true)))
	f.Add([]byte{0, 0, 0, 1, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, stream []byte) {
		_, _, _ = readPodStream(bytes.NewReader(stream), newInterner(), nil, nil) // must never panic
	})
}

// podServer serves n pods as the API server does: paged protobuf LISTs, and watch-list streams
// when stream is set (else the watch is refused with status refuse).
type podServer struct {
	t        testing.TB
	all      []corev1.Pod
	stream   bool
	refuse   int
	requests []string
}

func (s *podServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests = append(s.requests, r.URL.RequestURI())
	q := r.URL.Query()
	if q.Get("watch") == "1" {
		if !s.stream {
			st := &metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusFailure, Code: int32(s.refuse), Reason: metav1.StatusReasonForbidden, Message: `pods is forbidden: User "u" cannot watch resource "pods"`}
			w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
			w.WriteHeader(s.refuse)
			_, _ = w.Write(encodeProto(s.t, st))
			return
		}
		if r.Header.Get("Accept") != watchStreamAccept || q.Get("sendInitialEvents") != "true" || q.Get("resourceVersionMatch") != "NotOlderThan" || q.Get("allowWatchBookmarks") != "true" {
			http.Error(w, "not a watch-list request: "+r.URL.RawQuery+" "+r.Header.Get("Accept"), http.StatusBadRequest)
			return
		}
		events := []metav1.WatchEvent{}
		for i := range s.all {
			events = append(events, added(s.t, &s.all[i]))
		}
		w.Header().Set("Content-Type", watchStreamAccept)
		_, _ = w.Write(watchStream(s.t, append(events, bookmark(s.t, "100", true))...))
		<-r.Context().Done() // a watch stays open until the client ends it
		return
	}
	start, _ := strconv.Atoi(q.Get("continue"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	end := min(start+limit, len(s.all))
	list := &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, Items: s.all[start:end]}
	if end < len(s.all) {
		rem := int64(len(s.all) - end)
		list.Continue, list.RemainingItemCount = strconv.Itoa(end), &rem
	}
	w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
	_, _ = w.Write(encodeProto(s.t, list))
}

func manyPods(n int) []corev1.Pod {
	var all []corev1.Pod
	for i := 0; i < n; i++ {
		all = append(all, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("p%d", i)}, Spec: corev1.PodSpec{NodeName: fmt.Sprintf("n%d", i%7)},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)}}}})
	}
	return all
}

// pagesAfter are the requests that page through n pods after the first page.
func pagesAfter(n int) []string {
	var out []string
	for c := PageSize; c < n; c += PageSize {
		out = append(out, fmt.Sprintf("/api/v1/pods?continue=%d&limit=%d", c, PageSize))
	}
	return out
}

func streamGatherer(t *testing.T, s *podServer, read PodRead, serverMinor string) *gatherer {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: runtime.ContentTypeProtobuf, AcceptContentTypes: runtime.ContentTypeProtobuf}}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc := &fakediscovery.FakeDiscovery{Fake: &fake.NewClientset().Fake, FakedServerVersion: &version.Info{Major: "1", Minor: serverMinor}}
	return &gatherer{rest: kube.CoreV1().RESTClient(), kube: kube, discovery: disc, opts: Options{PodRead: read}}
}

// TestListPodsChoosesTheRead: a small cluster is paged, a large one (or a forced stream) is read
// from the first page and one watch-list stream, and every refusal falls back to paging.
func TestListPodsChoosesTheRead(t *testing.T) {
	const page1 = "/api/v1/pods?limit=500"
	const watchList = "/api/v1/pods?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&watch=1"
	tests := []struct {
		name   string
		pods   int
		read   PodRead
		stream bool
		minor  string
		want   []string
	}{
		{"small: paged", 1201, PodReadAuto, true, "35", []string{page1, "/api/v1/pods?continue=500&limit=500", "/api/v1/pods?continue=1000&limit=500"}},
		{"forced stream", 1201, PodReadStream, true, "35", []string{watchList}},
		{"forced paging", 1201, PodReadPaged, true, "35", []string{page1, "/api/v1/pods?continue=500&limit=500", "/api/v1/pods?continue=1000&limit=500"}},
		{"large: streamed", StreamAbove + 501, PodReadAuto, true, "35", []string{page1, watchList}},
		{"watch forbidden: paged", 1201, PodReadStream, false, "35", []string{watchList, page1, "/api/v1/pods?continue=500&limit=500", "/api/v1/pods?continue=1000&limit=500"}},
		{"large, watch forbidden: paged on", StreamAbove + 501, PodReadAuto, false, "35", append([]string{page1, watchList}, pagesAfter(StreamAbove+501)...)},
		{"old server: paged", 1201, PodReadStream, true, "26+", []string{page1, "/api/v1/pods?continue=500&limit=500", "/api/v1/pods?continue=1000&limit=500"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &podServer{t: t, all: manyPods(tt.pods), stream: tt.stream, refuse: http.StatusForbidden}
			pods, err := streamGatherer(t, s, tt.read, tt.minor).listPods(context.Background(), "")
			if err != nil {
				t.Fatalf("listPods() error = %v", err)
			}
			last := pods[len(pods)-1]
			if len(pods) != tt.pods || last.Name != fmt.Sprintf("p%d", tt.pods-1) || last.Node != fmt.Sprintf("n%d", (tt.pods-1)%7) {
				t.Errorf("got %d pods, last %+v", len(pods), last)
			}
			if diff := cmp.Diff(tt.want, s.requests); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}
