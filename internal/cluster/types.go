// Package cluster reads the network state of a cluster from the API (nodes, pods and the evidence
// left by its network plugin) into plain structs. It reads only: what the evidence means is
// netmodel's, what is shown is report's and render's.
package cluster

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// Pod is one pod reduced to what the network view needs. A whole cluster's pods are held in
// this form only, never as full Pod objects.
type Pod struct {
	Namespace   string
	Name        string
	Node        string
	IPs         []netip.Addr
	HostIPs     []netip.Addr
	HostNetwork bool
	Phase       corev1.PodPhase
}

// HoldsIP reports whether the pod holds an address of the pod network: not host-network, not
// finished (the CNI released a finished pod's address even though its status still shows it).
func (p *Pod) HoldsIP() bool {
	return !p.HostNetwork && len(p.IPs) > 0 && !p.Finished()
}

// Finished reports whether the pod has finished (Succeeded or Failed): it holds no address.
func (p *Pod) Finished() bool {
	return p.Phase == corev1.PodSucceeded || p.Phase == corev1.PodFailed
}

// Node is one node reduced to what the network view needs.
type Node struct {
	Name            string
	Ready           string // Ready, NotReady or Unknown
	Unschedulable   bool
	InternalIPs     []netip.Addr
	ExternalIPs     []netip.Addr
	PodCIDRs        []netip.Prefix
	ProviderID      string
	Labels          map[string]string
	Annotations     map[string]string // only the network plugins' annotations
	NetworkUnavail  *Condition        // the NetworkUnavailable condition, if the node has one
	ReadyCondition  *Condition
	AllocatablePods int64
	Zone            string
	InstanceType    string
	Kernel          string
	Runtime         string
	OSImage         string
	OS              string
	// FromPods is set when the node could not be read and was derived from its pods.
	FromPods bool
}

// Condition is a node condition's status, reason and message.
type Condition struct {
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Inventory is the cluster's network state that every command stands on.
type Inventory struct {
	Nodes    []Node
	Pods     []Pod
	Evidence Evidence
	// Notes say what could not be read and what was done instead; shown on stderr.
	Notes []string
	// PodsNamespace is set when pods could only be listed in one namespace.
	PodsNamespace string
	// PodsUnknown is set when pods could not be listed at all.
	PodsUnknown bool
	// NodesUnknown is set when nodes could not be read: Nodes are then derived from the pods
	// (FromPods), or none when no pod names one.
	NodesUnknown bool
	// ClusterIPs and DNS are set when Options asked for them.
	ClusterIPs *ClusterIPs
	DNS        *ClusterDNS
	Claims     *Claims
}

// Gaps says what the inventory could not read: pods (or pods outside one namespace), nodes, and
// the evidence that exists or may exist but was not readable. Empty when everything was read.
func (inv *Inventory) Gaps() []string {
	var out []string
	switch {
	case inv.PodsUnknown || inv.Pods == nil && inv.PodsNamespace != "":
		out = append(out, "pods")
	case inv.PodsNamespace != "":
		out = append(out, "pods outside namespace "+inv.PodsNamespace)
	}
	for i := range inv.Nodes {
		if inv.Nodes[i].FromPods {
			out = append(out, "nodes")
			break
		}
	}
	return append(out, inv.Evidence.Unknown...)
}
