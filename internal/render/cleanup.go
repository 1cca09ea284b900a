package render

import (
	"fmt"
	"io"

	"github.com/podnet/kubectl-podnet/internal/report"
)

// Cleanup writes the probe pods left behind and the pods with probe containers, each as a table;
// an empty list writes nothing (stdout carries data only).
func Cleanup(w io.Writer, c *report.Cleanup, noHeaders bool) error {
	var rows [][]string
	for _, p := range c.ProbePods {
		action := string(p.Action)
		if p.Reason != "" {
			action += ": " + p.Reason
		}
		rows = append(rows, []string{p.Namespace, p.Name, dash(p.Node), p.Age, action})
	}
	if len(rows) > 0 {
		if err := Table(w, []string{"NAMESPACE", "PROBE POD", "NODE", "AGE", "ACTION"}, rows, noHeaders); err != nil {
			return err
		}
	}
	if len(c.ProbeContainers) == 0 {
		return nil
	}
	if len(rows) > 0 {
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	rows = rows[:0]
	for _, p := range c.ProbeContainers {
		rows = append(rows, []string{p.Namespace, p.Name, fmt.Sprint(p.Containers)})
	}
	return Table(w, []string{"NAMESPACE", "POD WITH PROBE CONTAINERS", "COUNT"}, rows, noHeaders)
}
