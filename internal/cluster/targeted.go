package cluster

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Needs says which of a network model's own evidence a targeted read fetches; the model's
// descriptor (netmodel) says what it needs, this package only reads.
type Needs struct {
	// CiliumConfig is ConfigMap kube-system/cilium-config; CiliumNodes the CiliumNodes of the
	// nodes named.
	CiliumConfig, CiliumNodes bool
	// Calico is the IPPools, IPAM blocks and IPAMConfig.
	Calico bool
	// CNIConfigMaps are kubeadm-config, cilium-config and kube-flannel-cfg.
	CNIConfigMaps bool
	// KubeProxy is ConfigMap kube-system/kube-proxy.
	KubeProxy bool
}

// Merge is the union of two needs.
func (n Needs) Merge(o Needs) Needs {
	return Needs{CiliumConfig: n.CiliumConfig || o.CiliumConfig, CiliumNodes: n.CiliumNodes || o.CiliumNodes,
		Calico: n.Calico || o.Calico, CNIConfigMaps: n.CNIConfigMaps || o.CNIConfigMaps, KubeProxy: n.KubeProxy || o.KubeProxy}
}

// GatherBase reads what deciding a node's network model needs beyond the node itself: discovery
// and the network plugins' DaemonSets (two API calls).
func GatherBase(ctx context.Context, c Clients) *Evidence {
	g := &gatherer{rest: c.CoreREST, kube: c.Kube, dynamic: c.Dynamic, discovery: c.Discovery}
	ev := newEvidence()
	g.discover(ctx, ev)
	g.readDaemonSets(ctx, ev)
	return ev
}

// GatherNeeds adds to ev what the needs name, for the nodes named (CiliumNodes are read one by
// one: a trace costs a handful of API calls, never the whole list); nodes nil: for every node.
func GatherNeeds(ctx context.Context, c Clients, ev *Evidence, needs Needs, nodes []string) {
	g := &gatherer{rest: c.CoreREST, kube: c.Kube, dynamic: c.Dynamic, discovery: c.Discovery}
	switch {
	case needs.CNIConfigMaps:
		g.readOtherConfigMaps(ctx, ev)
	case needs.CiliumConfig:
		if d := g.configMap(ctx, ev, "kube-system", "cilium-config"); d != nil {
			ev.Cilium = parseCiliumConfig(d)
		}
	}
	if needs.CiliumNodes && ev.Resources[gvrKey(GVRCiliumNodes)] {
		if nodes == nil {
			g.readCiliumNodes(ctx, ev)
		}
		for _, n := range nodes {
			g.readCiliumNode(ctx, ev, n)
		}
	}
	if needs.Calico {
		g.readCalico(ctx, ev)
	}
	if needs.KubeProxy {
		g.readKubeProxy(ctx, ev)
	}
}

func (g *gatherer) readCiliumNode(ctx context.Context, ev *Evidence, name string) {
	it, err := g.dynamic.Resource(GVRCiliumNodes).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			ev.Unknown = append(ev.Unknown, "CiliumNode "+name+": "+ev.failed(err))
		}
		return
	}
	addCiliumNode(ev, it.Object)
}
