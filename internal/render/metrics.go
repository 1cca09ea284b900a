package render

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// Metric is one family of gauges: its name, help, label names, and one sample per label set.
type Metric struct {
	Name    string
	Help    string
	Labels  []string
	Samples []Sample
}

// Sample is one gauge: its label values (in the order of the family's Labels) and value.
type Sample struct {
	Values []string
	Value  float64
}

// UsageMetrics are the gauges of a cidr-usage report: the one list of names, labels and helps
// that `cidr-usage -o prometheus` writes and the exporter serves. A figure that was not read is
// absent, never a zero: with pods unknown, the figures counted from pods; with nodes unknown,
// those of nodes and cluster CIDRs; with ClusterIPs unknown, the service CIDRs' allocations. A
// family without samples is left out.
func UsageMetrics(u *report.CIDRUsage) []Metric {
	var out []Metric
	add := func(m Metric) {
		// a label set once per family: a scrape with a repeated one fails as a whole
		seen := make(map[string]bool, len(m.Samples))
		kept := m.Samples[:0]
		for _, s := range m.Samples {
			if k := strings.Join(s.Values, "\x00"); !seen[k] { // one value: Join returns it, no copy
				seen[k] = true
				kept = append(kept, s)
			}
		}
		if m.Samples = kept; len(m.Samples) > 0 {
			out = append(out, m)
		}
	}
	pods, nodes := !u.PodsUnknown, !u.NodesUnknown
	// with nodes unknown, nothing counted from them: no node and no cluster CIDR rows
	nodeRows, rangeRows := u.Nodes, u.Ranges
	if !nodes {
		nodeRows, rangeRows = nil, nil
	}
	node := func(name, help string, ok func(report.NodeUsage) bool, v func(report.NodeUsage) float64) {
		m := Metric{Name: name, Help: help, Labels: []string{"node"}}
		for _, n := range nodeRows {
			if ok == nil || ok(n) {
				m.Samples = append(m.Samples, Sample{[]string{n.Name}, v(n)})
			}
		}
		add(m)
	}
	if pods {
		node("podnet_node_pod_ips_used", "Pod IPs in use on the node (pods on the pod network that hold one).", nil, func(n report.NodeUsage) float64 { return float64(n.Used) })
	}
	node("podnet_node_pod_ips_usable", "Pod addresses the node's IPAM can hand out from its range; absent when it has no per-node limit.",
		func(n report.NodeUsage) bool { return n.Usable > 0 }, func(n report.NodeUsage) float64 { return float64(n.Usable) })
	if pods { // the capacity leaves out the host-network pods' slots
		node("podnet_node_pod_ips_capacity", "Pods the node can hold: the smaller of its usable addresses and its max pods less its host-network pods.", nil, func(n report.NodeUsage) float64 { return float64(n.Capacity) })
	}
	if pods && len(u.LeakedFrom) > 0 {
		node("podnet_node_pod_ips_leaked", "Addresses of the node's range its IPAM store claims for pods that no longer hold them (not in the capacity).", nil, func(n report.NodeUsage) float64 { return float64(n.Leaked) })
	}
	node("podnet_node_max_pods", "The node's allocatable pods.", nil, func(n report.NodeUsage) float64 { return float64(n.MaxPods) })
	if pods {
		node("podnet_node_utilisation_ratio", "Pod IPs in use over capacity.", nil, func(n report.NodeUsage) float64 { return n.Utilisation })
	}
	binding := Metric{Name: "podnet_node_capacity_binding", Help: "The limit that binds the node's capacity first (1 for it): addresses, max-pods, or no pod CIDR.", Labels: []string{"node", "binding"}}
	starved := Metric{Name: "podnet_node_without_pod_cidr", Help: "1 for a node that needs a pod CIDR and has none: its pods cannot get an address.", Labels: []string{"node"}}
	for _, n := range nodeRows {
		if n.Binding != "" && pods {
			binding.Samples = append(binding.Samples, Sample{[]string{n.Name, string(n.Binding)}, 1})
		}
		if n.Binding == netmodel.BindNoPodCIDR {
			starved.Samples = append(starved.Samples, Sample{[]string{n.Name}, 1})
		}
	}
	add(binding)
	add(starved)
	ranges := func(name, help string, ok func(report.RangeUsage) bool, v func(report.RangeUsage) float64) {
		m := Metric{Name: name, Help: help, Labels: []string{"cidr", "mask"}}
		for _, r := range rangeRows {
			if ok == nil || ok(r) {
				m.Samples = append(m.Samples, Sample{[]string{r.CIDR, fmt.Sprint(r.NodeMask)}, v(r)})
			}
		}
		add(m)
	}
	ranges("podnet_cluster_cidr_node_cidrs", "Node CIDRs a cluster pod CIDR holds.", nil, func(r report.RangeUsage) float64 { return float64(r.Slots) })
	ranges("podnet_cluster_cidr_node_cidrs_allocated", "Node CIDRs allocated from a cluster pod CIDR.", nil, func(r report.RangeUsage) float64 { return float64(r.Allocated) })
	ranges("podnet_cluster_cidr_node_cidrs_free", "Node CIDRs a cluster pod CIDR can still hand out: how many more nodes can join.", nil, func(r report.RangeUsage) float64 { return float64(r.Free) })
	ranges("podnet_cluster_cidr_utilisation_ratio", "Node CIDRs allocated over those the cluster pod CIDR holds (not for an inferred cluster CIDR).",
		func(r report.RangeUsage) bool { return !r.Inferred }, func(r report.RangeUsage) float64 { return r.Utilisation })
	if nodes {
		add(Metric{Name: "podnet_nodes_without_pod_cidr", Help: "Nodes that need a pod CIDR and have none.", Samples: []Sample{{nil, float64(len(u.Starved))}}})
	}
	pools := func(name, help string, v func(report.PoolUsage) float64) {
		m := Metric{Name: name, Help: help, Labels: []string{"pool", "cidr"}}
		for _, p := range u.Pools {
			m.Samples = append(m.Samples, Sample{[]string{p.Name, p.CIDR}, v(p)})
		}
		add(m)
	}
	pools("podnet_ippool_addresses", "Addresses of an IPAM pool (a Calico IPPool).", func(p report.PoolUsage) float64 { return float64(p.Addresses) })
	pools("podnet_ippool_addresses_allocated", "Addresses allocated from an IPAM pool.", func(p report.PoolUsage) float64 { return float64(p.Allocated) })
	pools("podnet_ippool_blocks", "Blocks an IPAM pool holds.", func(p report.PoolUsage) float64 { return float64(p.MaxBlocks) })
	pools("podnet_ippool_blocks_claimed", "Blocks of an IPAM pool claimed by nodes.", func(p report.PoolUsage) float64 { return float64(p.Blocks) })
	pools("podnet_ippool_utilisation_ratio", "IPAM pool: the larger of blocks claimed over blocks and addresses allocated over addresses.", func(p report.PoolUsage) float64 { return p.Utilisation })
	services := func(name, help string, counted bool, v func(report.ServiceUsage) float64) {
		m := Metric{Name: name, Help: help, Labels: []string{"cidr"}}
		for _, s := range u.Services {
			if !counted || s.CountedFrom != "-" {
				m.Samples = append(m.Samples, Sample{[]string{s.CIDR}, v(s)})
			}
		}
		add(m)
	}
	services("podnet_service_cidr_addresses", "ClusterIPs a service CIDR can hand out.", false, func(s report.ServiceUsage) float64 { return float64(s.Usable) })
	services("podnet_service_cidr_addresses_allocated", "ClusterIPs allocated from a service CIDR.", true, func(s report.ServiceUsage) float64 { return float64(s.Allocated) })
	services("podnet_service_cidr_utilisation_ratio", "ClusterIPs allocated over those the service CIDR holds.", true, func(s report.ServiceUsage) float64 { return s.Utilisation })
	limits := func(name, help string, used bool, v func(report.LimitUsage) float64) {
		m := Metric{Name: name, Help: help, Labels: []string{"limit"}}
		for _, l := range u.Limits {
			switch {
			case l.Limit == 0, used && !pods && countsPods(l.Kind):
				continue
			case !nodes && l.Kind != netmodel.LimitPods:
				continue // every other limit, or its use, is counted from the nodes
			}
			m.Samples = append(m.Samples, Sample{[]string{cmp.Or(l.Key, l.Name)}, v(l)})
		}
		add(m)
	}
	limits("podnet_platform_limit", "A platform limit (routes, subnet addresses, ENI addresses, nodes, pods per cluster).", false, func(l report.LimitUsage) float64 { return float64(l.Limit) })
	limits("podnet_platform_limit_used", "How much of a platform limit is used.", true, func(l report.LimitUsage) float64 { return float64(l.Used) })
	limits("podnet_platform_limit_utilisation_ratio", "Platform limit used over the limit.", true, func(l report.LimitUsage) float64 { return l.Utilisation })
	if pods && nodes {
		add(Metric{Name: "podnet_max_utilisation_ratio", Help: "The highest utilisation of all.", Samples: []Sample{{nil, u.Max}}})
	}
	return out
}

// countsPods says whether a platform limit's use is counted from pods.
func countsPods(k netmodel.LimitKind) bool {
	return k == netmodel.LimitPods || k == netmodel.LimitPodAddresses
}

// Prometheus writes every utilisation as gauges in the text exposition format.
func Prometheus(w io.Writer, u *report.CIDRUsage) error {
	var b strings.Builder
	for _, m := range UsageMetrics(u) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", m.Name, m.Help, m.Name)
		for _, s := range m.Samples {
			labels := ""
			if len(m.Labels) > 0 {
				kv := make([]string, 0, 2*len(m.Labels))
				for i, l := range m.Labels {
					kv = append(kv, l, s.Values[i])
				}
				labels = lbl(kv...)
			}
			fmt.Fprintf(&b, "%s%s %s\n", m.Name, labels, num(s.Value))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// num writes a value as the exposition format does (client_golang's expfmt): exactly, integers
// without a fraction up to 2^53.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// lbl renders {k="v",...} with the exposition format's escaping.
func lbl(kv ...string) string {
	parts := make([]string, 0, len(kv)/2)
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, fmt.Sprintf(`%s="%s"`, kv[i], r.Replace(kv[i+1])))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
