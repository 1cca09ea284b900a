package netmodel

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// The aws-node settings that change how many addresses a node gets.
const (
	envPrefixDelegation = "ENABLE_PREFIX_DELEGATION"
	envCustomNetworking = "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"
)

// awsModel is the AWS VPC CNI: pods get VPC addresses (secondary IPs of the node's ENIs, or /28
// prefixes with prefix delegation), routed veths (eni*) with proxy ARP, the VPC routes.
type awsModel struct{ base }

func (awsModel) Name() Name                              { return AWSVPCCNI }
func (awsModel) Agent() string                           { return "aws-node" }
func (awsModel) Datapath(string, *cluster.Node) Datapath { return DatapathCloudNetwork }
func (awsModel) Gateway(_ *cluster.Node, _ *cluster.Evidence, v4 bool) string {
	return proxyARPGateway(v4)
}

// PodDevice: the AWS VPC CNI names the host veth as Calico does, with "eni".
func (awsModel) PodDevice(ns, name string) string { return hashedDevice("eni", ns, name) }

func (awsModel) Policy(*cluster.Evidence) Enforcement {
	return Enforcement{State: EnforcedMaybe, Reason: "the AWS VPC CNI enforces policies only with its network policy agent enabled"}
}

func (awsModel) clusterSigns(n *cluster.Node, ev *cluster.Evidence) []string {
	if !ev.HasDaemonSet("aws-node") {
		return nil
	}
	e := []string{"DaemonSet aws-node"}
	if strings.HasPrefix(n.ProviderID, "aws://") {
		e = append(e, "providerID aws://")
	}
	return e
}

func (awsModel) mode(_ *cluster.Node, ev *cluster.Evidence) (string, []string) {
	var why []string
	if pd, custom := awsSettings(ev); pd || custom {
		if pd {
			why = append(why, "aws-node "+envPrefixDelegation+"=true")
		}
		if custom {
			why = append(why, "aws-node "+envCustomNetworking+"=true (ENIConfig: pods use secondary ENIs only)")
		}
	}
	return "native", why
}

func (awsModel) podCIDRs(*cluster.Node, *cluster.Evidence) ([]netip.Prefix, CIDRSource) {
	return nil, SourceCloudSubnet
}

func (awsModel) addresses(nn *NodeNetwork, ev *cluster.Evidence) (uint64, bool, string) {
	pd, custom := awsSettings(ev)
	return eniAddresses(nn.node, pd, custom)
}

func (awsModel) limits(nodes []*NodeNetwork, _ LimitOptions) []Limit {
	return perInstanceType(nodes, eniLimitSource)
}

func awsSettings(ev *cluster.Evidence) (prefixDelegation, customNetworking bool) {
	ds := ev.DaemonSet("aws-node")
	if ds == nil {
		return false, false
	}
	return strings.EqualFold(ds.Env[envPrefixDelegation], "true"), strings.EqualFold(ds.Env[envCustomNetworking], "true")
}

// eniAddresses are the pod addresses a node's ENIs hold: ENIs x (IPv4 per ENI - 1) (the primary
// address of each ENI is the ENI's own); with custom networking the primary ENI holds none; with
// prefix delegation, on Nitro instances, each secondary slot is a /28 of 16 addresses (other
// instances fall back to secondary IPs).
func eniAddresses(n *cluster.Node, prefixDelegation, customNetworking bool) (uint64, bool, string) {
	l, ok := EC2(n.InstanceType)
	if !ok {
		return 0, false, fmt.Sprintf("instance type %q is not in the EC2 table (%s): only max-pods is known", n.InstanceType, EC2Source)
	}
	enis := l.ENIs
	src := fmt.Sprintf("%s: %d ENIs x (%d IPv4 per ENI - 1)", n.InstanceType, l.ENIs, l.IPv4PerENI)
	if customNetworking {
		enis--
		src = fmt.Sprintf("%s: (%d ENIs - 1 primary, custom networking) x (%d IPv4 per ENI - 1)", n.InstanceType, l.ENIs, l.IPv4PerENI)
	}
	per := uint64(max(enis, 0)) * uint64(l.IPv4PerENI-1)
	switch {
	case prefixDelegation && l.Nitro:
		per *= awsPrefixSize
		src += " x 16 (prefix delegation: a /28 per slot)"
	case prefixDelegation:
		src += " (prefix delegation is on, but not on this non-Nitro instance: secondary IPs)"
	}
	return per, true, src + " (" + EC2Source + ")"
}

func eniLimitSource(itype string, nodes []*NodeNetwork) string {
	if nodes[0].Capacity == nil {
		return "AWS VPC CNI on " + itype
	}
	return "AWS VPC CNI: pod addresses per node = " + nodes[0].Capacity.AddressSource + ", or max pods less host-network pods where lower"
}
