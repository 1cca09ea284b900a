package netmodel

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/ipam"
)

// LimitKind says what a platform limit counts, so that a plan knows what N nodes need of it.
type LimitKind string

// Limit kinds.
const (
	// LimitRoutes: one route per node CIDR (per family).
	LimitRoutes LimitKind = "routes"
	// LimitNodeSubnet: every node takes max-pods + 1 addresses of the subnet up front.
	LimitNodeSubnet LimitKind = "node-subnet"
	// LimitPodAddresses: the pod addresses the nodes can hold, counted per instance type.
	LimitPodAddresses LimitKind = "pod-addresses"
	// LimitNodes and LimitPods are the cluster's own scalability thresholds.
	LimitNodes LimitKind = "nodes"
	LimitPods  LimitKind = "pods"
)

// Limit is a platform limit, what uses it, and where the figure comes from.
type Limit struct {
	Name string
	// Key names the limit where Name also counts what changes (the nodes of an instance type):
	// a gauge's label must not change with every node added.
	Key    string
	Kind   LimitKind
	Limit  uint64
	Used   uint64
	Source string
}

// LimitOptions are what the user told of the platform.
type LimitOptions struct {
	// NodeSubnet is the Azure CNI node subnet (--node-subnet).
	NodeSubnet string
}

// PlatformLimits are the limits of the platforms the nodes run on, asked of each model for its
// own nodes, then the cluster's scalability thresholds.
func PlatformLimits(v *View, pods int, opts LimitOptions) []Limit {
	var out []Limit
	for _, m := range models {
		var mine []*NodeNetwork
		for i := range v.Nodes {
			if v.Nodes[i].Network.Model == m.Name() {
				mine = append(mine, &v.Nodes[i])
			}
		}
		if len(mine) > 0 {
			out = append(out, m.limits(mine, opts)...)
		}
	}
	return append(out,
		Limit{Name: "nodes per cluster", Kind: LimitNodes, Limit: upstreamNodes, Used: uint64(len(v.Nodes)), Source: sourceUpstreamNodes},
		Limit{Name: "pods per cluster", Kind: LimitPods, Limit: upstreamPods, Used: uint64(pods), Source: sourceUpstreamPods},
	)
}

// perInstanceType sums the nodes' pod addresses and their use per instance type.
func perInstanceType(nodes []*NodeNetwork, source func(itype string, nodes []*NodeNetwork) string) []Limit {
	by := map[string][]*NodeNetwork{}
	for _, nn := range nodes {
		t := nn.node.InstanceType
		if t == "" {
			t = "-"
		}
		by[t] = append(by[t], nn)
	}
	types := make([]string, 0, len(by))
	for t := range by {
		types = append(types, t)
	}
	sort.Strings(types)
	var out []Limit
	for _, t := range types {
		l := Limit{Name: fmt.Sprintf("ENI addresses (%d x %s)", len(by[t]), t), Key: "ENI addresses " + t, Kind: LimitPodAddresses, Source: source(t, by[t])}
		for _, nn := range by[t] {
			if nn.Capacity != nil {
				l.Limit += nn.Capacity.PodIPs
				l.Used += uint64(nn.Capacity.Used)
			}
		}
		out = append(out, l)
	}
	return out
}

// azureNodes are those of the nodes on Azure.
func azureNodes(nodes []*NodeNetwork) []*NodeNetwork {
	var out []*NodeNetwork
	for _, nn := range nodes {
		if strings.HasPrefix(nn.node.ProviderID, "azure://") {
			out = append(out, nn)
		}
	}
	return out
}

// subnetLimit is the Azure CNI node subnet: max-pods + 1 addresses per node, of the subnet given.
func subnetLimit(nodes []*NodeNetwork, opts LimitOptions) Limit {
	l := Limit{Name: "Azure CNI node subnet", Kind: LimitNodeSubnet, Source: sourceAzureNodeSubnet}
	for _, nn := range nodes {
		l.Used += uint64(max(nn.node.AllocatablePods, 0)) + 1
	}
	if p, err := netip.ParsePrefix(opts.NodeSubnet); err == nil {
		l.Limit = ipam.Size(p.Masked()) - azureSubnetReserve
		l.Name += " " + p.Masked().String()
	} else {
		l.Source += "; give --node-subnet CIDR to compute the headroom"
	}
	return l
}
