package render

import (
	"strings"
	"testing"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
	"github.com/podnet/kubectl-podnet/internal/report"
)

func usageForMetrics() *report.CIDRUsage {
	return &report.CIDRUsage{
		Nodes: []report.NodeUsage{
			{Name: "node-a", Usable: 254, Used: 30, Leaked: 2, MaxPods: 110, Capacity: 108, Binding: netmodel.BindMaxPods, Utilisation: 30.0 / 108},
			{Name: `node-"b"`, MaxPods: 110, Binding: netmodel.BindNoPodCIDR, Utilisation: 1},
		},
		Ranges:     []report.RangeUsage{{CIDR: "10.244.0.0/16", NodeMask: 24, Slots: 256, Allocated: 1, Free: 255, Utilisation: 1.0 / 256}, {CIDR: "10.0.0.0/8", NodeMask: 24, Slots: 65536, Inferred: true}},
		Pools:      []report.PoolUsage{{Name: "default-ipv4-ippool", CIDR: "192.168.0.0/16", BlockSize: 26, Addresses: 65536, Allocated: 18, Blocks: 4, MaxBlocks: 1024, Utilisation: 4.0 / 1024}},
		Services:   []report.ServiceUsage{{CIDR: "10.96.0.0/12", Usable: 1048574, Allocated: 2, CountedFrom: "Services", Utilisation: 2.0 / 1048574}},
		Limits:     []report.LimitUsage{{Name: "nodes per cluster", Kind: netmodel.LimitNodes, Limit: 5000, Used: 2, Utilisation: 0.0004}, {Name: "pods per cluster", Kind: netmodel.LimitPods, Limit: 150000, Used: 30, Utilisation: 0.0002}, {Name: "AKS kubenet routes", Kind: netmodel.LimitRoutes}},
		Starved:    []report.StarvedNode{{Name: `node-"b"`}},
		LeakedFrom: []string{"Calico IPAMBlocks"},
		Max:        1,
	}
}

// TestPrometheusGolden: every family, in order, escaped label values, exact values; an inferred
// cluster CIDR has no utilisation, a limit without a figure is left out.
func TestPrometheusGolden(t *testing.T) {
	var b strings.Builder
	if err := Prometheus(&b, usageForMetrics()); err != nil {
		t.Fatal(err)
	}
	golden(t, "cidr-usage.prom.golden", b.String())
}

// TestUsageMetricsAbsentNotZero: what was not read is left out, never served as a zero.
func TestUsageMetricsAbsentNotZero(t *testing.T) {
	names := func(u *report.CIDRUsage) map[string]int {
		out := map[string]int{}
		for _, m := range UsageMetrics(u) {
			out[m.Name] = len(m.Samples)
		}
		return out
	}
	all := names(usageForMetrics())
	for _, n := range []string{"podnet_node_pod_ips_used", "podnet_node_utilisation_ratio", "podnet_node_pod_ips_leaked", "podnet_max_utilisation_ratio", "podnet_service_cidr_addresses_allocated"} {
		if all[n] == 0 {
			t.Errorf("everything read: %s missing", n)
		}
	}
	u := usageForMetrics()
	u.PodsUnknown = true
	got := names(u)
	for _, n := range []string{"podnet_node_pod_ips_used", "podnet_node_utilisation_ratio", "podnet_node_pod_ips_leaked", "podnet_max_utilisation_ratio"} {
		if got[n] != 0 {
			t.Errorf("pods unknown: %s served", n)
		}
	}
	if got["podnet_platform_limit_used"] != 1 || got["podnet_platform_limit"] != 2 || got["podnet_node_max_pods"] != 2 {
		t.Errorf("pods unknown: want the node limit's use only and every max pods, got %v", got)
	}
	if got["podnet_node_pod_ips_capacity"] != 0 || got["podnet_node_capacity_binding"] != 0 {
		t.Errorf("pods unknown: the capacity (less the host-network pods, unknown) served: %v", got)
	}
	u = usageForMetrics()
	u.NodesUnknown = true
	got = names(u)
	for n, c := range got {
		if c > 0 && (strings.HasPrefix(n, "podnet_node") || strings.HasPrefix(n, "podnet_cluster_cidr") || n == "podnet_max_utilisation_ratio") {
			t.Errorf("nodes unknown: %s served", n)
		}
	}
	if got["podnet_ippool_addresses"] != 1 || got["podnet_service_cidr_addresses"] != 1 {
		t.Errorf("nodes unknown: pools and service CIDRs still known, got %v", got)
	}
	if got["podnet_platform_limit"] != 1 || got["podnet_platform_limit_used"] != 1 {
		t.Errorf("nodes unknown: only the pods per cluster limit is known, got %v", got)
	}
	u = usageForMetrics()
	u.Services[0].CountedFrom, u.Services[0].Allocated, u.Services[0].Utilisation = "-", 0, 0
	got = names(u)
	if got["podnet_service_cidr_addresses"] != 1 || got["podnet_service_cidr_addresses_allocated"] != 0 || got["podnet_service_cidr_utilisation_ratio"] != 0 {
		t.Errorf("ClusterIPs unknown: want the CIDR's size only, got %v", got)
	}
}

// TestUsageMetricsOneSamplePerLabelSet: a label set repeated in a family (a pool read from two
// APIs, two equal ServiceCIDRs) is served once: client_golang fails a whole scrape on a repeat. A
// limit whose name counts nodes is labelled by its key, which does not change with them.
func TestUsageMetricsOneSamplePerLabelSet(t *testing.T) {
	u := usageForMetrics()
	u.Pools = append(u.Pools, u.Pools[0])
	u.Services = append(u.Services, u.Services[0])
	u.Limits = append(u.Limits, report.LimitUsage{Name: "ENI addresses (3 x m5.large)", Key: "ENI addresses m5.large", Kind: netmodel.LimitPodAddresses, Limit: 87, Used: 12})
	for _, m := range UsageMetrics(u) {
		seen := map[string]bool{}
		for _, s := range m.Samples {
			k := strings.Join(s.Values, ",")
			if seen[k] {
				t.Errorf("%s{%s} twice", m.Name, k)
			}
			seen[k] = true
			if m.Name == "podnet_platform_limit" && strings.HasPrefix(k, "ENI") && k != "ENI addresses m5.large" {
				t.Errorf("ENI limit labelled %q, want its key", k)
			}
		}
	}
}
