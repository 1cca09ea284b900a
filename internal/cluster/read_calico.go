package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// readCalico reads Calico's pools, blocks and IPAMConfig from the first API that serves each:
// crd.projectcalico.org/v1 (the CRDs) and projectcalico.org/v3 (Calico's API server, when it runs)
// hold the same objects, and read twice every pool would be counted twice. The next API is read
// only when the first one's read fails.
func (g *gatherer) readCalico(ctx context.Context, ev *Evidence) {
	first := func(read func(schema.GroupVersionResource) bool, gvrs ...schema.GroupVersionResource) {
		for _, gvr := range gvrs {
			if ev.Resources[gvrKey(gvr)] && read(gvr) {
				return
			}
		}
	}
	first(func(gvr schema.GroupVersionResource) bool { return g.readCalicoPools(ctx, ev, gvr) }, GVRCalicoPoolsV1, GVRCalicoPoolsV3)
	first(func(gvr schema.GroupVersionResource) bool { return g.readCalicoBlocks(ctx, ev, gvr) }, GVRCalicoBlocksV1, GVRCalicoBlocksV3)
	first(func(gvr schema.GroupVersionResource) bool { return g.readCalicoIPAMConfig(ctx, ev, gvr) }, GVRCalicoIPAMConfigV1, GVRCalicoIPAMConfigV3)
}

func (g *gatherer) readCalicoIPAMConfig(ctx context.Context, ev *Evidence, gvr schema.GroupVersionResource) bool {
	list, err := g.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		ev.Unknown = append(ev.Unknown, fmt.Sprintf("Calico IPAMConfig (%s): %s", gvr.Group, ev.failed(err)))
		return false
	}
	for _, it := range list.Items {
		v, _, _ := unstructured.NestedFieldNoCopy(it.Object, "spec", "maxBlocksPerHost")
		if n := toInt(v); n > 0 {
			ev.MaxBlocksPerHost = n
		}
	}
	return true
}

func (g *gatherer) readCalicoPools(ctx context.Context, ev *Evidence, gvr schema.GroupVersionResource) bool {
	list, err := g.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		ev.Unknown = append(ev.Unknown, fmt.Sprintf("Calico IPPools (%s/%s): %s", gvr.Group, gvr.Version, ev.failed(err)))
		return false
	}
	for _, it := range list.Items {
		p := CalicoPool{Name: it.GetName(), APIGroup: gvr.Group}
		p.CIDR, _, _ = unstructured.NestedString(it.Object, "spec", "cidr")
		bs, found, _ := unstructured.NestedFieldNoCopy(it.Object, "spec", "blockSize")
		p.BlockSize = toInt(bs)
		if !found || p.BlockSize == 0 {
			p.BlockSize = 26
			if strings.Contains(p.CIDR, ":") {
				p.BlockSize = 122
			}
		}
		p.IPIPMode, _, _ = unstructured.NestedString(it.Object, "spec", "ipipMode")
		p.VXLANMode, _, _ = unstructured.NestedString(it.Object, "spec", "vxlanMode")
		p.NATOutgoing, _, _ = unstructured.NestedBool(it.Object, "spec", "natOutgoing")
		p.Disabled, _, _ = unstructured.NestedBool(it.Object, "spec", "disabled")
		p.NodeSelector, _, _ = unstructured.NestedString(it.Object, "spec", "nodeSelector")
		if p.IPIPMode == "" {
			p.IPIPMode = "Never"
		}
		if p.VXLANMode == "" {
			p.VXLANMode = "Never"
		}
		ev.CalicoPools = append(ev.CalicoPools, p)
	}
	return true
}

func (g *gatherer) readCalicoBlocks(ctx context.Context, ev *Evidence, gvr schema.GroupVersionResource) bool {
	list, err := g.listIPAM(ctx, gvr)
	if err != nil {
		ev.Unknown = append(ev.Unknown, fmt.Sprintf("Calico IPAMBlocks (%s/%s): %s", gvr.Group, gvr.Version, ev.failed(err)))
		return false
	}
	seen := map[string]bool{}
	for _, b := range ev.CalicoBlocks {
		seen[b.CIDR.String()] = true
	}
	for _, it := range list.Items {
		b, ok := parseCalicoBlock(&it, gvr.Group)
		if ok && !seen[b.CIDR.String()] {
			ev.CalicoBlocks = append(ev.CalicoBlocks, b)
		}
	}
	return true
}

func parseCalicoBlock(it *unstructured.Unstructured, group string) (CalicoBlock, bool) {
	b := CalicoBlock{Name: it.GetName(), APIGroup: group}
	cidr, _, _ := unstructured.NestedString(it.Object, "spec", "cidr")
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return b, false
	}
	b.CIDR = p.Masked()
	aff, _, _ := unstructured.NestedString(it.Object, "spec", "affinity")
	b.Node = strings.TrimPrefix(aff, "host:")
	if b.Node == aff {
		b.Node = ""
	}
	attrs, _, _ := unstructured.NestedSlice(it.Object, "spec", "attributes")
	allocs, _, _ := unstructured.NestedSlice(it.Object, "spec", "allocations")
	for _, a := range allocs {
		if a == nil {
			continue
		}
		b.Allocated++
		i := toInt(a)
		if i < 0 || i >= len(attrs) {
			continue
		}
		am, _ := attrs[i].(map[string]any)
		sec, _ := am["secondary"].(map[string]any)
		if n, _ := sec["node"].(string); n != "" && b.Node != "" && n != b.Node {
			b.Borrowed++
			if b.BorrowedBy == nil {
				b.BorrowedBy = map[string]int{}
			}
			b.BorrowedBy[n]++
		}
	}
	return b, true
}
