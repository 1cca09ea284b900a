package policy

import (
	"strconv"
	"strings"
	"testing"
)

type evalCase struct {
	name string
	// doc is the documented semantics the expected verdict follows.
	doc      string
	policies string
	env      *Env
	src, dst *Endpoint
	port     Port
	want     Result
	// decided is a policy the verdict must name as deciding; reason a text its unknown reasons
	// must contain.
	decided, reason string
}

func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port := c.port
			if port.Number == 0 {
				port = tcp(80)
			}
			v := NewSet(objects(t, c.env, c.policies), nil).Verdict(c.src, c.dst, port)
			if v.Verdict != c.want {
				t.Fatalf("verdict %s, want %s (%s)\negress: %+v\ningress: %+v", v.Verdict, c.want, c.doc, v.Egress, v.Ingress)
			}
			all := append(append([]string{}, v.Egress.DecidedBy...), v.Ingress.DecidedBy...)
			if c.decided != "" && !containsSub(all, c.decided) {
				t.Errorf("decided by %q, want %q among them", all, c.decided)
			}
			reasons := append(append([]string{}, v.Egress.Unknown...), v.Ingress.Unknown...)
			if c.reason != "" && !containsSub(reasons, c.reason) {
				t.Errorf("unknown reasons %q, want one containing %q", reasons, c.reason)
			}
			if c.want != Unknown && len(reasons) > 0 {
				t.Errorf("a %s verdict carries unknown reasons %q", c.want, reasons)
			}
		})
	}
}

func containsSub(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

const npAllowA80 = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{port: 80}]
`

func TestNetworkPolicy(t *testing.T) {
	prod := ns("prod")
	runCases(t, []evalCase{
		{name: "nothing selects", doc: "k8s Network Policies: pods are non-isolated by default",
			src: pod("prod/app=a", prod), dst: pod("prod/app=web", prod), want: NoPolicy},
		{name: "allowed peer and port", doc: "k8s Network Policies: isolated for ingress, the union of ingress rules applies",
			policies: npAllowA80, src: pod("prod/app=a", prod), dst: pod("prod/app=web", prod), want: Allowed, decided: "NetworkPolicy/prod/web"},
		{name: "other peer isolated", doc: "k8s Network Policies: what no rule allows is denied once selected",
			policies: npAllowA80, src: pod("prod/app=b", prod), dst: pod("prod/app=web", prod), want: Denied, decided: "NetworkPolicy/prod/web"},
		{name: "other port isolated", doc: "k8s Network Policies: ports restrict the rule",
			policies: npAllowA80, src: pod("prod/app=a", prod), dst: pod("prod/app=web", prod), port: tcp(81), want: Denied},
		{name: "podSelector peer is the policy's namespace", doc: "k8s NetworkPolicyPeer: podSelector alone selects pods in the policy's namespace",
			policies: npAllowA80, src: pod("dev/app=a", ns("dev")), dst: pod("prod/app=web", prod), want: Denied},
		{name: "namespace labels unread", doc: "namespaceSelector needs the namespace's labels",
			policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: x}}}]}]
`, src: pod("dev/app=a", nil), dst: pod("prod/app=web", prod), want: Unknown, reason: "labels of namespace dev could not be read"},
		{name: "named port", doc: "k8s NetworkPolicyPort: a named port resolves on the destination pod",
			policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector: {}
  ingress: [{ports: [{port: http}]}]
`, src: pod("prod/app=a", prod), dst: pod("prod/app=web", prod), port: tcp(8080), want: Allowed},
		{name: "ipBlock except", doc: "k8s IPBlock: except carves addresses out of the CIDR",
			policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: prod}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.1.0/24]}}]}]
`, src: pod("prod/app=a", prod), dst: pod("prod/app=web@10.244.1.7", prod), want: Denied},
		{name: "port range", doc: "k8s NetworkPolicyPort endPort: the range is inclusive",
			policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range, namespace: prod}
spec:
  podSelector: {}
  ingress: [{ports: [{protocol: TCP, port: 5000, endPort: 6000}]}]
`, src: pod("prod/app=a", prod), dst: pod("prod/app=web", prod), port: tcp(6000), want: Allowed},
		{name: "port range, other protocol", doc: "k8s NetworkPolicyPort: the protocol must match",
			policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range, namespace: prod}
spec:
  podSelector: {}
  ingress: [{ports: [{protocol: TCP, port: 5000, endPort: 6000}]}]
`, src: pod("prod/app=a", prod), dst: pod("prod/app=web", prod), port: Port{Number: 5432, Protocol: "UDP"}, want: Denied},
		{name: "egress isolation of the source", doc: "k8s Network Policies: egress isolation applies to the source pod",
			policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: prod}
spec: {podSelector: {}, policyTypes: [Egress]}
`, src: pod("prod/app=a", prod), dst: pod("prod/app=web", prod), want: Denied, decided: "deny-egress"},
	})
}

func TestAdminTiers(t *testing.T) {
	prod := ns("prod", "env", "prod")
	anp := func(name string, prio int, action string) string {
		return `
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: ` + name + `}
spec:
  priority: ` + strconv.Itoa(prio) + `
  subject: {namespaces: {matchLabels: {env: prod}}}
  ingress:
  - name: r
    action: ` + action + `
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}]
    ports: [{portNumber: {port: 80, protocol: TCP}}]
`
	}
	banpDeny := `
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`
	npDenyAll := `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: prod}
spec: {podSelector: {}, policyTypes: [Ingress]}
`
	a, web := pod("prod/app=a", prod), pod("prod/app=web", prod)
	runCases(t, []evalCase{
		{name: "ANP Deny over NP Allow", doc: "network-policy-api ANP: the admin tier is evaluated before NetworkPolicy; Deny is final",
			policies: anp("deny-a", 10, "Deny") + "---" + npAllowA80, src: a, dst: web, want: Denied, decided: "AdminNetworkPolicy/deny-a"},
		{name: "ANP Allow over NP isolation", doc: "network-policy-api ANP: Allow is final, NetworkPolicy is not consulted",
			policies: anp("allow-a", 10, "Allow") + "---" + npDenyAll, src: a, dst: web, want: Allowed, decided: "AdminNetworkPolicy/allow-a"},
		{name: "ANP Pass falls through to NP", doc: "network-policy-api ANP: Pass skips the remaining admin policies; NetworkPolicy decides",
			policies: anp("pass-a", 5, "Pass") + "---" + anp("deny-a", 10, "Deny") + "---" + npAllowA80, src: a, dst: web, want: Allowed, decided: "NetworkPolicy/prod/web"},
		{name: "lower priority number first", doc: "network-policy-api ANP: a lower priority value has higher precedence",
			policies: anp("deny-a", 20, "Deny") + "---" + anp("allow-a", 10, "Allow"), src: a, dst: web, want: Allowed, decided: "allow-a"},
		{name: "same priority, other actions", doc: "network-policy-api ANP priority: with two matching policies of one priority the implementation may apply either",
			policies: anp("deny-a", 10, "Deny") + "---" + anp("allow-a", 10, "Allow"), src: a, dst: web, want: Unknown, reason: "same priority"},
		{name: "same priority, one matches", doc: "network-policy-api ANP priority: no ambiguity when only one policy matches",
			policies: anp("deny-a", 10, "Deny") + "---" + anp("allow-a", 10, "Allow"), src: pod("prod/app=b", prod), dst: web, want: Allowed},
		{name: "ANP Pass to BANP when no NP", doc: "network-policy-api BANP: applies when no NetworkPolicy selects the pod",
			policies: anp("pass-a", 5, "Pass") + "---" + banpDeny, src: a, dst: web, want: Denied, decided: "BaselineAdminNetworkPolicy/default"},
		{name: "NP selection hides BANP", doc: "network-policy-api BANP: NetworkPolicy overrides the baseline tier",
			policies: npAllowA80 + "---" + banpDeny, src: a, dst: web, want: Allowed, decided: "NetworkPolicy/prod/web"},
		{name: "ANP port does not match", doc: "network-policy-api ANP: ports restrict the rule",
			policies: anp("deny-a", 10, "Deny"), src: a, dst: web, port: tcp(81), want: Allowed},
		{name: "v1alpha2 Admin Accept", doc: "network-policy-api v1alpha2 ClusterNetworkPolicy: Accept in the Admin tier is final",
			policies: `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: accept-a}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Accept, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}], protocols: [{tcp: {destinationPort: {number: 80}}}]}]
---` + npDenyAll, src: a, dst: web, want: Allowed, decided: "ClusterNetworkPolicy/accept-a"},
		{name: "v1alpha2 Baseline Deny after Admin Pass", doc: "network-policy-api v1alpha2: Pass hands over to the next tier",
			policies: `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: pass}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Pass, from: [{namespaces: {}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: baseline}
spec:
  tier: Baseline
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 70, end: 90}}}}]}]
`, src: a, dst: web, want: Denied, decided: "ClusterNetworkPolicy/baseline"},
		{name: "egress nodes peer for a pod", doc: "network-policy-api: a nodes peer selects node IPs, not pods",
			policies: `
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: nodes}
spec:
  priority: 1
  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{nodes: {}}]}]
`, src: a, dst: web, want: Allowed},
		{name: "a field the engine does not know", doc: "honest limits: a spec not understood makes the verdict unknown",
			policies: `
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: future}
spec:
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}], newField: 1}]
`, src: a, dst: web, want: Unknown, reason: "AdminNetworkPolicy/future", decided: "future"},
	})
}

func TestCalico(t *testing.T) {
	prod := ns("prod", "team", "shop")
	a, web := pod("prod/app=a", prod), pod("prod/app=web", prod)
	tiers := &Env{CalicoTiers: map[string]CalicoTier{
		"default":  {Order: CalicoDefaultTierOrder, DefaultAction: ActionDeny},
		"security": {Order: 100, DefaultAction: ActionDeny},
		"soft":     {Order: 200, DefaultAction: ActionPass},
	}}
	gnp := func(name, tier, order, selector, action, source string) string {
		return `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: ` + name + `}
spec:
  tier: ` + tier + `
  order: ` + order + `
  selector: ` + selector + `
  types: [Ingress]
  ingress: [{action: ` + action + `, protocol: TCP, source: {selector: "` + source + `"}, destination: {ports: [80]}}]
`
	}
	runCases(t, []evalCase{
		{name: "GNP order 100 Deny before NP order 1000", doc: "Calico: NetworkPolicies are in the default tier at order 1000; lower order first, Deny is final",
			env: tiers, policies: gnp("deny-a", "default", "100", "app == 'web'", "Deny", "app == 'a'") + "---" + npAllowA80, src: a, dst: web, want: Denied, decided: "GlobalNetworkPolicy/deny-a"},
		{name: "GNP order 2000 after NP", doc: "Calico: the NP's allow at order 1000 comes first",
			env: tiers, policies: gnp("deny-a", "default", "2000", "app == 'web'", "Deny", "app == 'a'") + "---" + npAllowA80, src: a, dst: web, want: Allowed, decided: "NetworkPolicy/prod/web"},
		{name: "earlier tier Allow is final", doc: "Calico tiers: Allow ends evaluation; later tiers are not consulted",
			env: tiers, policies: gnp("allow-a", "security", "1", "all()", "Allow", "app == 'a'") + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: prod}
spec: {podSelector: {}, policyTypes: [Ingress]}
`, src: a, dst: web, want: Allowed, decided: "allow-a"},
		{name: "Pass goes to the next tier", doc: "Calico tiers: Pass skips to the next tier",
			env: tiers, policies: gnp("pass-a", "security", "1", "all()", "Pass", "all()") + "---" + npAllowA80, src: a, dst: web, want: Allowed, decided: "NetworkPolicy/prod/web"},
		{name: "end of tier deny", doc: "Calico tiers: an endpoint selected in a tier with no matching rule is denied at the tier's end",
			env: tiers, policies: gnp("allow-b", "security", "1", "app == 'web'", "Allow", "app == 'b'"), src: a, dst: web, want: Denied, decided: "allow-b"},
		{name: "tier default action Pass", doc: "Calico Tier spec.defaultAction Pass: unmatched traffic goes to the next tier",
			env: tiers, policies: gnp("allow-b", "soft", "1", "app == 'web'", "Allow", "app == 'b'"), src: a, dst: web, want: Allowed},
		{name: "Log goes on", doc: "Calico rule action Log: logs and continues",
			env: tiers, policies: gnp("log", "security", "1", "all()", "Log", "all()") + "---" + gnp("deny", "security", "2", "all()", "Deny", "all()"), src: a, dst: web, want: Denied, decided: "GlobalNetworkPolicy/deny"},
		{name: "selector expression with namespace labels", doc: "Calico selectors: pcns.* reads the namespace's labels",
			env: tiers, policies: gnp("deny", "security", "1", "app in {'web','api'}", "Deny", "pcns.team == 'shop' && !has(debug)"), src: a, dst: web, want: Denied},
		{name: "namespaced Calico policy selects its namespace", doc: "Calico NetworkPolicy: the selector applies in the policy's namespace; a rule selector without namespaceSelector too",
			env: tiers, policies: `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: deny-other, namespace: prod}
spec:
  tier: security
  order: 1
  selector: all()
  ingress: [{action: Allow, source: {selector: all()}}]
`, src: pod("dev/app=a", ns("dev")), dst: web, want: Denied, decided: "deny-other"},
		{name: "rule with nets", doc: "Calico EntityRule nets: the peer's address",
			env: tiers, policies: `
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata: {name: nets}
spec:
  tier: security
  order: 1
  ingress: [{action: Allow, source: {nets: [10.244.1.0/24]}}]
`, src: pod("prod/app=a@10.244.1.5", prod), dst: web, want: Allowed, decided: "nets"},
		{name: "HTTP rule is L7", doc: "honest limits: an HTTP match decides per request",
			env: tiers, policies: `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: http}
spec:
  tier: security
  order: 1
  ingress: [{action: Allow, http: {methods: [GET]}}]
`, src: a, dst: web, want: Unknown, reason: "HTTP"},
		{name: "a tier before the admin tier", doc: "Calico puts AdminNetworkPolicies in tier adminnetworkpolicy at order 1000: a tier of order 100 comes first",
			env: tiers, policies: gnp("deny-a", "security", "1", "all()", "Deny", "app == 'a'") + `---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: allow-all}
spec:
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Allow, from: [{namespaces: {}}]}]
`, src: a, dst: web, want: Denied, decided: "deny-a"},
		{name: "admin tier passes at its end", doc: "Calico tier adminnetworkpolicy has defaultAction Pass",
			env: tiers, policies: `
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: allow-b}
spec:
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Allow, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: b}}}}]}]
---` + npAllowA80, src: a, dst: web, want: Allowed, decided: "NetworkPolicy/prod/web"},
		{name: "unknown tier", doc: "honest limits: a tier whose order is not known cannot be placed",
			policies: gnp("x", "mystery", "1", "all()", "Deny", "all()"), src: a, dst: web, want: Unknown, reason: "tier mystery"},
	})
}

func TestCilium(t *testing.T) {
	prod := ns("prod", "team", "shop")
	a, b, web := pod("prod/app=a", prod), pod("prod/app=b", prod), pod("prod/app=web", prod)
	cnpAllowA := `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: allow-a, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {"k8s:app": a}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
`
	runCases(t, []evalCase{
		{name: "allowed endpoint", doc: "Cilium Layer 3 examples: fromEndpoints allows the selected endpoints",
			policies: cnpAllowA, src: a, dst: web, want: Allowed, decided: "CiliumNetworkPolicy/prod/allow-a"},
		{name: "default deny once selected", doc: "Cilium Policy Enforcement Modes (default): a selected endpoint denies what is not allowed",
			policies: cnpAllowA, src: b, dst: web, want: Denied},
		{name: "other namespace", doc: "Cilium: fromEndpoints in a CiliumNetworkPolicy selects its own namespace",
			policies: cnpAllowA, src: pod("dev/app=a", ns("dev")), dst: web, want: Denied},
		{name: "deny wins over allow", doc: "Cilium Deny Policies: deny rules take precedence over allow rules",
			policies: cnpAllowA + `---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: deny-80}
spec:
  endpointSelector: {}
  ingressDeny: [{fromEntities: [cluster], toPorts: [{ports: [{port: "80"}]}]}]
`, src: a, dst: web, want: Denied, decided: "CiliumClusterwideNetworkPolicy/deny-80"},
		{name: "enableDefaultDeny false", doc: "Cilium enableDefaultDeny: a policy that does not turn on default deny only adds allows",
			policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: no-dd, namespace: prod}
spec:
  endpointSelector: {}
  enableDefaultDeny: {ingress: false}
  ingress: [{fromEndpoints: [{matchLabels: {app: a}}]}]
`, src: b, dst: web, want: Allowed},
		{name: "namespace label of the peer", doc: "Cilium: io.kubernetes.pod.namespace and io.cilium.k8s.namespace.labels.* select across namespaces",
			policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: from-shop, namespace: prod}
spec:
  endpointSelector: {}
  ingress: [{fromEndpoints: [{matchLabels: {"io.cilium.k8s.namespace.labels.team": shop, "k8s:io.kubernetes.pod.namespace": dev}}]}]
`, src: pod("dev/app=a", ns("dev", "team", "shop")), dst: web, want: Allowed},
		{name: "world entity is no pod", doc: "Cilium entities: world is outside the cluster",
			policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: world, namespace: prod}
spec:
  endpointSelector: {}
  ingress: [{fromEntities: [world]}]
`, src: a, dst: web, want: Denied},
		{name: "L7 rule", doc: "honest limits: HTTP rules decide per request",
			policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l7, namespace: prod}
spec:
  endpointSelector: {}
  ingress: [{fromEndpoints: [{}], toPorts: [{ports: [{port: "80"}], rules: {http: [{method: GET}]}}]}]
`, src: a, dst: web, want: Unknown, reason: "L7"},
		{name: "empty rule only denies", doc: "Cilium: ingress [{}] turns on default deny and allows nothing",
			policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny-all, namespace: prod}
spec: {endpointSelector: {}, ingress: [{}]}
`, src: a, dst: web, want: Denied},
		{name: "L4-only rule", doc: "Cilium Layer 4 examples: toPorts alone applies to every peer",
			policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l4, namespace: prod}
spec: {endpointSelector: {}, ingress: [{toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]}
`, src: pod("dev/x=y", ns("dev")), dst: web, want: Allowed},
		{name: "egress to FQDN for a pod", doc: "Cilium toFQDNs: DNS names outside the cluster, never a pod",
			policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fqdn, namespace: prod}
spec: {endpointSelector: {}, egress: [{toFQDNs: [{matchName: example.com}]}]}
`, src: a, dst: web, want: Denied},
		{name: "an empty ingress list", doc: "Cilium rule_validation.go: default deny comes with at least one rule; ingress: [] enforces nothing",
			policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: empty, namespace: prod}
spec: {endpointSelector: {}, ingress: []}
`, src: a, dst: web, want: Allowed},
		{name: "a policy that cannot be read beside one that allows", doc: "honest limits: the unreadable policy may hold a deny, which wins",
			policies: cnpAllowA + `---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: future, namespace: prod}
spec: {endpointSelector: {}, ingressDeny: [{fromWorkloads: [{}]}]}
`, src: a, dst: web, want: Unknown, reason: "CiliumNetworkPolicy/prod/future"},
		{name: "a policy that cannot be read beside one that isolates", doc: "honest limits: the unreadable policy may allow",
			policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: prod}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: future, namespace: prod}
spec: {endpointSelector: {}, ingress: [{fromWorkloads: [{}]}]}
`, src: a, dst: web, want: Unknown, reason: "CiliumNetworkPolicy/prod/future"},
		{name: "specs list", doc: "Cilium: specs holds several rules, each applied",
			policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: two, namespace: prod}
specs:
- {endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEndpoints: [{matchLabels: {app: b}}]}]}
- {endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEndpoints: [{matchLabels: {app: a}}]}]}
`, src: a, dst: web, want: Allowed, decided: "two[1]"},
	})
}

func TestAntrea(t *testing.T) {
	prod := ns("prod", "env", "prod")
	a, web := pod("prod/app=a", prod), pod("prod/app=web", prod)
	acnp := func(name, tier string, prio int, action string) string {
		return `
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: ` + name + `}
spec:
  tier: ` + tier + `
  priority: ` + strconv.Itoa(prio) + `
  appliedTo: [{podSelector: {matchLabels: {app: web}}}]
  ingress: [{action: ` + action + `, from: [{podSelector: {matchLabels: {app: a}}}], ports: [{protocol: TCP, port: 80}]}]
`
	}
	npDenyAll := `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: prod}
spec: {podSelector: {}, policyTypes: [Ingress]}
`
	runCases(t, []evalCase{
		{name: "securityops Drop over NP allow", doc: "Antrea: every tier but baseline is enforced before K8s NetworkPolicy; Drop is final",
			policies: acnp("drop-a", "securityops", 1, "Drop") + "---" + npAllowA80, src: a, dst: web, want: Denied, decided: "AntreaClusterNetworkPolicy/drop-a"},
		{name: "application Allow over NP isolation", doc: "Antrea: Allow is final; K8s NetworkPolicy is not consulted",
			policies: acnp("allow-a", "application", 1, "Allow") + "---" + npDenyAll, src: a, dst: web, want: Allowed, decided: "allow-a"},
		{name: "Pass to NP", doc: "Antrea: Pass skips the remaining tiers to K8s NetworkPolicy",
			policies: acnp("pass", "emergency", 1, "Pass") + "---" + acnp("drop-a", "securityops", 1, "Drop") + "---" + npAllowA80, src: a, dst: web, want: Allowed, decided: "NetworkPolicy/prod/web"},
		{name: "baseline after NP", doc: "Antrea: the baseline tier is enforced after K8s NetworkPolicy",
			policies: acnp("drop-a", "baseline", 1, "Drop") + "---" + npAllowA80, src: a, dst: web, want: Allowed, decided: "NetworkPolicy/prod/web"},
		{name: "baseline when no NP", doc: "Antrea: the baseline tier decides for pods no NetworkPolicy selects",
			policies: acnp("drop-a", "baseline", 1, "Drop"), src: a, dst: web, want: Denied, decided: "drop-a"},
		{name: "tier order over priority", doc: "Antrea: a higher-precedence tier wins whatever the policies' priorities",
			policies: acnp("allow-a", "emergency", 100, "Allow") + "---" + acnp("drop-a", "securityops", 1, "Drop"), src: a, dst: web, want: Allowed, decided: "allow-a"},
		{name: "no default deny", doc: "Antrea-native policies do not isolate: unmatched traffic goes on",
			policies: acnp("drop-a", "application", 1, "Drop"), src: pod("prod/app=b", prod), dst: web, want: Allowed},
		{name: "Antrea tiers before the AdminNetworkPolicies", doc: "Antrea docs/admin-network-policy.md: Antrea-native tiers > ANP > K8s NP > baseline > BANP",
			policies: acnp("allow-a", "securityops", 1, "Allow") + `---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-all}
spec:
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`, src: a, dst: web, want: Allowed, decided: "allow-a"},
		{name: "Antrea baseline before the upstream baseline", doc: "Antrea docs/admin-network-policy.md: the baseline tier is applied before BANP",
			policies: acnp("allow-a", "baseline", 1, "Allow") + `---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`, src: a, dst: web, want: Allowed, decided: "allow-a"},
		{name: "namespaces match Self", doc: "Antrea ACNP peer namespaces.match Self: the applied-to pod's own namespace",
			policies: `
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: same-ns}
spec:
  priority: 1
  appliedTo: [{namespaceSelector: {}}]
  ingress:
  - {action: Allow, from: [{namespaces: {match: Self}}]}
  - {action: Drop, from: [{namespaceSelector: {}}]}
`, src: pod("dev/app=a", ns("dev")), dst: web, want: Denied, decided: "same-ns"},
		{name: "group peer", doc: "honest limits: Antrea Groups are not read",
			policies: `
apiVersion: crd.antrea.io/v1beta1
kind: NetworkPolicy
metadata: {name: grp, namespace: prod}
spec:
  priority: 1
  appliedTo: [{podSelector: {}}]
  ingress: [{action: Drop, from: [{group: backends}]}]
`, src: a, dst: web, want: Unknown, reason: "group backends"},
	})
}

func TestUnreadIsUnknown(t *testing.T) {
	s := NewSet(nil, []string{"CiliumNetworkPolicies (forbidden)"})
	v := s.Verdict(pod("prod/app=a", ns("prod")), pod("prod/app=b", ns("prod")), tcp(80))
	if v.Verdict != Unknown || !containsSub(v.Ingress.Unknown, "CiliumNetworkPolicies (forbidden)") {
		t.Fatalf("got %+v, want unknown naming the unread kind", v)
	}
}
