package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/yaml"
)

func (g *gatherer) gatherEvidence(ctx context.Context) Evidence {
	ev := newEvidence()
	g.discover(ctx, ev)
	g.readDaemonSets(ctx, ev)
	g.readConfigMaps(ctx, ev)
	g.readKubernetesService(ctx, ev)
	g.readCIDREvents(ctx, ev)
	g.readCalico(ctx, ev)
	if ev.Resources[gvrKey(GVRCiliumNodes)] {
		g.readCiliumNodes(ctx, ev)
	}
	if ev.Resources[gvrKey(GVRServiceCIDRs)] {
		g.readServiceCIDRs(ctx, ev)
	}
	return *ev
}

func newEvidence() *Evidence {
	return &Evidence{CiliumNodes: map[string]*CiliumNode{}, Resources: map[string]bool{}, CIDRNotAvailable: map[string]string{}}
}

func (g *gatherer) discover(ctx context.Context, ev *Evidence) {
	_, lists, err := g.discovery.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		ev.Unknown = append(ev.Unknown, fmt.Sprintf("API discovery: %v", err))
		if transient(err) {
			ev.Transient++
		}
		ev.DiscoveryFailed = "API discovery failed: " + reason(err)
		return
	}
	var failed *discovery.ErrGroupDiscoveryFailed
	if errors.As(err, &failed) {
		ev.FailedGroups = map[string]string{}
		for gv, e := range failed.Groups {
			ev.FailedGroups[gv.String()] = "discovery of " + gv.String() + " failed: " + reason(e)
		}
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
		ev.Unknown = append(ev.Unknown, "DaemonSets: "+ev.failed(err))
		return
	}
	for _, ds := range list.Items {
		if knownDaemonSets[ds.Name] {
			ref := DaemonSetRef{Namespace: ds.Namespace, Name: ds.Name, Desired: ds.Status.DesiredNumberScheduled, Ready: ds.Status.NumberReady}
			if envDaemonSets[ds.Name] {
				// the agent's settings that change its IPAM (aws-node: prefix delegation, custom networking)
				for _, c := range ds.Spec.Template.Spec.Containers {
					for _, e := range c.Env {
						if e.ValueFrom == nil {
							if ref.Env == nil {
								ref.Env = map[string]string{}
							}
							ref.Env[e.Name] = e.Value
						}
					}
				}
			}
			ev.DaemonSets = append(ev.DaemonSets, ref)
		}
	}
	sort.Slice(ev.DaemonSets, func(i, j int) bool {
		return ev.DaemonSets[i].Namespace+"/"+ev.DaemonSets[i].Name < ev.DaemonSets[j].Namespace+"/"+ev.DaemonSets[j].Name
	})
}

// HasDaemonSet reports whether a DaemonSet of that name exists in any namespace read.
func (e *Evidence) HasDaemonSet(name string) bool {
	return e.DaemonSet(name) != nil
}

// DaemonSet is the DaemonSet of that name, nil when none was read.
func (e *Evidence) DaemonSet(name string) *DaemonSetRef {
	for i := range e.DaemonSets {
		if e.DaemonSets[i].Name == name {
			return &e.DaemonSets[i]
		}
	}
	return nil
}

func (g *gatherer) configMap(ctx context.Context, ev *Evidence, ns, name string) map[string]string {
	cm, err := g.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		ev.Unknown = append(ev.Unknown, fmt.Sprintf("ConfigMap %s/%s: %s", ns, name, ev.failed(err)))
		return nil
	}
	return cm.Data
}

// readCalico reads Calico's IPPools and IPAM blocks in each API group discovery found.
// readCalicoIPAMConfig reads maxBlocksPerHost, the limit on the blocks one node may claim.
// ReadServiceEvidence reads only what the service CIDR is known from (ServiceCIDR objects where
// discovery shows them, else kubeadm-config and the kubernetes Service), for
// netmodel.ServiceCIDRs.
func ReadServiceEvidence(ctx context.Context, c Clients) *Evidence {
	g := &gatherer{kube: c.Kube, dynamic: c.Dynamic, discovery: c.Discovery}
	ev := newEvidence()
	g.discover(ctx, ev)
	if ev.Resources[gvrKey(GVRServiceCIDRs)] {
		g.readServiceCIDRs(ctx, ev)
	}
	if len(ev.ServiceCIDRs) == 0 {
		g.readOtherConfigMaps(ctx, ev)
		g.readKubernetesService(ctx, ev)
	}
	return ev
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
	if ev.HasDaemonSet("antrea-agent") { // antrea-config is read only where Antrea runs
		ev.Antrea = g.readAntreaConfig(ctx, ev)
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

// parseCalicoBlock reads an IPAMBlock: allocations[i] is an index into attributes (or null when
// address i is free); an attribute's secondary.node names the node of the pod that holds it.
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

// addCiliumNode reads one CiliumNode object into ev.CiliumNodes.
func (g *gatherer) readServiceCIDRs(ctx context.Context, ev *Evidence) {
	list, err := g.dynamic.Resource(GVRServiceCIDRs).List(ctx, metav1.ListOptions{})
	if err != nil {
		ev.Unknown = append(ev.Unknown, "ServiceCIDRs: "+ev.failed(err))
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
			ev.Unknown = append(ev.Unknown, "Service default/kubernetes: "+ev.failed(err))
		}
		return
	}
	ev.KubernetesServiceIP, _ = netip.ParseAddr(svc.Spec.ClusterIP)
}

// readCIDREvents finds the CIDRNotAvailable events node IPAM records on nodes it could not serve.
func (g *gatherer) readCIDREvents(ctx context.Context, ev *Evidence) {
	list, err := g.kube.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "reason=CIDRNotAvailable,involvedObject.kind=Node"})
	if err != nil {
		ev.Unknown = append(ev.Unknown, "Events: "+ev.failed(err))
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

func (g *gatherer) readAntreaConfig(ctx context.Context, ev *Evidence) *AntreaConfig {
	d := g.configMap(ctx, ev, "kube-system", "antrea-config")
	if d == nil {
		return nil
	}
	c := AntreaConfig{TrafficEncapMode: "encap", TunnelType: "geneve"} // Antrea's defaults
	var conf struct {
		TrafficEncapMode        string   `json:"trafficEncapMode"`
		TunnelType              string   `json:"tunnelType"`
		TransportInterface      string   `json:"transportInterface"`
		TransportInterfaceCIDRs []string `json:"transportInterfaceCIDRs"`
	}
	if err := yaml.Unmarshal([]byte(d["antrea-agent.conf"]), &conf); err != nil {
		ev.Unknown = append(ev.Unknown, "ConfigMap kube-system/antrea-config: antrea-agent.conf does not parse")
		return &c
	}
	if conf.TrafficEncapMode != "" {
		c.TrafficEncapMode = conf.TrafficEncapMode
	}
	if conf.TunnelType != "" {
		c.TunnelType = conf.TunnelType
	}
	c.TransportInterface, c.TransportInterfaceCIDRs = conf.TransportInterface, conf.TransportInterfaceCIDRs
	return &c
}

// transient says whether a read failed for a passing reason: not RBAC, not an absent object or
// kind, not a request the server will always refuse.
func transient(err error) bool {
	switch {
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err), apierrors.IsNotFound(err),
		apierrors.IsMethodNotSupported(err), apierrors.IsBadRequest(err), apierrors.IsInvalid(err):
		return false
	}
	return true
}

// failed says why a read of evidence failed, and counts it when the reason passes.
func (e *Evidence) failed(err error) string {
	if transient(err) {
		e.Transient++
	}
	return reason(err)
}

// failed says why a read of ClusterIPs failed, and counts it when the reason passes.
func (x *ClusterIPs) failed(err error) string {
	if transient(err) {
		x.Transient++
	}
	return reason(err)
}

// failed says why a claim store could not be read, and counts it when the reason passes.
func (c *Claims) failed(err error) string {
	if transient(err) {
		c.Transient++
	}
	return reason(err)
}

// GatherEvidence reads what Gather reads beside nodes and pods: the network plugin's evidence,
// and the ClusterIPs and claims when opts asks for them. A long-running reader that follows nodes
// and pods itself (the exporter's mirrors) reads these again now and then.
func GatherEvidence(ctx context.Context, c Clients, opts Options) (Evidence, *ClusterIPs, *Claims) {
	g := &gatherer{rest: c.CoreREST, kube: c.Kube, dynamic: c.Dynamic, discovery: c.Discovery, opts: opts}
	ev := g.gatherEvidence(ctx)
	var ips *ClusterIPs
	var claims *Claims
	if opts.ClusterIPs {
		ips = ReadClusterIPs(ctx, c, &ev)
	}
	if opts.Claims != ClaimsNone {
		claims = g.readClaims(ctx, &ev)
	}
	return ev, ips, claims
}
