package policy

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Every rule outside the evaluated subset makes the verdict unknown, naming the policy and why.
func TestEveryUnsupportedRuleIsUnknown(t *testing.T) {
	prod := ns("prod")
	a, web := pod("prod/app=a", prod), pod("prod/app=web", prod)
	outside := &Endpoint{IP: netip.MustParseAddr("203.0.113.9")}
	cnp := func(rule string) string {
		return "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x, namespace: prod}\nspec:\n  endpointSelector: {}\n" + rule
	}
	gnp := func(rule string) string {
		return "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: x}\nspec:\n  order: 1\n" + rule
	}
	acnp := func(rule string) string {
		return "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: x}\nspec:\n  priority: 1\n  appliedTo: [{podSelector: {}}]\n" + rule
	}
	anp := func(rule string) string {
		return "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: x}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n" + rule
	}
	for _, tc := range []struct {
		name, policy string
		src, dst     *Endpoint
		reason       string
	}{
		{"cilium L7", cnp("  ingress: [{toPorts: [{ports: [{port: '80'}], rules: {http: [{method: GET}]}}]}]"), a, web, "L7"},
		{"cilium TLS SNI", cnp("  ingress: [{toPorts: [{ports: [{port: '80'}], serverNames: [a.example]}]}]"), a, web, "L7"},
		{"cilium toFQDNs", cnp("  egress: [{toFQDNs: [{matchName: example.com}]}]"), web, outside, "DNS answers"},
		{"cilium toServices", cnp("  egress: [{toServices: [{k8sService: {serviceName: s, namespace: prod}}]}]"), web, a, "toServices"},
		{"cilium groups", cnp("  egress: [{toGroups: [{aws: {securityGroupsIds: [sg-1]}}]}]"), web, outside, "cloud provider groups"},
		{"cilium requires", cnp("  ingress: [{fromEndpoints: [{}], fromRequires: [{matchLabels: {env: prod}}]}]"), a, web, "fromRequires"},
		{"cilium CIDR group", cnp("  egress: [{toCIDRSet: [{cidrGroupRef: office}]}]"), web, outside, "CiliumCIDRGroup"},
		{"cilium host entity", cnp("  egress: [{toEntities: [host]}]"), web, outside, "entity host"},
		{"cilium world entity", cnp("  egress: [{toEntities: [world]}]"), web, outside, "entity world"},
		{"cilium nodes", cnp("  egress: [{toNodes: [{}]}]"), web, outside, "nodes peer"},
		{"calico HTTP", gnp("  ingress: [{action: Allow, http: {methods: [GET]}}]"), a, web, "HTTP"},
		{"calico services", gnp("  egress: [{action: Deny, destination: {services: {name: s, namespace: prod}}}, {action: Allow}]"), web, a, "services match"},
		{"calico SA selector", gnp("  ingress: [{action: Deny, source: {serviceAccounts: {selector: \"role == 'x'\"}}}, {action: Allow}]"), a, web, "ServiceAccount labels"},
		{"calico source ports", gnp("  ingress: [{action: Deny, protocol: TCP, source: {ports: [1234]}}, {action: Allow}]"), a, web, "source ports"},
		{"calico global()", gnp("  egress: [{action: Deny, destination: {namespaceSelector: global()}}, {action: Allow}]"), web, outside, "host endpoint"},
		{"calico policy SA selector", gnp("  serviceAccountSelector: \"role == 'x'\"\n  ingress: [{action: Deny}]"), a, web, "serviceAccountSelector"},
		{"antrea group", acnp("  ingress: [{action: Drop, from: [{group: g}]}]"), a, web, "Groups"},
		{"antrea appliedTo group", "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: x}\nspec:\n  priority: 1\n  appliedTo: [{group: g}]\n  ingress: [{action: Drop}]", a, web, "appliedTo group"},
		{"antrea fqdn", acnp("  egress: [{action: Drop, to: [{fqdn: example.com}]}]"), web, outside, "DNS answers"},
		{"antrea node", acnp("  egress: [{action: Drop, to: [{nodeSelector: {}}]}]"), web, outside, "nodes peer"},
		{"antrea ClusterSet", acnp("  ingress: [{action: Drop, from: [{podSelector: {}, scope: ClusterSet}]}]"), a, web, "ClusterSet"},
		{"antrea L7", acnp("  ingress: [{action: Allow, l7Protocols: [{http: {}}]}, {action: Drop}]"), a, web, "L7"},
		{"antrea toServices", acnp("  egress: [{action: Drop, toServices: [{name: s, namespace: prod}]}]"), web, a, "toServices"},
		{"antrea source port", acnp("  ingress: [{action: Drop, ports: [{protocol: TCP, sourcePort: 1000}]}]"), a, web, "source ports"},
		{"antrea sameLabels", acnp("  ingress: [{action: Drop, from: [{namespaces: {sameLabels: [env]}}]}]"), a, web, "sameLabels"},
		{"ANP nodes", anp("  egress: [{action: Deny, to: [{nodes: {}}]}]"), web, outside, "nodes peer"},
		{"ANP domainNames", anp("  egress: [{action: Deny, to: [{domainNames: [example.com]}]}]"), web, outside, "DNS answers"},
		{"ANP field of a newer version", anp("  ingress: [{action: Deny, from: [{namespaces: {}}], newMatch: {}}]"), a, web, "not understood"},
		{"CNP field of a newer version", "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: x}\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{futurePeer: {}}]}]}", a, web, "not understood"},
		{"cilium field of a newer version", cnp("  ingress: [{fromWorkloads: [{}]}]"), a, web, "not understood"},
		{"calico field of a newer version", gnp("  ingress: [{action: Deny, source: {domains: [x]}}]"), a, web, "not understood"},
		{"antrea field of a newer version", acnp("  ingress: [{action: Drop, from: [{podSelector: {}, newField: 1}]}]"), a, web, "not understood"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewSet(objects(t, &Env{}, tc.policy), nil).Verdict(tc.src, tc.dst, tcp(80))
			reasons := append(append([]string{}, v.Egress.Unknown...), v.Ingress.Unknown...)
			if v.Verdict != Unknown || !containsSub(reasons, tc.reason) || !containsSub(reasons, "/x") {
				t.Errorf("verdict %s, reasons %q; want unknown naming the policy and %q", v.Verdict, reasons, tc.reason)
			}
		})
	}
}

// A read that fails makes every verdict unknown, naming the kind, the namespace and the verb.
func TestEveryForbiddenReadIsUnknown(t *testing.T) {
	for _, k := range Kinds() {
		t.Run(k.Name(), func(t *testing.T) {
			kube := fake.NewClientset()
			gvr := k.Resources()[0]
			kube.Resources = []*metav1.APIResourceList{{GroupVersion: gvr.GroupVersion().String(), APIResources: []metav1.APIResource{{Name: gvr.Resource, Namespaced: k.Namespaced()}}}}
			forbid := func(a k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(gvr.GroupResource(), "", nil)
			}
			kube.PrependReactor("list", "*", forbid)
			dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: k.ObjectKind() + "List"})
			dyn.PrependReactor("list", "*", forbid)
			snap := Read(context.Background(), Source{Kube: kube, Dynamic: dyn, Served: DiscoveryServed(kube.Discovery())}, []string{"prod"})
			where := ""
			if k.Namespaced() {
				where = " in namespace prod"
			}
			want := "cannot read the " + plural(k) + where + " (forbidden): you need 'list " + gvr.Resource
			if !slices.ContainsFunc(snap.Unread, func(s string) bool { return strings.HasPrefix(s, want) }) {
				t.Fatalf("unread %q, want %q", snap.Unread, want)
			}
			v := snap.Set().Verdict(pod("prod/app=a", ns("prod")), pod("prod/app=b", ns("prod")), tcp(80))
			if v.Verdict != Unknown || !containsSub(v.Ingress.Unknown, want) {
				t.Errorf("verdict %+v, want unknown naming the read", v)
			}
		})
	}
}
