package cluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCiliumConfig(t *testing.T) {
	tests := []struct {
		name string
		data map[string]string
		want *CiliumConfig
	}{
		{"defaults", map[string]string{}, &CiliumConfig{IPAM: "cluster-pool", RoutingMode: "tunnel", TunnelProtocol: "vxlan"}},
		{"legacy tunnel key", map[string]string{"tunnel": "geneve"}, &CiliumConfig{IPAM: "cluster-pool", RoutingMode: "tunnel", TunnelProtocol: "geneve"}},
		{"legacy disabled", map[string]string{"tunnel": "disabled", "ipam": "kubernetes"}, &CiliumConfig{IPAM: "kubernetes", RoutingMode: "native"}},
		{"pools", map[string]string{"cluster-pool-ipv4-cidr": "10.0.0.0/8 10.200.0.0/16", "cluster-pool-ipv6-cidr": "fd00::/104", "cluster-pool-ipv4-mask-size": "25", "enable-wireguard": "true"},
			&CiliumConfig{IPAM: "cluster-pool", RoutingMode: "tunnel", TunnelProtocol: "vxlan", ClusterPoolCIDRs: []string{"10.0.0.0/8", "10.200.0.0/16", "fd00::/104"}, ClusterPoolMaskSize: 25, WireGuard: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseCiliumConfig(tt.data)); diff != "" {
				t.Errorf("parseCiliumConfig() (-want +got):\n%s", diff)
			}
		})
	}
}
