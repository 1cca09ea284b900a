package cluster

import (
	"context"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Claims are what the IPAM stores say is allocated, address by address, for `ipam check`. They are
// read only when Options.Claims asks: a large Calico or Cilium cluster holds one per pod.
type Claims struct {
	// Addresses are the allocated addresses with who they were allocated for.
	Addresses []AddressClaim `json:"addresses"`
	// Handles are Calico IPAMHandles: the allocation handles and how many addresses each holds.
	Handles []CalicoHandle `json:"handles,omitempty"`
	// Affinities are Calico BlockAffinities: which node a block is claimed for.
	Affinities []CalicoAffinity `json:"affinities,omitempty"`
	// Stores says, per store, whether it was read, is absent, or could not be read.
	Stores []ClaimStore `json:"stores"`
	// Transient counts the stores that could not be read for a passing reason (see Evidence).
	Transient int `json:"-"`
}

// ClaimKind is what an allocated address is for.
type ClaimKind string

// Claim kinds, as the stores name them.
const (
	ClaimPod    ClaimKind = "pod"
	ClaimTunnel ClaimKind = "tunnel" // Calico's IPIP, VXLAN and WireGuard tunnel addresses of a node
	ClaimRouter ClaimKind = "router" // Cilium's cilium_host address
	ClaimHealth ClaimKind = "health" // Cilium's health endpoint
	ClaimOther  ClaimKind = "unattributed"
)

// AddressClaim is one allocated address.
type AddressClaim struct {
	Address netip.Addr `json:"address"`
	// Store is the object that holds the claim: "IPAMBlock 10-244-1-0-26", "CiliumNode node-1".
	Store string    `json:"store"`
	Kind  ClaimKind `json:"kind"`
	// Handle is the allocation handle (Calico) or owner (Cilium) as the store writes it.
	Handle string `json:"handle,omitempty"`
	// Namespace and Pod name the pod the address was claimed for, when the store says.
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	// Node is the node the claim names (the pod's node, or the node a tunnel address is for).
	Node string `json:"node,omitempty"`
	// BlockNode is the node the Calico block is affine to ("" for other stores).
	BlockNode string `json:"blockNode,omitempty"`
	// Secondary marks an address of a secondary network (Whereabouts, under Multus): the pod's
	// status does not list it, so only the pod's existence can be checked.
	Secondary bool `json:"secondary,omitempty"`
	// Since is when the claim was made, where the store records it.
	Since string `json:"since,omitempty"`
}

// CalicoHandle is a Calico IPAMHandle.
type CalicoHandle struct {
	Name   string `json:"name"`
	Handle string `json:"handle"`
	// Blocks maps a block CIDR to the addresses the handle holds there.
	Blocks map[string]int `json:"blocks"`
}

// CalicoAffinity is a Calico BlockAffinity.
type CalicoAffinity struct {
	Name  string       `json:"name"`
	Node  string       `json:"node"`
	CIDR  netip.Prefix `json:"cidr"`
	State string       `json:"state"`
}

// StoreState says whether a claim store could be read.
type StoreState string

// Store states.
const (
	StoreRead       StoreState = "read"
	StoreUnreadable StoreState = "unreadable"
	StoreInvisible  StoreState = "not visible through the API"
	StoreAbsent     StoreState = "absent"
)

// ClaimStore is one store and its state.
type ClaimStore struct {
	Name   string     `json:"name"`
	State  StoreState `json:"state"`
	Reason string     `json:"reason,omitempty"`
	// Objects counts the objects read.
	Objects int `json:"objects"`
	// Secondary marks a store of secondary-network addresses (Whereabouts): not the nodes' pod
	// ranges, so not in their capacity.
	Secondary bool `json:"secondary,omitempty"`
}

var (
	// GVRCalicoHandlesV1 and V3 are Calico's IPAMHandles, GVRCalicoAffinitiesV1 and V3 its BlockAffinities.
	GVRCalicoHandlesV1    = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "ipamhandles"}
	GVRCalicoHandlesV3    = schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "ipamhandles"}
	GVRCalicoAffinitiesV1 = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "blockaffinities"}
	GVRCalicoAffinitiesV3 = schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "blockaffinities"}
	// GVRWhereaboutsPools are Whereabouts' IPPools (secondary networks under Multus).
	GVRWhereaboutsPools = schema.GroupVersionResource{Group: "whereabouts.cni.cncf.io", Version: "v1alpha1", Resource: "ippools"}
)

// unknownVersion says at which versions the server offers a store's resource when it offers none of
// the versions read (a CRD upgraded past what this podnet knows): "" when it offers none at all.
func unknownVersion(ev *Evidence, known ...schema.GroupVersionResource) string {
	var found []string
	for k := range ev.Resources { // "group/version/resource"
		for _, gvr := range known {
			rest, inGroup := strings.CutPrefix(k, gvr.Group+"/")
			version, res, _ := strings.Cut(rest, "/")
			if gv := gvr.Group + "/" + version; inGroup && res == gvr.Resource && !slices.Contains(found, gv) {
				found = append(found, gv)
			}
		}
	}
	slices.Sort(found)
	return strings.Join(found, ", ")
}

// readClaims reads every claim store the server offers. The v3 API (Calico's API server) and the
// v1 CRDs hold the same objects: the first one offered is read.
func (g *gatherer) readClaims(ctx context.Context, ev *Evidence) *Claims {
	c := &Claims{Addresses: []AddressClaim{}, Stores: []ClaimStore{}}
	pick := func(store string, gvrs ...schema.GroupVersionResource) (schema.GroupVersionResource, bool) {
		for _, gvr := range gvrs {
			if ev.Resources[gvrKey(gvr)] {
				return gvr, true
			}
		}
		if v := unknownVersion(ev, gvrs...); v != "" {
			// what it holds cannot be read, so it proves nothing either way
			c.Stores = append(c.Stores, ClaimStore{Name: store, State: StoreUnreadable,
				Reason: "served only as " + v + ", a version this kubectl-podnet does not read: upgrade it"})
		}
		return schema.GroupVersionResource{}, false
	}
	list := func(store string, gvr schema.GroupVersionResource, each func(*unstructured.Unstructured) error) {
		l, err := g.listIPAM(ctx, gvr)
		if err != nil {
			c.Stores = append(c.Stores, ClaimStore{Name: store, State: StoreUnreadable, Reason: c.failed(err)})
			return
		}
		var bad []string
		for i := range l.Items {
			if err := each(&l.Items[i]); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", l.Items[i].GetName(), err))
			}
		}
		if len(bad) > 0 {
			// a store with objects it cannot make sense of proves nothing about what it lacks
			c.Stores = append(c.Stores, ClaimStore{Name: store, State: StoreUnreadable, Objects: len(l.Items), Reason: "malformed: " + strings.Join(bad, "; ")})
			return
		}
		c.Stores = append(c.Stores, ClaimStore{Name: store, State: StoreRead, Objects: len(l.Items)})
	}
	if gvr, ok := pick("Calico IPAMBlocks", GVRCalicoBlocksV3, GVRCalicoBlocksV1); ok {
		list("Calico IPAMBlocks ("+gvr.Group+"/"+gvr.Version+")", gvr, func(it *unstructured.Unstructured) error {
			claims, err := blockClaims(it)
			c.Addresses = append(c.Addresses, claims...)
			return err
		})
	}
	if _, ok := pick("CiliumNodes", GVRCiliumNodes); ok {
		list("CiliumNodes (cilium.io/v2)", GVRCiliumNodes, func(it *unstructured.Unstructured) error {
			claims, err := ciliumClaims(it)
			c.Addresses = append(c.Addresses, claims...)
			return err
		})
	}
	if g.opts.Claims != ClaimsAll {
		return c // cidr-usage: only the claims on the nodes' pod ranges
	}
	if gvr, ok := pick("Calico IPAMHandles", GVRCalicoHandlesV3, GVRCalicoHandlesV1); ok {
		list("Calico IPAMHandles ("+gvr.Group+"/"+gvr.Version+")", gvr, func(it *unstructured.Unstructured) error {
			h := CalicoHandle{Name: it.GetName(), Blocks: map[string]int{}}
			h.Handle, _, _ = unstructured.NestedString(it.Object, "spec", "handleID")
			blocks, _, _ := unstructured.NestedMap(it.Object, "spec", "block")
			for cidr, n := range blocks {
				h.Blocks[cidr] = toInt(n)
			}
			if h.Handle == "" {
				return fmt.Errorf("no spec.handleID")
			}
			c.Handles = append(c.Handles, h)
			return nil
		})
	}
	if gvr, ok := pick("Calico BlockAffinities", GVRCalicoAffinitiesV3, GVRCalicoAffinitiesV1); ok {
		list("Calico BlockAffinities ("+gvr.Group+"/"+gvr.Version+")", gvr, func(it *unstructured.Unstructured) error {
			a := CalicoAffinity{Name: it.GetName()}
			a.Node, _, _ = unstructured.NestedString(it.Object, "spec", "node")
			a.State, _, _ = unstructured.NestedString(it.Object, "spec", "state")
			cidr, _, _ := unstructured.NestedString(it.Object, "spec", "cidr")
			p, err := netip.ParsePrefix(cidr)
			if err != nil || a.Node == "" {
				return fmt.Errorf("spec.cidr %q, spec.node %q", cidr, a.Node)
			}
			a.CIDR = p.Masked()
			c.Affinities = append(c.Affinities, a)
			return nil
		})
	}
	if _, ok := pick("Whereabouts IPPools", GVRWhereaboutsPools); ok {
		list("Whereabouts IPPools (whereabouts.cni.cncf.io/v1alpha1)", GVRWhereaboutsPools, func(it *unstructured.Unstructured) error {
			claims, err := whereaboutsClaims(it)
			c.Addresses = append(c.Addresses, claims...)
			return err
		})
		c.Stores[len(c.Stores)-1].Secondary = true
	}
	return c
}

// blockClaims are the allocations of one Calico IPAMBlock: spec.allocations[i] is the index of the
// attribute of the block's i-th address (null when free); the attribute's handle_id and secondary
// (namespace, pod, node, type, timestamp) say whom it was allocated for.
func blockClaims(it *unstructured.Unstructured) ([]AddressClaim, error) {
	cidr, _, _ := unstructured.NestedString(it.Object, "spec", "cidr")
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("spec.cidr %q is not a CIDR", cidr)
	}
	p = p.Masked()
	aff, _, _ := unstructured.NestedString(it.Object, "spec", "affinity")
	blockNode, _ := strings.CutPrefix(aff, "host:")
	if blockNode == aff {
		blockNode = ""
	}
	attrs, _, err := unstructured.NestedSlice(it.Object, "spec", "attributes")
	if err != nil {
		return nil, fmt.Errorf("spec.attributes: %v", err)
	}
	allocs, _, err := unstructured.NestedSlice(it.Object, "spec", "allocations")
	if err != nil {
		return nil, fmt.Errorf("spec.allocations: %v", err)
	}
	if size := 1 << (p.Addr().BitLen() - p.Bits()); p.Bits() < p.Addr().BitLen()-20 || len(allocs) > size {
		return nil, fmt.Errorf("%d allocations for a /%d block", len(allocs), p.Bits())
	}
	var out []AddressClaim
	addr := p.Addr()
	for i, a := range allocs {
		if i > 0 {
			addr = addr.Next()
		}
		if a == nil {
			continue
		}
		ai := toInt(a)
		if ai < 0 || ai >= len(attrs) {
			return out, fmt.Errorf("allocation %d points at attribute %d of %d", i, ai, len(attrs))
		}
		am, _ := attrs[ai].(map[string]any)
		sec, _ := am["secondary"].(map[string]any)
		str := func(k string) string { s, _ := sec[k].(string); return s }
		cl := AddressClaim{Address: addr, Store: "IPAMBlock " + it.GetName(), Handle: fmt.Sprint(am["handle_id"]), BlockNode: blockNode,
			Namespace: str("namespace"), Pod: str("pod"), Node: str("node"), Since: str("timestamp"), Kind: ClaimOther}
		if am["handle_id"] == nil {
			cl.Handle = ""
		}
		switch {
		case cl.Pod != "" && cl.Namespace != "":
			cl.Kind = ClaimPod
		case strings.HasSuffix(str("type"), "TunnelAddress"):
			cl.Kind = ClaimTunnel
		}
		out = append(out, cl)
	}
	return out, nil
}

// whereaboutsClaims are a Whereabouts IPPool's spec.allocations: the key is the decimal offset of
// the address from the range's address as written, the value names the container, the pod
// ("namespace/name") and, for persistent addresses, the IPAMClaim that owns it beyond any pod.
func whereaboutsClaims(it *unstructured.Unstructured) ([]AddressClaim, error) {
	rng, _, _ := unstructured.NestedString(it.Object, "spec", "range")
	p, err := netip.ParsePrefix(rng)
	if err != nil {
		return nil, fmt.Errorf("spec.range %q is not a CIDR", rng)
	}
	allocs, _, err := unstructured.NestedMap(it.Object, "spec", "allocations")
	if err != nil {
		return nil, fmt.Errorf("spec.allocations: %v", err)
	}
	store := "Whereabouts IPPool " + it.GetNamespace() + "/" + it.GetName()
	var out []AddressClaim
	for off, v := range allocs {
		n, ok := new(big.Int).SetString(off, 10)
		if !ok || n.Sign() < 0 {
			return out, fmt.Errorf("spec.allocations key %q is not an offset", off)
		}
		a, ok := addOffset(p.Addr(), n)
		if !ok || !p.Contains(a) {
			return out, fmt.Errorf("spec.allocations offset %s is outside %s", off, p)
		}
		m, _ := v.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		cl := AddressClaim{Address: a, Store: store, Handle: str("id"), Kind: ClaimOther, Secondary: true}
		if ns, pod, ok := strings.Cut(str("podref"), "/"); ok && ns != "" && pod != "" && str("ipamclaimref") == "" {
			cl.Kind, cl.Namespace, cl.Pod = ClaimPod, ns, pod
		}
		out = append(out, cl)
	}
	slices.SortFunc(out, func(a, b AddressClaim) int { return a.Address.Compare(b.Address) })
	return out, nil
}

// addOffset is a + n, false past the end of the family.
func addOffset(a netip.Addr, n *big.Int) (netip.Addr, bool) {
	b := a.AsSlice()
	sum := new(big.Int).Add(new(big.Int).SetBytes(b), n)
	if sum.BitLen() > len(b)*8 {
		return netip.Addr{}, false
	}
	sum.FillBytes(b)
	out, _ := netip.AddrFromSlice(b)
	return out, true
}

// ciliumClaims are a CiliumNode's status.ipam.used: address -> {owner: "namespace/pod" or
// "router" / "health", resource}.
func ciliumClaims(it *unstructured.Unstructured) ([]AddressClaim, error) {
	used, _, err := unstructured.NestedMap(it.Object, "status", "ipam", "used")
	if err != nil {
		return nil, fmt.Errorf("status.ipam.used: %v", err)
	}
	var out []AddressClaim
	for ip, v := range used {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return out, fmt.Errorf("status.ipam.used key %q is not an address", ip)
		}
		m, _ := v.(map[string]any)
		owner, _ := m["owner"].(string)
		cl := AddressClaim{Address: a, Store: "CiliumNode " + it.GetName(), Handle: owner, Node: it.GetName(), Kind: ClaimOther}
		// the agent marks what it restored after a restart: "shop/web-1 [restored]"
		owner, _, _ = strings.Cut(owner, " ")
		switch ns, pod, ok := strings.Cut(owner, "/"); {
		case owner == "router":
			cl.Kind = ClaimRouter
		case owner == "health":
			cl.Kind = ClaimHealth
		case ok && ns != "" && pod != "":
			cl.Kind, cl.Namespace, cl.Pod = ClaimPod, ns, pod
		}
		out = append(out, cl)
	}
	return out, nil
}
