package cmd

import (
	"strings"

	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// completeOutputs completes -o with the formats a command offers.
func completeOutputs(formats ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var match []string
		for _, f := range formats {
			if strings.HasPrefix(f, toComplete) {
				match = append(match, f)
			}
		}
		return match, cobra.ShellCompDirectiveNoFileComp
	}
}

// completePods completes pod names of the current namespace (-n, or the kubeconfig's), and with
// withNodes also node/NAME.
func (g *GlobalOptions) completePods(withNodes bool) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		c, err := g.NewClients(g.ConfigFlags)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		if withNodes && (strings.HasPrefix("node/", toComplete) || strings.HasPrefix(toComplete, "node/")) {
			if nodes, err := c.Kube.CoreV1().Nodes().List(cmd.Context(), metav1.ListOptions{}); err == nil {
				for _, n := range nodes.Items {
					out = append(out, "node/"+n.Name)
				}
			}
		}
		if !strings.HasPrefix(toComplete, "node/") {
			if pods, err := c.Kube.CoreV1().Pods(c.Namespace).List(cmd.Context(), metav1.ListOptions{}); err == nil {
				for _, p := range pods.Items {
					out = append(out, p.Name)
				}
			}
		}
		var match []string
		for _, o := range out {
			if strings.HasPrefix(o, toComplete) {
				match = append(match, o)
			}
		}
		return match, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeNothing says an argument-less command takes no file names.
func completeNothing(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// addCompletions wires the dynamic completions onto the subcommands.
func (g *GlobalOptions) addCompletions(root *cobra.Command) {
	// each command's own formats, then kubectl's printers
	own := map[string][]string{"nodes": {"wide"}, "summary": nil, "who": nil, "dns": nil, "cidr-usage": {"prometheus"}, "ip": nil, "trace": {"dot", "mermaid"}}
	var printers []string
	for _, f := range render.PrinterFormats {
		printers = append(printers, strings.TrimSuffix(f, "...")) // "jsonpath=..." completes as "jsonpath="
	}
	for _, c := range root.Commands() {
		if f, ok := own[c.Name()]; ok {
			_ = c.RegisterFlagCompletionFunc("output", completeOutputs(append(append([]string(nil), f...), printers...)...))
		}
		switch c.Name() {
		case "ip", "trace":
			c.ValidArgsFunction = g.completePods(true)
		case "dns":
			c.ValidArgsFunction = g.completePods(false)
		case "nodes", "summary", "cidr-usage", "cleanup", "version":
			c.ValidArgsFunction = completeNothing
		}
	}
	_ = root.RegisterFlagCompletionFunc("color", completeOutputs("auto", "always", "never"))
	for _, c := range root.Commands() {
		if c.Name() == "nodes" {
			_ = c.RegisterFlagCompletionFunc("sort-by", completeOutputs(nodesSortKeys...))
		}
	}
}
