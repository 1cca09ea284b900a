package cmd

import (
	"strings"
	"testing"
)

func TestIPBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"ip", "web", "-o", "wide"}, `unknown output format "wide": use json, yaml, name, jsonpath=..., jsonpath-as-json=..., jsonpath-file=..., go-template=..., go-template-file=..., custom-columns=..., custom-columns-file=...`},
		{[]string{"ip", "web", "--raw", "-o", "json"}, "--raw and -o do not go together: --raw prints the commands' own output"},
		{[]string{"ip", "web", "--profile", "root"}, `invalid --profile "root": use restricted or netadmin`},
		{[]string{"ip", "web", "--image-pull-policy", "Sometimes"}, `invalid --image-pull-policy "Sometimes": use Always, IfNotPresent or Never`},
		{[]string{"ip", "web", "--timeout", "0s"}, "--timeout must be positive (got 0s)"},
		{[]string{"ip", "web", "--parallel", "0"}, "--parallel must be at least 1 (got 0)"},
		{[]string{"ip", "node/"}, `bad argument "node/": use NAME or NAMESPACE/NAME (a pod), TYPE/NAME (pod/, node/, svc/, deploy/, sts/, ds/, job/, rs/; -n for the namespace) or an IP address`},
		{[]string{"ip", "a/b/c"}, `bad argument "a/b/c": use NAME or NAMESPACE/NAME (a pod), TYPE/NAME (pod/, node/, svc/, deploy/, sts/, ds/, job/, rs/; -n for the namespace) or an IP address`},
		{[]string{"ip", "10.0.0.300"}, `"10.0.0.300" is not an IP address: give a valid IPv4 or IPv6 address, or use NAME or NAMESPACE/NAME (a pod), TYPE/NAME (pod/, node/, svc/, deploy/, sts/, ds/, job/, rs/; -n for the namespace) or an IP address`},
		{[]string{"ip", "svc/web"}, "svc/web: a Service has no network namespace to probe; probe one of its pods (kubectl podnet who shows them)"},
		{[]string{"ip", "shop/missing"}, "pod shop/missing not found: check the name and the namespace (-n)"},
		{[]string{"ip"}, `name what to probe: a pod (NAME, NAMESPACE/NAME, pod/NAME), node/NAME, a workload (deploy/NAME, sts/, ds/, job/, rs/), an IP address, or pods by label with -l`},
		{[]string{"ip", "-l", "app in (web"}, `-l "app in (web" is not a label selector`},
		{[]string{"ip", "web", "--all-pods"}, "--all-pods takes every pod of a workload: name one (deploy/NAME, sts/NAME, ds/NAME, job/NAME, rs/NAME)"},
		{[]string{"ip", "web", "--max-targets", "0"}, "--max-targets must be at least 1 (got 0)"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runCmd(t, nil, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
