package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/podnet/kubectl-podnet/internal/version"
)

// NewCmdVersion builds `kubectl podnet version`.
func NewCmdVersion(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of kubectl-podnet",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(g.Streams.Out, "kubectl-podnet %s (commit %s, built %s)\n", version.Version, version.Commit, version.Date)
			return err
		},
	}
}
