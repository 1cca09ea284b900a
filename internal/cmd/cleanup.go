package cmd

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/probe"
	"github.com/podnet/kubectl-podnet/internal/render"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// CleanupOptions are the options of `kubectl podnet cleanup`.
type CleanupOptions struct {
	*GlobalOptions
	DryRun        bool
	AllNamespaces bool
	Selector      string
	Output        string
	NoHeaders     bool

	clients  *Clients
	selector labels.Selector
	printer  render.Printer
}

// NewCmdCleanup builds `kubectl podnet cleanup`.
func NewCmdCleanup(g *GlobalOptions) *cobra.Command {
	o := &CleanupOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Delete node probe pods left behind; list probe containers",
		Long: `Delete the node probe pods (label app.kubernetes.io/managed-by=kubectl-podnet) that a killed
process left behind, in the current namespace (-n) or in all of them (-A), and list the pods that
carry podnet ephemeral containers: those cannot be removed, only the pod can be recreated.
-l narrows both to the pods it selects. Only pods this tool created are ever deleted; --dry-run
deletes nothing. Needs 'list' and 'delete' on pods.`,
		Example: `  kubectl podnet cleanup --dry-run -A
  kubectl podnet cleanup -n podnet-system
  kubectl podnet cleanup -n shop -l app=web -o name`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.DryRun, "dry-run", false, "only list what would be deleted")
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "look in every namespace, not only the current one")
	f.StringVarP(&o.Selector, "selector", "l", "", "only pods matching this label selector (e.g. app=web, or podnet.dev/probe=node)")
	f.StringVarP(&o.Output, "output", "o", "", outputHelp())
	f.BoolVar(&o.NoHeaders, "no-headers", false, "print the tables without their header lines")
	return cmd
}

// Complete checks the flags and builds the clients.
func (o *CleanupOptions) Complete() error {
	var err error
	if o.selector, err = labels.Parse(o.Selector); err != nil {
		return fmt.Errorf("invalid -l %q: %v: give a label selector such as app=web or 'tier in (web,api)'", o.Selector, err)
	}
	if o.printer, err = parseOutput(o.Output, o.NoHeaders); err != nil {
		return err
	}
	if o.clients, err = o.NewClients(o.ConfigFlags); err != nil {
		return err
	}
	if o.AllNamespaces && o.clients.NamespaceExplicit {
		return fmt.Errorf("-A and -n %s do not go together: -A looks in every namespace", o.clients.Namespace)
	}
	return nil
}

// Run deletes the leftovers and reports pods with probe containers.
func (o *CleanupOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	ns, where := o.clients.Namespace, "in namespace "+o.clients.Namespace
	if o.AllNamespaces {
		ns, where = "", "in any namespace"
	}
	rep := &report.Cleanup{Namespace: ns, DryRun: o.DryRun, ProbePods: []report.CleanupPod{}, ProbeContainers: []report.ProbeContainerPod{}}
	managed, _ := labels.Parse(probe.ManagedByLabel + "=" + probe.ManagedBy)
	reqs, _ := o.selector.Requirements()
	left, err := o.clients.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: managed.Add(reqs...).String()})
	if err != nil {
		if apierrors.IsForbidden(err) && o.AllNamespaces {
			return fmt.Errorf("cannot list pods in all namespaces (forbidden): you need 'list pods' cluster-wide; without -A cleanup looks in namespace %s only", o.clients.Namespace)
		}
		return o.apiErrorFor(o.clients, err)
	}
	var failed []string
	for _, p := range left.Items {
		cp := report.CleanupPod{Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName, Age: time.Since(p.CreationTimestamp.Time).Round(time.Second).String(), Action: report.ActionWouldDelete}
		if !o.DryRun {
			cp.Action = report.ActionDeleted
			switch err := o.clients.Kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &p.UID}}); {
			case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
				cp.Action = report.ActionAlreadyGone
			case err != nil:
				cp.Action, cp.Reason = report.ActionNotDeleted, cluster.Reason(err)
				failed = append(failed, p.Namespace+"/"+p.Name)
			}
		}
		rep.ProbePods = append(rep.ProbePods, cp)
	}
	if err := o.probeContainers(cmd, ns, rep); err != nil {
		return err
	}
	if err := o.print(rep, where); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not delete %s: you need 'delete pods' there", strings.Join(failed, ", "))
	}
	return incomplete(rep.Unknown)
}

// probeContainers walks the pods page by page, keeping those with probe containers.
func (o *CleanupOptions) probeContainers(cmd *cobra.Command, ns string, rep *report.Cleanup) error {
	cont := ""
	for {
		list, err := o.clients.Kube.CoreV1().Pods(ns).List(cmd.Context(), metav1.ListOptions{Limit: 500, Continue: cont, LabelSelector: o.selector.String()})
		if err != nil {
			if e := o.apiErrorFor(o.clients, err); isServerError(e) {
				return e
			}
			rep.Unknown = append(rep.Unknown, "the pods that carry probe containers ("+cluster.Reason(err)+")")
			return nil
		}
		for i := range list.Items {
			if n := probe.CountProbeContainers(&list.Items[i]); n > 0 {
				rep.ProbeContainers = append(rep.ProbeContainers, report.ProbeContainerPod{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name, Containers: n})
			}
		}
		if cont = list.Continue; cont == "" {
			return nil
		}
	}
}

func (o *CleanupOptions) print(rep *report.Cleanup, where string) error {
	if o.printer != nil {
		return o.printer.Print(o.Streams.Out, render.Printable{Report: rep, Kind: "pod", Items: rep.ProbePods})
	}
	if err := render.Cleanup(o.Streams.Out, rep, o.NoHeaders); err != nil {
		return err
	}
	// what is said about the data goes beside it, so that stdout stays the tables alone
	pal := render.NewPalette(o.Streams.ErrOut, o.Color)
	if len(rep.ProbePods) == 0 {
		fmt.Fprintf(o.Streams.ErrOut, "no node probe pods left behind %s\n", where)
	}
	if len(rep.ProbeContainers) > 0 {
		render.Notes(o.Streams.ErrOut, []string{"ephemeral containers cannot be removed: recreate the pod to get rid of them"}, pal)
	}
	render.Notes(o.Streams.ErrOut, prefixedNotes("could not read: ", rep.Unknown), pal)
	return nil
}

func prefixedNotes(prefix string, items []string) []string {
	out := make([]string, 0, len(items))
	for _, i := range items {
		out = append(out, prefix+i)
	}
	return out
}

func isServerError(err error) bool {
	var se *serverError
	return err != nil && errors.As(err, &se)
}
