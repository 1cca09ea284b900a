package cmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/probe"
	"github.com/podnet/kubectl-podnet/internal/render"
)

// CleanupOptions are the options of `kubectl podnet cleanup`.
type CleanupOptions struct {
	*GlobalOptions
	DryRun bool

	clients *Clients
}

// NewCmdCleanup builds `kubectl podnet cleanup`.
func NewCmdCleanup(g *GlobalOptions) *cobra.Command {
	o := &CleanupOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Delete node probe pods left behind and list pods carrying podnet ephemeral containers",
		Long: `Delete the node probe pods (label app.kubernetes.io/managed-by=kubectl-podnet) that a killed
process left behind, in every namespace you may list (else the current one), and report the pods
that carry podnet ephemeral containers: those cannot be removed, only the pod can be recreated.`,
		Example: `  kubectl podnet cleanup --dry-run
  kubectl podnet cleanup`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.NewClients(o.ConfigFlags)
			if err != nil {
				return err
			}
			o.clients = c
			return o.Run(cmd)
		},
	}
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "only list what would be deleted")
	return cmd
}

// Run deletes the leftovers and reports pods with probe containers.
func (o *CleanupOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	left, err := probe.Leftovers(ctx, o.clients.Kube, o.clients.Namespace)
	if err != nil {
		if apierrors.IsForbidden(err) {
			return fmt.Errorf("cannot list pods: you need 'list pods' (cluster-wide, or in namespace %s)", o.clients.Namespace)
		}
		return o.apiErrorFor(o.clients, err)
	}
	verb := "deleted"
	if o.DryRun {
		verb = "would delete"
	}
	var rows [][]string
	var failed []string
	for _, p := range left {
		state := verb
		if !o.DryRun {
			err := o.clients.Kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
			if err != nil && !apierrors.IsNotFound(err) {
				state = "not deleted: " + cluster.Reason(err)
				failed = append(failed, p.Namespace+"/"+p.Name)
			}
		}
		rows = append(rows, []string{p.Namespace, p.Name, dashStr(p.Spec.NodeName), time.Since(p.CreationTimestamp.Time).Round(time.Second).String(), state})
	}
	if len(rows) == 0 {
		fmt.Fprintln(o.Streams.Out, "no node probe pods left behind")
	} else if err := render.Table(o.Streams.Out, []string{"NAMESPACE", "POD", "NODE", "AGE", "ACTION"}, rows, false); err != nil {
		return err
	}
	// pods with probe containers: a paged walk over pods, keeping only what matters
	rows = nil
	cont := ""
	for {
		list, err := o.clients.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 500, Continue: cont})
		if err != nil {
			fmt.Fprintf(o.Streams.ErrOut, "note: cannot list pods in all namespaces to find probe containers: %s\n", cluster.Reason(err))
			break
		}
		for i := range list.Items {
			if n := probe.CountProbeContainers(&list.Items[i]); n > 0 {
				rows = append(rows, []string{list.Items[i].Namespace, list.Items[i].Name, fmt.Sprint(n)})
			}
		}
		if cont = list.Continue; cont == "" {
			break
		}
	}
	if len(rows) > 0 {
		fmt.Fprintln(o.Streams.Out)
		if err := render.Table(o.Streams.Out, []string{"NAMESPACE", "POD WITH PROBE CONTAINERS", "COUNT"}, rows, false); err != nil {
			return err
		}
		fmt.Fprintln(o.Streams.Out, "(ephemeral containers cannot be removed: recreate the pod to get rid of them)")
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not delete %s: you need 'delete pods' there", strings.Join(failed, ", "))
	}
	return nil
}

func dashStr(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
