package cmd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/render"
)

// outputHelp is the -o help of a command with its own formats beside the printers.
func outputHelp(own ...string) string {
	kubectl := "json, yaml, name, jsonpath=, go-template=, custom-columns= (and -file forms)"
	return "output: " + strings.Join(append(own, kubectl), ", ")
}

// parseOutput checks -o: "" or one of the command's own formats (a table, prometheus, dot) gives no
// printer; one of kubectl's printer formats gives its printer; anything else is refused.
func parseOutput(output string, noHeaders bool, own ...string) (render.Printer, error) {
	if output == "" || slices.Contains(own, output) {
		return nil, nil
	}
	if render.IsPrinterFormat(output) {
		return render.NewPrinter(output, noHeaders)
	}
	formats := append(append([]string(nil), own...), render.PrinterFormats...)
	return nil, fmt.Errorf("unknown output format %q: use %s", output, strings.Join(formats, ", "))
}
