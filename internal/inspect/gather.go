package inspect

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// PageSize is the number of objects asked for per LIST request.
const PageSize = 500

// Clients are the API clients the inventory reads through.
type Clients struct {
	Kube      kubernetes.Interface
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
	// CoreREST, when set, is the core/v1 REST client pods are paged through as raw bytes and
	// decoded lean; without it (client-go fakes) the typed client is used.
	CoreREST rest.Interface
}

// Options say what to gather.
type Options struct {
	// Namespace is the namespace to fall back to when pods cannot be listed cluster-wide.
	Namespace string
	// NodeSelector limits the nodes shown (pods are still read for every node).
	NodeSelector string
	// Progress, if set, is told how many objects of a kind have been read so far.
	Progress func(kind string, n int)
	// skipPods leaves pods to the caller (who looks them up by address).
	skipPods bool
}

type gatherer struct {
	rest      rest.Interface
	kube      kubernetes.Interface
	dynamic   dynamic.Interface
	discovery discovery.DiscoveryInterface
	opts      Options
}

// Gather reads nodes, pods and the network plugin's evidence, all at once. Listing nodes or pods
// being forbidden is not an error: the inventory says so in Notes and does what it can.
func Gather(ctx context.Context, c Clients, opts Options) (*Inventory, error) {
	g := &gatherer{rest: c.CoreREST, kube: c.Kube, dynamic: c.Dynamic, discovery: c.Discovery, opts: opts}
	inv := &Inventory{}
	var nodesErr, podsErr error
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		inv.Nodes, nodesErr = g.listNodes(ectx)
		if nodesErr != nil && !apierrors.IsForbidden(nodesErr) {
			return nodesErr
		}
		return nil
	})
	eg.Go(func() error {
		if opts.skipPods {
			return nil
		}
		inv.Pods, podsErr = g.listPods(ectx, "")
		if apierrors.IsForbidden(podsErr) && opts.Namespace != "" {
			inv.PodsNamespace = opts.Namespace
			inv.Pods, podsErr = g.listPods(ectx, opts.Namespace)
		}
		if podsErr != nil && !apierrors.IsForbidden(podsErr) {
			return podsErr
		}
		return nil
	})
	eg.Go(func() error {
		inv.Evidence = g.gatherEvidence(ectx)
		return nil
	})
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if apierrors.IsForbidden(podsErr) {
		if inv.PodsNamespace != "" {
			inv.Notes = append(inv.Notes, fmt.Sprintf("cannot list pods, not even in namespace %s (forbidden): pod counts are unknown; ask for 'list pods' RBAC", inv.PodsNamespace))
		} else {
			inv.Notes = append(inv.Notes, "cannot list pods (forbidden): pod counts are unknown; ask for 'list pods' RBAC")
		}
		inv.Pods = nil
	} else if inv.PodsNamespace != "" {
		inv.Notes = append(inv.Notes, fmt.Sprintf("cannot list pods in all namespaces (forbidden): showing pods of namespace %s only", inv.PodsNamespace))
	}
	if apierrors.IsForbidden(nodesErr) {
		inv.Nodes = nodesFromPods(inv.Pods)
		inv.Notes = append(inv.Notes, "cannot list nodes (forbidden): nodes are derived from their pods (spec.nodeName, status.hostIPs); pod CIDRs, conditions and annotations are unknown")
	}
	if len(inv.Evidence.Unknown) > 0 {
		inv.Notes = append(inv.Notes, "could not read: "+strings.Join(inv.Evidence.Unknown, "; "))
	}
	return inv, nil
}

func (g *gatherer) listNodes(ctx context.Context) ([]Node, error) {
	var out []Node
	cont := ""
	for {
		list, err := g.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: PageSize, Continue: cont, LabelSelector: g.opts.NodeSelector})
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			out = append(out, reduceNode(&list.Items[i]))
		}
		if g.opts.Progress != nil {
			g.opts.Progress("nodes", len(out))
		}
		if cont = list.Continue; cont == "" {
			return out, nil
		}
	}
}

// listPods pages through pods with a fetcher goroutine, so that the next page is requested while
// the previous one is decoded; only reduced pods are kept. A continue token that expires during a
// long listing (410 Gone) restarts the listing once.
func (g *gatherer) listPods(ctx context.Context, ns string) ([]Pod, error) {
	pods, err := g.listPodsOnce(ctx, ns)
	if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		pods, err = g.listPodsOnce(ctx, ns)
	}
	return pods, err
}

// podPage is one page of pods: raw bytes (lean decoding) or typed objects (fakes).
type podPage struct {
	raw       []byte
	typed     *corev1.PodList
	remaining int64
}

func (g *gatherer) listPodsOnce(ctx context.Context, ns string) ([]Pod, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan podPage, 1)
	errc := make(chan error, 1)
	go func() {
		defer close(pages)
		cont := ""
		for {
			page, next, err := g.fetchPodPage(ctx, ns, cont)
			if err != nil {
				errc <- err
				return
			}
			select {
			case pages <- page:
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
			if cont = next; cont == "" {
				return
			}
		}
	}()
	in := newInterner()
	var out []Pod
	var err error
	for page := range pages {
		if out == nil && page.remaining >= 0 {
			out = make([]Pod, 0, PageSize+int(page.remaining))
		}
		if page.typed != nil {
			for i := range page.typed.Items {
				out = append(out, reducePod(&page.typed.Items[i], in))
			}
		} else if out, err = decodePodPage(page.raw, in, out); err != nil {
			return nil, err
		}
		if g.opts.Progress != nil {
			g.opts.Progress("pods", len(out))
		}
	}
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	return out, nil
}

func (g *gatherer) fetchPodPage(ctx context.Context, ns, cont string) (podPage, string, error) {
	if g.rest == nil {
		list, err := g.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{Limit: PageSize, Continue: cont})
		if err != nil {
			return podPage{}, "", err
		}
		rem := int64(-1)
		if list.RemainingItemCount != nil {
			rem = *list.RemainingItemCount
		}
		return podPage{typed: list, remaining: rem}, list.Continue, nil
	}
	req := g.rest.Get().Resource("pods").Param("limit", strconv.Itoa(PageSize))
	if ns != "" {
		req = req.Namespace(ns)
	}
	if cont != "" {
		req = req.Param("continue", cont)
	}
	body, err := req.Do(ctx).Raw()
	if err != nil {
		return podPage{}, "", err
	}
	meta, err := pageMeta(body)
	if err != nil {
		return podPage{}, "", fmt.Errorf("reading a page of pods: %w", err)
	}
	return podPage{raw: body, remaining: meta.remaining}, meta.cont, nil
}

type interner map[string]string

func newInterner() interner { return interner{} }

func (in interner) getBytes(b []byte) string {
	if v, ok := in[string(b)]; ok {
		return v
	}
	s := string(b)
	in[s] = s
	return s
}

func (in interner) get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

func reducePod(p *corev1.Pod, in interner) Pod {
	r := Pod{Namespace: in.get(p.Namespace), Name: p.Name, Node: in.get(p.Spec.NodeName), HostNetwork: p.Spec.HostNetwork, Phase: p.Status.Phase}
	for _, ip := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			r.IPs = append(r.IPs, a)
		}
	}
	if len(r.IPs) == 0 && p.Status.PodIP != "" {
		if a, err := netip.ParseAddr(p.Status.PodIP); err == nil {
			r.IPs = append(r.IPs, a)
		}
	}
	for _, ip := range p.Status.HostIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			r.HostIPs = append(r.HostIPs, a)
		}
	}
	if len(r.HostIPs) == 0 && p.Status.HostIP != "" {
		if a, err := netip.ParseAddr(p.Status.HostIP); err == nil {
			r.HostIPs = append(r.HostIPs, a)
		}
	}
	return r
}

// networkAnnotationPrefixes are the node annotations network plugins write; others are dropped.
var networkAnnotationPrefixes = []string{"projectcalico.org/", "flannel.alpha.coreos.com/", "node.antrea.io/", "network.cilium.io/", "io.cilium.network/", "kube-router.io/"}

func reduceNode(n *corev1.Node) Node {
	r := Node{Name: n.Name, Unschedulable: n.Spec.Unschedulable, ProviderID: n.Spec.ProviderID, Labels: n.Labels,
		Kernel: n.Status.NodeInfo.KernelVersion, Runtime: n.Status.NodeInfo.ContainerRuntimeVersion,
		OSImage: n.Status.NodeInfo.OSImage, OS: n.Status.NodeInfo.OperatingSystem, Ready: "Unknown"}
	r.Zone = n.Labels[corev1.LabelTopologyZone]
	if r.Zone == "" {
		r.Zone = n.Labels[corev1.LabelFailureDomainBetaZone]
	}
	r.InstanceType = n.Labels[corev1.LabelInstanceTypeStable]
	if r.InstanceType == "" {
		r.InstanceType = n.Labels[corev1.LabelInstanceType]
	}
	if r.OS == "" {
		r.OS = n.Labels[corev1.LabelOSStable]
	}
	for k, v := range n.Annotations {
		for _, p := range networkAnnotationPrefixes {
			if strings.HasPrefix(k, p) {
				if r.Annotations == nil {
					r.Annotations = map[string]string{}
				}
				r.Annotations[k] = v
			}
		}
	}
	for _, a := range n.Status.Addresses {
		ip, err := netip.ParseAddr(a.Address)
		if err != nil {
			continue
		}
		switch a.Type {
		case corev1.NodeInternalIP:
			r.InternalIPs = append(r.InternalIPs, ip)
		case corev1.NodeExternalIP:
			r.ExternalIPs = append(r.ExternalIPs, ip)
		}
	}
	cidrs := n.Spec.PodCIDRs
	if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
		cidrs = []string{n.Spec.PodCIDR}
	}
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			r.PodCIDRs = append(r.PodCIDRs, p)
		}
	}
	for _, c := range n.Status.Conditions {
		cond := &Condition{Status: string(c.Status), Reason: c.Reason, Message: c.Message}
		switch c.Type {
		case corev1.NodeReady:
			r.ReadyCondition = cond
			switch c.Status {
			case corev1.ConditionTrue:
				r.Ready = "Ready"
			case corev1.ConditionFalse:
				r.Ready = "NotReady"
			}
		case corev1.NodeNetworkUnavailable:
			r.NetworkUnavail = cond
		}
	}
	if q, ok := n.Status.Allocatable[corev1.ResourcePods]; ok {
		r.AllocatablePods = q.Value()
	}
	return r
}

// nodesFromPods derives nodes from the pods on them when nodes cannot be read: a name, and the
// node addresses pods report as their host IPs.
func nodesFromPods(pods []Pod) []Node {
	byName := map[string]*Node{}
	for i := range pods {
		p := &pods[i]
		if p.Node == "" {
			continue
		}
		n := byName[p.Node]
		if n == nil {
			n = &Node{Name: p.Node, Ready: "Unknown", FromPods: true}
			byName[p.Node] = n
		}
		for _, ip := range p.HostIPs {
			if !containsAddr(n.InternalIPs, ip) {
				n.InternalIPs = append(n.InternalIPs, ip)
			}
		}
	}
	out := make([]Node, 0, len(byName))
	for _, n := range byName {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// ReduceNode reduces one Node object the way the inventory does, for callers that read a single node.
func ReduceNode(n *corev1.Node) Node { return reduceNode(n) }
