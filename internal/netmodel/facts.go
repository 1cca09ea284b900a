package netmodel

// Platform figures beside the generated EC2 table, each with its source (checked 2026-12).
const (
	// aksRouteLimit: an Azure route table holds at most 400 routes, so an AKS kubenet cluster
	// (one user-defined route per node CIDR) has at most 400 nodes.
	aksRouteLimit   = 400
	sourceAKSRoutes = "AKS kubenet: one user-defined route per node pod CIDR, at most 400 routes per route table, so at most 400 nodes"
	// azureSubnetReserve: Azure reserves 5 addresses of every subnet.
	azureSubnetReserve    = 5
	sourceAzureNodeSubnet = "AKS Azure CNI (node subnet): every node takes max-pods + 1 subnet addresses up front; Azure reserves 5 per subnet"
	// Kubernetes scalability thresholds.
	upstreamNodes       = 5000
	upstreamPods        = 150000
	sourceUpstreamNodes = "Kubernetes scalability thresholds: clusters are designed for at most 5,000 nodes"
	sourceUpstreamPods  = "Kubernetes scalability thresholds: at most 150,000 pods"
	// awsPrefixSize: with prefix delegation every secondary slot of an ENI is a /28.
	awsPrefixSize = 16
)

// GKENodeBlock is GKE's rule for the node block size: at least twice max pods (110 -> /24,
// 64 -> /25, 32 -> /26, 16 -> /27, 8 -> /28).
const GKENodeBlock = "GKE: the node block holds at least 2 x max pods (110 -> /24, 64 -> /25, 32 -> /26, 16 -> /27, 8 -> /28)"

// EC2 is the EC2 instance type's limits, false when the table does not have it.
func EC2(instanceType string) (EC2Limit, bool) {
	l, ok := ec2Limits[instanceType]
	return l, ok
}
