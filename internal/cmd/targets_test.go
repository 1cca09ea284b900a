package cmd

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		arg  string
		want objectRef
		err  string
	}{
		{"web-0", objectRef{Kind: refPod, Namespace: "default", Name: "web-0"}, ""},
		{"shop/web-0", objectRef{Kind: refPod, Namespace: "shop", Name: "web-0"}, ""},
		{"pod/web-0", objectRef{Kind: refPod, Namespace: "default", Name: "web-0"}, ""},
		{"po/shop/web-0", objectRef{Kind: refPod, Namespace: "shop", Name: "web-0"}, ""},
		{"node/n1", objectRef{Kind: refNode, Name: "n1"}, ""},
		{"svc/web", objectRef{Kind: refService, Namespace: "default", Name: "web"}, ""},
		{"services/shop/web", objectRef{Kind: refService, Namespace: "shop", Name: "web"}, ""},
		{"deploy/web", objectRef{Kind: refWorkload, Resource: "deployment", Namespace: "default", Name: "web"}, ""},
		{"sts/db", objectRef{Kind: refWorkload, Resource: "statefulset", Namespace: "default", Name: "db"}, ""},
		{"ds/kube-system/cilium", objectRef{Kind: refWorkload, Resource: "daemonset", Namespace: "kube-system", Name: "cilium"}, ""},
		{"job/backup", objectRef{Kind: refWorkload, Resource: "job", Namespace: "default", Name: "backup"}, ""},
		{"rs/web-7d9f", objectRef{Kind: refWorkload, Resource: "replicaset", Namespace: "default", Name: "web-7d9f"}, ""},
		{"10.244.1.7", objectRef{Kind: refAddress, Addr: netip.MustParseAddr("10.244.1.7")}, ""},
		{"fd00::7", objectRef{Kind: refAddress, Addr: netip.MustParseAddr("fd00::7")}, ""},
		{"web.v2", objectRef{Kind: refPod, Namespace: "default", Name: "web.v2"}, ""},
		{"10.0.0.300", objectRef{}, `"10.0.0.300" is not an IP address`},
		{"fd00:::1", objectRef{}, `"fd00:::1" is not an IP address`},
		{"node/a/b", objectRef{}, `bad argument "node/a/b"`},
		{"a/b/c", objectRef{}, `bad argument "a/b/c"`},
		{"/x", objectRef{}, `bad argument "/x"`},
	}
	for _, tt := range tests {
		got, err := parseRef(tt.arg, "default")
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseRef(%q) error = %v, want %q", tt.arg, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("parseRef(%q) error = %v", tt.arg, err)
		case tt.err == "":
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("parseRef(%q) (-want +got):\n%s", tt.arg, diff)
			}
		}
	}
}

// workloadCluster is the flannel cluster with a Deployment over the shop pods.
func workloadCluster() []runtime.Object {
	objs := flannelCluster()
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && p.Namespace == "shop" {
			p.Labels = map[string]string{"app": "web"}
		}
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	return append(objs,
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}, Spec: appsv1.DeploymentSpec{Selector: sel}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"}, Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}})
}

// TestTraceTargetsAsKubectlNamesThem: workloads give their first running pod; a bad address is
// no pod name; TYPE/NAME is never read as a namespace.
func TestTraceTargetsAsKubectlNamesThem(t *testing.T) {
	out, _, err := runCmd(t, workloadCluster(), "trace", "deploy/web", "shop/web-3", "-n", "shop", "-o", "jsonpath={.src.name} {.dst.name}")
	if err != nil || out != "web-1 web-3" {
		t.Errorf("trace deploy/web shop/web-3: %q, %v; want the deployment's first pod web-1", out, err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "shop/web-1", "10.0.0.300"}, `"10.0.0.300" is not an IP address`},
		{[]string{"trace", "sts/db", "shop/web-1", "-n", "shop"}, "statefulset shop/db has no running pod with an address (0 pod(s) selected by app=db)"},
		{[]string{"trace", "deploy/nope", "shop/web-1", "-n", "shop"}, "deployment shop/nope not found: check the name and the namespace (-n)"},
		{[]string{"trace", "services/web", "shop/web-1"}, "services/web: a Service is only a destination"},
	} {
		if _, _, err := runCmd(t, workloadCluster(), tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestIPResolvesTargets: workloads and addresses become the pod or node that holds them, each
// probed once.
func TestIPResolvesTargets(t *testing.T) {
	o := &IPOptions{GlobalOptions: &GlobalOptions{}, MaxTargets: 10}
	c, err := fakeFactory(workloadCluster())(genericclioptions.NewConfigFlags(false))
	if err != nil {
		t.Fatal(err)
	}
	o.clients = c
	for _, a := range []string{"deploy/shop/web", "shop/web-1", "10.244.1.2", "192.168.56.12", "node/node-2"} {
		r, err := parseRef(a, "default")
		if err != nil {
			t.Fatal(err)
		}
		o.refs = append(o.refs, r)
	}
	if err := o.resolveTargets(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range o.targets {
		got = append(got, tg.String())
	}
	if diff := cmp.Diff([]string{"pod/shop/web-1", "pod/shop/web-3", "node/node-2"}, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	o.targets, o.refs = nil, []objectRef{{Kind: refAddress, Addr: netip.MustParseAddr("10.9.9.9")}}
	if err := o.resolveTargets(t.Context()); err == nil || !strings.Contains(err.Error(), "no running pod and no node holds 10.9.9.9") {
		t.Errorf("an address nobody holds: %v", err)
	}
}

// TestIPSelectsManyPods: --all-pods takes each running pod of a workload, -l the running pods the
// selector selects in the namespace; duplicates merge, and --max-targets bounds the pods probed.
func TestIPSelectsManyPods(t *testing.T) {
	resolve := func(o *IPOptions, args ...string) ([]string, error) {
		t.Helper()
		c, err := fakeFactory(workloadCluster())(genericclioptions.NewConfigFlags(false))
		if err != nil {
			t.Fatal(err)
		}
		c.Namespace = "shop"
		o.GlobalOptions, o.clients = &GlobalOptions{}, c
		for _, a := range args {
			r, err := parseRef(a, "shop")
			if err != nil {
				t.Fatal(err)
			}
			o.refs = append(o.refs, r)
		}
		err = o.resolveTargets(t.Context())
		var got []string
		for _, tg := range o.targets {
			got = append(got, tg.String())
		}
		return got, err
	}
	all := []string{"pod/shop/web-1", "pod/shop/web-2", "pod/shop/web-3"}
	for _, tt := range []struct {
		name string
		o    IPOptions
		args []string
		want []string
	}{
		{"one pod of a workload", IPOptions{MaxTargets: 10}, []string{"deploy/web"}, all[:1]},
		{"--all-pods", IPOptions{MaxTargets: 10, AllPods: true}, []string{"deploy/web"}, all},
		{"-l", IPOptions{MaxTargets: 10, Selector: "app=web"}, nil, all},
		{"-l and a named pod, merged", IPOptions{MaxTargets: 10, Selector: "app=web"}, []string{"web-2", "node/node-1"}, []string{"pod/shop/web-2", "node/node-1", "pod/shop/web-1", "pod/shop/web-3"}},
	} {
		got, err := resolve(&tt.o, tt.args...)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: targets (-want +got):\n%s", tt.name, diff)
		}
	}
	if _, err := resolve(&IPOptions{MaxTargets: 2, Selector: "app=web"}); err == nil || !strings.Contains(err.Error(), "this would add a probe to 3 pods, more than --max-targets 2") {
		t.Errorf("past --max-targets: %v", err)
	}
	if _, err := resolve(&IPOptions{MaxTargets: 10, Selector: "app=db"}); err == nil || err.Error() != "-l app=db selects no running pod with an address in namespace shop (0 pod(s) selected): check the labels with 'kubectl get pods -n shop -l app=db --show-labels'" {
		t.Errorf("a selector that selects nothing: %v", err)
	}
}

// TestTraceAllPods: --all-pods traces to each running pod of the workload but the source itself,
// and -o json is then a list of paths.
func TestTraceAllPods(t *testing.T) {
	out, _, err := runCmd(t, workloadCluster(), "trace", "web-1", "deploy/web", "--all-pods", "-n", "shop", "-o", "jsonpath={range .items[*]}{.src.name}->{.dst.name} {.case}{\"\\n\"}{end}")
	if err != nil {
		t.Fatal(err)
	}
	if want := "web-1->web-2 same-node\nweb-1->web-3 cross-node\n"; out != want {
		t.Errorf("paths %q, want %q", out, want)
	}
	out, _, err = runCmd(t, workloadCluster(), "trace", "web-1", "deploy/web", "--all-pods", "-n", "shop", "--no-headers")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "pod/shop/web-1 (10.244.0.2, node node-1) -> "); n != 2 || strings.Contains(out, "HOP") {
		t.Errorf("want two paths without headers:\n%s", out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "web-1", "web-2", "--all-pods", "-n", "shop"}, "--all-pods traces each pod of a workload: make SRC or DST one"},
		{[]string{"trace", "web-1", "deploy/web", "--all-pods", "-o", "dot"}, "-o dot draws one path: name one pod, or drop --all-pods"},
	} {
		if _, _, err := runCmd(t, workloadCluster(), tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}
