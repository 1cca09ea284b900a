package netmodel

import (
	"net/netip"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// Azure's node labels.
const (
	labelAzureOverlay     = "kubernetes.azure.com/azure-cni-overlay"
	labelAzurePodNetwork  = "kubernetes.azure.com/podnetwork-type"
	labelAzureNetPlugin   = "kubernetes.azure.com/network-plugin"
	azureCNIPolicyUnknown = "Azure CNI enforces policies only with a network policy engine (Azure NPM, Calico or Cilium)"
)

// azureCNIModel is Azure CNI with VNet addresses for pods: from the node subnet (every node takes
// max-pods + 1 addresses up front), or from a pod subnet (dynamic, or in static blocks: vnet-block).
type azureCNIModel struct{ azureBase }

// azureBase is what both Azure CNI models share: VNet routing to azv* veths behind 169.254.1.1.
type azureBase struct{ base }

func (azureBase) Agent() string                           { return "the Azure CNI" }
func (azureBase) Datapath(string, *cluster.Node) Datapath { return DatapathCloudNetwork }
func (azureBase) PodDevice(string, string) string         { return "azv…" }
func (azureBase) Gateway(_ *cluster.Node, _ *cluster.Evidence, v4 bool) string {
	return proxyARPGateway(v4)
}
func (azureBase) Policy(*cluster.Evidence) Enforcement {
	return Enforcement{State: EnforcedMaybe, Reason: azureCNIPolicyUnknown}
}

func (azureCNIModel) Name() Name { return AzureCNI }

func (azureCNIModel) marks(n *cluster.Node, _ *cluster.Evidence) string {
	switch {
	case n.Labels[labelAzurePodNetwork] == "vnetblock":
		return "label " + labelAzurePodNetwork + "=vnetblock"
	case n.Labels[labelAzurePodNetwork] == "vnet":
		return "label " + labelAzurePodNetwork + "=vnet"
	case n.Labels[labelAzureNetPlugin] == "azure":
		return "label " + labelAzureNetPlugin + "=azure"
	}
	return ""
}

func (azureCNIModel) clusterSigns(n *cluster.Node, ev *cluster.Evidence) []string {
	if onAzure(n) && (ev.HasDaemonSet("azure-cns") || ev.HasDaemonSet("azure-cni-networkmonitor")) && len(n.PodCIDRs) == 0 {
		return []string{"providerID azure://", "DaemonSet azure-cns", "no podCIDR"}
	}
	return nil
}

func (azureCNIModel) mode(n *cluster.Node, _ *cluster.Evidence) (string, []string) {
	switch n.Labels[labelAzurePodNetwork] {
	case "vnetblock":
		return "vnet-block", nil
	case "vnet":
		return "dynamic-pod-subnet", []string{"pod addresses from a pod subnet, allocated as pods come"}
	}
	return "node-subnet", nil
}

func (azureCNIModel) podCIDRs(*cluster.Node, *cluster.Evidence) ([]netip.Prefix, CIDRSource) {
	return nil, SourceCloudSubnet
}

// addresses: in the node subnet, a node is given max-pods addresses up front, so max-pods binds.
func (azureCNIModel) addresses(*NodeNetwork, *cluster.Evidence) (uint64, bool, string) {
	return 0, false, "Azure CNI: pod addresses from the VNet subnet, max-pods per node taken up front"
}

func (azureCNIModel) limits(nodes []*NodeNetwork, opts LimitOptions) []Limit {
	var sub []*NodeNetwork
	for _, nn := range azureNodes(nodes) {
		if nn.Network.Mode == "node-subnet" {
			sub = append(sub, nn)
		}
	}
	if len(sub) == 0 {
		return nil
	}
	return []Limit{subnetLimit(sub, opts)}
}

// azureOverlayModel is Azure CNI Overlay: a /24 per node from the pod CIDR (spec.podCIDRs),
// routed by Azure without encapsulation.
type azureOverlayModel struct{ azureBase }

func (azureOverlayModel) Name() Name                          { return AzureCNIOverlay }
func (azureOverlayModel) NodeCIDRIPAM(*cluster.Evidence) bool { return true }

func (azureOverlayModel) marks(n *cluster.Node, _ *cluster.Evidence) string {
	if n.Labels[labelAzureOverlay] == "true" || n.Labels[labelAzurePodNetwork] == "overlay" {
		return "label " + labelAzureOverlay + " / podnetwork-type=overlay"
	}
	return ""
}

// podsLocal: Overlay pods take addresses of a private pod CIDR, not of the VNet; Azure routes them
// between the cluster's nodes only and pod traffic leaves the cluster SNATed to the node's address,
// so other clusters may reuse the pod CIDR (Microsoft's Azure CNI Overlay documentation).
func (azureOverlayModel) podsLocal(string) bool { return true }

func (azureOverlayModel) mode(*cluster.Node, *cluster.Evidence) (string, []string) {
	return "overlay", nil
}
