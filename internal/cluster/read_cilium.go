package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func parseCiliumConfig(d map[string]string) *CiliumConfig {
	c := &CiliumConfig{IPAM: d["ipam"], RoutingMode: d["routing-mode"], TunnelProtocol: d["tunnel-protocol"],
		KubeProxyReplacement: d["kube-proxy-replacement"], WireGuard: d["enable-wireguard"] == "true"}
	if c.IPAM == "" {
		c.IPAM = "cluster-pool"
	}
	// Before Cilium 1.14 one key said both: tunnel: vxlan|geneve|disabled.
	if t, ok := d["tunnel"]; ok && c.RoutingMode == "" {
		if t == "disabled" {
			c.RoutingMode = "native"
		} else {
			c.RoutingMode, c.TunnelProtocol = "tunnel", t
		}
	}
	if c.RoutingMode == "" {
		c.RoutingMode = "tunnel"
	}
	if c.RoutingMode == "tunnel" && c.TunnelProtocol == "" {
		c.TunnelProtocol = "vxlan"
	}
	for _, f := range strings.FieldsFunc(d["cluster-pool-ipv4-cidr"]+" "+d["cluster-pool-ipv6-cidr"], func(r rune) bool { return r == ' ' || r == ',' }) {
		c.ClusterPoolCIDRs = append(c.ClusterPoolCIDRs, f)
	}
	c.ClusterPoolMaskSize, _ = strconv.Atoi(d["cluster-pool-ipv4-mask-size"])
	return c
}

func (g *gatherer) readCiliumNodes(ctx context.Context, ev *Evidence) {
	list, err := g.listIPAM(ctx, GVRCiliumNodes)
	if err != nil {
		ev.Unknown = append(ev.Unknown, "CiliumNodes: "+ev.failed(err))
		return
	}
	for _, it := range list.Items {
		addCiliumNode(ev, it.Object)
	}
}

func addCiliumNode(ev *Evidence, obj map[string]any) {
	it := &unstructured.Unstructured{Object: obj}
	cn := &CiliumNode{Name: it.GetName()}
	cidrs, _, _ := unstructured.NestedStringSlice(it.Object, "spec", "ipam", "podCIDRs")
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			cn.PodCIDRs = append(cn.PodCIDRs, p.Masked())
		}
	}
	addrs, _, _ := unstructured.NestedSlice(it.Object, "spec", "addresses")
	for _, a := range addrs {
		am, _ := a.(map[string]any)
		ip, err := netip.ParseAddr(fmt.Sprint(am["ip"]))
		if err != nil {
			continue
		}
		switch am["type"] {
		case "CiliumInternalIP":
			cn.CiliumInternalIP = append(cn.CiliumInternalIP, ip)
		case "InternalIP":
			cn.InternalIPs = append(cn.InternalIPs, ip)
		}
	}
	// multi-pool IPAM: spec.ipam.pools.allocated[].cidrs, per pool
	pools, _, _ := unstructured.NestedSlice(it.Object, "spec", "ipam", "pools", "allocated")
	for _, pl := range pools {
		pm, _ := pl.(map[string]any)
		cs, _ := pm["cidrs"].([]any)
		for _, c := range cs {
			if p, err := netip.ParsePrefix(fmt.Sprint(c)); err == nil {
				cn.PoolCIDRs = append(cn.PoolCIDRs, p.Masked())
			}
		}
	}
	for _, k := range []string{"ipv4", "ipv6"} {
		if s, ok, _ := unstructured.NestedString(it.Object, "spec", "health", k); ok {
			if ip, err := netip.ParseAddr(s); err == nil {
				cn.HealthIPs = append(cn.HealthIPs, ip)
			}
		}
	}
	used, _, _ := unstructured.NestedMap(it.Object, "status", "ipam", "used")
	cn.Used = len(used)
	ev.CiliumNodes[cn.Name] = cn
}
