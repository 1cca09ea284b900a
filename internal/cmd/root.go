// Package cmd holds the cobra commands of kubectl-podnet. Each command is a constructor and an
// options struct with Complete, Validate and Run; the work is done by the engine packages.
package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// GlobalOptions are the flags every subcommand shares.
type GlobalOptions struct {
	ConfigFlags *genericclioptions.ConfigFlags
	Streams     genericiooptions.IOStreams
	Color       string
	// NewClients builds the API clients; tests swap it.
	NewClients ClientFactory
}

// NewCmdRoot builds `kubectl podnet` with every subcommand.
func NewCmdRoot(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdRoot(flags, streams, NewClientsFromFlags)
}

// newCmdRoot is NewCmdRoot with the client factory given, so that tests can use fakes.
func newCmdRoot(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams, clients ClientFactory) *cobra.Command {
	g := &GlobalOptions{ConfigFlags: flags, Streams: streams, Color: "auto", NewClients: clients}
	cmd := &cobra.Command{
		Use:   "podnet",
		Short: "Make Kubernetes pod networking visible",
		Long: `kubectl podnet shows how a cluster's pod network is built: node and pod addresses, pod CIDRs,
tunnels and the network model (kubenet, Flannel, Calico, Cilium, AWS VPC CNI, Azure CNI, Antrea),
and flags what looks wrong.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl podnet"},
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
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
	cmd.AddCommand(NewCmdNodes(g), NewCmdSummary(g), NewCmdWho(g), NewCmdDNS(g), NewCmdCIDRUsage(g), NewCmdIP(g), NewCmdTrace(g), NewCmdCleanup(g), NewCmdVersion(g))
	cmd.InitDefaultCompletionCmd()
	g.addCompletions(cmd)
	return cmd
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
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}
