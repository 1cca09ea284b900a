package inspect

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Owner kinds: what owns or contains an address.
const (
	OwnPod            = "Pod"
	OwnHostNetworkPod = "HostNetworkPod"
	OwnNodeInternalIP = "NodeInternalIP"
	OwnNodeExternalIP = "NodeExternalIP"
	OwnNodeTunnel     = "NodeTunnel"
	OwnCiliumHost     = "CiliumHost"
	OwnCiliumHealth   = "CiliumHealth"
	OwnService        = "ServiceClusterIP"
	OwnNodePodCIDR    = "NodePodCIDR"
	OwnClusterPodCIDR = "ClusterPodCIDR"
	OwnServiceCIDR    = "ServiceCIDR"
	OwnOutside        = "Outside"
)

// Owner is one thing that owns or contains an address.
type Owner struct {
	Kind   string `json:"kind"`
	Object string `json:"object"`
	Detail string `json:"detail,omitempty"`
}

// WhoResult is everything known of one address.
type WhoResult struct {
	Address string  `json:"address"`
	Owners  []Owner `json:"owners"`
}

// WhoReport is the answer to `kubectl podnet who ADDRESS...`.
type WhoReport struct {
	Results []WhoResult `json:"results"`
	Notes   []string    `json:"notes,omitempty"`
}

// Who finds, for each address, the pods, nodes, Services and ranges that own or contain it. Pods
// are found with the server-side field selector status.podIP where that finds them all; an address
// of a dual-stack cluster's second family is only in status.podIPs, so then pods are listed once.
func Who(ctx context.Context, c Clients, addrs []netip.Addr, opts Options) (*WhoReport, error) {
	opts.skipPods = true
	inv, err := Gather(ctx, c, opts)
	if err != nil {
		return nil, err
	}
	g := &gatherer{rest: c.CoreREST, kube: c.Kube, opts: opts}
	rep := &WhoReport{Notes: inv.Notes}
	primary4, dual := podFamilies(inv)
	needAll := false
	for _, a := range addrs {
		if dual && a.Is4() != primary4 {
			needAll = true
		}
	}
	var pods []Pod
	if needAll {
		pods, err = g.listPods(ctx, "")
	} else {
		in := newInterner()
		seen := map[string]bool{}
		for _, a := range addrs {
			var list *corev1.PodList
			list, err = c.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.podIP=" + a.String()})
			if err != nil {
				break
			}
			for i := range list.Items {
				if k := list.Items[i].Namespace + "/" + list.Items[i].Name; !seen[k] {
					seen[k] = true
					pods = append(pods, reducePod(&list.Items[i], in))
				}
			}
		}
	}
	if apierrors.IsForbidden(err) {
		rep.Notes = append(rep.Notes, "cannot list pods (forbidden): pods holding these addresses are not shown")
		err = nil
	}
	if err != nil {
		return nil, err
	}
	svcs, err := c.Kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		rep.Notes = append(rep.Notes, "cannot list Services (forbidden): ClusterIPs are not shown")
		svcs, err = &corev1.ServiceList{}, nil
	}
	if err != nil {
		return nil, err
	}
	// the same for every address: each node's network, the cluster's pod and service CIDRs
	rc := &ranges{nets: make([]Network, len(inv.Nodes)), podCIDRs: ClusterPodCIDRs(inv), serviceCIDRs: ClusterServiceCIDRs(&inv.Evidence)}
	for i := range inv.Nodes {
		rc.nets[i] = DetectNode(&inv.Nodes[i], &inv.Evidence)
	}
	for _, a := range addrs {
		res := WhoResult{Address: a.String(), Owners: []Owner{}}
		res.Owners = append(res.Owners, podOwners(a, pods)...)
		res.Owners = append(res.Owners, nodeOwners(a, inv, rc)...)
		for i := range svcs.Items {
			if o, ok := serviceOwner(ctx, c, a, &svcs.Items[i]); ok {
				res.Owners = append(res.Owners, o)
			}
		}
		res.Owners = append(res.Owners, rangeOwners(a, inv, rc, res.Owners)...)
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// podFamilies tells whether the cluster's pod network is dual-stack and which family comes first.
func podFamilies(inv *Inventory) (primary4, dual bool) {
	primary4 = true
	seen := map[bool]bool{}
	first := true
	for _, n := range inv.Nodes {
		for _, p := range n.PodCIDRs {
			if first {
				primary4, first = p.Addr().Is4(), false
			}
			seen[p.Addr().Is4()] = true
		}
	}
	for _, p := range inv.Evidence.CalicoPools {
		if pp, err := netip.ParsePrefix(p.CIDR); err == nil && !p.Disabled {
			if first {
				primary4, first = pp.Addr().Is4(), false
			}
			seen[pp.Addr().Is4()] = true
		}
	}
	return primary4, seen[true] && seen[false]
}

func podOwners(a netip.Addr, pods []Pod) []Owner {
	var out []Owner
	for _, p := range pods {
		if !containsAddr(p.IPs, a) {
			continue
		}
		o := Owner{Kind: OwnPod, Object: "pod/" + p.Namespace + "/" + p.Name, Detail: "on node " + dashIfEmpty(p.Node)}
		if p.HostNetwork {
			o.Kind = OwnHostNetworkPod
			o.Detail += ", host network: shares the node's address"
		}
		if p.Phase == corev1.PodSucceeded || p.Phase == corev1.PodFailed {
			o.Detail += fmt.Sprintf(", %s: the address was released and may be reused", p.Phase)
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	return out
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ranges is what Who computes once for all its addresses.
type ranges struct {
	nets                   []Network // by index of inv.Nodes
	podCIDRs, serviceCIDRs []SourcedCIDR
}

func nodeOwners(a netip.Addr, inv *Inventory, rc *ranges) []Owner {
	var out []Owner
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		obj := "node/" + n.Name
		if containsAddr(n.InternalIPs, a) {
			out = append(out, Owner{Kind: OwnNodeInternalIP, Object: obj})
		}
		if containsAddr(n.ExternalIPs, a) {
			out = append(out, Owner{Kind: OwnNodeExternalIP, Object: obj})
		}
		nw := rc.nets[i]
		if t := NodeTunnel(n, nw, &inv.Evidence); t != nil && nw.Model != ModelCilium {
			for _, ta := range t.Addresses {
				if ta == a.String() {
					out = append(out, Owner{Kind: OwnNodeTunnel, Object: obj, Detail: fmt.Sprintf("%s device %s (%s)", t.Kind, t.Device, nw)})
				}
			}
		}
		if cn := inv.Evidence.CiliumNodes[n.Name]; cn != nil {
			if containsAddr(cn.CiliumInternalIP, a) {
				out = append(out, Owner{Kind: OwnCiliumHost, Object: obj, Detail: "cilium_host (CiliumInternalIP)"})
			}
			if containsAddr(cn.HealthIPs, a) {
				out = append(out, Owner{Kind: OwnCiliumHealth, Object: obj, Detail: "cilium-health endpoint"})
			}
		}
	}
	return out
}

func serviceOwner(ctx context.Context, c Clients, a netip.Addr, s *corev1.Service) (Owner, bool) {
	ips := s.Spec.ClusterIPs
	if len(ips) == 0 && s.Spec.ClusterIP != "" {
		ips = []string{s.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if ip != a.String() {
			continue
		}
		o := Owner{Kind: OwnService, Object: "service/" + s.Namespace + "/" + s.Name, Detail: string(s.Spec.Type)}
		slices, err := c.Kube.DiscoveryV1().EndpointSlices(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + s.Name})
		if err == nil {
			var ready, notReady []string
			for _, e := range endpointsOf(slices.Items) {
				if e.Ready {
					ready = append(ready, e.Address)
				} else {
					notReady = append(notReady, e.Address)
				}
			}
			o.Detail += fmt.Sprintf(", endpoints: %s ready", listOrNone(ready))
			if len(notReady) > 0 {
				o.Detail += ", " + strings.Join(notReady, ",") + " not ready"
			}
		} else {
			o.Detail += ", endpoints: " + reason(err)
		}
		return o, true
	}
	return Owner{}, false
}

func listOrNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ",")
}

// rangeOwners names the node CIDR or IPAM block, the cluster pod CIDR and the service CIDR that
// contain the address, or says it is outside every known range.
func rangeOwners(a netip.Addr, inv *Inventory, rc *ranges, found []Owner) []Owner {
	var out []Owner
	held := false
	for _, o := range found {
		if o.Kind == OwnPod || o.Kind == OwnService || o.Kind == OwnNodeTunnel || o.Kind == OwnCiliumHost || o.Kind == OwnCiliumHealth {
			held = true
		}
	}
	state := func() string {
		if held {
			return ""
		}
		return "free: no pod holds it"
	}
	ev := &inv.Evidence
	for i := range inv.Nodes {
		n := &inv.Nodes[i]
		nw := rc.nets[i]
		if nw.Model == ModelCalico && len(ev.CalicoBlocks) > 0 {
			continue // Calico's blocks, below
		}
		var cidrs []netip.Prefix
		src := "spec.podCIDRs"
		if cn := ev.CiliumNodes[n.Name]; cn != nil && len(n.PodCIDRs) == 0 {
			cidrs, src = cn.PodCIDRs, "CiliumNode"
		} else {
			cidrs = n.PodCIDRs
		}
		for _, p := range cidrs {
			if p.Contains(a) {
				out = append(out, Owner{Kind: OwnNodePodCIDR, Object: "node/" + n.Name, Detail: strings.TrimSpace(fmt.Sprintf("%s (%s) %s", p, src, state()))})
			}
		}
	}
	for _, b := range ev.CalicoBlocks {
		if b.CIDR.Contains(a) {
			obj := "ipamblock/" + b.Name
			d := fmt.Sprintf("Calico IPAM block %s", b.CIDR)
			if b.Node != "" {
				d += " affine to node " + b.Node
			}
			out = append(out, Owner{Kind: OwnNodePodCIDR, Object: obj, Detail: strings.TrimSpace(d + " " + state())})
		}
	}
	for _, c := range rc.podCIDRs {
		if p, err := netip.ParsePrefix(c.CIDR); err == nil && p.Contains(a) {
			out = append(out, Owner{Kind: OwnClusterPodCIDR, Object: c.CIDR, Detail: c.Source})
		}
	}
	for _, c := range rc.serviceCIDRs {
		if p, err := netip.ParsePrefix(c.CIDR); err == nil && p.Contains(a) {
			d := c.Source
			if !held {
				d += ", no Service has it"
			}
			out = append(out, Owner{Kind: OwnServiceCIDR, Object: c.CIDR, Detail: d})
		}
	}
	if len(out) == 0 && len(found) == 0 {
		out = append(out, Owner{Kind: OwnOutside, Object: "-", Detail: outsideDetail(a)})
	}
	return out
}

// outsideDetail says what kind of range an address nobody owns is in.
func outsideDetail(a netip.Addr) string {
	switch {
	case a.IsLoopback():
		return "outside every known range: a loopback address"
	case a.IsLinkLocalUnicast():
		return "outside every known range: link-local (169.254.0.0/16 or fe80::/10; e.g. Calico's and Azure CNI's gateway 169.254.1.1)"
	case a.IsPrivate():
		return "outside every known range of this cluster: a private address (RFC 1918 / ULA), maybe another network or VPC"
	case a.IsMulticast():
		return "outside every known range: a multicast address"
	}
	return "outside every known range of this cluster: a public address"
}
