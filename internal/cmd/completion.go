package cmd

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/render"
)

type completeFunc func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// completionTimeout bounds the API reads of one completion when --request-timeout is not set: a
// shell waiting on an unreachable server is worse than no candidates.
const completionTimeout = 5 * time.Second

// completeWords completes with the words that start with what was typed.
func completeWords(words ...string) completeFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return matching(words, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

func matching(words []string, prefix string) []string {
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			out = append(out, w)
		}
	}
	return out
}

// directive is NoFileComp, and NoSpace when every candidate is a prefix ending in '/' (pod/,
// NAMESPACE/): the user goes on typing the name.
func directive(cands []string) cobra.ShellCompDirective {
	if len(cands) == 0 {
		return cobra.ShellCompDirectiveNoFileComp
	}
	for _, c := range cands {
		if !strings.HasSuffix(c, "/") {
			return cobra.ShellCompDirectiveNoFileComp
		}
	}
	return cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// lister lists the names of one resource in a namespace ("" for cluster-scoped ones).
type lister func(ctx context.Context, c *Clients, ns string) ([]string, error)

func names[T any, P interface {
	*T
	GetName() string
}](items []T) []string {
	out := make([]string, 0, len(items))
	for i := range items {
		out = append(out, P(&items[i]).GetName())
	}
	return out
}

// listers are the resources the target prefixes complete, by kind as typeAliases name them.
var listers = map[string]lister{
	"pod": func(ctx context.Context, c *Clients, ns string) ([]string, error) {
		l, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return names(l.Items), nil
	},
	"node": func(ctx context.Context, c *Clients, _ string) ([]string, error) {
		l, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return names(l.Items), nil
	},
	"service": func(ctx context.Context, c *Clients, ns string) ([]string, error) {
		l, err := c.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return names(l.Items), nil
	},
	"deployment": func(ctx context.Context, c *Clients, ns string) ([]string, error) {
		l, err := c.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return names(l.Items), nil
	},
	"statefulset": func(ctx context.Context, c *Clients, ns string) ([]string, error) {
		l, err := c.Kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return names(l.Items), nil
	},
	"daemonset": func(ctx context.Context, c *Clients, ns string) ([]string, error) {
		l, err := c.Kube.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return names(l.Items), nil
	},
	"replicaset": func(ctx context.Context, c *Clients, ns string) ([]string, error) {
		l, err := c.Kube.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return names(l.Items), nil
	},
	"job": func(ctx context.Context, c *Clients, ns string) ([]string, error) {
		l, err := c.Kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return names(l.Items), nil
	},
	"namespace": func(ctx context.Context, c *Clients, _ string) ([]string, error) {
		l, err := c.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return names(l.Items), nil
	},
}

// completionContext is the command's context bounded for a completion.
func (g *GlobalOptions) completionContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if t := g.ConfigFlags.Timeout; t != nil && *t != "" && *t != "0" {
		return context.WithCancel(ctx) // client-go bounds each request
	}
	return context.WithTimeout(ctx, completionTimeout)
}

// list lists one kind's names; a failed read completes nothing (a shell has nowhere to say why).
func (g *GlobalOptions) list(cmd *cobra.Command, kind, ns string) []string {
	c, err := g.NewClients(g.ConfigFlags)
	if err != nil {
		return nil
	}
	if ns == "" && kind != "node" && kind != "namespace" {
		ns = c.Namespace
	}
	ctx, cancel := g.completionContext(cmd)
	defer cancel()
	out, err := listers[kind](ctx, c, ns)
	if err != nil {
		return nil
	}
	sort.Strings(out)
	return out
}

// completeTargets completes the target arguments of ip, trace and dns: pods of the current
// namespace (-n, or the kubeconfig's), the TYPE/ prefixes given, TYPE/NAME for each, NAMESPACE/
// and NAMESPACE/POD. With no prefixes only pods complete (NAME and NAMESPACE/NAME).
func (g *GlobalOptions) completeTargets(prefixes ...string) completeFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if typ, rest, ok := strings.Cut(toComplete, "/"); ok {
			if strings.Contains(rest, "/") {
				return nil, cobra.ShellCompDirectiveNoFileComp // svc/NS/NAME: not completed
			}
			if t, known := typeAliases[strings.ToLower(typ)]; known && contains(prefixes, typ+"/") {
				kind := string(t.kind)
				if t.kind == refWorkload {
					kind = t.resource
				}
				var out []string
				for _, n := range g.list(cmd, kind, "") {
					out = append(out, typ+"/"+n)
				}
				cands := matching(out, toComplete)
				return cands, directive(cands)
			}
			var out []string // NAMESPACE/POD
			for _, n := range g.list(cmd, "pod", typ) {
				out = append(out, typ+"/"+n)
			}
			cands := matching(out, toComplete)
			return cands, directive(cands)
		}
		cands := matching(g.list(cmd, "pod", ""), toComplete)
		cands = append(cands, matching(prefixes, toComplete)...)
		if toComplete != "" { // NAMESPACE/ once a letter narrows them down
			for _, ns := range g.list(cmd, "namespace", "") {
				if strings.HasPrefix(ns, toComplete) {
					cands = append(cands, ns+"/")
				}
			}
		}
		return cands, directive(cands)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// completeKubeconfig completes --context, --cluster and --user from the kubeconfig.
func (g *GlobalOptions) completeKubeconfig(what string) completeFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		raw, err := g.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		switch what {
		case "context":
			for n := range raw.Contexts {
				out = append(out, n)
			}
		case "cluster":
			for n := range raw.Clusters {
				out = append(out, n)
			}
		case "user":
			for n := range raw.AuthInfos {
				out = append(out, n)
			}
		}
		sort.Strings(out)
		return matching(out, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeContextList completes the last name of a comma-separated list of kubeconfig contexts
// (--contexts), leaving out those already named.
func (g *GlobalOptions) completeContextList(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	names, dir := g.completeKubeconfig("context")(cmd, args, last)
	var out []string
	for _, n := range names {
		if !slices.Contains(strings.Split(done, ","), n) {
			out = append(out, done+n)
		}
	}
	return out, dir
}

// completeNodeList completes the last name of a comma-separated list of nodes.
func (g *GlobalOptions) completeNodeList(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []string
	for _, n := range matching(g.list(cmd, "node", ""), last) {
		if !slices.Contains(strings.Split(done, ","), n) {
			out = append(out, done+n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeNothing says an argument-less command takes no file names.
func completeNothing(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// workloadPrefixes are the TYPE/ prefixes of the workloads ip and trace take.
var workloadPrefixes = []string{"deploy/", "sts/", "ds/", "job/", "rs/"}

// addCompletions wires the dynamic completions onto the commands and the global flags.
func (g *GlobalOptions) addCompletions(root *cobra.Command) {
	// each command's own formats, then kubectl's printers
	own := map[string][]string{"nodes": {"wide"}, "summary": nil, "who": nil, "dns": nil, "cidr-usage": {"prometheus"}, "ip": nil, "trace": {"dot", "mermaid"}, "cleanup": nil, "overlap": nil}
	var printers []string
	for _, f := range render.PrinterFormats {
		printers = append(printers, strings.TrimSuffix(f, "...")) // "jsonpath=..." completes as "jsonpath="
	}
	for _, c := range root.Commands() {
		if f, ok := own[c.Name()]; ok && c.Flags().Lookup("output") != nil {
			_ = c.RegisterFlagCompletionFunc("output", completeWords(append(append([]string(nil), f...), printers...)...))
		}
		switch c.Name() {
		case "ip":
			c.ValidArgsFunction = g.completeTargets(append([]string{"pod/", "node/"}, workloadPrefixes...)...)
		case "trace":
			c.ValidArgsFunction = g.completeTargets(append([]string{"pod/", "node/", "svc/"}, workloadPrefixes...)...)
		case "dns":
			c.ValidArgsFunction = g.completeTargets()
		case "nodes", "summary", "cidr-usage", "overlap", "cleanup", "version", "options":
			c.ValidArgsFunction = completeNothing
		}
		if c.Flags().Lookup("contexts") != nil {
			_ = c.RegisterFlagCompletionFunc("contexts", g.completeContextList)
		}
		if c.Name() == "nodes" {
			_ = c.RegisterFlagCompletionFunc("sort-by", completeWords(nodesSortKeys...))
		}
	}
	_ = root.RegisterFlagCompletionFunc("color", completeWords("auto", "always", "never"))
	_ = root.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return matching(g.list(cmd, "namespace", ""), toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	for _, f := range []string{"context", "cluster", "user"} {
		_ = root.RegisterFlagCompletionFunc(f, g.completeKubeconfig(f))
	}
}
