package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

func samplePods() []corev1.Pod {
	return []corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1", Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"}},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "nginx", Env: []corev1.EnvVar{{Name: "X", Value: "y"}}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.5", PodIPs: []corev1.PodIP{{IP: "10.244.1.5"}, {IP: "fd00:10:244:1::5"}},
				HostIP: "192.168.56.11", HostIPs: []corev1.HostIP{{IP: "192.168.56.11"}, {IP: "fd00::11"}}, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-proxy-x"},
			Spec:   corev1.PodSpec{NodeName: "node-1", HostNetwork: true},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "192.168.56.11", HostIP: "192.168.56.11"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "pending"}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "old-status"}, Spec: corev1.PodSpec{NodeName: "node-2"},
			Status: corev1.PodStatus{Phase: corev1.PodSucceeded, PodIP: "10.244.2.9", HostIP: "192.168.56.12"}},
	}
}

func encodeProto(t testing.TB, obj runtime.Object) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Encode(obj, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodePodPageMatchesTypedDecoding(t *testing.T) {
	pods := samplePods()
	rem := int64(42)
	list := &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: metav1.ListMeta{Continue: "tok-1", RemainingItemCount: &rem, ResourceVersion: "77"}, Items: pods}
	in := newInterner()
	var want []Pod
	for i := range pods {
		want = append(want, reducePod(&pods[i], in))
	}
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			var body []byte
			if enc == "protobuf" {
				body = encodeProto(t, list)
			} else {
				body, _ = json.Marshal(list)
			}
			got, err := decodePodPage(body, newInterner(), nil)
			if err != nil {
				t.Fatalf("decodePodPage() error = %v", err)
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b Pod) bool { return fmt.Sprint(a) == fmt.Sprint(b) })); diff != "" {
				t.Errorf("decodePodPage() (-typed +lean):\n%s", diff)
			}
			meta, err := pageMeta(body)
			if err != nil || meta.cont != "tok-1" || meta.remaining != 42 {
				t.Errorf("pageMeta() = %+v, %v; want continue tok-1, remaining 42", meta, err)
			}
		})
	}
}

func TestDecodePodPageRejectsGarbage(t *testing.T) {
	for _, body := range [][]byte{[]byte("k8s\x00\x12\xff"), []byte("k8s\x00"), []byte("{not json"), append([]byte("k8s\x00\x12\x05"), 0x12, 0x03, 0x0a, 0x80)} {
		if _, err := decodePodPage(body, newInterner(), nil); err == nil {
			t.Errorf("decodePodPage(%q) gave no error", body)
		}
	}
}

func FuzzDecodePodPage(f *testing.F) {
	rem := int64(1)
	f.Add(encodeProto(f, &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: metav1.ListMeta{Continue: "c", RemainingItemCount: &rem}, Items: samplePods()}))
	f.Add([]byte("k8s\x00"))
	f.Add([]byte(`{"items":[{"metadata":{"name":"a"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = decodePodPage(body, newInterner(), nil) // must never panic
		_, _ = pageMeta(body)
	})
}

// TestListPodsPagesRawProtobuf serves pods in pages of protobuf through a real REST client, as the
// API server does, and checks paging, the remaining-count preallocation, and namespace fallback.
func TestListPodsPagesRawProtobuf(t *testing.T) {
	var all []corev1.Pod
	for i := 0; i < 1201; i++ {
		all = append(all, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("p%d", i)}, Spec: corev1.PodSpec{NodeName: fmt.Sprintf("n%d", i%7)},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)}}}})
	}
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.URL.RequestURI())
		start, _ := strconv.Atoi(r.URL.Query().Get("continue"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		end := min(start+limit, len(all))
		list := &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, Items: all[start:end]}
		if end < len(all) {
			rem := int64(len(all) - end)
			list.Continue, list.RemainingItemCount = strconv.Itoa(end), &rem
		}
		w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
		_, _ = w.Write(encodeProto(t, list))
	}))
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: runtime.ContentTypeProtobuf, AcceptContentTypes: runtime.ContentTypeProtobuf}}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatherer{rest: kube.CoreV1().RESTClient(), kube: kube}
	pods, err := g.listPods(context.Background(), "")
	if err != nil {
		t.Fatalf("listPods() error = %v", err)
	}
	if len(pods) != len(all) || pods[1200].Name != "p1200" || pods[1200].IPs[0].String() != "10.0.4.176" || pods[1200].Node != "n3" {
		t.Errorf("got %d pods, last %+v", len(pods), pods[len(pods)-1])
	}
	wantReqs := []string{"/api/v1/pods?limit=500", "/api/v1/pods?continue=500&limit=500", "/api/v1/pods?continue=1000&limit=500"}
	if diff := cmp.Diff(wantReqs, requests); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if cap(pods) != 500+701 {
		t.Errorf("pods preallocated with cap %d, want %d from the first page's remainingItemCount", cap(pods), 1201)
	}
}

func BenchmarkDecodePodPage(b *testing.B) {
	var items []corev1.Pod
	for i := 0; i < PageSize; i++ {
		p := samplePods()[0]
		p.Name = fmt.Sprintf("web-%d", i)
		items = append(items, p)
	}
	body := encodeProto(b, &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, Items: items})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodePodPage(body, newInterner(), make([]Pod, 0, PageSize)); err != nil {
			b.Fatal(err)
		}
	}
}
