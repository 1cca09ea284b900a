package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/policy"
)

// MatrixPod is a pod as the policy matrix sees it.
type MatrixPod struct {
	Namespace, Name string
	// Workload is the pod's owner as users name it (the Deployment of its ReplicaSet), "" for a
	// bare pod.
	Workload       string
	Labels         map[string]string
	ServiceAccount string
	IP             netip.Addr
	// Named are the named container ports; Declared every declared container port.
	Named    map[string]corev1.ContainerPort
	Declared []policy.Port
	// Source and Destination say on which side of the matrix the pod stands.
	Source, Destination bool
	// Node is the node the pod runs on, "" before it is scheduled.
	Node string
}

// MatrixInput is what a matrix is built from.
type MatrixInput struct {
	Pods []MatrixPod
	// NSLabels are the namespaces' labels; a namespace missing could not be read.
	NSLabels map[string]map[string]string
	// Ports are the ports to check; none: every port a destination declares.
	Ports []policy.Port
	// Services are the Services whose connections a what-if checks.
	Services []ServiceBackends
}

// ServiceBackends is one port of a Service with the pods behind it.
type ServiceBackends struct {
	Service string `json:"service"`
	Port    string `json:"port"`
	// Backends are indexes into MatrixInput.Pods, with the target port each listens on.
	Backends []ServiceBackend `json:"-"`
	// Outside counts the ready backends that are not in the matrix (filtered out by the
	// selectors): with any, a change can only be said to be unknown.
	Outside int `json:"-"`
}

// ServiceBackend is one endpoint of a Service port.
type ServiceBackend struct {
	Pod    int
	Target policy.Port
}

// PolicyMatrix is the verdict of every source group to every destination group on every port.
// Its cells are kept compact (a million of them is a 1,000 x 1,000 matrix): Cell expands one,
// and JSON expands them all.
type PolicyMatrix struct {
	Ports  []string      `json:"ports"`
	Groups []MatrixGroup `json:"groups"`
	// Policies count the policy objects by kind.
	Policies map[string]int `json:"policies"`
	// Unread are what could not be read, which makes verdicts unknown.
	Unread []string `json:"unread,omitempty"`
	// WhatIf is the change --with and --without make, nil without them.
	WhatIf *WhatIf `json:"whatIf,omitempty"`
	// Enforced is whether the network plugin of the pods' nodes enforces policies.
	Enforced *netmodel.Enforcement `json:"enforced,omitempty"`

	cells []cell
	sides []*MatrixSide
	side  map[*MatrixSide]int32
	port  map[string]uint16
}

// cell is a MatrixCell without pointers: indexes into the ports and sides.
type cell struct {
	from, to        int32
	port            uint16
	verdict         uint8
	egress, ingress int32
}

var resultCodes = []policy.Result{policy.Allowed, policy.Denied, policy.Unknown, policy.NoPolicy}

func resultCode(r policy.Result) uint8 {
	for i, c := range resultCodes {
		if c == r {
			return uint8(i)
		}
	}
	return 2
}

// AddCell appends a cell; its port must be one of Ports.
func (m *PolicyMatrix) AddCell(c MatrixCell) {
	if m.port == nil {
		m.port, m.side = map[string]uint16{}, map[*MatrixSide]int32{}
		for i, p := range m.Ports {
			m.port[p] = uint16(i)
		}
	}
	idx := func(s *MatrixSide) int32 {
		i, ok := m.side[s]
		if !ok {
			i = int32(len(m.sides))
			m.sides = append(m.sides, s)
			m.side[s] = i
		}
		return i
	}
	m.cells = append(m.cells, cell{from: int32(c.From), to: int32(c.To), port: m.port[c.Port], verdict: resultCode(c.Verdict), egress: idx(c.Egress), ingress: idx(c.Ingress)})
}

// Len is the number of cells.
func (m *PolicyMatrix) Len() int { return len(m.cells) }

// Cell is cell i, expanded.
func (m *PolicyMatrix) Cell(i int) MatrixCell {
	c := m.cells[i]
	return MatrixCell{From: int(c.from), To: int(c.to), Port: m.Ports[c.port], Verdict: resultCodes[c.verdict], Egress: m.sides[c.egress], Ingress: m.sides[c.ingress]}
}

// Cells are every cell, expanded.
func (m *PolicyMatrix) Cells() []MatrixCell {
	out := make([]MatrixCell, len(m.cells))
	for i := range m.cells {
		out[i] = m.Cell(i)
	}
	return out
}

// WithoutCells is the matrix's JSON but for its cells, for a writer that streams them.
func (m *PolicyMatrix) WithoutCells() any {
	type plain PolicyMatrix
	return (*plain)(m)
}

// MarshalJSON writes the matrix with its cells expanded.
func (m *PolicyMatrix) MarshalJSON() ([]byte, error) {
	type plain PolicyMatrix
	return json.Marshal(struct {
		*plain
		Cells []MatrixCell `json:"cells"`
	}{(*plain)(m), m.Cells()})
}

// MatrixGroup is pods the policies cannot tell apart: same namespace, same selection by every
// policy and every rule, same named ports.
type MatrixGroup struct {
	ID             int               `json:"id"`
	Namespace      string            `json:"namespace"`
	Name           string            `json:"name"`
	Labels         map[string]string `json:"labels,omitempty"`
	ServiceAccount string            `json:"serviceAccount,omitempty"`
	Pods           []string          `json:"pods"`
	Source         bool              `json:"source"`
	Destination    bool              `json:"destination"`
}

// Title is "ns/name (3 pods)".
func (g MatrixGroup) Title() string {
	if len(g.Pods) == 1 {
		return g.Namespace + "/" + g.Name
	}
	return fmt.Sprintf("%s/%s (%d pods)", g.Namespace, g.Name, len(g.Pods))
}

// MatrixCell is the verdict of one source group to one destination group on one port.
type MatrixCell struct {
	From    int           `json:"from"`
	To      int           `json:"to"`
	Port    string        `json:"port"`
	Verdict policy.Result `json:"verdict"`
	Egress  *MatrixSide   `json:"egress"`
	Ingress *MatrixSide   `json:"ingress"`
}

// MatrixSide is one direction's verdict: who decided, or why it is unknown.
type MatrixSide struct {
	Verdict   policy.Result `json:"verdict"`
	DecidedBy []string      `json:"decidedBy,omitempty"`
	Unknown   []string      `json:"unknown,omitempty"`
}

// WhatIf is what a policy change does to the matrix.
type WhatIf struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Changes are the cells whose verdict changes.
	Changes []MatrixChange `json:"changes"`
	// Connections are the client -> Service connections whose reachable backends change.
	Connections []ServiceConnection `json:"connections"`
}

// MatrixChange is one cell before and after.
type MatrixChange struct {
	From   int           `json:"from"`
	To     int           `json:"to"`
	Port   string        `json:"port"`
	Before MatrixCell    `json:"-"`
	After  MatrixCell    `json:"-"`
	Was    policy.Result `json:"before"`
	Is     policy.Result `json:"after"`
	// DecidedBy are the policies that decide after the change (before it, for a cell the change
	// allows).
	DecidedBy []string `json:"decidedBy,omitempty"`
}

// ConnectionState is what a change does to a client's connection to a Service.
type ConnectionState string

// Connection states.
const (
	// ConnectionBroken: some backend took the connection before, none does after.
	ConnectionBroken ConnectionState = "broken"
	// ConnectionDegraded: fewer backends take it; the Service's load balancing fails some
	// connections.
	ConnectionDegraded ConnectionState = "degraded"
	// ConnectionRestored: more backends take it than before.
	ConnectionRestored ConnectionState = "restored"
	// ConnectionUnknown: a verdict on a backend is unknown before or after.
	ConnectionUnknown ConnectionState = "unknown"
)

// Breaks reports whether the state fails connections that worked.
func (s ConnectionState) Breaks() bool { return s == ConnectionBroken || s == ConnectionDegraded }

// ServiceConnection is a client group's connection to one Service port.
type ServiceConnection struct {
	Client  int             `json:"client"`
	Service string          `json:"service"`
	Port    string          `json:"port"`
	Backend int             `json:"backends"`
	Before  int             `json:"allowedBefore"`
	After   int             `json:"allowedAfter"`
	State   ConnectionState `json:"state"`
}

// BuildMatrix groups the pods and evaluates every source group to every destination group on
// every port with set; with after, also the matrix after a change, keeping only what changes.
func BuildMatrix(in MatrixInput, set, after *policy.Set) (*PolicyMatrix, error) {
	eps := make([]*policy.Endpoint, len(in.Pods))
	for i := range in.Pods {
		eps[i] = matrixEndpoint(&in.Pods[i], in.NSLabels)
	}
	groups, groupOf, reps := groupPods(in.Pods, eps, set, after)
	ports := in.Ports
	if len(ports) == 0 {
		ports = declaredPorts(in.Pods)
		if len(ports) == 0 {
			return nil, fmt.Errorf("no destination pod declares a container port: give the ports to check with --port")
		}
	}
	m := &PolicyMatrix{Groups: groups}
	for _, p := range ports {
		m.Ports = append(m.Ports, p.String())
	}
	if after == nil {
		n := 0
		for _, g := range groups {
			if g.Source {
				n++
			}
		}
		m.cells = make([]cell, 0, n*len(groups)*len(ports))
	}
	repEps := make([]*policy.Endpoint, len(reps))
	for i, r := range reps {
		repEps[i] = eps[r]
	}
	before := newCellMaker(set, repEps)
	var afterCells *cellMaker
	if after != nil {
		afterCells = newCellMaker(after, repEps)
		m.WhatIf = &WhatIf{Changes: []MatrixChange{}, Connections: []ServiceConnection{}}
	}
	for _, src := range groups {
		if !src.Source {
			continue
		}
		for _, dst := range groups {
			if !dst.Destination {
				continue
			}
			for pi, port := range ports {
				c := before.cell(src.ID, dst.ID, port, m.Ports[pi])
				if afterCells == nil {
					m.AddCell(c)
					continue
				}
				a := afterCells.cell(src.ID, dst.ID, port, m.Ports[pi])
				if a.Verdict != c.Verdict {
					ch := MatrixChange{From: src.ID, To: dst.ID, Port: m.Ports[pi], Before: c, After: a, Was: c.Verdict, Is: a.Verdict}
					ch.DecidedBy = deciders(a)
					if a.Verdict.Passes() {
						ch.DecidedBy = deciders(c)
					}
					m.WhatIf.Changes = append(m.WhatIf.Changes, ch)
				}
			}
		}
	}
	if afterCells != nil {
		m.WhatIf.Connections = serviceChanges(in, groupOf, groups, before, afterCells)
	}
	return m, nil
}

// deciders are a cell's deciding policies, egress then ingress.
func deciders(c MatrixCell) []string {
	var out []string
	for _, s := range []*MatrixSide{c.Egress, c.Ingress} {
		for _, d := range s.DecidedBy {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// serviceChanges compares, for each client group and Service port, how many backends take the
// connection before and after.
func serviceChanges(in MatrixInput, groupOf []int, groups []MatrixGroup, before, after *cellMaker) []ServiceConnection {
	out := []ServiceConnection{}
	for _, svc := range in.Services {
		for _, client := range groups {
			if !client.Source {
				continue
			}
			sc := ServiceConnection{Client: client.ID, Service: svc.Service, Port: svc.Port, Backend: len(svc.Backends) + svc.Outside}
			changed, unknown := false, svc.Outside > 0
			for _, b := range svc.Backends {
				dst := groupOf[b.Pod]
				vb := before.verdict(client.ID, dst, b.Target)
				va := after.verdict(client.ID, dst, b.Target)
				changed = changed || vb.Passes() != va.Passes() || (vb == policy.Unknown) != (va == policy.Unknown)
				unknown = unknown || vb == policy.Unknown || va == policy.Unknown
				if vb.Passes() {
					sc.Before++
				}
				if va.Passes() {
					sc.After++
				}
			}
			switch {
			case !changed:
				continue
			case unknown:
				// an unknown verdict, or backends outside the matrix: what the change does to the
				// connection cannot be told
				sc.State = ConnectionUnknown
			case sc.Before > 0 && sc.After == 0:
				sc.State = ConnectionBroken
			case sc.After < sc.Before:
				sc.State = ConnectionDegraded
			default:
				sc.State = ConnectionRestored
			}
			out = append(out, sc)
		}
	}
	return out
}

// cellMaker evaluates cells and shares identical sides between them.
type cellMaker struct {
	ev     *policy.Evaluator
	sides  map[string]*MatrixSide
	simple map[simpleSide]*MatrixSide
	key    strings.Builder
}

// simpleSide is a side decided by at most one policy, with nothing unknown.
type simpleSide struct {
	verdict policy.Result
	by      string
}

func newCellMaker(set *policy.Set, eps []*policy.Endpoint) *cellMaker {
	return &cellMaker{ev: set.Evaluator(eps), sides: map[string]*MatrixSide{}, simple: map[simpleSide]*MatrixSide{}}
}

func (c *cellMaker) verdict(src, dst int, port policy.Port) policy.Result {
	return c.ev.Verdict(src, dst, port).Verdict
}

func (c *cellMaker) cell(src, dst int, port policy.Port, portName string) MatrixCell {
	v := c.ev.Verdict(src, dst, port)
	return MatrixCell{From: src, To: dst, Port: portName, Verdict: v.Verdict, Egress: c.side(v.Egress), Ingress: c.side(v.Ingress)}
}

func (c *cellMaker) side(d policy.DirectionVerdict) *MatrixSide {
	if len(d.Unknown) == 0 && len(d.DecidedBy) <= 1 {
		// the common case, looked up without building a key
		k := simpleSide{verdict: d.Verdict}
		if len(d.DecidedBy) == 1 {
			k.by = d.DecidedBy[0]
		}
		if s, ok := c.simple[k]; ok {
			return s
		}
		s := &MatrixSide{Verdict: d.Verdict, DecidedBy: d.DecidedBy}
		c.simple[k] = s
		return s
	}
	c.key.Reset()
	c.key.WriteString(string(d.Verdict))
	for _, s := range d.DecidedBy {
		c.key.WriteByte(0)
		c.key.WriteString(s)
	}
	c.key.WriteByte(1)
	for _, s := range d.Unknown {
		c.key.WriteByte(0)
		c.key.WriteString(s)
	}
	k := c.key.String()
	if s, ok := c.sides[k]; ok {
		return s
	}
	s := &MatrixSide{Verdict: d.Verdict, DecidedBy: d.DecidedBy, Unknown: d.Unknown}
	c.sides[k] = s
	return s
}

func matrixEndpoint(p *MatrixPod, nsLabels map[string]map[string]string) *policy.Endpoint {
	l, ok := nsLabels[p.Namespace]
	return &policy.Endpoint{Namespace: p.Namespace, Labels: p.Labels, ServiceAccount: p.ServiceAccount, NSLabels: l, NSLabelsKnown: ok,
		IP: p.IP, IsPod: true, Ports: p.Named}
}

// groupPods groups the pods the sets cannot tell apart; groupOf maps a pod to its group, reps are
// each group's first pod.
func groupPods(pods []MatrixPod, eps []*policy.Endpoint, sets ...*policy.Set) ([]MatrixGroup, []int, []int) {
	byKey := map[string]int{}
	var groups []MatrixGroup
	var reps []int
	groupOf := make([]int, len(pods))
	var buf []byte
	for i := range pods {
		p := &pods[i]
		buf = append(buf[:0], p.Namespace...)
		buf = append(buf, 0)
		if p.Source {
			buf = append(buf, 's')
		}
		if p.Destination {
			buf = append(buf, 'd')
		}
		for _, name := range slices.Sorted(maps.Keys(p.Named)) {
			cp := p.Named[name]
			buf = fmt.Appendf(buf, "\x00%s=%d/%s", name, cp.ContainerPort, cp.Protocol)
		}
		buf = append(buf, 0)
		for _, s := range sets {
			if s != nil {
				buf = s.Signature(eps[i], buf)
			}
		}
		g, ok := byKey[string(buf)]
		if !ok {
			g = len(groups)
			byKey[string(buf)] = g
			groups = append(groups, MatrixGroup{ID: g, Namespace: p.Namespace, Labels: p.Labels, ServiceAccount: p.ServiceAccount,
				Source: p.Source, Destination: p.Destination})
			reps = append(reps, i)
		}
		groupOf[i] = g
		groups[g].Pods = append(groups[g].Pods, p.Name)
		if !maps.Equal(groups[g].Labels, p.Labels) {
			groups[g].Labels = commonLabels(groups[g].Labels, p.Labels)
		}
	}
	for g := range groups {
		groups[g].Name = groupName(pods, groups[g], groupOf)
		sort.Strings(groups[g].Pods)
	}
	return groups, groupOf, reps
}

// groupName names a group by its pods' workload: one workload, its name; several, the first and
// how many more; one bare pod, its name; several, their common labels.
func groupName(pods []MatrixPod, grp MatrixGroup, groupOf []int) string {
	g, members := grp.ID, grp.Pods
	var workloads []string
	bare := ""
	for i := range pods {
		if groupOf[i] != g {
			continue
		}
		switch {
		case pods[i].Workload != "" && !slices.Contains(workloads, pods[i].Workload):
			workloads = append(workloads, pods[i].Workload)
		case pods[i].Workload == "" && bare == "":
			bare = pods[i].Name
		}
	}
	sort.Strings(workloads)
	switch {
	case len(workloads) == 1 && bare == "":
		return workloads[0]
	case len(workloads) == 0:
		if len(members) == 1 || len(grp.Labels) == 0 {
			return bare
		}
		keys := slices.Sorted(maps.Keys(grp.Labels))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + grp.Labels[k]
		}
		return strings.Join(parts, ",")
	}
	first := workloads[0]
	if first == "" {
		first = bare
	}
	rest := len(workloads) - 1
	if bare != "" {
		rest++
	}
	return fmt.Sprintf("%s +%d", first, rest)
}

// commonLabels are the labels both sets share.
func commonLabels(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		if b[k] == v {
			out[k] = v
		}
	}
	return out
}

// declaredPorts are the ports the destination pods declare, in order.
func declaredPorts(pods []MatrixPod) []policy.Port {
	seen := map[policy.Port]bool{}
	var out []policy.Port
	for _, p := range pods {
		if !p.Destination {
			continue
		}
		for _, d := range p.Declared {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Number != out[j].Number {
			return out[i].Number < out[j].Number
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}
