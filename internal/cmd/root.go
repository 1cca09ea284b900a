// Package cmd holds the cobra commands of kubectl-podnet. Each command is a constructor and an
// options struct with Complete, Validate and Run; the work is done by the engine packages.
package cmd

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
)

// GlobalOptions are the flags every subcommand shares.
type GlobalOptions struct {
	ConfigFlags *genericclioptions.ConfigFlags
	Streams     genericiooptions.IOStreams
	Color       string
	// Verbosity is client-go's log level (-v); 0 keeps its logs out of the output.
	Verbosity int
	// NewClients builds the API clients; tests swap it.
	NewClients ClientFactory
	// clients are the last clients NewClients built, for the error path.
	clients *Clients
}

// NewCmdRoot builds `kubectl podnet` with every subcommand.
func NewCmdRoot(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdRoot(flags, streams, NewClientsFromFlags)
}

// newCmdRoot is NewCmdRoot with the client factory given, so that tests can use fakes.
func newCmdRoot(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams, clients ClientFactory) *cobra.Command {
	g := &GlobalOptions{ConfigFlags: flags, Streams: streams, Color: "auto"}
	g.NewClients = func(f *genericclioptions.ConfigFlags) (*Clients, error) {
		c, err := clients(f)
		if c != nil {
			g.clients = c
		}
		return c, err
	}
	cmd := &cobra.Command{
		Use:   "kubectl-podnet",
		Short: "Make Kubernetes pod networking visible",
		Long: `kubectl podnet shows how a cluster's pod network is built: node and pod addresses, pod CIDRs,
tunnels and the network model (kubenet, Flannel, Calico, Cilium, AWS VPC CNI, Azure CNI, Antrea,
Weave), and flags what looks wrong.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl podnet"},
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if err := configureClientLogs(g.Verbosity); err != nil {
				return err
			}
			if err := checkRequestTimeout(flags); err != nil {
				return err
			}
			switch g.Color {
			case "auto", "always", "never":
				return nil
			}
			return fmt.Errorf("invalid --color %q: use auto, always or never", g.Color)
		},
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	flags.AddFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVar(&g.Color, "color", g.Color, "colour output: auto (on a terminal, unless NO_COLOR is set), always or never")
	cmd.PersistentFlags().IntVarP(&g.Verbosity, "v", "v", 0, "log level of the Kubernetes client library, as kubectl's -v (0: quiet; 6: every request; 8: bodies too)")
	cmd.AddCommand(NewCmdNodes(g), NewCmdSummary(g), NewCmdWho(g), NewCmdDNS(g), NewCmdCIDRUsage(g), NewCmdIPAM(g), NewCmdCheck(g), NewCmdIP(g), NewCmdTrace(g), NewCmdPolicy(g), NewCmdCleanup(g), NewCmdOverlap(g), NewCmdExporter(g), NewCmdVersion(g))
	for _, c := range append(cmd.Commands(), cmd) {
		c.Long = strings.TrimSpace(strings.TrimSpace(c.Long) + "\n\n" + exitCodesHelp)
		if run := c.RunE; run != nil {
			// the one error path: every command's errors become sentences the same way
			c.RunE = func(cmd *cobra.Command, args []string) error {
				return explain(run(cmd, args), g.apiServer(g.clients))
			}
		}
	}
	cmd.AddCommand(newCmdOptions(cmd))
	cmd.SetUsageTemplate(usageTemplate)
	cmd.InitDefaultCompletionCmd()
	refuseBareCompletion(cmd)
	g.addCompletions(cmd)
	return cmd
}

// configureClientLogs routes client-go's klog output. At level 0 it is discarded: a request
// cancelled because a sibling request failed makes client-go log "context canceled" at error
// level, which would stand beside the one clear error this tool prints. From 1 up it goes to
// stderr with that verbosity, for debugging as with kubectl -v.
func configureClientLogs(level int) error {
	if level < 0 {
		return fmt.Errorf("invalid -v %d: use 0 (quiet) or a positive log level", level)
	}
	if level == 0 {
		klog.SetLogger(logr.Discard())
		return nil
	}
	return klogToStderr(level)
}

// klogToStderr sends klog's output to stderr at verbosity level.
func klogToStderr(level int) error {
	klog.ClearLogger()
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	return fs.Set("v", strconv.Itoa(level))
}

// ExitError carries an exit code other than 1 (cidr-usage's threshold, for one).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the process exit code for an error returned by a command: 1 unless it says.
func ExitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.Code
	}
	return exitError
}

// usageTemplate is cobra's, without the global flags: they are the same on every command, and
// 'kubectl podnet options' lists them, as 'kubectl options' does.
const usageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Available Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if and .HasParent .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsagesWrapped 100 | trimTrailingWhitespaces}}{{end}}

Use "kubectl podnet options" for the flags every command takes (--kubeconfig, --context, -n, ...).{{if .HasAvailableSubCommands}}
Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`

// refuseBareCompletion makes 'completion' without a shell, or with one it has no script for, an
// error: cobra would print the help and exit 0, and 'source <(kubectl podnet completion)' would
// source the help text.
func refuseBareCompletion(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var shells []string
		for _, s := range c.Commands() {
			shells = append(shells, s.Name())
		}
		c.Args = cobra.ArbitraryArgs
		c.Example = `  source <(kubectl podnet completion bash)   # kubectl-podnet; kubectl_complete-podnet: kubectl podnet
  source <(kubectl podnet completion zsh)    # in ~/.zshrc, after compinit
  kubectl podnet completion fish | source`
		c.RunE = func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("completion needs a shell: give one of %s, e.g. 'source <(kubectl podnet completion bash)'", strings.Join(shells, ", "))
			}
			return fmt.Errorf("no completion script for shell %q: give one of %s", args[0], strings.Join(shells, ", "))
		}
	}
}

// newCmdOptions builds `kubectl podnet options`: the flags every command takes.
func newCmdOptions(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "options",
		Short: "List the flags every command takes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "The following options can be passed to any command:\n\n%s", root.PersistentFlags().FlagUsagesWrapped(100))
			return err
		},
	}
}
