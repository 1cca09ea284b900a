package inspect

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GatherFor reads only what explaining a path between the given nodes needs: discovery, the
// network plugins' DaemonSets, and the model's own evidence (cilium-config and the nodes'
// CiliumNodes, or Calico's pools and blocks, or Flannel's config when no node says its backend).
// A trace thus costs a handful of API calls, never the whole pod list.
func GatherFor(ctx context.Context, c Clients, nodes []*Node) Evidence {
	g := &gatherer{rest: c.CoreREST, kube: c.Kube, dynamic: c.Dynamic, discovery: c.Discovery}
	ev := Evidence{CiliumNodes: map[string]*CiliumNode{}, Resources: map[string]bool{}, CIDRNotAvailable: map[string]string{}}
	g.discover(ctx, &ev)
	g.readDaemonSets(ctx, &ev)
	model := ""
	for _, n := range nodes {
		if model = DetectNode(n, &ev).Model; model != ModelUnknown {
			break
		}
	}
	switch model {
	case ModelCilium:
		if d := g.configMap(ctx, &ev, "kube-system", "cilium-config"); d != nil {
			ev.Cilium = parseCiliumConfig(d)
		}
		if ev.Resources[gvrKey(GVRCiliumNodes)] {
			for _, n := range nodes {
				g.readCiliumNode(ctx, &ev, n.Name)
			}
		}
	case ModelCalico:
		g.readCalico(ctx, &ev)
	case ModelFlannel:
		for _, n := range nodes {
			if n.Annotations[annFlannelBackend] == "" {
				g.readConfigMaps(ctx, &ev)
				break
			}
		}
	}
	return ev
}

func (g *gatherer) readCiliumNode(ctx context.Context, ev *Evidence, name string) {
	it, err := g.dynamic.Resource(GVRCiliumNodes).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			ev.Unknown = append(ev.Unknown, "CiliumNode "+name+": "+reason(err))
		}
		return
	}
	one := &Evidence{CiliumNodes: map[string]*CiliumNode{}}
	addCiliumNode(one, it.Object)
	for k, v := range one.CiliumNodes {
		ev.CiliumNodes[k] = v
	}
}
