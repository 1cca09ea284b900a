package cmd

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/podnet/kubectl-podnet/internal/probe"
)

// runWithActions runs the command against a fake clientset and returns stdout and the API calls.
func runWithActions(t *testing.T, args ...string) (string, []k8stesting.Action, error) {
	t.Helper()
	var kube *fake.Clientset
	base := fakeFactory(flannelCluster())
	factory := func(f *genericclioptions.ConfigFlags) (*Clients, error) {
		c, err := base(f)
		if err == nil {
			kube = c.Kube.(*fake.Clientset)
		}
		return c, err
	}
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	root := newCmdRoot(genericclioptions.NewConfigFlags(false), streams, factory)
	root.SetArgs(args)
	err := root.Execute()
	if kube == nil {
		return out.String(), nil, err
	}
	return out.String(), kube.Actions(), err
}

// TestDryRunClientSendsNothing: --dry-run=client prints the ephemeral container a pod would get
// and the node probe pod, as a v1 List, and makes no request that writes.
func TestDryRunClientSendsNothing(t *testing.T) {
	for _, args := range [][]string{
		{"ip", "shop/web-1", "node/node-2", "--dry-run=client", "--probe-namespace", "podnet"},
		{"trace", "shop/web-1", "shop/web-3", "--probe", "--dry-run=client", "--probe-namespace", "podnet", "-o", "yaml"},
	} {
		out, actions, err := runWithActions(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, a := range actions {
			if !slices.Contains([]string{"get", "list", "watch"}, a.GetVerb()) {
				t.Errorf("%v: a dry run sent %s %s", args, a.GetVerb(), a.GetResource().Resource)
			}
		}
		var list plannedList
		if err := yaml.UnmarshalStrict([]byte(out), &list); err != nil {
			t.Fatalf("%v: the output is no List of pods: %v\n%s", args, err, out)
		}
		if list.APIVersion != "v1" || list.Kind != "List" {
			t.Errorf("%v: %s %s, want a v1 List", args, list.APIVersion, list.Kind)
		}
		var eph, nodes []string
		for _, p := range list.Items {
			if p.Kind != "Pod" || p.APIVersion != "v1" {
				t.Errorf("%v: item of kind %s/%s", args, p.APIVersion, p.Kind)
			}
			for _, ec := range p.Spec.EphemeralContainers {
				eph = append(eph, p.Namespace+"/"+p.Name)
				sc := ec.SecurityContext
				if ec.Image != probe.DefaultImage || sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || !strings.HasPrefix(ec.Name, probe.NamePrefix) {
					t.Errorf("%v: ephemeral container %+v", args, ec)
				}
			}
			if p.Spec.HostNetwork {
				nodes = append(nodes, p.Namespace+" "+p.Spec.NodeName)
				if len(p.Spec.Containers) != 1 || p.Labels[probe.ManagedByLabel] != probe.ManagedBy {
					t.Errorf("%v: node probe pod %+v", args, p)
				}
			}
		}
		wantNodes := []string{"podnet node-2"}
		if args[0] == "trace" {
			wantNodes = []string{"podnet node-1", "podnet node-2"}
		}
		slices.Sort(nodes)
		if !slices.Equal(eph, []string{"shop/web-1"}) || !slices.Equal(nodes, wantNodes) {
			t.Errorf("%v: ephemeral containers for %v, node pods %v; want [shop/web-1] and %v\n%s", args, eph, nodes, wantNodes, out)
		}
	}
}

// TestDryRunServerAsksForDryRunAll: --dry-run=server sends the writes with dryRun=All, so the API
// server admits them and stores nothing, and prints what it answered.
func TestDryRunServerAsksForDryRunAll(t *testing.T) {
	out, actions, err := runWithActions(t, "ip", "shop/web-1", "node/node-2", "--dry-run=server", "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	for _, a := range actions {
		switch a := a.(type) {
		case k8stesting.CreateActionImpl:
			writes++
			if !slices.Equal(a.CreateOptions.DryRun, []string{metav1.DryRunAll}) {
				t.Errorf("create %s without dryRun=All", a.GetResource().Resource)
			}
		case k8stesting.PatchActionImpl:
			writes++
			if !slices.Equal(a.PatchOptions.DryRun, []string{metav1.DryRunAll}) {
				t.Errorf("patch %s/%s without dryRun=All", a.GetResource().Resource, a.GetSubresource())
			}
		case k8stesting.DeleteActionImpl:
			t.Errorf("a server dry run deleted %s", a.GetName())
		}
	}
	if writes != 2 {
		t.Errorf("%d writes, want the patch and the create", writes)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !slices.Contains(lines, "pod/web-1") {
		t.Errorf("-o name: %q", out)
	}
}

func TestDryRunBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"ip", "web", "--dry-run", "yes"}, `invalid --dry-run "yes": use none, client (print what would be created) or server (admitted by the API server, not stored)`},
		{[]string{"ip", "web", "--dry-run=client", "--raw"}, "--raw and --dry-run do not go together"},
		{[]string{"trace", "shop/web-1", "shop/web-3", "--dry-run=client"}, "--dry-run shows the probes of --probe and --connect: give one of them (trace alone creates nothing)"},
		{[]string{"trace", "shop/web-1", "shop/web-3", "--probe", "--dry-run=client", "-o", "dot"}, "--dry-run prints the probe objects: use -o yaml"},
		{[]string{"dns", "shop/web-1", "--dry-run=client"}, "--dry-run shows the probe of --probe: add it (dns alone creates nothing)"},
	} {
		if _, _, err := runCmd(t, flannelCluster(), tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestIPAMCheckNodesDryRun: --nodes --dry-run=client prints the node probe pods: host network,
// the node's root mounted read-only, a root container without capabilities reading host-local's
// directory; nothing
// is written. Bad flags and unknown nodes are refused before anything is created.
func TestIPAMCheckNodesDryRun(t *testing.T) {
	out, actions, err := runWithActions(t, "ipam", "check", "--nodes", "node-1,node-2,node-1", "--dry-run=client", "--probe-namespace", "podnet",
		"--cni-data-dir", "/var/lib/cni/networks", "--runtime-state-dir", "/run/k3s/containerd")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range actions {
		if !slices.Contains([]string{"get", "list", "watch"}, a.GetVerb()) {
			t.Errorf("a dry run sent %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
	var list plannedList
	if err := yaml.UnmarshalStrict([]byte(out), &list); err != nil {
		t.Fatalf("the output is no List of pods: %v\n%s", err, out)
	}
	var nodes []string
	for _, p := range list.Items {
		nodes = append(nodes, p.Spec.NodeName)
		c := p.Spec.Containers[0]
		script := strings.Join(c.Command, " ")
		if !p.Spec.HostNetwork || p.Namespace != "podnet" || len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].HostPath == nil || p.Spec.Volumes[0].HostPath.Path != "/" ||
			len(c.VolumeMounts) != 1 || !c.VolumeMounts[0].ReadOnly || c.VolumeMounts[0].MountPath != probe.HostRoot ||
			c.SecurityContext == nil || *c.SecurityContext.RunAsUser != 0 || len(c.SecurityContext.Capabilities.Add) != 0 ||
			len(c.SecurityContext.Capabilities.Drop) != 1 || *c.SecurityContext.AllowPrivilegeEscalation ||
			!strings.Contains(script, "d='/host/var/lib/cni/networks'") || !strings.Contains(script, "/host/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io") {
			t.Errorf("node probe pod %s on %s: %+v", p.Name, p.Spec.NodeName, p.Spec)
		}
	}
	slices.Sort(nodes)
	if strings.Join(nodes, ",") != "node-1,node-2" {
		t.Errorf("probe pods on %v, want one on node-1 and one on node-2", nodes)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodes", "node-9"}, `node "node-9" not found: check the name (kubectl get nodes)`},
		{[]string{"--nodes", "node-1", "--all-nodes"}, "--nodes and --all-nodes do not go together"},
		{[]string{"--nodes", "node-1", "--cni-data-dir", "var/lib/cni"}, `invalid --cni-data-dir "var/lib/cni": give an absolute path on the node`},
		{[]string{"--nodes", "node-1", "--runtime-state-dir", "/run/x'y"}, `invalid --runtime-state-dir "/run/x'y"`},
		{[]string{"--dry-run=client"}, "--dry-run plans the node probes: give --nodes or --all-nodes"},
		{[]string{"--nodes", "node-1", "--min-age", "0s"}, "--min-age must be positive"},
		{[]string{"--nodes", "node-1", "--parallel", "0"}, "--parallel must be at least 1"},
	} {
		_, actions, err := runWithActions(t, append([]string{"ipam", "check", "--probe-namespace", "podnet"}, c.args...)...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
		for _, a := range actions {
			if a.GetVerb() == "create" {
				t.Errorf("%v: created %s", c.args, a.GetResource().Resource)
			}
		}
	}
}
