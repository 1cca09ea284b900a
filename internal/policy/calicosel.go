package policy

// Calico label selector expressions.
//
// This file implements the selector language used by Calico's
// NetworkPolicy, GlobalNetworkPolicy and related resources
// (https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#selectors),
// following the behaviour of Calico's own tokenizer and parser
// (projectcalico/calico libcalico-go/lib/selector/tokenizer/tokenizer.go and
// libcalico-go/lib/selector/parser/{parser.go,ast.go}), including its less
// obvious corners:
//
//   - Only spaces and tabs are whitespace. A newline outside a quoted string
//     is rejected, as Calico rejects it.
//   - Strings are '...' or "..." with no escape sequences: a string runs to the
//     next quote of the same kind, so "it's" and 'say "hi"' are fine.
//   - Label keys are runs of [A-Za-z0-9_./-], at most 512 bytes long.
//   - Operators after a label are recognised only where an operator can
//     appear, so labels may be named contains, in, not, has, all, global...
//     ("has(" with no space, "all(" and "global(" are the function forms).
//     The two-word operators may be written without the space: "startswith",
//     "endswith", "notin". A keyword must end at a word boundary ("a inx"
//     is an error, "a in{...}" is fine).
//   - A leading "!" negates the following term only, and a term includes its
//     comparison: `!a == "x"` means `!(a == "x")`. Runs of "!" collapse.
//   - "&&" binds tighter than "||"; both are left to right.
//   - `k != "v"` and `k not in {...}` are true when k is absent; ==, in,
//     contains, starts with and ends with are false when k is absent.
//   - Sets may be empty (`k in {}` never matches) and may have one trailing
//     comma (`k in {"a",}`), but not a leading or doubled comma.
//   - "" (or only whitespace) means all().

import (
	"fmt"
	"sort"
	"strings"
)

// CalicoSelector is a parsed Calico selector expression, ready to be
// evaluated against label sets. It is immutable and safe for concurrent use.
type CalicoSelector struct {
	src  string
	root *cselNode
	keys []string
}

// ParseCalicoSelector parses a Calico selector expression. The empty string
// (or one of only spaces and tabs) means all(), as in Calico.
//
// Errors say what is wrong and the byte offset where it was found, for
// example:
//
//	selector "app == ": expected a value after == at offset 7
//
// global() is accepted and, like Calico's evaluator, matches every label set:
// in Calico its meaning "non-namespaced resources only" is applied by the
// policy machinery when global() is used as a namespaceSelector, not by the
// selector evaluator, so callers that care must handle that themselves.
func ParseCalicoSelector(s string) (*CalicoSelector, error) {
	toks, err := cselTokenize(s)
	if err != nil {
		return nil, fmt.Errorf("selector %q: %w", s, err)
	}
	p := &cselParser{toks: toks}
	var root *cselNode
	if p.peek().kind == cselTokEOF {
		root = &cselNode{op: cselOpAll}
	} else {
		root, err = p.parseOr()
		if err == nil && p.peek().kind != cselTokEOF {
			t := p.peek()
			err = cselErrAt(t.pos, "unexpected %s after a complete expression", t.describe())
		}
		if err != nil {
			return nil, fmt.Errorf("selector %q: %w", s, err)
		}
	}
	seen := map[string]bool{}
	root.collectKeys(seen)
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &CalicoSelector{src: s, root: root, keys: keys}, nil
}

// Matches reports whether the selector selects a resource with the given
// labels. A nil label map is an empty label set. A nil *CalicoSelector
// behaves like all().
func (s *CalicoSelector) Matches(labels map[string]string) bool {
	if s == nil || s.root == nil {
		return true
	}
	return s.root.eval(labels)
}

// Keys returns the label keys the selector reads, sorted and without
// duplicates, so a caller can tell whether the result depends on a key it
// cannot supply. Keys under negations are included. all() and global() read
// no keys. The returned slice is a fresh copy.
func (s *CalicoSelector) Keys() []string {
	if s == nil {
		return []string{}
	}
	return append([]string{}, s.keys...)
}

// String returns the selector's source text exactly as it was given to
// ParseCalicoSelector (not a canonical form).
func (s *CalicoSelector) String() string {
	if s == nil {
		return ""
	}
	return s.src
}

// ---- errors ----

// cselError is a parse error at a byte offset in the selector source.
type cselError struct {
	pos int
	msg string
}

func (e *cselError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.pos) }

func cselErrAt(pos int, format string, args ...any) error {
	return &cselError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

// ---- tokenizer ----

type cselTokKind int

const (
	cselTokEOF cselTokKind = iota
	cselTokLabel
	cselTokString
	cselTokLBrace
	cselTokRBrace
	cselTokComma
	cselTokEq
	cselTokNe
	cselTokIn
	cselTokNotIn
	cselTokContains
	cselTokStartsWith
	cselTokEndsWith
	cselTokNot
	cselTokAll
	cselTokGlobal
	cselTokHas
	cselTokLParen
	cselTokRParen
	cselTokAnd
	cselTokOr
)

// cselTokText is how each fixed token is shown in error messages.
var cselTokText = map[cselTokKind]string{
	cselTokLBrace:     "{",
	cselTokRBrace:     "}",
	cselTokComma:      ",",
	cselTokEq:         "==",
	cselTokNe:         "!=",
	cselTokIn:         "in",
	cselTokNotIn:      "not in",
	cselTokContains:   "contains",
	cselTokStartsWith: "starts with",
	cselTokEndsWith:   "ends with",
	cselTokNot:        "!",
	cselTokAll:        "all()",
	cselTokGlobal:     "global()",
	cselTokLParen:     "(",
	cselTokRParen:     ")",
	cselTokAnd:        "&&",
	cselTokOr:         "||",
}

type cselToken struct {
	kind  cselTokKind
	value string // label key or string contents
	pos   int    // byte offset of the token's first character
}

func (t cselToken) describe() string {
	switch t.kind {
	case cselTokEOF:
		return "end of selector"
	case cselTokLabel:
		return fmt.Sprintf("label %q", t.value)
	case cselTokString:
		return fmt.Sprintf("string %q", t.value)
	case cselTokHas:
		return "has(" + t.value + ")"
	}
	return cselTokText[t.kind]
}

// cselMaxLabelLen is Calico's tokenizer.MaxLabelLength.
const cselMaxLabelLen = 512

func cselIsIdentChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '/' || c == '-'
}

// cselIsSpace matches Calico: only space and tab are whitespace.
func cselIsSpace(c byte) bool { return c == ' ' || c == '\t' }

func cselTokenize(s string) ([]cselToken, error) {
	var toks []cselToken
	i := 0
	skip := func(j int) int {
		for j < len(s) && cselIsSpace(s[j]) {
			j++
		}
		return j
	}
	// word reports whether s[j:] starts with w followed by a word boundary
	// (end of input or a non-identifier character), returning the end.
	word := func(j int, w string) (int, bool) {
		if !strings.HasPrefix(s[j:], w) {
			return j, false
		}
		e := j + len(w)
		if e < len(s) && cselIsIdentChar(s[e]) {
			return j, false
		}
		return e, true
	}
	// words matches a multi-word operator such as "starts with", allowing any
	// (including no) spaces between the words, as Calico does.
	words := func(j int, w1, w2 string) (int, bool) {
		if !strings.HasPrefix(s[j:], w1) {
			return j, false
		}
		return word(skip(j+len(w1)), w2)
	}
	// ident reads a label key at j; what names the context for errors.
	ident := func(j int, what string) (string, int, error) {
		e := j
		for e < len(s) && cselIsIdentChar(s[e]) {
			e++
		}
		switch {
		case e == j && j >= len(s):
			return "", j, cselErrAt(j, "expected %s, found end of selector", what)
		case e == j:
			return "", j, cselErrAt(j, "expected %s, found %s", what, cselQuoteChar(s, j))
		case e-j > cselMaxLabelLen:
			return "", j, cselErrAt(j, "label key longer than %d characters", cselMaxLabelLen)
		}
		return s[j:e], e, nil
	}
	// closeFn expects the ")" of name(), after optional whitespace.
	closeFn := func(j int, name string) (int, error) {
		j = skip(j)
		if j < len(s) && s[j] == ')' {
			return j + 1, nil
		}
		return j, cselErrAt(j, "expected ) to close %s(", name)
	}

	for {
		i = skip(i)
		if i >= len(s) {
			toks = append(toks, cselToken{kind: cselTokEOF, pos: len(s)})
			return toks, nil
		}
		start := i
		afterLabel := len(toks) > 0 && toks[len(toks)-1].kind == cselTokLabel
		add := func(k cselTokKind, v string, end int) {
			toks = append(toks, cselToken{kind: k, value: v, pos: start})
			i = end
		}
		switch c := s[i]; c {
		case '(':
			add(cselTokLParen, "", i+1)
		case ')':
			add(cselTokRParen, "", i+1)
		case '{':
			add(cselTokLBrace, "", i+1)
		case '}':
			add(cselTokRBrace, "", i+1)
		case ',':
			add(cselTokComma, "", i+1)
		case '"', '\'':
			n := strings.IndexByte(s[i+1:], c)
			if n < 0 {
				return nil, cselErrAt(i, "unterminated string (no closing %c)", c)
			}
			add(cselTokString, s[i+1:i+1+n], i+1+n+1)
		case '=':
			if !strings.HasPrefix(s[i:], "==") {
				return nil, cselErrAt(i, "expected == (a single = is not an operator)")
			}
			add(cselTokEq, "", i+2)
		case '!':
			if strings.HasPrefix(s[i:], "!=") {
				add(cselTokNe, "", i+2)
			} else {
				add(cselTokNot, "", i+1)
			}
		case '&':
			if !strings.HasPrefix(s[i:], "&&") {
				return nil, cselErrAt(i, "expected && (a single & is not an operator)")
			}
			add(cselTokAnd, "", i+2)
		case '|':
			if !strings.HasPrefix(s[i:], "||") {
				return nil, cselErrAt(i, "expected || (a single | is not an operator)")
			}
			add(cselTokOr, "", i+2)
		default:
			if afterLabel {
				// Only an operator may follow a label.
				if e, ok := word(i, "contains"); ok {
					add(cselTokContains, "", e)
				} else if e, ok := words(i, "starts", "with"); ok {
					add(cselTokStartsWith, "", e)
				} else if e, ok := words(i, "ends", "with"); ok {
					add(cselTokEndsWith, "", e)
				} else if e, ok := words(i, "not", "in"); ok {
					add(cselTokNotIn, "", e)
				} else if e, ok := word(i, "in"); ok {
					add(cselTokIn, "", e)
				} else {
					return nil, cselErrAt(i, "expected an operator (==, !=, in, not in, contains, starts with, ends with) after label %q", toks[len(toks)-1].value)
				}
				break
			}
			switch {
			case strings.HasPrefix(s[i:], "has("):
				key, j, err := ident(skip(i+len("has(")), "a label key inside has(")
				if err != nil {
					return nil, err
				}
				e, err := closeFn(j, "has")
				if err != nil {
					return nil, err
				}
				add(cselTokHas, key, e)
			case strings.HasPrefix(s[i:], "all("):
				e, err := closeFn(i+len("all("), "all")
				if err != nil {
					return nil, err
				}
				add(cselTokAll, "", e)
			case strings.HasPrefix(s[i:], "global("):
				e, err := closeFn(i+len("global("), "global")
				if err != nil {
					return nil, err
				}
				add(cselTokGlobal, "", e)
			default:
				key, e, err := ident(i, "a label, has(), all(), global(), ! or (")
				if err != nil {
					return nil, err
				}
				add(cselTokLabel, key, e)
			}
		}
	}
}

// cselQuoteChar renders the (possibly multi-byte) character at s[i] for an
// error message.
func cselQuoteChar(s string, i int) string {
	for _, r := range s[i:] {
		if r == '\n' || r == '\r' || r == '\v' || r == '\f' {
			return fmt.Sprintf("%q (Calico allows only spaces and tabs as whitespace)", r)
		}
		return fmt.Sprintf("%q", r)
	}
	return "end of selector"
}

// ---- parser ----

type cselParser struct {
	toks []cselToken
	i    int
}

func (p *cselParser) peek() cselToken { return p.toks[p.i] }

func (p *cselParser) next() cselToken {
	t := p.toks[p.i]
	if t.kind != cselTokEOF {
		p.i++
	}
	return t
}

// parseOr parses one or more &&-terms separated by ||.
func (p *cselParser) parseOr() (*cselNode, error) {
	n, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != cselTokOr {
		return n, nil
	}
	or := &cselNode{op: cselOpOr, kids: []*cselNode{n}}
	for p.peek().kind == cselTokOr {
		p.next()
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		or.kids = append(or.kids, n)
	}
	return or, nil
}

// parseAnd parses one or more operations separated by &&.
func (p *cselParser) parseAnd() (*cselNode, error) {
	n, err := p.parseOperation()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != cselTokAnd {
		return n, nil
	}
	and := &cselNode{op: cselOpAnd, kids: []*cselNode{n}}
	for p.peek().kind == cselTokAnd {
		p.next()
		n, err := p.parseOperation()
		if err != nil {
			return nil, err
		}
		and.kids = append(and.kids, n)
	}
	return and, nil
}

// parseOperation parses a possibly negated term: has(), all(), global(),
// a label comparison or a parenthesised expression.
func (p *cselParser) parseOperation() (*cselNode, error) {
	negated := false
	for p.peek().kind == cselTokNot {
		p.next()
		negated = !negated
	}
	var n *cselNode
	t := p.next()
	switch t.kind {
	case cselTokHas:
		n = &cselNode{op: cselOpHas, key: t.value}
	case cselTokAll:
		n = &cselNode{op: cselOpAll}
	case cselTokGlobal:
		n = &cselNode{op: cselOpGlobal}
	case cselTokLParen:
		inner, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != cselTokRParen {
			return nil, cselErrAt(c.pos, "expected ) to close ( at offset %d, found %s", t.pos, c.describe())
		}
		n = inner
	case cselTokLabel:
		var err error
		if n, err = p.parseComparison(t); err != nil {
			return nil, err
		}
	case cselTokEOF:
		return nil, cselErrAt(t.pos, "unexpected end of selector, expected a label, has(), all(), global(), ! or (")
	default:
		return nil, cselErrAt(t.pos, "unexpected %s, expected a label, has(), all(), global(), ! or (", t.describe())
	}
	if negated {
		n = &cselNode{op: cselOpNot, kids: []*cselNode{n}}
	}
	return n, nil
}

// parseComparison parses the operator and operand that follow label.
func (p *cselParser) parseComparison(label cselToken) (*cselNode, error) {
	opTok := p.next()
	var op cselOp
	switch opTok.kind {
	case cselTokEq:
		op = cselOpEq
	case cselTokNe:
		op = cselOpNe
	case cselTokContains:
		op = cselOpContains
	case cselTokStartsWith:
		op = cselOpStartsWith
	case cselTokEndsWith:
		op = cselOpEndsWith
	case cselTokIn:
		op = cselOpIn
	case cselTokNotIn:
		op = cselOpNotIn
	case cselTokEOF:
		return nil, cselErrAt(opTok.pos, "expected an operator after label %q, found end of selector", label.value)
	default:
		return nil, cselErrAt(opTok.pos, "expected an operator after label %q, found %s", label.value, opTok.describe())
	}
	opText := cselTokText[opTok.kind]
	n := &cselNode{op: op, key: label.value}
	if op != cselOpIn && op != cselOpNotIn {
		v := p.next()
		if v.kind != cselTokString {
			if v.kind == cselTokEOF {
				return nil, cselErrAt(v.pos, "expected a value after %s", opText)
			}
			return nil, cselErrAt(v.pos, "expected a quoted value after %s, found %s", opText, v.describe())
		}
		n.value = v.value
		return n, nil
	}
	lb := p.next()
	if lb.kind != cselTokLBrace {
		return nil, cselErrAt(lb.pos, "expected a set literal {\"...\", ...} after %s, found %s", opText, lb.describe())
	}
	n.set = map[string]struct{}{}
	// Calico: zero or more strings separated by commas, with an optional
	// trailing comma, then "}".
	for {
		t := p.peek()
		if t.kind != cselTokString {
			break
		}
		p.next()
		n.set[t.value] = struct{}{}
		if p.peek().kind != cselTokComma {
			break
		}
		p.next()
	}
	if rb := p.next(); rb.kind != cselTokRBrace {
		return nil, cselErrAt(rb.pos, "expected a quoted value, , or } in set opened at offset %d, found %s", lb.pos, rb.describe())
	}
	return n, nil
}

// ---- evaluation ----

type cselOp int

const (
	cselOpAll cselOp = iota
	cselOpGlobal
	cselOpHas
	cselOpEq
	cselOpNe
	cselOpIn
	cselOpNotIn
	cselOpContains
	cselOpStartsWith
	cselOpEndsWith
	cselOpNot
	cselOpAnd
	cselOpOr
)

type cselNode struct {
	op    cselOp
	key   string
	value string
	set   map[string]struct{}
	kids  []*cselNode
}

func (n *cselNode) eval(labels map[string]string) bool {
	switch n.op {
	case cselOpAll, cselOpGlobal:
		return true
	case cselOpNot:
		return !n.kids[0].eval(labels)
	case cselOpAnd:
		for _, k := range n.kids {
			if !k.eval(labels) {
				return false
			}
		}
		return true
	case cselOpOr:
		for _, k := range n.kids {
			if k.eval(labels) {
				return true
			}
		}
		return false
	}
	v, ok := labels[n.key]
	switch n.op {
	case cselOpHas:
		return ok
	case cselOpEq:
		return ok && v == n.value
	case cselOpNe:
		return !ok || v != n.value
	case cselOpIn:
		_, in := n.set[v]
		return ok && in
	case cselOpNotIn:
		_, in := n.set[v]
		return !ok || !in
	case cselOpContains:
		return ok && strings.Contains(v, n.value)
	case cselOpStartsWith:
		return ok && strings.HasPrefix(v, n.value)
	case cselOpEndsWith:
		return ok && strings.HasSuffix(v, n.value)
	}
	panic(fmt.Sprintf("calico selector: unknown op %d", n.op))
}

func (n *cselNode) collectKeys(seen map[string]bool) {
	if n.key != "" {
		seen[n.key] = true
	}
	for _, k := range n.kids {
		k.collectKeys(seen)
	}
}
