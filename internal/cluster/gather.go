package cluster

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/pager"
	"k8s.io/klog/v2"
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
	// SkipPods leaves pods to the caller (who looks them up by address).
	SkipPods bool
	// PodRead chooses how pods are read; "" is PodReadAuto.
	PodRead PodRead
	// ClusterIPs and DNS also read the allocated ClusterIPs (cidr-usage) and the cluster DNS
	// (summary) into the inventory, right after the evidence they depend on, while pods are still
	// being read: nothing waits for them at the end.
	ClusterIPs, DNS bool
	// Claims also reads the IPAM stores' claims, address by address: ClaimsAddresses those that
	// name the pod of each address (cidr-usage counts the leaked), ClaimsAll also Calico's handles
	// and block affinities (ipam check).
	Claims ClaimsLevel
}

// ClaimsLevel says how much of the IPAM stores' claims a run reads.
type ClaimsLevel int

// Claims levels.
const (
	ClaimsNone ClaimsLevel = iota
	ClaimsAddresses
	ClaimsAll
)

type gatherer struct {
	rest      rest.Interface
	kube      kubernetes.Interface
	dynamic   dynamic.Interface
	discovery discovery.DiscoveryInterface
	opts      Options

	// lists keeps the IPAM objects the evidence listed when the claims read them too: each is
	// listed once per run
	mu    sync.Mutex
	lists map[schema.GroupVersionResource]listed
}

type listed struct {
	list *unstructured.UnstructuredList
	err  error
}

// listIPAM lists an IPAM store's objects, once per run when the claims are read as well.
func (g *gatherer) listIPAM(ctx context.Context, gvr schema.GroupVersionResource) (*unstructured.UnstructuredList, error) {
	if g.opts.Claims == ClaimsNone {
		return g.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if l, ok := g.lists[gvr]; ok {
		return l.list, l.err
	}
	l, err := g.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
	if g.lists == nil {
		g.lists = map[schema.GroupVersionResource]listed{}
	}
	g.lists[gvr] = listed{l, err}
	return l, err
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
		if opts.SkipPods {
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
		if opts.ClusterIPs {
			inv.ClusterIPs = ReadClusterIPs(ectx, c, &inv.Evidence)
		}
		if opts.Claims != ClaimsNone {
			inv.Claims = g.readClaims(ectx, &inv.Evidence)
		}
		if opts.DNS {
			var err error
			if inv.DNS, err = GatherDNS(ectx, c.Kube, &inv.Evidence); err != nil {
				return err
			}
		}
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
		inv.PodsUnknown = inv.PodsNamespace == ""
	} else if inv.PodsNamespace != "" {
		inv.Notes = append(inv.Notes, fmt.Sprintf("cannot list pods in all namespaces (forbidden): showing pods of namespace %s only", inv.PodsNamespace))
	}
	if apierrors.IsForbidden(nodesErr) {
		inv.Nodes, inv.NodesUnknown = nodesFromPods(inv.Pods), true
		inv.Notes = append(inv.Notes, "cannot list nodes (forbidden): nodes are derived from their pods (spec.nodeName, status.hostIPs); pod CIDRs, conditions and annotations are unknown")
	}
	if len(inv.Evidence.Unknown) > 0 {
		inv.Notes = append(inv.Notes, "could not read: "+strings.Join(inv.Evidence.Unknown, "; "))
	}
	return inv, nil
}

func (g *gatherer) listNodes(ctx context.Context) ([]Node, error) {
	if g.rest != nil {
		nodes, err := g.pageNodes(ctx)
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			nodes, err = g.pageNodes(ctx) // the continue token expired: once more from the start
		}
		return nodes, err
	}
	var out []Node
	p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return g.kube.CoreV1().Nodes().List(ctx, opts)
	})
	p.PageSize = PageSize
	opts := metav1.ListOptions{LabelSelector: g.opts.NodeSelector}
	err := p.EachListItem(ctx, opts, func(obj runtime.Object) error {
		out = append(out, reduceNode(obj.(*corev1.Node)))
		if g.opts.Progress != nil && len(out)%PageSize == 0 {
			g.opts.Progress("nodes", len(out))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if g.opts.Progress != nil {
		g.opts.Progress("nodes", len(out))
	}
	return out, nil
}

// PodRead is how pods are read.
type PodRead string

// Pod reads: Auto streams a cluster with more than StreamAbove pods and pages a smaller one.
const (
	PodReadAuto   PodRead = "auto"
	PodReadStream PodRead = "stream"
	PodReadPaged  PodRead = "paged"
)

// StreamAbove is the pod count from which a watch-list stream beats paging (make bench). Below it
// the stream's fixed cost dominates: the API server sends the bookmark that ends the initial events
// on its next bookmark tick, up to a second after the last pod.
const StreamAbove = 20000

// minWatchListMinor is the first Kubernetes minor that knows sendInitialEvents; older servers
// ignore the parameter and would send a plain watch, whose initial events never end.
const minWatchListMinor = 27

// listPods reads the pods of namespace ns ("" for all). The first page of a paged LIST says how
// many there are; past StreamAbove the rest comes from one watch-list stream (podstream.go), else
// the paging goes on. A stream the server refuses (an older server, the WatchList feature off,
// 'watch' forbidden where 'list' is allowed) or that fails falls back to paging; -v 4 says which
// read was used.
func (g *gatherer) listPods(ctx context.Context, ns string) ([]Pod, error) {
	if g.rest == nil || g.opts.PodRead == PodReadPaged {
		klog.V(4).Infof("pods: reading them in pages of %d", PageSize)
		return g.pagePods(ctx, ns, nil)
	}
	if g.opts.PodRead == PodReadStream {
		return g.streamOrPage(ctx, ns, nil)
	}
	first, err := g.firstPodPage(ctx, ns)
	if err != nil {
		return nil, err
	}
	if first.cont == "" {
		klog.V(4).Infof("pods: %d, all in the first page", len(first.items))
		return first.items, nil
	}
	if first.remaining <= StreamAbove {
		klog.V(4).Infof("pods: %s, reading them in pages of %d", countText(first.remaining), PageSize)
		return g.pagePods(ctx, ns, &first)
	}
	return g.streamOrPage(ctx, ns, &first)
}

// streamOrPage reads the pods through a watch-list stream, and pages (on from first, when given)
// where the server cannot or will not stream.
func (g *gatherer) streamOrPage(ctx context.Context, ns string, first *firstPage) ([]Pod, error) {
	if why := g.noWatchList(); why != "" {
		klog.V(4).Infof("pods: reading them in pages: %s", why)
		return g.pagePods(ctx, ns, first)
	}
	hint := 0
	if first != nil {
		hint = int(max(first.remaining, 0)) + len(first.items)
	}
	pods, err := g.streamPods(ctx, ns, hint)
	if err == nil {
		klog.V(4).Infof("pods: %d read through one watch-list stream", len(pods))
		return pods, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	klog.V(4).Infof("pods: the watch-list stream failed (%v); reading them in pages", err)
	return g.pagePods(ctx, ns, first)
}

func countText(remaining int64) string {
	if remaining < 0 {
		return "the server does not count them"
	}
	return fmt.Sprintf("about %d", remaining+PageSize)
}

// noWatchList says why the server cannot stream a watch-list, or "" when it may.
func (g *gatherer) noWatchList() string {
	if g.discovery == nil {
		return ""
	}
	v, err := g.discovery.ServerVersion()
	if err != nil {
		return "" // the stream itself will tell
	}
	var major, minor int
	if _, err := fmt.Sscanf(v.Major+"."+strings.TrimRight(v.Minor, "+"), "%d.%d", &major, &minor); err != nil {
		return ""
	}
	if major == 1 && minor < minWatchListMinor {
		return fmt.Sprintf("Kubernetes %s.%s has no watch-list", v.Major, v.Minor)
	}
	return ""
}

// firstPage is the first page of a paged pod LIST, reduced.
type firstPage struct {
	items     []Pod
	cont      string
	remaining int64
	in        interner
}

func (g *gatherer) firstPodPage(ctx context.Context, ns string) (firstPage, error) {
	page, next, err := g.fetchPodPage(ctx, ns, "")
	if err != nil {
		return firstPage{}, err
	}
	in := newInterner()
	items, err := decodePodPage(page.buf.Bytes(), in, nil)
	pageBuffers.Put(page.buf)
	if err != nil {
		return firstPage{}, err
	}
	return firstPage{items: items, cont: next, remaining: page.remaining, in: in}, nil
}

// pagePods pages through the pods, after first when it was already read. A continue token that
// expires during a long listing (410 Gone) restarts the listing once.
func (g *gatherer) pagePods(ctx context.Context, ns string, first *firstPage) ([]Pod, error) {
	pods, err := g.listPodsOnce(ctx, ns, first)
	if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		pods, err = g.listPodsOnce(ctx, ns, nil)
	}
	return pods, err
}

// podPage is one page of pods: raw bytes (lean decoding) or typed objects (fakes).
type podPage struct {
	buf       *bytes.Buffer // of pageBuffers
	typed     *corev1.PodList
	remaining int64
}

// listPodsOnce pages through pods by hand, not with tools/pager: the pager hands out decoded Pods,
// and the lean decoder (podproto.go) needs each page's raw protobuf bytes to keep the 150,000-pod
// inventory small (make bench). A fetcher goroutine requests the next page while the previous one
// is decoded; only reduced pods are kept.
func (g *gatherer) listPodsOnce(ctx context.Context, ns string, first *firstPage) ([]Pod, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan podPage, 1)
	errc := make(chan error, 1)
	cont := ""
	if first != nil {
		if cont = first.cont; cont == "" {
			return first.items, nil
		}
	}
	go func() {
		defer close(pages)
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
	if first != nil {
		in = first.in
		out = make([]Pod, 0, len(first.items)+int(max(first.remaining, 0)))
		out = append(out, first.items...)
	}
	var err error
	for page := range pages {
		if out == nil && page.remaining >= 0 {
			out = make([]Pod, 0, PageSize+int(page.remaining))
		}
		if page.typed != nil {
			for i := range page.typed.Items {
				out = append(out, reducePod(&page.typed.Items[i], in))
			}
		} else {
			out, err = decodePodPage(page.buf.Bytes(), in, out)
			pageBuffers.Put(page.buf)
			if err != nil {
				return nil, err
			}
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
	buf, err := readRaw(ctx, req)
	if err != nil {
		return podPage{}, "", err
	}
	meta, err := pageMeta(buf.Bytes())
	if err != nil {
		pageBuffers.Put(buf)
		return podPage{}, "", fmt.Errorf("reading a page of pods: %w", err)
	}
	return podPage{buf: buf, remaining: meta.remaining}, meta.cont, nil
}

// pageBuffers hold raw pages while they are decoded: a page of 500 is megabytes, and reading each
// into a fresh buffer (as Request.Raw does, doubling as it goes) allocated more than the whole
// inventory keeps.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readRaw reads a response's body into a buffer of pageBuffers; the caller puts it back when
// done. A failed request comes back as the API's error, as with Do.
func readRaw(ctx context.Context, req *rest.Request) (*bytes.Buffer, error) {
	body, err := req.Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	buf := pageBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	if _, err := buf.ReadFrom(body); err != nil {
		pageBuffers.Put(buf)
		return nil, err
	}
	return buf, nil
}
