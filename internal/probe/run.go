package probe

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// Runner runs probes through the API.
type Runner struct {
	Kube kubernetes.Interface
	// Status, if set, is told what a probe waits for ("pulling image", "running").
	Status func(target, state string)
	// DeleteTimeout bounds the deletion of a node pod, which runs even after Ctrl-C.
	DeleteTimeout time.Duration
	// DryRun plans instead of probing: DryRunClient sends nothing that writes, DryRunServer sends
	// the creation with dryRun=All (admission runs, nothing is stored). Each probe then returns
	// ErrDryRun and Planned holds the objects.
	DryRun DryRun
	// NoSignAfter is how long a probe waits for the first sign that the node's kubelet starts
	// its container (a status or an event for it) before giving up; 0 means 20 s. A real kubelet
	// reports within seconds; one that is down or simulated (kwok) never does.
	NoSignAfter time.Duration

	mu      sync.Mutex
	planned []corev1.Pod
}

// DryRun is the mode of --dry-run.
type DryRun string

// Dry-run modes, as kubectl names them.
const (
	DryRunNone   DryRun = "none"
	DryRunClient DryRun = "client"
	DryRunServer DryRun = "server"
)

// notReady says why a node's kubelet will not start a probe container: its Ready condition is
// not True. A node without the condition, or one that cannot be read, is given the benefit.
func notReady(n *corev1.Node) error {
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady || c.Status == corev1.ConditionTrue {
			continue
		}
		state := "NotReady"
		if c.Status == corev1.ConditionUnknown {
			state = "in an unknown state (its kubelet stopped posting status)"
		}
		since := ""
		if !c.LastTransitionTime.IsZero() {
			since = " since " + c.LastTransitionTime.UTC().Format(time.RFC3339)
		}
		return fmt.Errorf("node %s is %s%s (%s: %s): its kubelet will not start the probe container; fix the node or probe a pod on another one", n.Name, state, since, c.Reason, c.Message)
	}
	return nil
}

// ErrDryRun is what a probe returns when the runner only plans it.
var ErrDryRun = errors.New("dry run: the probe was not run")

// plan records the object a probe would create and ends the probe with ErrDryRun.
func (r *Runner) plan(p *corev1.Pod) error {
	p = p.DeepCopy()
	p.APIVersion, p.Kind = "v1", "Pod"
	r.mu.Lock()
	r.planned = append(r.planned, *p)
	r.mu.Unlock()
	return ErrDryRun
}

// Planned are the objects the dry run would have created, by namespace and name: node probe pods
// whole, and for a pod target the pod with only the ephemeral container the probe adds through
// its pods/ephemeralcontainers subresource.
func (r *Runner) Planned() []corev1.Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.planned)
	slices.SortFunc(out, func(a, b corev1.Pod) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out
}

// dryRunAll is the dryRun option of the requests that write.
func (r *Runner) dryRunAll() []string {
	if r.DryRun == DryRunServer {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// Result is a finished probe.
type Result struct {
	Target   string    `json:"target"`
	Snapshot *Snapshot `json:"snapshot"`
	// Pod is the probed pod (pod targets), for comparing with the API.
	Pod *corev1.Pod `json:"-"`
	// Node is the node probed, or the pod's node.
	Node string `json:"node"`
	// Container is the ephemeral container or node pod the probe ran in.
	Container string   `json:"probe"`
	Notes     []string `json:"notes,omitempty"`
	Raw       string   `json:"-"`
}

// imageFailures are the waiting reasons that mean the image will not come.
var imageFailures = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "ErrImageNeverPull": true, "InvalidImageName": true, "ImageInspectError": true, "CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true}

func (r *Runner) status(target, s string) {
	if r.Status != nil {
		r.Status(target, s)
	}
}

// CountProbeContainers counts the podnet ephemeral containers a pod already carries.
func CountProbeContainers(p *corev1.Pod) int {
	n := 0
	for _, ec := range p.Spec.EphemeralContainers {
		if strings.HasPrefix(ec.Name, NamePrefix) {
			n++
		}
	}
	return n
}

// ProbePod adds an ephemeral container to the pod, waits for it to finish and parses its output.
// limit is the number of podnet containers a pod may already carry before force is needed.
func (r *Runner) ProbePod(ctx context.Context, ns, name string, o Options, limit int, force bool) (*Result, error) {
	return withSnapshot(r.ProbePodRaw(ctx, ns, name, o, limit, force))
}

// withSnapshot parses the output of a probe that ran the ip script.
func withSnapshot(res *Result, err error) (*Result, error) {
	if err != nil {
		return nil, err
	}
	snap, err := Parse(res.Raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", res.Target, err)
	}
	res.Snapshot = snap
	return res, nil
}

// ProbePodRaw is ProbePod without parsing: it runs o.Script (the ip script when empty) and
// returns its output in Raw.
func (r *Runner) ProbePodRaw(ctx context.Context, ns, name string, o Options, limit int, force bool) (*Result, error) {
	target := "pod/" + ns + "/" + name
	defer r.status(target, "") // finished, one way or another
	pod, err := r.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("pod %s/%s not found: check the name and the namespace (-n)", ns, name)
	case apierrors.IsForbidden(err):
		return nil, fmt.Errorf("cannot read pod %s/%s: you need 'get pods' in namespace %s", ns, name, ns)
	case err != nil:
		return nil, err
	}
	res := &Result{Target: target, Pod: pod, Node: pod.Spec.NodeName}
	switch pod.Status.Phase {
	case corev1.PodRunning:
	case corev1.PodSucceeded, corev1.PodFailed:
		return nil, fmt.Errorf("pod %s/%s has finished (%s): it has no network namespace left to probe", ns, name, pod.Status.Phase)
	default:
		return nil, fmt.Errorf("pod %s/%s is %s, not Running: a probe needs its network namespace; wait until it runs", ns, name, pod.Status.Phase)
	}
	if pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Windows {
		return nil, fmt.Errorf("pod %s/%s runs on Windows: the probe reads Linux network namespaces only", ns, name)
	}
	if pod.Spec.HostNetwork {
		res.Notes = append(res.Notes, fmt.Sprintf("pod %s/%s uses the host network: this is the view of node %s", ns, name, pod.Spec.NodeName))
	}
	if node, err := r.Kube.CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{}); err == nil {
		if err := notReady(node); err != nil {
			return nil, fmt.Errorf("pod %s/%s: %w", ns, name, err)
		}
	}
	if n := CountProbeContainers(pod); n >= limit && !force {
		return nil, fmt.Errorf("pod %s/%s already carries %d podnet ephemeral containers (limit %d): each stays in the pod's spec until the pod is deleted; pass --force to add one more, or probe its node", ns, name, n, limit)
	}
	ec := EphemeralContainer(o)
	res.Container = ec.Name
	patch, err := ephemeralPatch(pod, ec)
	if err != nil {
		return nil, err
	}
	// a dry run shows the pod with only the container the probe adds through the subresource
	planEphemeral := func(ec corev1.EphemeralContainer) error {
		return r.plan(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{EphemeralContainers: []corev1.EphemeralContainer{ec}}})
	}
	if r.DryRun == DryRunClient {
		return nil, planEphemeral(ec)
	}
	r.status(target, "adding ephemeral container "+ec.Name)
	patched, err := r.Kube.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{DryRun: r.dryRunAll()}, "ephemeralcontainers")
	if err != nil {
		return nil, patchError(err, ns, name)
	}
	if r.DryRun == DryRunServer {
		for _, c := range patched.Spec.EphemeralContainers {
			if c.Name == ec.Name {
				ec = c // as the API server admitted it, defaults filled in
			}
		}
		return nil, planEphemeral(ec)
	}
	if err := r.waitEphemeral(ctx, patched, ec.Name, target, o); err != nil {
		return nil, err
	}
	return r.readLogs(ctx, res, ns, name, ec.Name)
}

func ephemeralPatch(pod *corev1.Pod, ec corev1.EphemeralContainer) ([]byte, error) {
	before, err := json.Marshal(pod)
	if err != nil {
		return nil, err
	}
	c := pod.DeepCopy()
	c.Spec.EphemeralContainers = append(c.Spec.EphemeralContainers, ec)
	after, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return strategicpatch.CreateTwoWayMergePatch(before, after, pod)
}

// admissionError says which Pod Security level and field rejected a probe, if that was it.
func admissionError(err error, what string) error {
	msg := err.Error()
	if i := strings.Index(msg, "violates PodSecurity"); i >= 0 {
		return fmt.Errorf("admission rejected the %s: %s", what, msg[i:])
	}
	return nil
}

func patchError(err error, ns, name string) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("adding an ephemeral container to pod %s/%s: the API server has no pods/ephemeralcontainers subresource (404): ephemeral containers are disabled or unsupported on this cluster", ns, name)
	case apierrors.IsForbidden(err):
		if a := admissionError(err, "probe container"); a != nil {
			return fmt.Errorf("%w; the default probe is admitted at the restricted level, --profile netadmin needs baseline or privileged", a)
		}
		return fmt.Errorf("cannot add an ephemeral container to pod %s/%s: you need 'patch' on 'pods/ephemeralcontainers' in namespace %s (the built-in admin and edit roles do not grant it)", ns, name, ns)
	case apierrors.IsInvalid(err):
		return fmt.Errorf("the API server refused the probe container for pod %s/%s: %w", ns, name, err)
	}
	return err
}

// waitEphemeral watches the pod until the container has terminated, failing at once when its
// image cannot be had.
func (r *Runner) waitEphemeral(ctx context.Context, pod *corev1.Pod, cname, target string, o Options) error {
	check := func(p *corev1.Pod) (bool, bool, error) {
		for _, s := range p.Status.EphemeralContainerStatuses {
			if s.Name != cname {
				continue
			}
			done, err := r.containerDone(s, target, o)
			return done, true, err
		}
		r.status(target, "waiting for the kubelet of "+pod.Spec.NodeName+" to start "+cname)
		return false, false, nil
	}
	return r.watchPod(ctx, pod, target, cname, o.Image, check)
}

func (r *Runner) containerDone(s corev1.ContainerStatus, target string, o Options) (bool, error) {
	switch {
	case s.State.Terminated != nil:
		return true, nil
	case s.State.Waiting != nil && imageFailures[s.State.Waiting.Reason]:
		return false, fmt.Errorf("the probe image %s cannot be started on %s: %s: %s (use --image for a mirror, --image-pull-policy to change pulling)", o.Image, target, s.State.Waiting.Reason, s.State.Waiting.Message)
	case s.State.Waiting != nil && s.State.Waiting.Reason != "":
		r.status(target, strings.ToLower(s.State.Waiting.Reason))
	case s.State.Waiting != nil:
		r.status(target, "pulling image "+o.Image)
	case s.State.Running != nil:
		r.status(target, "running")
	}
	return false, nil
}

// failEvents are the kubelet's event reasons that mean the probe container will not start.
var failEvents = map[string]bool{"Failed": true, "ErrImageNeverPull": true, "InspectFailed": true, "BackOff": true}

// watchFailures watches the pod's events: the kubelet says an image cannot be had there at once,
// before the pod's status catches up. It cancels ctx with the reason.
func (r *Runner) watchFailures(ctx context.Context, pod *corev1.Pod, container, image string, signed func(), cancel context.CancelCauseFunc) {
	sel := fields.Set{"involvedObject.name": pod.Name, "involvedObject.kind": "Pod"}.AsSelector().String()
	w, err := r.Kube.CoreV1().Events(pod.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return // events are a shortcut; the pod's status says the same later
	}
	defer w.Stop()
	for {
		var ev watch.Event
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.ResultChan():
			if !ok {
				return
			}
			ev = e
		}
		e, ok := ev.Object.(*corev1.Event)
		if !ok || !strings.Contains(e.InvolvedObject.FieldPath, "{"+container+"}") {
			continue
		}
		signed() // the kubelet works on the container: Pulling, Pulled, Created, ...
		if !failEvents[e.Reason] {
			continue
		}
		if e.Reason == "BackOff" && !strings.Contains(e.Message, "image") {
			continue
		}
		cancel(fmt.Errorf("the probe image %s cannot be started: %s: %s (use --image for a mirror, --image-pull-policy to change pulling)", image, e.Reason, e.Message))
		return
	}
}

// watchPod calls check on the pod and on every change of it until check is done or fails, or ctx
// ends; the kubelet's failure events for the container end the wait at once, and so does the
// lack of any sign of it (check's signed, or an event for the container) within NoSignAfter.
func (r *Runner) watchPod(ctx context.Context, pod *corev1.Pod, target, container, image string, check func(*corev1.Pod) (done, signed bool, err error)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var sign sync.Once
	signs := make(chan struct{})
	signed := func() { sign.Do(func() { close(signs) }) }
	wait := r.NoSignAfter
	if wait == 0 {
		wait = 20 * time.Second
	}
	go func() {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-signs:
		case <-ctx.Done():
		case <-t.C:
			cancel(fmt.Errorf("the kubelet of node %s shows no sign of starting the probe of %s after %s (no container status, no event for it): it may be down, partitioned from the API server, or simulated (kwok); check 'kubectl describe node %s'", pod.Spec.NodeName, target, wait, pod.Spec.NodeName))
		}
	}()
	go r.watchFailures(ctx, pod, container, image, signed, cancel)
	err := r.watchPodStatus(ctx, pod, target, func(p *corev1.Pod) (bool, error) {
		done, s, err := check(p)
		if s {
			signed()
		}
		return done, err
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	return err
}

// watchPodStatus watches the pod until check is done. It is written by hand, not with
// watchtools.Until: the RetryWatcher behind it retries a watch the API refuses (Forbidden, a
// field selector it rejects) until the deadline, where this says at once what is missing.
func (r *Runner) watchPodStatus(ctx context.Context, pod *corev1.Pod, target string, check func(*corev1.Pod) (bool, error)) error {
	done, err := check(pod)
	if done || err != nil {
		return err
	}
	rv := pod.ResourceVersion
	for {
		w, err := r.Kube.CoreV1().Pods(pod.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", pod.Name).String(), ResourceVersion: rv})
		if err != nil {
			return waitError(ctx, err, target)
		}
		if err := r.drainWatch(ctx, w, &rv, pod, target, check); err != errWatchClosed {
			return err
		}
		if err := ctx.Err(); err != nil {
			return waitError(ctx, err, target)
		}
	}
}

var errWatchClosed = errors.New("watch closed")

// drainWatch reads one watch until check is done or fails (its result), the watch closes
// (errWatchClosed: watch again from rv) or ctx ends.
func (r *Runner) drainWatch(ctx context.Context, w watch.Interface, rv *string, pod *corev1.Pod, target string, check func(*corev1.Pod) (bool, error)) error {
	defer w.Stop()
	for {
		var ev watch.Event
		var ok bool
		select {
		case <-ctx.Done():
			return waitError(ctx, ctx.Err(), target)
		case ev, ok = <-w.ResultChan():
			if !ok {
				return errWatchClosed
			}
		}
		switch ev.Type {
		case watch.Deleted:
			return fmt.Errorf("%s was deleted while the probe ran", target)
		case watch.Error:
			p, err := r.Kube.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
			if err != nil {
				return waitError(ctx, err, target)
			}
			*rv = p.ResourceVersion
			return errWatchClosed
		}
		p, isPod := ev.Object.(*corev1.Pod)
		if !isPod {
			continue
		}
		*rv = p.ResourceVersion
		if done, err := check(p); done || err != nil {
			return err
		}
	}
}

func waitError(ctx context.Context, err error, target string) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the probe of %s did not finish within --timeout: its node may not run the container (a node without a working kubelet never does)", target)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("interrupted while probing %s", target)
	}
	return err
}

func (r *Runner) readLogs(ctx context.Context, res *Result, ns, pod, container string) (*Result, error) {
	r.status(res.Target, "reading the output")
	out, err := r.Kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(ctx)
	if err != nil {
		if apierrors.IsForbidden(err) {
			return nil, fmt.Errorf("cannot read the probe's output: you need 'get' on 'pods/log' in namespace %s", ns)
		}
		return nil, fmt.Errorf("reading the probe's output from %s/%s container %s: %w", ns, pod, container, err)
	}
	res.Raw = string(out)
	return res, nil
}

// ProbeNode runs the ip script on the node and parses its output.
func (r *Runner) ProbeNode(ctx context.Context, node, ns string, o Options) (*Result, error) {
	return withSnapshot(r.probeNodeRaw(ctx, node, ns, o))
}

// ProbeNodeRaw is ProbeNode without parsing: it runs o.Script and returns its output in Raw.
func (r *Runner) ProbeNodeRaw(ctx context.Context, node, ns string, o Options) (*Result, error) {
	return r.probeNodeRaw(ctx, node, ns, o)
}

// probeNodeRaw runs a short-lived host-network pod on the node in namespace ns, reads its output
// and deletes it on every path, Ctrl-C included.
func (r *Runner) probeNodeRaw(ctx context.Context, node, ns string, o Options) (res *Result, err error) {
	target := "node/" + node
	defer r.status(target, "") // finished, one way or another
	n, err := r.Kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("node %s not found: check the name (kubectl get nodes)", node)
	case apierrors.IsForbidden(err):
		// not fatal: the pod can still be scheduled by name
	case err != nil:
		return nil, err
	case n.Labels[corev1.LabelOSStable] == "windows" || n.Status.NodeInfo.OperatingSystem == "windows":
		return nil, fmt.Errorf("node %s runs Windows: the probe reads Linux network namespaces only", node)
	default:
		if err := notReady(n); err != nil {
			return nil, err
		}
	}
	spec := NodePod(node, ns, o)
	if r.DryRun == DryRunClient {
		return nil, r.plan(spec)
	}
	r.status(target, "creating probe pod "+ns+"/"+spec.Name)
	// The creation is not cut short by Ctrl-C: a request cancelled in flight may still create the
	// pod on the server, and then nothing would delete it. It finishes (bounded by DeleteTimeout),
	// and the deferred deletion below removes what it made.
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), r.deleteTimeout())
	pod, err := r.Kube.CoreV1().Pods(ns).Create(cctx, spec, metav1.CreateOptions{DryRun: r.dryRunAll()})
	ccancel()
	if err != nil && !errors.As(err, new(apierrors.APIStatus)) {
		// no answer from the server (cut off, timed out): the pod may exist all the same
		_ = r.deleteNodePod(ns, spec.Name)
	}
	if err != nil {
		switch {
		case apierrors.IsForbidden(err):
			if a := admissionError(err, "node probe pod"); a != nil {
				return nil, fmt.Errorf("%w; a node probe needs hostNetwork, which only the privileged level allows: run it in such a namespace with --probe-namespace", a)
			}
			return nil, fmt.Errorf("cannot create the node probe pod: you need 'create pods' in namespace %s (or choose another with --probe-namespace)", ns)
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("namespace %s does not exist: choose the probe pod's namespace with --probe-namespace", ns)
		}
		return nil, err
	}
	if r.DryRun == DryRunServer {
		return nil, r.plan(pod) // admitted, not stored: nothing to delete
	}
	defer func() {
		if derr := r.deleteNodePod(ns, pod.Name); derr != nil && err == nil {
			err = fmt.Errorf("deleting probe pod %s/%s: %w (delete it with 'kubectl podnet cleanup -n %s')", ns, pod.Name, derr, ns)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, waitError(ctx, err, target) // interrupted while the pod was created
	}
	res = &Result{Target: target, Node: node, Container: ns + "/" + pod.Name}
	check := func(p *corev1.Pod) (bool, bool, error) {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			if len(p.Status.ContainerStatuses) == 0 {
				return false, true, fmt.Errorf("the probe pod on %s failed before its container ran: %s %s", target, p.Status.Reason, p.Status.Message)
			}
			return true, true, nil
		}
		if len(p.Status.ContainerStatuses) == 0 {
			r.status(target, "waiting for the kubelet of "+node+" to start the probe pod")
			return false, false, nil
		}
		done, err := r.containerDone(p.Status.ContainerStatuses[0], target, o)
		return done, true, err
	}
	if err := r.watchPod(ctx, pod, target, "probe", o.Image, check); err != nil {
		return nil, err
	}
	return r.readLogs(ctx, res, ns, pod.Name, "probe")
}

func (r *Runner) deleteTimeout() time.Duration {
	if r.DeleteTimeout > 0 {
		return r.DeleteTimeout
	}
	return 15 * time.Second
}

// deleteNodePod deletes a node probe pod on its own context: Ctrl-C or a timeout must not skip
// the deletion. A pod already gone is not an error.
func (r *Runner) deleteNodePod(ns, name string) error {
	dctx, cancel := context.WithTimeout(context.Background(), r.deleteTimeout())
	defer cancel()
	err := r.Kube.CoreV1().Pods(ns).Delete(dctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// Leftovers lists the node probe pods left behind (a killed process, a lost connection).
func Leftovers(ctx context.Context, kube kubernetes.Interface, ns string) ([]corev1.Pod, error) {
	sel := metav1.ListOptions{LabelSelector: ManagedByLabel + "=" + ManagedBy}
	list, err := kube.CoreV1().Pods("").List(ctx, sel)
	if apierrors.IsForbidden(err) && ns != "" {
		list, err = kube.CoreV1().Pods(ns).List(ctx, sel)
	}
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}
