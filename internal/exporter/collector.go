package exporter

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podnet/kubectl-podnet/internal/cluster"
)

// collector turns the exporter's figures and health into metrics at each scrape. The usage
// families change with the cluster, so it describes none (an unchecked collector); their names and
// labels are render.UsageMetrics'.
type collector struct{ e *Exporter }

// Describe describes nothing: see collector.
func (collector) Describe(chan<- *prometheus.Desc) {}

// Health gauges, described once.
var (
	descUp = prometheus.NewDesc("podnet_exporter_up",
		"1 when every store is current (or forbidden, whose gauges are left out); 0 while the figures served are the last good ones (stale).", nil, nil)
	descStoreUp = prometheus.NewDesc("podnet_exporter_store_up",
		"1 when the store (nodes, pods, evidence) is read and current; 0 while it is being read, stale or forbidden.", []string{"store"}, nil)
	descForbidden = prometheus.NewDesc("podnet_exporter_store_forbidden",
		"1 when RBAC does not let the exporter read the store: its gauges are left out.", []string{"store"}, nil)
	descObjects = prometheus.NewDesc("podnet_exporter_store_objects",
		"Objects the store holds.", []string{"store"}, nil)
	descSynced = prometheus.NewDesc("podnet_exporter_store_last_sync_timestamp_seconds",
		"When the store was last known current: its last read, event or successful evidence read.", []string{"store"}, nil)
	descRestarts = prometheus.NewDesc("podnet_exporter_watch_restarts_total",
		"Watches started again, by why: expired (410, read again from the start), closed (by the server), error.", []string{"store", "reason"}, nil)
	descUnreadable = prometheus.NewDesc("podnet_exporter_evidence_unreadable",
		"Evidence reads (config maps, IPAM resources, ClusterIPs) the last evidence read could not make, RBAC or the API refusing them; the log names them, and the gauges that need them are left out.", nil, nil)
	descUpdated = prometheus.NewDesc("podnet_exporter_last_update_timestamp_seconds",
		"When the figures were last computed.", nil, nil)
	descDuration = prometheus.NewDesc("podnet_exporter_update_duration_seconds",
		"How long the last computation of the figures took.", nil, nil)
)

// Collect sends the figures (when computed) and the health.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	f := c.e.Fresh()
	if f != nil {
		for _, m := range f.Metrics {
			desc := prometheus.NewDesc(m.Name, m.Help, m.Labels, nil)
			for _, s := range m.Samples {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, s.Value, s.Values...)
			}
		}
		ch <- prometheus.MustNewConstMetric(descUpdated, prometheus.GaugeValue, float64(f.At.UnixNano())/1e9)
		ch <- prometheus.MustNewConstMetric(descDuration, prometheus.GaugeValue, f.Duration.Seconds())
	}
	h := c.e.Health()
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, b2f(h.Up() && f != nil))
	for _, s := range stores {
		ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, b2f(h.States[s] == cluster.MirrorCurrent), s)
		ch <- prometheus.MustNewConstMetric(descForbidden, prometheus.GaugeValue, b2f(h.States[s] == cluster.MirrorForbidden), s)
		if n, ok := h.Objects[s]; ok {
			ch <- prometheus.MustNewConstMetric(descObjects, prometheus.GaugeValue, float64(n), s)
		}
		if t, ok := h.Synced[s]; ok {
			ch <- prometheus.MustNewConstMetric(descSynced, prometheus.GaugeValue, float64(t.UnixNano())/1e9, s)
		}
	}
	if h.States[StoreEvidence] != cluster.MirrorSyncing {
		ch <- prometheus.MustNewConstMetric(descUnreadable, prometheus.GaugeValue, float64(h.Unreadable))
	}
	keys := make([][2]string, 0, len(h.Restarts))
	for k := range h.Restarts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"/"+keys[i][1] < keys[j][0]+"/"+keys[j][1] })
	for _, k := range keys {
		ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, h.Restarts[k], k[0], k[1])
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
