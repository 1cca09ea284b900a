package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// Evidence is what the cluster says about its network plugin beyond nodes and pods. A field is
// nil (or empty) when the object does not exist; Unknown says which could not be read.
type Evidence struct {
	DaemonSets   []DaemonSetRef         `json:"daemonSets,omitempty"`
	KubeProxy    *KubeProxyConfig       `json:"kubeProxy,omitempty"`
	Kubeadm      *KubeadmNetworking     `json:"kubeadm,omitempty"`
	Cilium       *CiliumConfig          `json:"cilium,omitempty"`
	Flannel      *FlannelConfig         `json:"flannel,omitempty"`
	CalicoPools  []CalicoPool           `json:"calicoPools,omitempty"`
	CalicoBlocks []CalicoBlock          `json:"calicoBlocks,omitempty"`
	CiliumNodes  map[string]*CiliumNode `json:"-"`
	ServiceCIDRs []ServiceCIDR          `json:"serviceCIDRs,omitempty"`
	// KubernetesServiceIP is the ClusterIP of Service default/kubernetes.
	KubernetesServiceIP netip.Addr `json:"kubernetesServiceIP,omitzero"`
	// CIDRNotAvailable maps a node name to the message of its CIDRNotAvailable event.
	CIDRNotAvailable map[string]string `json:"-"`
	// Unknown lists evidence that exists or may exist but could not be read (forbidden, failed).
	Unknown []string `json:"unknown,omitempty"`
	// Resources is what discovery said the server offers, "group/version/resource".
	Resources map[string]bool `json:"-"`
}

// DaemonSetRef is a DaemonSet that tells of a network plugin or of kube-proxy.
type DaemonSetRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Desired   int32  `json:"desired"`
	Ready     int32  `json:"ready"`
}

// KubeProxyConfig is read from ConfigMap kube-system/kube-proxy.
type KubeProxyConfig struct {
	Mode        string `json:"mode"`
	ClusterCIDR string `json:"clusterCIDR,omitempty"`
}

// KubeadmNetworking is read from ConfigMap kube-system/kubeadm-config.
type KubeadmNetworking struct {
	PodSubnet     string `json:"podSubnet,omitempty"`
	ServiceSubnet string `json:"serviceSubnet,omitempty"`
	DNSDomain     string `json:"dnsDomain,omitempty"`
}

// CiliumConfig is read from ConfigMap kube-system/cilium-config.
type CiliumConfig struct {
	IPAM                 string   `json:"ipam,omitempty"`
	ClusterPoolCIDRs     []string `json:"clusterPoolCIDRs,omitempty"`
	ClusterPoolMaskSize  int      `json:"clusterPoolMaskSize,omitempty"`
	RoutingMode          string   `json:"routingMode,omitempty"`
	TunnelProtocol       string   `json:"tunnelProtocol,omitempty"`
	KubeProxyReplacement string   `json:"kubeProxyReplacement,omitempty"`
	WireGuard            bool     `json:"wireguard,omitempty"`
}

// FlannelConfig is read from ConfigMap kube-flannel-cfg (namespace kube-flannel or kube-system).
type FlannelConfig struct {
	Network     string `json:"network,omitempty"`
	IPv6Network string `json:"ipv6Network,omitempty"`
	Backend     string `json:"backend,omitempty"`
}

// CalicoPool is a Calico IPPool from either API group.
type CalicoPool struct {
	Name         string `json:"name"`
	APIGroup     string `json:"apiGroup"`
	CIDR         string `json:"cidr"`
	BlockSize    int    `json:"blockSize"`
	IPIPMode     string `json:"ipipMode,omitempty"`
	VXLANMode    string `json:"vxlanMode,omitempty"`
	NATOutgoing  bool   `json:"natOutgoing"`
	Disabled     bool   `json:"disabled"`
	NodeSelector string `json:"nodeSelector,omitempty"`
}

// CalicoBlock is a Calico IPAM block: a CIDR claimed by (affine to) one node, and its allocations.
type CalicoBlock struct {
	Name     string       `json:"name"`
	APIGroup string       `json:"apiGroup"`
	CIDR     netip.Prefix `json:"cidr"`
	// Node is the node the block is affine to ("" when the affinity is not a host).
	Node string `json:"node,omitempty"`
	// Allocated counts the block's allocated addresses; Borrowed those allocated to pods of other nodes.
	Allocated int `json:"allocated"`
	Borrowed  int `json:"borrowed"`
	// BorrowedBy counts borrowed addresses per borrowing node.
	BorrowedBy map[string]int `json:"borrowedBy,omitempty"`
}

// NodeBlocks returns the CIDRs of the blocks affine to node, in address order.
func (e *Evidence) NodeBlocks(node string) []netip.Prefix {
	var out []netip.Prefix
	for _, b := range e.CalicoBlocks {
		if b.Node == node {
			out = append(out, b.CIDR)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr().Less(out[j].Addr()) })
	return out
}

// CiliumNode is the part of a CiliumNode object the network view needs.
type CiliumNode struct {
	Name             string         `json:"name"`
	PodCIDRs         []netip.Prefix `json:"podCIDRs,omitempty"`
	CiliumInternalIP []netip.Addr   `json:"ciliumInternalIPs,omitempty"`
	HealthIPs        []netip.Addr   `json:"healthIPs,omitempty"`
	Used             int            `json:"used"`
}

// ServiceCIDR is a networking.k8s.io ServiceCIDR object.
type ServiceCIDR struct {
	Name  string   `json:"name"`
	CIDRs []string `json:"cidrs"`
}

// Well-known resources read as evidence when discovery offers them.
var (
	GVRCalicoPoolsV1  = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "ippools"}
	GVRCalicoPoolsV3  = schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "ippools"}
	GVRCiliumNodes    = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnodes"}
	GVRServiceCIDRs   = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "servicecidrs"}
	GVRCalicoBlocksV1 = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "ipamblocks"}
	GVRCalicoBlocksV3 = schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "ipamblocks"}
)

func gvrKey(g schema.GroupVersionResource) string {
	return g.Group + "/" + g.Version + "/" + g.Resource
}

// knownDaemonSets are the DaemonSet names that tell of a network plugin or of kube-proxy.
var knownDaemonSets = map[string]bool{
	"calico-node": true, "cilium": true, "cilium-agent": true, "kube-flannel-ds": true, "kube-flannel": true,
	"aws-node": true, "antrea-agent": true, "weave-net": true, "azure-cns": true, "azure-cni-networkmonitor": true,
	"kube-proxy": true, "kube-router": true, "canal": true,
}

func (g *gatherer) gatherEvidence(ctx context.Context) Evidence {
	ev := Evidence{CiliumNodes: map[string]*CiliumNode{}, Resources: map[string]bool{}, CIDRNotAvailable: map[string]string{}}
	g.discover(ctx, &ev)
	g.readDaemonSets(ctx, &ev)
	g.readConfigMaps(ctx, &ev)
	g.readKubernetesService(ctx, &ev)
	g.readCIDREvents(ctx, &ev)
	g.readCalico(ctx, &ev)
	if ev.Resources[gvrKey(GVRCiliumNodes)] {
		g.readCiliumNodes(ctx, &ev)
	}
	if ev.Resources[gvrKey(GVRServiceCIDRs)] {
		g.readServiceCIDRs(ctx, &ev)
	}
	return ev
}

func (g *gatherer) discover(ctx context.Context, ev *Evidence) {
	_, lists, err := g.discovery.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		ev.Unknown = append(ev.Unknown, fmt.Sprintf("API discovery: %v", err))
		return
	}
	for _, l := range lists {
		for _, r := range l.APIResources {
			ev.Resources[l.GroupVersion+"/"+r.Name] = true
		}
	}
	// the core group is listed as "v1": make its keys read "/v1/..."
	for k := range ev.Resources {
		if strings.HasPrefix(k, "v1/") {
			ev.Resources["/"+k] = true
		}
	}
}

func (g *gatherer) readDaemonSets(ctx context.Context, ev *Evidence) {
	list, err := g.kube.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		list, err = g.kube.AppsV1().DaemonSets("kube-system").List(ctx, metav1.ListOptions{})
		if err == nil {
			ev.Unknown = append(ev.Unknown, "DaemonSets outside kube-system (forbidden)")
		}
	}
	if err != nil {
		ev.Unknown = append(ev.Unknown, "DaemonSets: "+reason(err))
		return
	}
	for _, ds := range list.Items {
		if knownDaemonSets[ds.Name] {
			ev.DaemonSets = append(ev.DaemonSets, DaemonSetRef{Namespace: ds.Namespace, Name: ds.Name, Desired: ds.Status.DesiredNumberScheduled, Ready: ds.Status.NumberReady})
		}
	}
	sort.Slice(ev.DaemonSets, func(i, j int) bool {
		return ev.DaemonSets[i].Namespace+"/"+ev.DaemonSets[i].Name < ev.DaemonSets[j].Namespace+"/"+ev.DaemonSets[j].Name
	})
}

// HasDaemonSet reports whether a DaemonSet of that name exists in any namespace read.
func (e *Evidence) HasDaemonSet(name string) bool {
	for _, d := range e.DaemonSets {
		if d.Name == name {
			return true
		}
	}
	return false
}

func (g *gatherer) configMap(ctx context.Context, ev *Evidence, ns, name string) map[string]string {
	cm, err := g.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		ev.Unknown = append(ev.Unknown, fmt.Sprintf("ConfigMap %s/%s: %s", ns, name, reason(err)))
		return nil
	}
	return cm.Data
}

// readCalico reads Calico's IPPools and IPAM blocks in each API group discovery found.
func (g *gatherer) readCalico(ctx context.Context, ev *Evidence) {
	for _, gvr := range []schema.GroupVersionResource{GVRCalicoPoolsV1, GVRCalicoPoolsV3} {
		if ev.Resources[gvrKey(gvr)] {
			g.readCalicoPools(ctx, ev, gvr)
		}
	}
	for _, gvr := range []schema.GroupVersionResource{GVRCalicoBlocksV1, GVRCalicoBlocksV3} {
		if ev.Resources[gvrKey(gvr)] {
			g.readCalicoBlocks(ctx, ev, gvr)
		}
	}
}

// ServiceRanges reads only what the service CIDR is known from (ServiceCIDR objects where
// discovery shows them, kubeadm-config, the kubernetes Service) and gives ClusterServiceCIDRs.
func ServiceRanges(ctx context.Context, c Clients) []SourcedCIDR {
	g := &gatherer{kube: c.Kube, dynamic: c.Dynamic, discovery: c.Discovery}
	ev := Evidence{CiliumNodes: map[string]*CiliumNode{}, Resources: map[string]bool{}, CIDRNotAvailable: map[string]string{}}
	g.discover(ctx, &ev)
	if ev.Resources[gvrKey(GVRServiceCIDRs)] {
		g.readServiceCIDRs(ctx, &ev)
	}
	if len(ev.ServiceCIDRs) == 0 {
		g.readOtherConfigMaps(ctx, &ev)
		g.readKubernetesService(ctx, &ev)
	}
	return ClusterServiceCIDRs(&ev)
}

// ReadKubeProxy reads ConfigMap kube-system/kube-proxy into ev (one API call).
func ReadKubeProxy(ctx context.Context, c Clients, ev *Evidence) {
	g := &gatherer{kube: c.Kube}
	g.readKubeProxy(ctx, ev)
}

func (g *gatherer) readConfigMaps(ctx context.Context, ev *Evidence) {
	g.readKubeProxy(ctx, ev)
	g.readOtherConfigMaps(ctx, ev)
}

func (g *gatherer) readKubeProxy(ctx context.Context, ev *Evidence) {
	if d := g.configMap(ctx, ev, "kube-system", "kube-proxy"); d != nil {
		var c struct {
			Mode        string `json:"mode"`
			ClusterCIDR string `json:"clusterCIDR"`
		}
		if err := yaml.Unmarshal([]byte(d["config.conf"]), &c); err == nil {
			if c.Mode == "" {
				c.Mode = "iptables" // kube-proxy's default on Linux
			}
			ev.KubeProxy = &KubeProxyConfig{Mode: c.Mode, ClusterCIDR: c.ClusterCIDR}
		} else {
			ev.Unknown = append(ev.Unknown, "ConfigMap kube-system/kube-proxy: config.conf does not parse")
		}
	}
}

func (g *gatherer) readOtherConfigMaps(ctx context.Context, ev *Evidence) {
	if d := g.configMap(ctx, ev, "kube-system", "kubeadm-config"); d != nil {
		var c struct {
			Networking struct {
				PodSubnet     string `json:"podSubnet"`
				ServiceSubnet string `json:"serviceSubnet"`
				DNSDomain     string `json:"dnsDomain"`
			} `json:"networking"`
		}
		if err := yaml.Unmarshal([]byte(d["ClusterConfiguration"]), &c); err == nil {
			svc := c.Networking.ServiceSubnet
			if svc == "" {
				svc = "10.96.0.0/12" // kubeadm's default
			}
			ev.Kubeadm = &KubeadmNetworking{PodSubnet: c.Networking.PodSubnet, ServiceSubnet: svc, DNSDomain: c.Networking.DNSDomain}
		}
	}
	if d := g.configMap(ctx, ev, "kube-system", "cilium-config"); d != nil {
		ev.Cilium = parseCiliumConfig(d)
	}
	for _, ns := range []string{"kube-flannel", "kube-system"} {
		if d := g.configMap(ctx, ev, ns, "kube-flannel-cfg"); d != nil {
			var c struct {
				Network     string `json:"Network"`
				IPv6Network string `json:"IPv6Network"`
				Backend     struct {
					Type string `json:"Type"`
				} `json:"Backend"`
			}
			if err := json.Unmarshal([]byte(d["net-conf.json"]), &c); err == nil {
				if c.Backend.Type == "" {
					c.Backend.Type = "udp" // flannel's default backend
				}
				ev.Flannel = &FlannelConfig{Network: c.Network, IPv6Network: c.IPv6Network, Backend: strings.ToLower(c.Backend.Type)}
			}
			break
		}
	}
}

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

func (g *gatherer) readCalicoPools(ctx context.Context, ev *Evidence, gvr schema.GroupVersionResource) {
	list, err := g.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		ev.Unknown = append(ev.Unknown, fmt.Sprintf("Calico IPPools (%s/%s): %s", gvr.Group, gvr.Version, reason(err)))
		return
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
}

func (g *gatherer) readCalicoBlocks(ctx context.Context, ev *Evidence, gvr schema.GroupVersionResource) {
	list, err := g.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		ev.Unknown = append(ev.Unknown, fmt.Sprintf("Calico IPAMBlocks (%s/%s): %s", gvr.Group, gvr.Version, reason(err)))
		return
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
}

// parseCalicoBlock reads an IPAMBlock: allocations[i] is an index into attributes (or null when
// address i is free); an attribute's secondary.node names the node of the pod that holds it.
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

func toInt(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case float64:
		return int(x)
	case int:
		return x
	case string:
		n, _ := strconv.Atoi(x)
		return n
	}
	return 0
}

func (g *gatherer) readCiliumNodes(ctx context.Context, ev *Evidence) {
	list, err := g.dynamic.Resource(GVRCiliumNodes).List(ctx, metav1.ListOptions{})
	if err != nil {
		ev.Unknown = append(ev.Unknown, "CiliumNodes: "+reason(err))
		return
	}
	for _, it := range list.Items {
		addCiliumNode(ev, it.Object)
	}
}

// addCiliumNode reads one CiliumNode object into ev.CiliumNodes.
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
		if am["type"] == "CiliumInternalIP" {
			if ip, err := netip.ParseAddr(fmt.Sprint(am["ip"])); err == nil {
				cn.CiliumInternalIP = append(cn.CiliumInternalIP, ip)
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

func (g *gatherer) readServiceCIDRs(ctx context.Context, ev *Evidence) {
	list, err := g.dynamic.Resource(GVRServiceCIDRs).List(ctx, metav1.ListOptions{})
	if err != nil {
		ev.Unknown = append(ev.Unknown, "ServiceCIDRs: "+reason(err))
		return
	}
	for _, it := range list.Items {
		cidrs, _, _ := unstructured.NestedStringSlice(it.Object, "spec", "cidrs")
		ev.ServiceCIDRs = append(ev.ServiceCIDRs, ServiceCIDR{Name: it.GetName(), CIDRs: cidrs})
	}
}

func (g *gatherer) readKubernetesService(ctx context.Context, ev *Evidence) {
	svc, err := g.kube.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			ev.Unknown = append(ev.Unknown, "Service default/kubernetes: "+reason(err))
		}
		return
	}
	ev.KubernetesServiceIP, _ = netip.ParseAddr(svc.Spec.ClusterIP)
}

// readCIDREvents finds the CIDRNotAvailable events node IPAM records on nodes it could not serve.
func (g *gatherer) readCIDREvents(ctx context.Context, ev *Evidence) {
	list, err := g.kube.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "reason=CIDRNotAvailable,involvedObject.kind=Node"})
	if err != nil {
		ev.Unknown = append(ev.Unknown, "Events: "+reason(err))
		return
	}
	for _, e := range list.Items {
		ev.CIDRNotAvailable[e.InvolvedObject.Name] = e.Message
	}
}

// Reason says in a few words why an API call failed: forbidden, not found, unauthorized, or the error.
func Reason(err error) string { return reason(err) }

// reason says in a few words why an API call failed.
func reason(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "forbidden"
	case apierrors.IsNotFound(err):
		return "not found"
	case apierrors.IsUnauthorized(err):
		return "unauthorized"
	}
	return err.Error()
}
