package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func TestSpecsAreRestricted(t *testing.T) {
	defer func(f func() string) { nameSuffix = f }(nameSuffix)
	nameSuffix = func() string { return "abcde" }
	o := Options{Image: "img", PullPolicy: corev1.PullNever, Profile: ProfileRestricted, TimeoutSeconds: 30}
	ec := EphemeralContainer(o)
	want := &corev1.SecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(65534)), RunAsGroup: ptr.To(int64(65534)), AllowPrivilegeEscalation: ptr.To(false),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	if diff := cmp.Diff(want, ec.SecurityContext); diff != "" {
		t.Errorf("ephemeral container security context (-want +got):\n%s", diff)
	}
	if ec.Name != "podnet-abcde" || ec.Command[0] != "sh" || !strings.Contains(ec.Command[2], "@@podnet end") {
		t.Errorf("ephemeral container = %+v", ec)
	}
	pod := NodePod("n1", "ns", Options{Image: "img", Profile: ProfileNetAdmin, TimeoutSeconds: 30})
	if !pod.Spec.HostNetwork || pod.Spec.NodeName != "n1" || *pod.Spec.ActiveDeadlineSeconds != 30 || pod.Labels[ManagedByLabel] != ManagedBy ||
		pod.Spec.RestartPolicy != corev1.RestartPolicyNever || pod.Spec.Tolerations[0].Operator != corev1.TolerationOpExists {
		t.Errorf("node pod = %+v", pod)
	}
	if got := pod.Spec.Containers[0].SecurityContext.Capabilities.Add; !cmp.Equal(got, []corev1.Capability{"NET_ADMIN", "NET_RAW"}) {
		t.Errorf("netadmin adds %v", got)
	}
}

func runningPod(ns, name string, ecs ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, e := range ecs {
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: e}})
	}
	return p
}

func TestProbePodRefusals(t *testing.T) {
	done := runningPod("x", "done")
	done.Status.Phase = corev1.PodSucceeded
	pending := runningPod("x", "pending")
	pending.Status.Phase = corev1.PodPending
	full := runningPod("x", "full", "podnet-a", "podnet-b", "debugger")
	kube := fake.NewClientset(done, pending, full, runningPod("x", "web"))
	kube.PrependReactor("patch", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "ephemeralcontainers" {
			return false, nil, nil
		}
		if a.(k8stesting.PatchAction).GetName() == "web" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods/ephemeralcontainers"}, "web", errors.New("RBAC: denied"))
		}
		return false, nil, nil
	})
	r := &Runner{Kube: kube, DeleteTimeout: time.Second}
	o := Options{Image: "img", Profile: ProfileRestricted}
	tests := []struct{ pod, want string }{
		{"done", "pod x/done has finished (Succeeded): it has no network namespace left to probe"},
		{"pending", "pod x/pending is Pending, not Running: a probe needs its network namespace; wait until it runs"},
		{"full", "pod x/full already carries 2 podnet ephemeral containers (limit 2): each stays in the pod's spec until the pod is deleted; pass --force to add one more, or probe its node"},
		{"nope", "pod x/nope not found: check the name and the namespace (-n)"},
		{"web", "cannot add an ephemeral container to pod x/web: you need 'patch' on 'pods/ephemeralcontainers' in namespace x (the built-in admin and edit roles do not grant it)"},
	}
	for _, tt := range tests {
		_, err := r.ProbePod(context.Background(), "x", tt.pod, o, 2, false)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error = %v, want %q", tt.pod, err, tt.want)
		}
	}
}

func TestPatchErrors(t *testing.T) {
	psa := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "web", errors.New(`violates PodSecurity "restricted:latest": unrestricted capabilities (container "podnet-x" must set securityContext.capabilities.drop=["ALL"])`))
	got := patchError(psa, "x", "web").Error()
	want := `admission rejected the probe container: violates PodSecurity "restricted:latest": unrestricted capabilities (container "podnet-x" must set securityContext.capabilities.drop=["ALL"]); the default probe is admitted at the restricted level, --profile netadmin needs baseline or privileged`
	if got != want {
		t.Errorf("PSA error\n got %q\nwant %q", got, want)
	}
	nf := patchError(apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "web"), "x", "web").Error()
	if !strings.Contains(nf, "ephemeral containers are disabled or unsupported") {
		t.Errorf("404 = %q", nf)
	}
}

// TestProbeNodeDeletesOnTimeout: a node whose kubelet never runs the pod (a kwok node, say) times
// out with a clear message, and the pod is deleted all the same.
func TestProbeNodeDeletesOnTimeout(t *testing.T) {
	kube := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	r := &Runner{Kube: kube, DeleteTimeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := r.ProbeNode(ctx, "n1", "default", Options{Image: "img", Profile: ProfileRestricted, TimeoutSeconds: 1})
	if err == nil || !strings.Contains(err.Error(), "did not finish within --timeout") {
		t.Errorf("error = %v", err)
	}
	pods, _ := kube.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
	if len(pods.Items) != 0 {
		t.Errorf("probe pod left behind: %v", pods.Items[0].Name)
	}
	var deletes int
	for _, a := range kube.Actions() {
		if a.GetVerb() == "delete" {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("%d deletes, want 1", deletes)
	}
}

func TestProbeNodeRefusesWindows(t *testing.T) {
	kube := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "w1", Labels: map[string]string{corev1.LabelOSStable: "windows"}}})
	_, err := (&Runner{Kube: kube}).ProbeNode(context.Background(), "w1", "default", Options{})
	if want := "node w1 runs Windows: the probe reads Linux network namespaces only"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	_, err = (&Runner{Kube: kube}).ProbeNode(context.Background(), "nope", "default", Options{})
	if want := "node nope not found: check the name (kubectl get nodes)"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestCheckPod(t *testing.T) {
	s, err := Parse(scriptOutput(t, "busybox", "text"))
	if err != nil {
		t.Fatal(err)
	}
	got := CheckPod(s, PodFacts{IPs: []string{"10.244.1.5", "10.244.1.99"}, Node: "n1", NodeCIDRs: []string{"10.244.2.0/24"}, CIDRModel: true})
	var msgs []string
	for _, c := range got {
		msgs = append(msgs, fmt.Sprintf("%v %s", c.OK, c.Message))
	}
	want := []string{
		"true pod IP 10.244.1.5 is on veth-a",
		"false pod IP 10.244.1.99 (from the API) is on no interface of the pod: the CNI's view and the API disagree",
		"true IPv4 default route via 10.244.1.1 on veth-a",
		"false 10.244.1.5 is outside node n1's pod CIDR 10.244.2.0/24: routes to it point at another node",
		"false 10.244.1.99 is outside node n1's pod CIDR 10.244.2.0/24: routes to it point at another node",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
}

// TestProbeGivesUpOnANodeThatWillNotStartIt: a NotReady node is refused before anything is
// written; a Ready node whose kubelet never reports the container ends the wait after NoSignAfter
// with the cause, well before the timeout, and the node pod is deleted all the same.
func TestProbeGivesUpOnANodeThatWillNotStartIt(t *testing.T) {
	down := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status.",
		LastTransitionTime: metav1.NewTime(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))}}}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}, Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	kube := fake.NewClientset(down, pod)
	r := &Runner{Kube: kube, DeleteTimeout: time.Second}
	o := Options{Image: "img", Profile: ProfileRestricted, TimeoutSeconds: 60}
	want := "node n1 is in an unknown state (its kubelet stopped posting status) since 2026-12-01T08:00:00Z (NodeStatusUnknown: Kubelet stopped posting node status.): its kubelet will not start the probe container; fix the node or probe a pod on another one"
	if _, err := r.ProbePod(t.Context(), "shop", "web", o, 5, false); err == nil || err.Error() != "pod shop/web: "+want {
		t.Errorf("pod on a down node: %v", err)
	}
	if _, err := r.ProbeNode(t.Context(), "n1", "default", o); err == nil || err.Error() != want {
		t.Errorf("down node: %v", err)
	}
	for _, a := range kube.Actions() {
		if a.GetVerb() != "get" {
			t.Errorf("a probe of a down node sent %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}

	silent := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	kube = fake.NewClientset(silent)
	r = &Runner{Kube: kube, DeleteTimeout: time.Second, NoSignAfter: 200 * time.Millisecond}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := r.ProbeNode(ctx, "n2", "default", o)
	if err == nil || !strings.HasPrefix(err.Error(), "the kubelet of node n2 shows no sign of starting the probe of node/n2 after 200ms (no container status, no event for it)") {
		t.Errorf("silent kubelet: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %s, want about NoSignAfter", d)
	}
	if pods, _ := kube.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{}); len(pods.Items) != 0 {
		t.Errorf("probe pod left behind")
	}
}

// TestProbeNodeInterruptedDuringCreate: Ctrl-C while the creation is in flight. The server creates
// the pod all the same, so the probe must let the creation finish and then delete what it made.
func TestProbeNodeInterruptedDuringCreate(t *testing.T) {
	kube := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		// the server stores the pod, but the answer is lost: the interrupt cut the request off
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if err := kube.Tracker().Create(a.GetResource(), p, p.Namespace); err != nil {
			t.Fatal(err)
		}
		cancel()
		return true, nil, fmt.Errorf("Post \"https://127.0.0.1/api/v1/namespaces/default/pods\": %w", context.Canceled)
	})
	r := &Runner{Kube: kube, DeleteTimeout: time.Second}
	_, err := r.ProbeNode(ctx, "n1", "default", Options{Image: "img", Profile: ProfileRestricted, TimeoutSeconds: 30})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want the interruption", err)
	}
	pods, _ := kube.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
	if len(pods.Items) != 0 {
		t.Errorf("probe pod left behind after an interrupt during its creation: %s", pods.Items[0].Name)
	}
}
