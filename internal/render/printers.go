package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/util/jsonpath"
)

// PrinterFormats are the -o formats every listing command takes beside its own tables, as kubectl
// names them.
var PrinterFormats = []string{"json", "yaml", "name", "jsonpath=...", "jsonpath-as-json=...", "jsonpath-file=...",
	"go-template=...", "go-template-file=...", "custom-columns=...", "custom-columns-file=..."}

// Printable is a report as the printers see it: the whole report (json, yaml, jsonpath,
// go-template) and its items (name, custom-columns), each a struct with json tags.
type Printable struct {
	Report any
	// Kind names the items in -o name ("node" gives node/NAME).
	Kind string
	// Items is a slice of the report's items; nil when the report is its own single item.
	Items any
	// NameField is the items' json field -o name prints ("name" when empty; "a.b" for a nested
	// one). With no Kind, -o name prints the name alone.
	NameField string
}

// Printer prints a Printable in one of PrinterFormats.
type Printer interface {
	Print(w io.Writer, p Printable) error
}

// IsPrinterFormat reports whether -o names one of PrinterFormats.
func IsPrinterFormat(output string) bool {
	format, _, _ := strings.Cut(output, "=")
	switch format {
	case "json", "yaml", "name", "jsonpath", "jsonpath-as-json", "jsonpath-file", "go-template", "go-template-file",
		"template", "templatefile", "custom-columns", "custom-columns-file":
		return true
	}
	return false
}

// NewPrinter parses -o into its printer; a template that does not parse or a file that cannot be
// read is an error now, before anything is read from the cluster. noHeaders drops custom-columns'
// header line.
func NewPrinter(output string, noHeaders bool) (Printer, error) {
	format, arg, hasArg := strings.Cut(output, "=")
	switch format {
	case "json", "yaml", "name":
		if hasArg {
			return nil, fmt.Errorf("output format %q takes no argument: use -o %s", output, format)
		}
		return fixedPrinter(format), nil
	case "custom-columns", "custom-columns-file":
		spec := arg
		if format == "custom-columns-file" {
			b, err := os.ReadFile(arg)
			if err != nil {
				return nil, fmt.Errorf("reading the custom-columns file: %w", err)
			}
			spec, err = columnsFromFile(string(b))
			if err != nil {
				return nil, fmt.Errorf("custom-columns file %s: %w", arg, err)
			}
		}
		return newColumnsPrinter(spec, noHeaders)
	}
	if !hasArg || arg == "" {
		return nil, fmt.Errorf("output format %s needs a template: -o %s=TEMPLATE", format, format)
	}
	allowMissing := true
	var p printers.ResourcePrinter
	var err error
	switch format {
	case "jsonpath", "jsonpath-as-json", "jsonpath-file":
		p, err = (&genericclioptions.JSONPathPrintFlags{TemplateArgument: &arg, AllowMissingKeys: &allowMissing}).ToPrinter(format)
	case "go-template", "go-template-file", "template", "templatefile":
		p, err = (&genericclioptions.GoTemplatePrintFlags{TemplateArgument: &arg, AllowMissingKeys: &allowMissing}).ToPrinter(format)
	default:
		return nil, fmt.Errorf("unknown output format %q", output)
	}
	if err != nil {
		return nil, fmt.Errorf("-o %s: %w", format, err)
	}
	return templatePrinter{p}, nil
}

// reportObject lets cli-runtime's template printers read a plain report: they take a
// runtime.Object and read it as its JSON.
type reportObject struct{ v any }

func (r *reportObject) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (r *reportObject) DeepCopyObject() runtime.Object   { return r }
func (r *reportObject) MarshalJSON() ([]byte, error)     { return json.Marshal(r.v) }

type templatePrinter struct{ p printers.ResourcePrinter }

func (t templatePrinter) Print(w io.Writer, p Printable) error {
	return t.p.PrintObj(&reportObject{p.Report}, w)
}

type fixedPrinter string

func (f fixedPrinter) Print(w io.Writer, p Printable) error {
	switch f {
	case "json":
		return JSON(w, p.Report)
	case "yaml":
		return YAML(w, p.Report)
	}
	items, err := itemsOf(p)
	if err != nil {
		return err
	}
	field := p.NameField
	if field == "" {
		field = "name"
	}
	for _, it := range items {
		v := it
		for _, f := range strings.Split(field, ".") {
			m, _ := v.(map[string]any)
			v = m[f]
		}
		name := fmt.Sprint(v)
		if p.Kind != "" {
			name = p.Kind + "/" + name
		}
		if _, err := fmt.Fprintln(w, name); err != nil {
			return err
		}
	}
	return nil
}

// itemsOf is the items as JSON values (the report itself when it has no items).
func itemsOf(p Printable) ([]any, error) {
	v := p.Items
	if v == nil || reflect.ValueOf(v).Kind() != reflect.Slice {
		v = []any{p.Report}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out []any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

type column struct {
	header string
	path   *jsonpath.JSONPath
}

type columnsPrinter struct {
	cols      []column
	noHeaders bool
}

// relaxed turns kubectl's relaxed paths (.a.b, a.b, {.a.b}) into a jsonpath template.
var relaxedPath = regexp.MustCompile(`^\{?(\.?[^{}]*)\}?$`)

func newColumnsPrinter(spec string, noHeaders bool) (Printer, error) {
	if spec == "" {
		return nil, fmt.Errorf("custom-columns needs at least one column: -o custom-columns=NAME:.name,CIDRS:.podCIDRs")
	}
	p := &columnsPrinter{noHeaders: noHeaders}
	for _, part := range strings.Split(spec, ",") {
		header, path, ok := strings.Cut(part, ":")
		if !ok || header == "" || path == "" {
			return nil, fmt.Errorf("custom-columns column %q is not HEADER:PATH (for example NAME:.name)", part)
		}
		m := relaxedPath.FindStringSubmatch(path)
		if m == nil {
			return nil, fmt.Errorf("custom-columns column %s: %q is not a JSONPath", header, path)
		}
		expr := m[1]
		if !strings.HasPrefix(expr, ".") {
			expr = "." + expr
		}
		jp := jsonpath.New(header).AllowMissingKeys(true)
		if err := jp.Parse("{" + expr + "}"); err != nil {
			return nil, fmt.Errorf("custom-columns column %s: %w", header, err)
		}
		p.cols = append(p.cols, column{header: header, path: jp})
	}
	return p, nil
}

// columnsFromFile reads kubectl's custom-columns file: a line of headers, a line of paths.
func columnsFromFile(s string) (string, error) {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		return "", fmt.Errorf("want two lines, headers then paths; it has %d", len(lines))
	}
	headers, paths := strings.Fields(lines[0]), strings.Fields(lines[1])
	if len(headers) != len(paths) {
		return "", fmt.Errorf("%d headers but %d paths", len(headers), len(paths))
	}
	parts := make([]string, len(headers))
	for i := range headers {
		parts[i] = headers[i] + ":" + paths[i]
	}
	return strings.Join(parts, ","), nil
}

func (c *columnsPrinter) Print(w io.Writer, p Printable) error {
	items, err := itemsOf(p)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 10, 4, 3, ' ', 0)
	if !c.noHeaders {
		headers := make([]string, len(c.cols))
		for i, col := range c.cols {
			headers[i] = col.header
		}
		fmt.Fprintln(tw, strings.Join(headers, "\t"))
	}
	for _, it := range items {
		cells := make([]string, len(c.cols))
		for i, col := range c.cols {
			results, err := col.path.FindResults(it)
			if err != nil {
				return fmt.Errorf("custom-columns column %s: %w", col.header, err)
			}
			var vals []string
			for _, r := range results {
				for _, v := range r {
					var b bytes.Buffer
					if err := col.path.PrintResults(&b, []reflect.Value{v}); err != nil {
						return err
					}
					vals = append(vals, b.String())
				}
			}
			cells[i] = strings.Join(vals, ",")
			if cells[i] == "" {
				cells[i] = "<none>"
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
