// Command gen-ec2-limits writes internal/netmodel/ec2_limits_gen.go, the per-instance-type limits
// of the AWS VPC CNI (ENIs, IPv4 addresses per ENI, Nitro or not), from the table that
// aws/amazon-vpc-cni-k8s generates from the EC2 API: pkg/vpc/vpc_ip_resource_limit.go.
//
// It uses the standard library only and reads a local copy of that upstream file; nothing upstream
// is vendored into this repository. To regenerate:
//
//	# 1. get the upstream repository (any clone will do) and pick a commit
//	git clone --bare https://github.com/aws/amazon-vpc-cni-k8s /tmp/vpc-cni.git
//	git --git-dir=/tmp/vpc-cni.git log -1 --format='%H %cs'   # commit and its date
//	# 2. extract the limits file (and, optionally, eni-max-pods.txt to cross-check) to /tmp
//	git --git-dir=/tmp/vpc-cni.git show <commit>:pkg/vpc/vpc_ip_resource_limit.go > /tmp/limits.go
//	git --git-dir=/tmp/vpc-cni.git show <commit>:misc/eni-max-pods.txt > /tmp/eni-max-pods.txt
//	# 3. generate, from the root of this repository
//	go run ./hack/gen-ec2-limits -src /tmp/limits.go -commit <commit> -date <YYYY-MM-DD> \
//		-max-pods /tmp/eni-max-pods.txt -out internal/netmodel/ec2_limits_gen.go
//
// How upstream fields map to EC2Limit:
//
//   - ENIs is upstream's ENILimit. For instance types with several network cards upstream already
//     sets ENILimit to the default network card's MaximumNetworkInterfaces (the CNI only uses that
//     card); the generator checks that ENILimit agrees with NetworkCards[DefaultNetworkCardIndex]
//     and fails if it does not. This is also what misc/eni-max-pods.txt is computed from:
//     max pods = ENIs * (IPv4PerENI - 1) + 2.
//   - IPv4PerENI is upstream's IPv4Limit (the primary address included).
//   - Nitro is HypervisorType == "nitro" || IsBareMetal: the rule the CNI itself applies before it
//     allows prefix delegation (awsutils.IsPrefixDelegationSupported). Bare-metal types report no
//     hypervisor ("unknown" upstream) but are built on the Nitro system.
//
// Entries with zero ENIs or zero IPv4 addresses are skipped. The output is sorted by instance type
// and gofmt-formatted, so the same input always gives the same file. With -max-pods the generator
// also recomputes max pods for every type and fails on any difference from eni-max-pods.txt.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// upstreamVar is the map variable that holds the limits in vpc_ip_resource_limit.go.
const upstreamVar = "instanceNetworkingLimits"

// minTypes is the fewest instance types a plausible upstream table has (it has well over 1000).
const minTypes = 100

// limit is one upstream entry, reduced to what the generator needs.
type limit struct {
	ENIs        int
	IPv4PerENI  int
	Hypervisor  string
	BareMetal   bool
	DefaultCard int
	Cards       map[int]int // network card index -> MaximumNetworkInterfaces
}

func (l limit) nitro() bool { return l.Hypervisor == "nitro" || l.BareMetal }

func (l limit) maxPods() int { return l.ENIs*(l.IPv4PerENI-1) + 2 }

var (
	commitRE = regexp.MustCompile(`^[0-9a-f]{12,40}$`)
	dateRE   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

func main() {
	src := flag.String("src", "", "local copy of upstream pkg/vpc/vpc_ip_resource_limit.go (required)")
	commit := flag.String("commit", "", "upstream commit the file was taken from, hex (required)")
	date := flag.String("date", "", "commit date of that commit, YYYY-MM-DD (required)")
	out := flag.String("out", "internal/netmodel/ec2_limits_gen.go", "file to write")
	maxPods := flag.String("max-pods", "", "optional local copy of upstream misc/eni-max-pods.txt to cross-check against")
	flag.Parse()

	if err := run(*src, *commit, *date, *out, *maxPods); err != nil {
		fmt.Fprintln(os.Stderr, "gen-ec2-limits:", err)
		os.Exit(1)
	}
}

func run(src, commit, date, out, maxPodsFile string) error {
	if src == "" || commit == "" || date == "" {
		return errors.New("-src, -commit and -date are required")
	}
	commit = strings.ToLower(commit)
	if !commitRE.MatchString(commit) {
		return fmt.Errorf("-commit %q: want 12 to 40 hex digits", commit)
	}
	if !dateRE.MatchString(date) {
		return fmt.Errorf("-date %q: want YYYY-MM-DD", date)
	}

	limits, skipped, err := parseFile(src)
	if err != nil {
		return err
	}
	if len(limits) < minTypes {
		return fmt.Errorf("%s: found only %d usable instance types (want at least %d); has the upstream format changed?", src, len(limits), minTypes)
	}
	for _, s := range skipped {
		fmt.Fprintf(os.Stderr, "gen-ec2-limits: skipped %s (zero ENIs or zero IPv4)\n", s)
	}

	if maxPodsFile != "" {
		if err := checkMaxPods(maxPodsFile, limits, skipped); err != nil {
			return err
		}
	}

	code, err := render(limits, commit, date)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, code, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen-ec2-limits: wrote %d instance types to %s\n", len(limits), out)
	return nil
}

// parseFile parses the upstream Go file and returns its usable entries and the names of the
// skipped ones (zero ENIs or IPv4).
func parseFile(path string) (map[string]limit, []string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", path, err)
	}
	lit := findMapLiteral(f)
	if lit == nil {
		return nil, nil, fmt.Errorf("%s: no `var %s = map[string]InstanceTypeLimits{...}` found; has the upstream format changed?", path, upstreamVar)
	}

	limits := make(map[string]limit, len(lit.Elts))
	var skipped []string
	for _, elt := range lit.Elts {
		pos := fset.Position(elt.Pos())
		kv, ok := elt.(*ast.KeyValueExpr)
		if !ok {
			return nil, nil, fmt.Errorf("%s: map element is not key: value", pos)
		}
		name, err := stringLit(kv.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: map key: %w", pos, err)
		}
		if name == "" {
			return nil, nil, fmt.Errorf("%s: empty instance type", pos)
		}
		if _, dup := limits[name]; dup || contains(skipped, name) {
			return nil, nil, fmt.Errorf("%s: duplicate instance type %q", pos, name)
		}
		l, err := parseLimit(kv.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", pos, name, err)
		}
		if l.ENIs <= 0 || l.IPv4PerENI <= 0 {
			skipped = append(skipped, name)
			continue
		}
		if len(l.Cards) > 0 {
			n, ok := l.Cards[l.DefaultCard]
			if !ok {
				return nil, nil, fmt.Errorf("%s: %s: DefaultNetworkCardIndex %d is not among its NetworkCards", pos, name, l.DefaultCard)
			}
			if n != l.ENIs {
				return nil, nil, fmt.Errorf("%s: %s: ENILimit %d differs from the default network card's MaximumNetworkInterfaces %d", pos, name, l.ENIs, n)
			}
		}
		limits[name] = l
	}
	sort.Strings(skipped)
	return limits, skipped, nil
}

// findMapLiteral returns the composite literal assigned to upstreamVar.
func findMapLiteral(f *ast.File) *ast.CompositeLit {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for i, n := range vs.Names {
				if n.Name != upstreamVar || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.CompositeLit)
				if !ok {
					return nil
				}
				if mt, ok := lit.Type.(*ast.MapType); !ok || !isIdent(mt.Key, "string") {
					return nil
				}
				return lit
			}
		}
	}
	return nil
}

// parseLimit reads one InstanceTypeLimits literal. ENILimit, IPv4Limit and HypervisorType are
// required; fields the generator does not know are ignored.
func parseLimit(e ast.Expr) (limit, error) {
	var l limit
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return l, errors.New("value is not a composite literal")
	}
	seen := map[string]bool{}
	for _, elt := range lit.Elts {
		kv, ok := elt.(*ast.KeyValueExpr)
		if !ok {
			return l, errors.New("InstanceTypeLimits literal without field names")
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok {
			return l, errors.New("field name is not an identifier")
		}
		if seen[key.Name] {
			return l, fmt.Errorf("field %s given twice", key.Name)
		}
		seen[key.Name] = true
		var err error
		switch key.Name {
		case "ENILimit":
			l.ENIs, err = intLit(kv.Value)
		case "IPv4Limit":
			l.IPv4PerENI, err = intLit(kv.Value)
		case "DefaultNetworkCardIndex":
			l.DefaultCard, err = intLit(kv.Value)
		case "HypervisorType":
			l.Hypervisor, err = stringLit(kv.Value)
		case "IsBareMetal":
			l.BareMetal, err = boolLit(kv.Value)
		case "NetworkCards":
			l.Cards, err = parseCards(kv.Value)
		}
		if err != nil {
			return l, fmt.Errorf("field %s: %w", key.Name, err)
		}
	}
	for _, f := range []string{"ENILimit", "IPv4Limit", "HypervisorType"} {
		if !seen[f] {
			return l, fmt.Errorf("field %s missing", f)
		}
	}
	return l, nil
}

func parseCards(e ast.Expr) (map[int]int, error) {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, errors.New("not a composite literal")
	}
	cards := make(map[int]int, len(lit.Elts))
	for _, elt := range lit.Elts {
		card, ok := elt.(*ast.CompositeLit)
		if !ok {
			return nil, errors.New("network card is not a composite literal")
		}
		idx, max := -1, -1
		for _, f := range card.Elts {
			kv, ok := f.(*ast.KeyValueExpr)
			if !ok {
				return nil, errors.New("NetworkCard literal without field names")
			}
			var err error
			switch {
			case isIdent(kv.Key, "NetworkCardIndex"):
				idx, err = intLit(kv.Value)
			case isIdent(kv.Key, "MaximumNetworkInterfaces"):
				max, err = intLit(kv.Value)
			}
			if err != nil {
				return nil, err
			}
		}
		if idx < 0 || max < 0 {
			return nil, errors.New("network card without NetworkCardIndex or MaximumNetworkInterfaces")
		}
		if _, dup := cards[idx]; dup {
			return nil, fmt.Errorf("network card index %d given twice", idx)
		}
		cards[idx] = max
	}
	return cards, nil
}

func intLit(e ast.Expr) (int, error) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.INT {
		return 0, fmt.Errorf("want an integer literal, got %T", e)
	}
	n, err := strconv.ParseInt(bl.Value, 0, 32)
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

func stringLit(e ast.Expr) (string, error) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", fmt.Errorf("want a string literal, got %T", e)
	}
	return strconv.Unquote(bl.Value)
}

func boolLit(e ast.Expr) (bool, error) {
	switch {
	case isIdent(e, "true"):
		return true, nil
	case isIdent(e, "false"):
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %T", e)
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkMaxPods compares ENIs*(IPv4PerENI-1)+2 with every line of upstream's eni-max-pods.txt and
// fails on any difference, listing them all.
func checkMaxPods(path string, limits map[string]limit, skipped []string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var problems []string
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return fmt.Errorf("%s:%d: want `type max-pods`, got %q", path, line, text)
		}
		want, err := strconv.Atoi(fields[1])
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		name := fields[0]
		listed[name] = true
		l, ok := limits[name]
		switch {
		case !ok && contains(skipped, name):
			problems = append(problems, fmt.Sprintf("%s: max pods %d upstream, skipped here (zero ENIs or IPv4)", name, want))
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: max pods %d upstream, not in the limits file", name, want))
		case l.maxPods() != want:
			problems = append(problems, fmt.Sprintf("%s: max pods %d upstream, %d*(%d-1)+2 = %d here", name, want, l.ENIs, l.IPv4PerENI, l.maxPods()))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, name := range sortedKeys(limits) {
		if !listed[name] {
			problems = append(problems, fmt.Sprintf("%s: in the limits file, not in %s", name, path))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d max-pods mismatches against %s:\n  %s", len(problems), path, strings.Join(problems, "\n  "))
	}
	fmt.Fprintf(os.Stderr, "gen-ec2-limits: max pods agree with %s for all %d instance types\n", path, len(listed))
	return nil
}

func sortedKeys(m map[string]limit) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func render(limits map[string]limit, commit, date string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`// Code generated by hack/gen-ec2-limits; DO NOT EDIT.

package netmodel

// EC2Source says where the EC2 limits come from: repository, file, commit and its date.
`)
	fmt.Fprintf(&b, "const EC2Source = %q\n\n",
		fmt.Sprintf("aws/amazon-vpc-cni-k8s pkg/vpc/vpc_ip_resource_limit.go at %s (%s)", commit[:12], date))
	b.WriteString(`// EC2Limit is what an EC2 instance type allows the AWS VPC CNI: the ENIs it can attach, the IPv4
// addresses per ENI (the primary one included), and whether it runs on the Nitro hypervisor (only
// Nitro instances can be given /28 prefixes: prefix delegation).
type EC2Limit struct {
	ENIs       int
	IPv4PerENI int
	Nitro      bool
}

// ec2Limits maps an instance type (m5.large) to its limits.
var ec2Limits = map[string]EC2Limit{
`)
	for _, name := range sortedKeys(limits) {
		l := limits[name]
		fmt.Fprintf(&b, "\t%q: {ENIs: %d, IPv4PerENI: %d, Nitro: %t},\n", name, l.ENIs, l.IPv4PerENI, l.nitro())
	}
	b.WriteString("}\n")
	code, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt generated code: %w", err)
	}
	return code, nil
}
