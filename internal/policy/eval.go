package policy

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Result is a verdict on traffic.
type Result string

// Results.
const (
	Allowed Result = "allowed"
	Denied  Result = "denied"
	// Unknown: a policy that may apply could not be evaluated; the reasons say which and why.
	Unknown Result = "unknown"
	// NoPolicy: no policy selects the endpoint in that direction; the traffic is allowed.
	NoPolicy Result = "no policy"
)

// Passes reports whether the traffic goes through.
func (r Result) Passes() bool { return r == Allowed || r == NoPolicy }

// DirectionVerdict is the verdict of one side: egress policies of the source, ingress policies of
// the destination.
type DirectionVerdict struct {
	// Selecting are the policies that select the endpoint in this direction (or may), each
	// labelled with its tier.
	Selecting []string `json:"selecting,omitempty"`
	// DecidedBy are the policies whose rule (or isolation) decided the verdict; for an unknown
	// verdict, those that could have.
	DecidedBy []string `json:"decidedBy,omitempty"`
	Verdict   Result   `json:"verdict"`
	// Unknown are the reasons the verdict is unknown: which policy, and what could not be
	// evaluated or read.
	Unknown []string `json:"unknown,omitempty"`
}

// Verdict is what the policies say of traffic from one endpoint to another on a port.
type Verdict struct {
	Egress  DirectionVerdict `json:"egress"`
	Ingress DirectionVerdict `json:"ingress"`
	Verdict Result           `json:"verdict"`
}

// combine is the verdict of traffic that must pass both directions.
func combine(e, i Result) Result {
	switch {
	case e == Denied || i == Denied:
		return Denied
	case e == Unknown || i == Unknown:
		return Unknown
	case e == NoPolicy && i == NoPolicy:
		return NoPolicy
	}
	return Allowed
}

// Set is a cluster's policies, ordered the way the datapath applies them.
type Set struct {
	policies []*Policy
	// ruleBase[i] is the index of policy i's first rule in the flat rule numbering (ingress rules,
	// then egress rules).
	ruleBase []int
	rules    int
	// unread are what could not be read: every verdict is unknown for these reasons.
	unread []string
}

// CalicoDefaultTierOrder is the order of Calico's default tier, which holds the NetworkPolicies
// (Calico's Tier reference: the default tier's order is 1,000,000).
const CalicoDefaultTierOrder = 1_000_000

// calicoNetworkPolicyOrder is the order Calico gives a Kubernetes NetworkPolicy in its default
// tier (Calico converts NetworkPolicy "x" to "knp.default.x" with order 1000).
const calicoNetworkPolicyOrder = 1000

// NewSet orders the policies. unread are the reads that failed (forbidden, not served), which make
// every verdict unknown. Where Calico policies exist, Calico enforces the NetworkPolicies inside its
// default tier, so they move there.
func NewSet(ps []*Policy, unread []string) *Set {
	calico := slices.ContainsFunc(ps, func(p *Policy) bool { return p.Stage == StageCalico })
	antrea := slices.ContainsFunc(ps, func(p *Policy) bool {
		return p.Stage == StageAntrea || p.Stage == StageBaseline && p.Tier == "baseline"
	})
	s := &Set{unread: unread}
	for _, p := range ps {
		if q := placed(p, calico, antrea); q != nil {
			p = q
		}
		s.policies = append(s.policies, p)
	}
	sort.SliceStable(s.policies, func(i, j int) bool {
		a, b := s.policies[i], s.policies[j]
		if a.Stage != b.Stage {
			return a.Stage < b.Stage
		}
		if a.TierOrder != b.TierOrder {
			return a.TierOrder < b.TierOrder
		}
		if a.Tier != b.Tier {
			return a.Tier < b.Tier
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.Ref.String() < b.Ref.String()
	})
	for _, p := range s.policies {
		p.label = p.makeLabel()
		p.label1 = []string{p.label}
		s.ruleBase = append(s.ruleBase, s.rules)
		if p.Ingress != nil {
			s.rules += len(p.Ingress.Rules)
		}
		if p.Egress != nil {
			s.rules += len(p.Egress.Rules)
		}
	}
	return s
}

// placed is where a plugin that has tiers of its own puts the upstream kinds, nil where they stay:
//   - Calico holds NetworkPolicies in its default tier at order 1000, the admin tier in its tier
//     "adminnetworkpolicy" (order 1000) and the baseline tier in "baselineadminnetworkpolicy"
//     (order 10,000,000), both passing at their end (libcalico-go conversion, Calico's Tier
//     reference);
//   - Antrea applies its own tiers before the AdminNetworkPolicies and a ClusterNetworkPolicy's
//     Admin tier at tier priority 220; its baseline tier before the upstream baseline tier
//     (antrea docs/admin-network-policy.md, docs/cluster-network-policy.md).
func placed(p *Policy, calico, antrea bool) *Policy {
	q := *p
	switch {
	case calico && p.Stage == StageNetwork && p.Ref.Kind == KindNetworkPolicy:
		q.Stage, q.Tier, q.TierOrder, q.Order = StageCalico, "default", CalicoDefaultTierOrder, calicoNetworkPolicyOrder
	case calico && p.Stage == StageAdmin:
		q.Stage, q.Tier, q.TierOrder, q.TierDefault = StageCalico, "adminnetworkpolicy", 1_000, ActionPass
	case calico && p.Stage == StageBaseline && p.Tier == "":
		q.Stage, q.Tier, q.TierOrder, q.TierDefault = StageCalico, "baselineadminnetworkpolicy", 10_000_000, ActionPass
	case antrea && p.Stage == StageAdmin && p.Ref.Kind == "ClusterNetworkPolicy":
		q.Stage, q.Tier, q.TierOrder = StageAntrea, "admin", 220
	case antrea && p.Stage == StageAdmin:
		q.Stage, q.Tier, q.TierOrder = StageAntrea, "adminnetworkpolicy", 250.5
	case p.Stage == StageBaseline && p.Tier == "":
		// after Antrea's baseline tier (priority 253)
		q.TierOrder = 1_000
	default:
		return nil
	}
	return &q
}

// Policies are the set's policies in the order they apply.
func (s *Set) Policies() []*Policy { return s.policies }

// Verdict evaluates traffic from src to dst on port.
func (s *Set) Verdict(src, dst *Endpoint, port Port) Verdict {
	return s.Evaluator([]*Endpoint{src, dst}).Verdict(0, 1, port)
}

// Evaluator evaluates traffic between the given endpoints, remembering which policies select each
// and which rule peers match it, so that a matrix costs one selector evaluation per endpoint and
// rule.
func (s *Set) Evaluator(eps []*Endpoint) *Evaluator {
	return &Evaluator{set: s, eps: eps, subject: make([][]Match, len(eps)), peer: make([][]Match, len(eps)),
		selIn: make([]*selection, len(eps)), selOut: make([]*selection, len(eps))}
}

// Evaluator is a Set bound to endpoints, with its caches. It is not safe for concurrent use.
type Evaluator struct {
	set     *Set
	eps     []*Endpoint
	subject [][]Match // [endpoint][policy]
	// selIn and selOut are the policies selecting each endpoint for ingress and egress.
	selIn, selOut []*selection
	peer          [][]Match // [endpoint][rule]
	steps         []step
	outs          []outcome
}

func (ev *Evaluator) subjects(i int) []Match {
	if ev.subject[i] == nil {
		ms := make([]Match, len(ev.set.policies))
		for k, p := range ev.set.policies {
			ms[k] = p.Subject(ev.eps[i])
			if p.Problem != "" && ms[k].Tri != No {
				ms[k] = maybe(p.Problem)
			}
		}
		ev.subject[i] = ms
	}
	return ev.subject[i]
}

// selection is the policies that select an endpoint in a direction (or may).
type selection struct {
	idx    []int
	labels []string
}

func (ev *Evaluator) selecting(i int, d Direction) *selection {
	cache := ev.selIn
	if d == Egress {
		cache = ev.selOut
	}
	if cache[i] == nil {
		subj := ev.subjects(i)
		s := &selection{}
		for k, p := range ev.set.policies {
			if subj[k].Tri == No || (p.section(d) == nil && p.Problem == "") {
				continue
			}
			s.idx = append(s.idx, k)
			s.labels = append(s.labels, p.Label())
		}
		cache[i] = s
	}
	return cache[i]
}

func (ev *Evaluator) peerMatch(self, i, policy int, d Direction, rule int) Match {
	if ev.peer[i] == nil {
		ev.peer[i] = make([]Match, ev.set.rules)
		for k := range ev.peer[i] {
			ev.peer[i][k].Tri = unset
		}
	}
	p := ev.set.policies[policy]
	idx := ev.set.ruleBase[policy] + rule
	var r *[]Rule
	if d == Egress {
		if p.Ingress != nil {
			idx += len(p.Ingress.Rules)
		}
		r = &p.Egress.Rules
	} else {
		r = &p.Ingress.Rules
	}
	if pair := (*r)[rule].Pair; pair != nil {
		return pair(ev.eps[self], ev.eps[i])
	}
	m := &ev.peer[i][idx]
	if m.Tri == unset {
		*m = (*r)[rule].Peer(ev.eps[i])
	}
	return *m
}

func (ev *Evaluator) selfMatch(i int, r *Rule) Match {
	if r.Self == nil {
		return yes
	}
	return r.Self(ev.eps[i])
}

// unset marks a peer match not computed yet.
const unset Tri = 255

// Verdict evaluates traffic from endpoint src to endpoint dst (indexes into the endpoints).
func (ev *Evaluator) Verdict(src, dst int, port Port) Verdict {
	v := Verdict{
		Egress:  ev.direction(src, dst, Egress, port),
		Ingress: ev.direction(dst, src, Ingress, port),
	}
	v.Verdict = combine(v.Egress.Verdict, v.Ingress.Verdict)
	return v
}

type stepKind uint8

const (
	stepRule stepKind = iota
	// stepTierEnd: the end of a Calico tier; a policy of the tier that selected the endpoint and
	// matched nothing applies the tier's default action.
	stepTierEnd
	// stepNetwork: the NetworkPolicy stage as a whole.
	stepNetwork
	// stepProblem: a policy that cannot be evaluated may apply here.
	stepProblem
)

type step struct {
	// one holds the rule's policy as a slice without allocating
	one    [1]*Policy
	kind   stepKind
	action Action
	m      Match
	// pass is where a Pass goes.
	pass   int
	policy *Policy
	// deciders are the policies a tier end or the network stage names.
	deciders []*Policy
	// network stage: the deny, allow and isolation matches and who made them.
	deny, allow, isolate    Match
	deniers, allowers, isol []*Policy
}

// outcome is the set of results possible from a step on.
type outcome struct {
	mask     uint8
	deciders []*Policy
	reasons  []string
}

const (
	mAllow uint8 = 1 << iota
	mDeny
	// mEnd: no policy decided; the traffic passes.
	mEnd
)

func (o outcome) union(p outcome) outcome {
	return outcome{mask: o.mask | p.mask, deciders: append(slices.Clip(o.deciders), p.deciders...), reasons: append(slices.Clip(o.reasons), p.reasons...)}
}

func (o outcome) because(reason string) outcome {
	if reason == "" {
		return o
	}
	o.reasons = append(slices.Clip(o.reasons), reason)
	return o
}

func decided(mask uint8, ps ...*Policy) outcome { return outcome{mask: mask, deciders: ps} }

// direction evaluates the policies of endpoint self in direction d; peer is the other end.
func (ev *Evaluator) direction(self, peer int, d Direction, port Port) DirectionVerdict {
	var dv DirectionVerdict
	if !ev.eps[self].IsPod {
		// policies select pods only; an address that is no pod has no policy of its own
		dv.Verdict = NoPolicy
		return dv
	}
	subj := ev.subjects(self)
	sel := ev.selecting(self, d)
	dv.Selecting = sel.labels
	steps := ev.steps[:0]
	dst := ev.eps[peer]
	if d == Ingress {
		dst = ev.eps[self]
	}
	selected := len(sel.idx) > 0
	net := -1
	var tierEnd *step
	for _, k := range sel.idx {
		p := ev.set.policies[k]
		sec := p.section(d)
		if tierEnd != nil && (p.Stage != StageCalico || p.Tier != tierEnd.policy.Tier) {
			steps = append(steps, *tierEnd)
			tierEnd = nil
		}
		if p.Problem != "" && p.Stage != StageNetwork {
			steps = append(steps, step{kind: stepProblem, policy: p, m: maybe(p.Ref.String() + ": " + p.Problem)})
			continue
		}
		if p.Stage == StageNetwork {
			if net < 0 {
				net = len(steps)
				steps = append(steps, step{kind: stepNetwork, deny: no, allow: no, isolate: no})
			}
			ns := &steps[net]
			if p.Problem != "" {
				// it may deny, allow or isolate: the stage's rules add up, so it counts for all three
				m := maybe(p.Ref.String() + ": " + p.Problem)
				ns.deny, ns.allow, ns.isolate = orM(ns.deny, m), orM(ns.allow, m), orM(ns.isolate, m)
				ns.deniers, ns.allowers, ns.isol = append(ns.deniers, p), append(ns.allowers, p), append(ns.isol, p)
				continue
			}
			if sec.Isolates {
				ns.isolate = orM(ns.isolate, subj[k])
				ns.isol = append(ns.isol, p)
			}
			for r := range sec.Rules {
				m := andM(subj[k], sec.Rules[r].Ports(port, dst), ev.peerMatch(self, peer, k, d, r), ev.selfMatch(self, &sec.Rules[r]))
				if m.Tri == No {
					continue
				}
				if m.Reason != "" {
					m.Reason = p.Ref.String() + ": " + m.Reason
				}
				if sec.Rules[r].Action == ActionDeny {
					ns.deny = orM(ns.deny, m)
					ns.deniers = append(ns.deniers, p)
				} else {
					ns.allow = orM(ns.allow, m)
					ns.allowers = append(ns.allowers, p)
				}
			}
			continue
		}
		for r := range sec.Rules {
			m := andM(subj[k], sec.Rules[r].Ports(port, dst), ev.peerMatch(self, peer, k, d, r), ev.selfMatch(self, &sec.Rules[r]))
			if m.Tri == No {
				continue
			}
			if m.Reason != "" {
				m.Reason = p.Ref.String() + ": " + m.Reason
			}
			steps = append(steps, step{kind: stepRule, action: sec.Rules[r].Action, m: m, policy: p})
		}
		if p.Stage == StageCalico && sec.Isolates {
			if tierEnd == nil {
				tierEnd = &step{kind: stepTierEnd, action: calicoTierDefault(p), m: no, policy: p}
			}
			tierEnd.m = orM(tierEnd.m, subj[k])
			tierEnd.deciders = append(tierEnd.deciders, p)
		}
	}
	if tierEnd != nil {
		steps = append(steps, *tierEnd)
	}
	ev.steps = steps
	for i := range steps {
		steps[i].pass = passTarget(steps, i)
	}
	markTies(steps)
	o := ev.run(steps)
	if len(ev.set.unread) > 0 {
		o = o.union(outcome{mask: mAllow | mDeny, reasons: ev.set.unread})
	}
	dv.Verdict, dv.DecidedBy, dv.Unknown = o.result(selected)
	return dv
}

// calicoTierDefault is the action at the end of a Calico policy's tier.
func calicoTierDefault(p *Policy) Action {
	if p.TierDefault != "" {
		return p.TierDefault
	}
	return ActionDeny
}

// markTies makes a rule undecided where its policy shares its priority with another policy whose
// rule also matches with another action: the network-policy-api ("the implementation can apply
// any of the matching policies") and Antrea ("enforced indeterministically") leave their order
// open, so the verdict is unknown unless both orders agree. Calico orders ties itself.
func markTies(steps []step) {
	for i := range steps {
		a := &steps[i]
		if a.kind != stepRule || a.m.Tri == No || !unorderedTies(a.policy) {
			continue
		}
		for j := i + 1; j < len(steps); j++ {
			b := &steps[j]
			if b.kind != stepRule || b.policy.Stage != a.policy.Stage || b.policy.Tier != a.policy.Tier || b.policy.TierOrder != a.policy.TierOrder || b.policy.Order != a.policy.Order {
				break
			}
			if b.policy != a.policy && b.m.Tri != No && b.action != a.action {
				a.m = andM(a.m, maybe(fmt.Sprintf("%s and %s have the same priority and both match with other actions: which applies first is left to the implementation", a.policy.Ref, b.policy.Ref)))
				break
			}
		}
	}
}

// unorderedTies reports whether the API leaves the order of the policy's equal-priority peers open.
func unorderedTies(p *Policy) bool {
	return p.Stage == StageAdmin || p.Stage == StageBaseline || p.Stage == StageAntrea
}

// passTarget is where a Pass at step i goes: the admin tier and Antrea's tiers pass to the stages
// after theirs, a Calico tier to its next tier, the baseline tier to the end.
func passTarget(steps []step, i int) int {
	p := steps[i].policy
	if p == nil {
		return i + 1
	}
	for j := i + 1; j < len(steps); j++ {
		q := steps[j].policy
		if steps[j].kind == stepNetwork {
			if p.Stage < StageNetwork {
				return j
			}
			continue
		}
		switch p.Stage {
		case StageCalico:
			if q.Stage != StageCalico || q.Tier != p.Tier {
				return j
			}
			if steps[j].kind == stepTierEnd {
				// passing skips the tier's default action too
				return j + 1
			}
		case StageBaseline:
		default:
			if q.Stage > p.Stage {
				return j
			}
		}
	}
	return len(steps)
}

// run evaluates the steps backwards: what is possible from step i on depends only on i.
func (ev *Evaluator) run(steps []step) outcome {
	// fast path: no step is undecided
	if !slices.ContainsFunc(steps, func(s step) bool {
		return s.kind == stepProblem || s.m.Tri == Maybe || s.deny.Tri == Maybe || s.allow.Tri == Maybe || s.isolate.Tri == Maybe
	}) {
		for i := 0; i < len(steps); {
			s := &steps[i]
			switch s.kind {
			case stepNetwork:
				switch {
				case s.deny.Tri == Yes:
					return decided(mDeny, s.deniers...)
				case s.allow.Tri == Yes:
					return decided(mAllow, s.allowers...)
				case s.isolate.Tri == Yes:
					return decided(mDeny, s.isol...)
				}
				i++
				continue
			case stepRule, stepTierEnd:
				if s.m.Tri == Yes {
					switch s.action {
					case ActionAllow:
						return decided(mAllow, s.deciderList()...)
					case ActionDeny:
						return decided(mDeny, s.deciderList()...)
					case ActionPass:
						i = s.pass
						continue
					}
				}
			}
			i++
		}
		return outcome{mask: mEnd}
	}
	outs := slices.Grow(ev.outs[:0], len(steps)+1)[:len(steps)+1]
	outs[len(steps)] = outcome{mask: mEnd}
	for i := len(steps) - 1; i >= 0; i-- {
		s := &steps[i]
		next := outs[i+1]
		switch s.kind {
		case stepProblem:
			outs[i] = outcome{mask: mAllow | mDeny, deciders: []*Policy{s.policy}}.union(next).because(s.m.Reason)
		case stepNetwork:
			// deny rules win, then allow rules, then isolation
			o := next
			o = overrule(o, s.isolate, decided(mDeny, s.isol...))
			o = overrule(o, s.allow, decided(mAllow, s.allowers...))
			o = overrule(o, s.deny, decided(mDeny, s.deniers...))
			outs[i] = o
		default:
			var taken outcome
			switch s.action {
			case ActionAllow:
				taken = decided(mAllow, s.deciderList()...)
			case ActionDeny:
				taken = decided(mDeny, s.deciderList()...)
			case ActionPass:
				taken = outs[s.pass]
			default:
				taken = next
			}
			switch s.m.Tri {
			case Yes:
				outs[i] = taken
			case Maybe:
				outs[i] = taken.union(next).because(s.m.Reason)
			default:
				outs[i] = next
			}
		}
	}
	ev.outs = outs
	return outs[0]
}

// overrule is what happens when a match that takes precedence decides: its outcome if it
// matches, both if it may, the rest if it does not.
func overrule(rest outcome, m Match, taken outcome) outcome {
	switch m.Tri {
	case Yes:
		return taken
	case Maybe:
		return taken.union(rest).because(m.Reason)
	}
	return rest
}

func (s *step) deciderList() []*Policy {
	if s.kind == stepTierEnd {
		return s.deciders
	}
	s.one[0] = s.policy
	return s.one[:]
}

// result turns the possible outcomes into a verdict.
func (o outcome) result(selected bool) (Result, []string, []string) {
	var names []string
	switch {
	case len(o.deciders) == 1 && o.deciders[0].label1 != nil:
		names = o.deciders[0].label1
	default:
		for i, p := range o.deciders {
			if !slices.Contains(o.deciders[:i], p) {
				names = append(names, p.Label())
			}
		}
	}
	switch {
	case o.mask == mDeny:
		return Denied, names, nil
	case o.mask&mDeny == 0 && o.mask&mAllow != 0:
		return Allowed, names, nil
	case o.mask == mEnd:
		if selected {
			return Allowed, nil, nil
		}
		return NoPolicy, nil, nil
	}
	return Unknown, names, uniq(o.reasons)
}

// inf orders last what has no order.
var inf = math.Inf(1)

// Signature appends to buf what every policy can see of the endpoint: whether each policy selects
// it and whether each rule's peer matches it. Endpoints of one namespace with the same named
// ports and the same signature get the same verdicts from the set, so a matrix can group them.
func (s *Set) Signature(e *Endpoint, buf []byte) []byte {
	for _, p := range s.policies {
		m := p.Subject(e)
		buf = append(buf, byte(m.Tri))
		for _, sec := range []*Section{p.Ingress, p.Egress} {
			if sec == nil {
				continue
			}
			for _, r := range sec.Rules {
				buf = append(buf, byte(r.Peer(e).Tri))
				if r.Self != nil {
					buf = append(buf, byte(r.Self(e).Tri))
				}
				if r.Pair != nil {
					// a rule on both ends (same namespace): the peer's side of it, the namespace
					// being in the caller's key
					buf = append(buf, byte(r.Pair(e, e).Tri))
				}
			}
		}
	}
	return buf
}
