package cluster

import (
	"fmt"
	"slices"
	"strings"
)

// PodKey names a pod: its namespace and name.
type PodKey struct{ Namespace, Name string }

// Key is the pod's PodKey.
func (p *Pod) Key() PodKey { return PodKey{p.Namespace, p.Name} }

// PodIndex maps each pod's key to the pod of that name; where a name repeats (a finished pod and
// its successor), the live one. Its keys share the pods' strings: an index of every pod of a large
// cluster, built at each of the exporter's computations, allocates no string.
func (inv *Inventory) PodIndex() map[PodKey]*Pod {
	pods := make(map[PodKey]*Pod, len(inv.Pods))
	for i := range inv.Pods {
		p := &inv.Pods[i]
		key := p.Key()
		if prev, ok := pods[key]; ok && !prev.Finished() {
			continue
		}
		pods[key] = p
	}
	return pods
}

// LeakReason says why a claim for a pod is leaked: its pod is gone, has finished, or holds another
// address. It is "" when the pod holds the address, when the pod is still getting it (allocated,
// not yet in its status), and for claims that are not for a pod: only what the stores name and the
// pods disprove is a leak. pods is the inventory's PodIndex, of every namespace.
func (cl *AddressClaim) LeakReason(pods map[PodKey]*Pod) string {
	if cl.Kind != ClaimPod {
		return ""
	}
	key := cl.Namespace + "/" + cl.Pod
	p := pods[PodKey{cl.Namespace, cl.Pod}]
	switch {
	case p != nil && !p.Finished() && (cl.Secondary || slices.Contains(p.IPs, cl.Address)):
		return "" // a secondary network's address is not in the pod's status: its pod lives, that is all one can tell
	case p != nil && !p.Finished() && len(p.IPs) == 0:
		return "" // in flight
	case p == nil:
		return fmt.Sprintf("pod %s no longer exists", key)
	case p.Finished():
		return fmt.Sprintf("pod %s has finished (%s): its address should have been released", key, p.Phase)
	}
	var held []string
	for _, a := range p.IPs {
		held = append(held, a.String())
	}
	return fmt.Sprintf("pod %s holds %s now, not this address (an earlier pod of that name)", key, strings.Join(held, ","))
}

// AddressNode is the node whose pod addresses the claim takes: the node a Calico block is affine
// to, the CiliumNode's node.
func (cl *AddressClaim) AddressNode() string {
	if cl.BlockNode != "" {
		return cl.BlockNode
	}
	return cl.Node
}

// LeakedByNode counts, per node, the pod claims of the stores that were read which no live pod
// holds (LeakReason). Nothing is counted when pods were not listed in every namespace.
func (inv *Inventory) LeakedByNode() map[string]int {
	if inv.Claims == nil || len(inv.Claims.Addresses) == 0 || inv.PodsUnknown || inv.PodsNamespace != "" {
		return nil // no store claims anything (host-local clusters): no index of every pod to build
	}
	pods := inv.PodIndex()
	out := map[string]int{}
	for i := range inv.Claims.Addresses {
		cl := &inv.Claims.Addresses[i]
		if cl.LeakReason(pods) != "" {
			out[cl.AddressNode()]++
		}
	}
	return out
}
