package policy

import (
	"slices"
	"strings"
	"testing"
)

func TestCalicoSelectorMatches(t *testing.T) {
	type L = map[string]string
	long := strings.Repeat("k", 512)
	tests := []struct {
		sel    string
		labels L
		want   bool
	}{
		// Empty selector and all().
		{``, nil, true},
		{``, L{"a": "b"}, true},
		{" \t ", L{}, true},
		{`all()`, L{}, true},
		{` all( ) `, L{"a": "b"}, true},
		{`!all()`, L{"a": "b"}, false},
		// global() evaluates to true, as in Calico's evaluator.
		{`global()`, L{}, true},
		{`global( )`, L{"a": "b"}, true},
		{`!global()`, L{}, false},
		{`global() && a == "b"`, L{"a": "b"}, true},

		// has / !has.
		{`has(a)`, L{"a": ""}, true},
		{`has(a)`, L{"b": "a"}, false},
		{`has( a )`, L{"a": "x"}, true},
		{`!has(a)`, L{"b": "b"}, true},
		{`!has(a)`, L{"a": "b"}, false},
		{`! has(a)`, L{"a": "b"}, false},
		{`!!has(a)`, L{"a": "b"}, true},
		{`!!!has(a)`, L{"a": "b"}, false},
		{`!! ! has(a)`, L{"a": "b"}, false},

		// ==.
		{`a == "b"`, L{"a": "b"}, true},
		{`a == "b"`, L{"a": "b", "c": "d"}, true},
		{`a == "b"`, L{"a": "c"}, false},
		{`a == "b"`, L{}, false},
		{`a == "b"`, nil, false},
		{`a == ""`, L{"a": ""}, true},
		{`a == ""`, L{}, false},
		{`a=="b"`, L{"a": "b"}, true},
		{`a == 'b'`, L{"a": "b"}, true},
		{`a == "B"`, L{"a": "b"}, false}, // case-sensitive

		// != is true when the key is absent.
		{`a != "b"`, L{"a": "c"}, true},
		{`a != "b"`, L{"a": "b"}, false},
		{`a != "b"`, L{}, true},
		{`a!='b'`, L{"a": "b"}, false},

		// in / not in.
		{`a in {"x", "y"}`, L{"a": "x"}, true},
		{`a in {"x", "y"}`, L{"a": "y"}, true},
		{`a in {"x", "y"}`, L{"a": "z"}, false},
		{`a in {"x", "y"}`, L{}, false},
		{`a in {"x"}`, L{"a": "x"}, true},
		{`a in {}`, L{"a": ""}, false},
		{`a in {""}`, L{"a": ""}, true},
		{`a in {"x",}`, L{"a": "x"}, true}, // trailing comma allowed
		{`a in{"x"}`, L{"a": "x"}, true},
		{`a in {"'", '"', "c"}`, L{"a": `"`}, true},
		{`a in {"'", '"', "c"}`, L{"a": `'`}, true},
		{`a not in {"x", "y"}`, L{"a": "z"}, true},
		{`a not in {"x", "y"}`, L{"a": "x"}, false},
		{`a not in {"x", "y"}`, L{}, true},
		{`a not in {}`, L{}, true},
		{`a not in {}`, L{"a": "x"}, true},
		{`a  not  in  {"x"}`, L{"a": "x"}, false},
		{`a notin {"x"}`, L{"a": "x"}, false}, // Calico accepts "notin"
		{`a notin{"x"}`, L{"a": "y"}, true},
		{`!a in {"a"}`, L{"a": "b"}, true},

		// contains / starts with / ends with; false when absent.
		{`a contains "b"`, L{"a": "abc"}, true},
		{`a contains "b"`, L{"a": "xyz"}, false},
		{`a contains "b"`, L{}, false},
		{`a contains ""`, L{"a": ""}, true},
		{`a contains ""`, L{}, false},
		{`a contains"b"`, L{"a": "b"}, true},
		{`a starts with "ab"`, L{"a": "abc"}, true},
		{`a starts with "ab"`, L{"a": "cab"}, false},
		{`a starts with "ab"`, L{}, false},
		{`a starts  with "ab"`, L{"a": "ab"}, true},
		{`a startswith "ab"`, L{"a": "ab"}, true}, // Calico accepts "startswith"
		{`a ends with "bc"`, L{"a": "abc"}, true},
		{`a ends with "bc"`, L{"a": "bca"}, false},
		{`a ends with "bc"`, L{}, false},
		{`a endswith 'bc'`, L{"a": "abc"}, true},
		{`!a contains "b"`, L{}, true},

		// Keywords are ordinary label keys where a label is expected.
		{`contains contains "contains"`, L{"contains": "xcontainsx"}, true},
		{`in in {"in"}`, L{"in": "in"}, true},
		{`not not in {"x"}`, L{"not": "y"}, true},
		{`has == "x"`, L{"has": "x"}, true},
		{`all == "x"`, L{"all": "x"}, true},
		{`global != "x"`, L{}, true},
		{`startswith starts with "v"`, L{"startswith": "value"}, true},

		// Label key characters.
		{`projectcalico.org/name == "kube-system"`, L{"projectcalico.org/name": "kube-system"}, true},
		{`has(calico/k8s_NS-.1/role)`, L{"calico/k8s_NS-.1/role": ""}, true},
		{`k8s-app == "kube-dns"`, L{"k8s-app": "kube-dns"}, true},
		{`123 == "4"`, L{"123": "4"}, true},
		{`- == "x"`, L{"-": "x"}, true},
		{`has(` + long + `)`, L{long: ""}, true},

		// Quoting: no escapes, the other quote is literal.
		{`a == "it's"`, L{"a": "it's"}, true},
		{`a == 'say "hi"'`, L{"a": `say "hi"`}, true},
		{`a == "x\"`, L{"a": `x\`}, true},
		{`a == "b && c"`, L{"a": "b && c"}, true},
		{`a == "line1` + "\n" + `line2"`, L{"a": "line1\nline2"}, true},
		{`a == "  "`, L{"a": "  "}, true},
		{`a == "  "`, L{"a": ""}, false},
		{`a == "é"`, L{"a": "é"}, true},

		// Whitespace (spaces and tabs) anywhere between tokens.
		{"\ta\t==\t\"b\"\t&&\t!has(\tc\t)\t", L{"a": "b"}, true},
		{`(a=="b")&&(c!="d")`, L{"a": "b", "c": "e"}, true},
		{`a=="b"||c=="d"`, L{"c": "d"}, true},

		// &&, ||.
		{`a == "b" && c == "d"`, L{"a": "b", "c": "d"}, true},
		{`a == "b" && c == "d"`, L{"a": "b", "c": "e"}, false},
		{`a == "b" && c == "d"`, L{"c": "d"}, false},
		{`a == "b" || c == "d"`, L{"a": "b"}, true},
		{`a == "b" || c == "d"`, L{"c": "d"}, true},
		{`a == "b" || c == "d"`, L{"a": "e", "c": "e"}, false},
		{`has(a) && has(b) && has(c)`, L{"a": "", "b": "", "c": ""}, true},
		{`has(a) && has(b) && has(c)`, L{"a": "", "b": ""}, false},
		{`has(a) || has(b) || has(c)`, L{"c": ""}, true},
		{`has(a) || has(b) || has(c)`, L{"d": ""}, false},

		// Precedence: && binds tighter than ||.
		{`has(a) || has(b) && has(c)`, L{"a": ""}, true},    // a || (b && c)
		{`has(a) || has(b) && has(c)`, L{"b": ""}, false},   // not (a || b) && c
		{`has(a) && has(b) || has(c)`, L{"c": ""}, true},    // (a && b) || c
		{`has(a) && has(b) || has(c)`, L{"a": ""}, false},   //
		{`has(a) && (has(b) || has(c))`, L{"c": ""}, false}, // parens override
		{`(has(a) || has(b)) && has(c)`, L{"b": "", "c": ""}, true},
		{`(has(a) || has(b)) && has(c)`, L{"b": ""}, false},
		{`((((has(a)))))`, L{"a": ""}, true},

		// Negation binds to a single term, including its comparison.
		{`!a == "a1" && b == "b1"`, L{"a": "a1", "b": "b1"}, false},
		{`!a == "a1" && b == "b1"`, L{"a": "x", "b": "b1"}, true},
		{`!a == "a1" && b == "b1"`, L{"b": "b1"}, true},
		{`! a == "a1" || ! b == "b1"`, L{"a": "a1", "b": "b1"}, false},
		{`!has(a) || has(b)`, L{"a": ""}, false},
		{`!(has(a) || has(b))`, L{}, true},
		{`!(has(a) || has(b))`, L{"b": ""}, false},
		{`!(!has(a) || has(b))`, L{"a": "a"}, true},
		{`!(has(b) || !has(a))`, L{"a": "a"}, true},
		{`!(a == "b" && !c != "d")`, L{"a": "b", "c": "d"}, false},
		{`!(a == "b" && !c != "d")`, L{"a": "b", "c": "e"}, true},
		{`!!(a == "b")`, L{"a": "b"}, true},
		// != and !(==) differ only when ... they don't: both true when absent.
		{`!(a == "b")`, L{}, true},
		{`a != "b"`, L{}, true},
		// not in vs !(in) agree; but !has vs != do not.
		{`!(a in {"b"})`, L{}, true},
		{`!has(a) && a != "b"`, L{}, true},
	}
	for _, tc := range tests {
		sel, err := ParseCalicoSelector(tc.sel)
		if err != nil {
			t.Errorf("ParseCalicoSelector(%q): unexpected error: %v", tc.sel, err)
			continue
		}
		if got := sel.Matches(tc.labels); got != tc.want {
			t.Errorf("ParseCalicoSelector(%q).Matches(%v) = %v, want %v", tc.sel, tc.labels, got, tc.want)
		}
		if got := sel.String(); got != tc.sel {
			t.Errorf("ParseCalicoSelector(%q).String() = %q, want the source", tc.sel, got)
		}
	}
}

func TestCalicoSelectorErrors(t *testing.T) {
	tests := []struct {
		sel  string
		want string // substring of the error, including the offset
	}{
		{`app == `, `selector "app == ": expected a value after == at offset 7`},
		{`b == b`, `expected a quoted value after ==, found label "b" at offset 5`},
		{`b != b`, `after !=, found label "b" at offset 5`},
		{`b contains b`, `after contains, found label "b" at offset 11`},
		{`b starts with b`, `after starts with, found label "b" at offset 14`},
		{`b ends with b`, `after ends with, found label "b" at offset 12`},
		{`a == "b" "c"`, `unexpected string "c" after a complete expression at offset 9`},
		{`'b1' == b`, `unexpected string "b1"`},
		{`b`, `expected an operator after label "b", found end of selector at offset 1`},
		{`a `, `found end of selector at offset 2`},
		{`a b`, `after label "a" at offset 2`},
		{`a squiggles "x"`, `after label "a" at offset 2`},
		{`label starts foo "value"`, `after label "label" at offset 6`},
		{`label ends foo "value"`, `at offset 6`},
		{`a inx {"b"}`, `after label "a" at offset 2`},     // keyword needs a word boundary
		{`a containsx "b"`, `after label "a" at offset 2`}, //
		{`a not {"b"}`, `after label "a" at offset 2`},     //
		{`a = "b"`, `expected == (a single = is not an operator) at offset 2`},
		{`a === "b"`, `expected == (a single = is not an operator) at offset 4`},
		{`a ! = "b"`, `at offset 4`},
		{`a (`, `expected an operator after label "a", found ( at offset 2`},
		{`!`, `unexpected end of selector`},
		{`!!`, `at offset 2`},
		{`foo == "bar" &`, `expected && (a single & is not an operator) at offset 13`},
		{`foo == "bar" |`, `expected || (a single | is not an operator) at offset 13`},
		{`foo == "bar" &&`, `unexpected end of selector, expected a label, has(), all(), global(), ! or ( at offset 15`},
		{`foo == "bar" ||`, `at offset 15`},
		{`&& has(a)`, `unexpected &&`},
		{`has(a) || || has(b)`, `unexpected ||, expected a label, has(), all(), global(), ! or ( at offset 10`},
		{`has(foo) &&`, `unexpected end of selector`},
		{`has(a) has(b)`, `unexpected has(b) after a complete expression at offset 7`},
		{`foo != ||`, `expected a quoted value after !=, found || at offset 7`},
		{`foo in {"", ||`, `in set opened at offset 7, found || at offset 12`},
		{`foo in ""`, `expected a set literal`},
		{`foo in "a", "b"`, `expected a set literal`},
		{`foo in ("a")`, `expected a set literal`},
		{`foo in {"a" "b"}`, `found string "b" at offset 12`},
		{`foo in {,}`, `found , at offset 8`},
		{`foo in {"a",,"b"}`, `found , at offset 12`},
		{`foo in {a}`, `found label "a"`},
		{`foo in {"a"`, `found end of selector at offset 11`},
		{`foo not in`, `expected a set literal {"...", ...} after not in, found end of selector at offset 10`},
		{`"FOO`, `unterminated string (no closing ") at offset 0`},
		{`"FOO'`, `unterminated string`},
		{`'FOO`, `unterminated string (no closing ') at offset 0`},
		{`a == "b`, `unterminated string (no closing ") at offset 5`},
		{`(`, `unexpected end of selector`},
		{`(a == "foo"`, `expected ) to close ( at offset 0, found end of selector at offset 11`},
		{`((has(a))`, `expected ) to close ( at offset 0`},
		{`)`, `unexpected )`},
		{`()`, `unexpected ), expected a label, has(), all(), global(), ! or ( at offset 1`},
		{`has(a))`, `unexpected ) after a complete expression at offset 6`},
		{`%`, `found '%' at offset 0`},
		{`a == "b" && %`, `found '%' at offset 12`},
		{`a == "b" || %`, `at offset 12`},
		{`a.b:c == "d"`, `after label "a.b" at offset 3`},
		{`a == "b"` + "\n", `found '\n' (Calico allows only spaces and tabs as whitespace) at offset 8`},
		{"a ==\r\n\"b\"", `at offset 4`},
		{`has()`, `expected a label key inside has(, found ')' at offset 4`},
		{`has(`, `expected a label key inside has(, found end of selector at offset 4`},
		{`has(a`, `expected ) to close has( at offset 5`},
		{`has(a b)`, `expected ) to close has( at offset 6`},
		{`has("a")`, `found '"' at offset 4`},
		{`has (a)`, `expected an operator after label "has", found (`},
		{`all(`, `expected ) to close all( at offset 4`},
		{`all(x)`, `expected ) to close all( at offset 4`},
		{`global(`, `expected ) to close global( at offset 7`},
		{`all()()`, `unexpected ( after a complete expression`},
		{`has(a) == "b"`, `unexpected == after a complete expression`},
		{`has(` + strings.Repeat("k", 513) + `)`, `label key longer than 512 characters at offset 4`},
		{strings.Repeat("k", 513) + ` == "v"`, `label key longer than 512 characters at offset 0`},
	}
	for _, tc := range tests {
		sel, err := ParseCalicoSelector(tc.sel)
		if err == nil {
			t.Errorf("ParseCalicoSelector(%q) = %v, want an error", tc.sel, sel)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCalicoSelector(%q) error = %q, want it to contain %q", tc.sel, err, tc.want)
		}
		if !strings.HasPrefix(err.Error(), "selector ") {
			t.Errorf("ParseCalicoSelector(%q) error = %q, want it to name the selector", tc.sel, err)
		}
	}
}

func TestCalicoSelectorKeys(t *testing.T) {
	tests := []struct {
		sel  string
		want []string
	}{
		{``, []string{}},
		{`all()`, []string{}},
		{`global() || all()`, []string{}},
		{`has(b)`, []string{"b"}},
		{`!has(b)`, []string{"b"}},
		{`z == "1" && a != "2" || (m in {"x"} && !(z not in {}))`, []string{"a", "m", "z"}},
		{`a contains "x" || b starts with "y" || c ends with "z" || a == "q"`, []string{"a", "b", "c"}},
		{`projectcalico.org/name == "x" && has(k8s-app)`, []string{"k8s-app", "projectcalico.org/name"}},
	}
	for _, tc := range tests {
		sel, err := ParseCalicoSelector(tc.sel)
		if err != nil {
			t.Fatalf("ParseCalicoSelector(%q): %v", tc.sel, err)
		}
		got := sel.Keys()
		if got == nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseCalicoSelector(%q).Keys() = %#v, want %#v", tc.sel, got, tc.want)
		}
		// The result is a copy: mutating it must not affect the selector.
		if len(got) > 0 {
			got[0] = "mutated"
			if again := sel.Keys(); !slices.Equal(again, tc.want) {
				t.Errorf("Keys() shares storage: after mutation got %#v", again)
			}
		}
	}
}

func TestCalicoSelectorNil(t *testing.T) {
	var s *CalicoSelector
	if !s.Matches(map[string]string{"a": "b"}) {
		t.Error("nil selector should match everything")
	}
	if s.String() != "" || len(s.Keys()) != 0 {
		t.Errorf("nil selector: String() = %q, Keys() = %v", s.String(), s.Keys())
	}
}
