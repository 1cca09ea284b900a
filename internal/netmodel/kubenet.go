package netmodel

import (
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// kubenetModel is kubenet: a bridge (cbr0) on spec.podCIDRs, and the cloud's routes (an Azure
// route table, GCE routes) or the node's own carrying node CIDRs between nodes.
type kubenetModel struct{ base }

func (kubenetModel) Name() Name                          { return Kubenet }
func (kubenetModel) Agent() string                       { return "kubenet (the kubelet)" }
func (kubenetModel) NodeCIDRIPAM(*cluster.Evidence) bool { return true }
func (kubenetModel) Bridge() string                      { return "cbr0" }
func (kubenetModel) HostEnd() HostEnd                    { return HostEndBridge }

func (kubenetModel) Datapath(_ string, n *cluster.Node) Datapath {
	if onAzure(n) {
		return DatapathCloudRouteTable
	}
	return DatapathRouted
}

func (kubenetModel) CloudHint(n *cluster.Node) string {
	if onAzure(n) {
		return "check the AKS route table has this route and is associated with the nodes' subnet (az network route-table route list; az network vnet subnet show --query routeTable)"
	}
	return ""
}

// SharedSubnet: AKS associates the cluster's route table (one route per node pod CIDR) with the
// nodes' subnet, and a subnet has one route table.
func (kubenetModel) SharedSubnet(n *cluster.Node) string {
	if onAzure(n) {
		return "AKS kubenet clusters cannot share a subnet: each cluster's route table (one route per node pod CIDR) is associated with its nodes' subnet, and a subnet takes one route table"
	}
	return ""
}

func (kubenetModel) Policy(ev *cluster.Evidence) Enforcement {
	if e, ok := policyEngine(ev); ok {
		return e
	}
	return Enforcement{State: NotEnforced, Reason: "kubenet alone does not enforce NetworkPolicy; policies have no effect unless a policy engine (e.g. Calico in policy-only mode) runs"}
}

func (kubenetModel) marks(n *cluster.Node, _ *cluster.Evidence) string {
	if n.Labels["kubernetes.azure.com/network-plugin"] == "kubenet" {
		return "label kubernetes.azure.com/network-plugin=kubenet"
	}
	return ""
}

func (kubenetModel) clusterSigns(n *cluster.Node, _ *cluster.Evidence) []string {
	switch {
	case onAzure(n) && len(n.PodCIDRs) > 0:
		e := []string{"providerID azure://", "podCIDR set", "no CNI DaemonSet"}
		if netReason(n) == "RouteCreated" {
			e = append(e, "NetworkUnavailable reason RouteCreated (cloud route table)")
		}
		return e
	case netReason(n) == "RouteCreated" && len(n.PodCIDRs) > 0:
		return []string{"NetworkUnavailable reason RouteCreated (cloud route table)", "podCIDR set", "no CNI DaemonSet"}
	}
	return nil
}

func (kubenetModel) mode(n *cluster.Node, _ *cluster.Evidence) (string, []string) {
	if n.Labels["kubernetes.azure.com/network-plugin"] == "kubenet" {
		return "", []string{"routes in the Azure route table"}
	}
	return "", nil
}

func (kubenetModel) limits(nodes []*NodeNetwork, _ LimitOptions) []Limit {
	az := azureNodes(nodes)
	if len(az) == 0 {
		return nil
	}
	routes := 0
	for _, nn := range az {
		routes += max(len(nn.node.PodCIDRs), 1)
	}
	return []Limit{{Name: "Azure route table (kubenet)", Kind: LimitRoutes, Limit: aksRouteLimit, Used: uint64(routes), Source: sourceAKSRoutes}}
}

func onAzure(n *cluster.Node) bool { return strings.HasPrefix(n.ProviderID, "azure://") }
