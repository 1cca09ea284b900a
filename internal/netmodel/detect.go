package netmodel

import (
	"fmt"
	"sort"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// Detect decides the network model of one node from its own marks first (annotations, the
// NetworkUnavailable reason, labels, its CiliumNode), then from the cluster's DaemonSets.
func Detect(n *cluster.Node, ev *cluster.Evidence) Network {
	for _, m := range models {
		if why := m.marks(n, ev); why != "" {
			return network(m, n, ev, []string{why})
		}
	}
	for _, m := range models {
		if why := m.clusterSigns(n, ev); len(why) > 0 {
			return network(m, n, ev, why)
		}
	}
	var seen []string
	if len(n.PodCIDRs) > 0 {
		seen = append(seen, "podCIDR set")
	} else {
		seen = append(seen, "no podCIDR")
	}
	if n.ProviderID != "" {
		seen = append(seen, "providerID "+strings.SplitN(n.ProviderID, ":", 2)[0])
	}
	if r := netReason(n); r != "" {
		seen = append(seen, "NetworkUnavailable reason "+r)
	}
	seen = append(seen, "no known CNI DaemonSet, annotation or label")
	return Network{Model: Unknown, Evidence: seen}
}

func network(m Model, n *cluster.Node, ev *cluster.Evidence, why []string) Network {
	mode, more := m.mode(n, ev)
	return Network{Model: m.Name(), Mode: mode, Evidence: append(why, more...)}
}

// Needs is what a targeted read must fetch for the nodes' models (ev holds discovery and the
// DaemonSets, which detection reads first).
func Needs(ev *cluster.Evidence, nodes ...*cluster.Node) cluster.Needs {
	var needs cluster.Needs
	for _, n := range nodes {
		needs = needs.Merge(Detect(n, ev).Descriptor().Needs(n))
	}
	return needs
}

// ClusterNetwork sums up the per-node networks: the model most nodes have, and "mixed" when
// nodes disagree.
func ClusterNetwork(nets []Network, ev *cluster.Evidence) Network {
	if len(nets) == 0 {
		return Detect(&cluster.Node{}, ev)
	}
	count := map[string]int{}
	first := map[string]Network{}
	for _, n := range nets {
		k := n.String()
		count[k]++
		if _, ok := first[k]; !ok {
			first[k] = n
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	best := first[keys[0]]
	out := Network{Model: best.Model, Mode: best.Mode, Evidence: append([]string(nil), best.Evidence...)}
	if len(keys) > 1 {
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s on %d node(s)", k, count[k]))
		}
		out.Evidence = append(out.Evidence, "mixed: "+strings.Join(parts, ", "))
	}
	return out
}

func hasPrefixKey(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func netReason(n *cluster.Node) string {
	if n.NetworkUnavail == nil {
		return ""
	}
	return n.NetworkUnavail.Reason
}

// firstDaemonSet is the evidence line for the first of the DaemonSets the cluster has.
func firstDaemonSet(ev *cluster.Evidence, names ...string) []string {
	for _, name := range names {
		if ev.HasDaemonSet(name) {
			return []string{"DaemonSet " + name}
		}
	}
	return nil
}
