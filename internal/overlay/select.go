package overlay

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// MaxDefaultNodes bounds the default choice of nodes: one per zone, at most this many.
const MaxDefaultNodes = 5

// canProbe reports whether a node may be chosen by default: Ready, Linux, schedulable and read
// from the API (not derived from its pods).
func canProbe(n *cluster.Node) bool {
	return n.Ready == "Ready" && n.OS != "windows" && !n.Unschedulable && !n.FromPods
}

// SelectNodes chooses the nodes to probe. Named nodes must exist, be Ready and run Linux (a
// cordoned one is fine: the probe pod names its node). Without names it takes one node per zone
// (label topology.kubernetes.io/zone, nodes without one forming a zone of their own), the first
// by name in each, at most MaxDefaultNodes, then more Ready nodes by name until there is a pair.
// The nodes come back sorted by name.
func SelectNodes(nodes []cluster.Node, named []string) ([]string, error) {
	byName := make(map[string]*cluster.Node, len(nodes))
	for i := range nodes {
		byName[nodes[i].Name] = &nodes[i]
	}
	if len(named) > 0 {
		var out []string
		for _, name := range named {
			n := byName[name]
			switch {
			case n == nil || n.FromPods:
				return nil, fmt.Errorf("node %q not found: check the name (kubectl get nodes)", name)
			case n.Ready != "Ready":
				return nil, fmt.Errorf("node %s is %s: its kubelet will not run the probe pod; name Ready nodes with --nodes, or fix the node first", name, n.Ready)
			case n.OS == "windows":
				return nil, fmt.Errorf("node %s runs Windows: the probe runs Linux tools; name Linux nodes with --nodes", name)
			}
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
		if len(out) < 2 {
			return nil, fmt.Errorf("--nodes names %d node: the check runs between pairs, name at least two", len(out))
		}
		slices.Sort(out)
		return out, nil
	}
	var ready []*cluster.Node
	for i := range nodes {
		if canProbe(&nodes[i]) {
			ready = append(ready, &nodes[i])
		}
	}
	slices.SortFunc(ready, func(a, b *cluster.Node) int { return cmp.Compare(a.Name, b.Name) })
	if len(ready) < 2 {
		return nil, fmt.Errorf("the check needs two Ready, schedulable Linux nodes and the cluster has %d: there is no pair of nodes to check", len(ready))
	}
	firstOfZone := map[string]string{}
	for _, n := range ready {
		if _, ok := firstOfZone[n.Zone]; !ok {
			firstOfZone[n.Zone] = n.Name
		}
	}
	zones := make([]string, 0, len(firstOfZone))
	for z := range firstOfZone {
		zones = append(zones, z)
	}
	slices.Sort(zones)
	var out []string
	for _, z := range zones {
		if len(out) == MaxDefaultNodes {
			break
		}
		out = append(out, firstOfZone[z])
	}
	for _, n := range ready {
		if len(out) >= 2 {
			break
		}
		if !slices.Contains(out, n.Name) {
			out = append(out, n.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}
