package netmodel

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// SourcedCIDR is a CIDR and where it was read (or how it was inferred).
type SourcedCIDR struct {
	CIDR   string `json:"cidr"`
	Source string `json:"source"`
	// Pool is set for an IPAM pool handed out in blocks (a Calico IPPool), not carved into one
	// node CIDR per node.
	Pool bool `json:"-"`
	// NodeMask is the node CIDR size the model's configuration carves the range into (0: unknown).
	NodeMask int `json:"-"`
	// Inferred is set when the range is only the covering prefix of the node CIDRs.
	Inferred bool `json:"-"`
}

// ClusterPodCIDRs gives the cluster's pod CIDR(s) from the first sources that say, each CIDR with
// where it was read: the models' own configuration (Calico IPPools, Cilium's cluster pool), else
// kubeadm-config, kube-proxy and Flannel's config; failing all, the covering prefix of the node
// CIDRs as their models resolved them (v, nil for none), marked as inferred.
func ClusterPodCIDRs(ev *cluster.Evidence, v *View) []SourcedCIDR {
	var out []SourcedCIDR
	add := func(r SourcedCIDR) {
		r.CIDR = strings.TrimSpace(r.CIDR)
		if r.CIDR == "" {
			return
		}
		for i := range out {
			if out[i].CIDR == r.CIDR {
				out[i].Source += ", " + r.Source
				return
			}
		}
		out = append(out, r)
	}
	addList := func(cidrs, source string) {
		for _, c := range strings.Split(cidrs, ",") {
			add(SourcedCIDR{CIDR: c, Source: source})
		}
	}
	for _, m := range models {
		for _, r := range m.clusterRanges(ev) {
			add(r)
		}
	}
	if len(out) == 0 {
		if ev.Kubeadm != nil {
			addList(ev.Kubeadm.PodSubnet, "kubeadm-config")
		}
		if ev.KubeProxy != nil {
			addList(ev.KubeProxy.ClusterCIDR, "kube-proxy clusterCIDR")
		}
		if ev.Flannel != nil {
			addList(ev.Flannel.Network, "kube-flannel-cfg")
			addList(ev.Flannel.IPv6Network, "kube-flannel-cfg")
		}
	}
	if len(out) == 0 {
		var cidrs []netip.Prefix
		if v != nil {
			for _, nn := range v.Nodes {
				if nn.Source != SourceCalicoBlocks { // a block is no node CIDR of the cluster CIDR
					cidrs = append(cidrs, nn.PodCIDRs...)
				}
			}
		}
		for _, p := range CoveringPrefixes(cidrs) {
			add(SourcedCIDR{CIDR: p.String(), Source: "covering prefix of node pod CIDRs (inferred)", Inferred: true})
		}
	}
	return out
}

// ServiceCIDRs gives the service CIDR(s): ServiceCIDR objects, else kubeadm-config, else
// inferred from the kubernetes Service's ClusterIP.
func ServiceCIDRs(ev *cluster.Evidence) []SourcedCIDR {
	var out []SourcedCIDR
	seen := map[string]bool{}
	for _, s := range ev.ServiceCIDRs {
		for _, c := range s.CIDRs {
			// ServiceCIDRs may repeat a range (one added beside the default to migrate): it is one range
			key := c
			if p, err := netip.ParsePrefix(c); err == nil {
				key = p.Masked().String()
			}
			if !seen[key] {
				seen[key] = true
				out = append(out, SourcedCIDR{CIDR: c, Source: "ServiceCIDR " + s.Name})
			}
		}
	}
	if len(out) == 0 && ev.Kubeadm != nil && ev.Kubeadm.ServiceSubnet != "" {
		for _, c := range strings.Split(ev.Kubeadm.ServiceSubnet, ",") {
			out = append(out, SourcedCIDR{CIDR: c, Source: "kubeadm-config"})
		}
	}
	if len(out) == 0 && ev.KubernetesServiceIP.IsValid() {
		out = append(out, SourcedCIDR{CIDR: ev.KubernetesServiceIP.String(), Source: "kubernetes Service ClusterIP (range unknown, inferred)", Inferred: true})
	}
	return out
}

// AddressRanges are the ranges addresses fall in, as far as the addresses tell: the smallest prefix
// covering the addresses of each /16 (IPv4) or /64 (IPv6) they share, IPv4 first, in address
// order. One prefix over all of them would claim everything between: nodes at 10.0.1.5 and
// 10.200.0.5 are not a 10.0.0.0/8.
func AddressRanges(addrs []netip.Addr) []netip.Prefix {
	groups := map[netip.Prefix][]netip.Prefix{}
	var keys []netip.Prefix
	for _, a := range addrs {
		if !a.IsValid() {
			continue
		}
		a = a.Unmap()
		bits := 16
		if a.Is6() {
			bits = 64
		}
		k, _ := a.Prefix(bits)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], netip.PrefixFrom(a, a.BitLen()))
	}
	slices.SortFunc(keys, func(x, y netip.Prefix) int {
		if x.Addr().Is4() != y.Addr().Is4() {
			if x.Addr().Is4() {
				return -1
			}
			return 1
		}
		return x.Addr().Compare(y.Addr())
	})
	out := make([]netip.Prefix, 0, len(keys))
	for _, k := range keys {
		out = append(out, CoveringPrefixes(groups[k])...)
	}
	return out
}

// CoveringPrefixes returns, per address family, the smallest prefix that contains every prefix given.
func CoveringPrefixes(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, v4 := range []bool{true, false} {
		var cover netip.Prefix
		for _, p := range ps {
			if p.Addr().Is4() != v4 {
				continue
			}
			p = p.Masked()
			if !cover.IsValid() {
				cover = p
				continue
			}
			bits := min(cover.Bits(), p.Bits())
			for bits > 0 {
				a, _ := cover.Addr().Prefix(bits)
				b, _ := p.Addr().Prefix(bits)
				if a == b {
					break
				}
				bits--
			}
			cover, _ = cover.Addr().Prefix(bits)
		}
		if cover.IsValid() {
			out = append(out, cover)
		}
	}
	return out
}
