package cmd

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestCIDRUsageTable(t *testing.T) {
	out, errOut, err := runCmd(t, flannelCluster(), "cidr-usage", "--plan-nodes", "300")
	// the plan does not fit: that is the finding --plan-nodes exists for
	if ExitCode(err) != 2 || err.Error() != "the plan of 300 nodes of 110 pods does not fit: node CIDRs (/24) in cluster CIDR 10.244.0.0/16: need 300, have 256" {
		t.Fatalf("cidr-usage: exit %d, %v; want 2 and the shortfall", ExitCode(err), err)
	}
	want := `CLUSTER POD CIDRS
CIDR            NODE-MASK   NODE-CIDRS   FREE   NO-CIDR   HOLES   USED                SOURCE
10.244.0.0/16   /24         2/256        254    1         0       [..........]   1%   kubeadm-config

NODES
NODE     POD-CIDRS       IPS     USABLE   MAX-PODS   HOST-NET   BINDS-FIRST   USED
node-1   10.244.0.0/24   2/109   253      110        1          max-pods      [..........]   2%
node-2   10.244.1.0/24   1/110   253      110        0          max-pods      [..........]   1%
node-3   -               0/0     0        110        0          no pod CIDR   [..........]   0%

SERVICE CIDRS
CIDR           CLUSTER-IPS   USED                SOURCE           COUNT
10.96.0.0/12   0/1,048,574   [..........]   0%   kubeadm-config   counted from Services

PLATFORM LIMITS
LIMIT               USED/LIMIT   USED                SOURCE
nodes per cluster   3/5,000      [..........]   0%   Kubernetes scalability thresholds: clusters are designed for at most 5,000 nodes
pods per cluster    4/150,000    [..........]   0%   Kubernetes scalability thresholds: at most 150,000 pods

PLAN: 300 NODES OF 110 PODS
CHECK                                            NEED     HAVE      FITS
node CIDRs (/24) in cluster CIDR 10.244.0.0/16   300      256       NO
pod addresses in a /24 node CIDR                 110      253       yes
nodes per cluster                                300      5,000     yes
pods per cluster                                 33,000   150,000   yes
holds 300 nodes of 110 pods: no; binds first: node CIDRs (/24) in cluster CIDR 10.244.0.0/16
smallest cluster CIDR that would hold them: 10.244.0.0/15
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	wantErr := "note: host-local's reservations on 2 node(s) live in the nodes' file systems, so leaks there are not subtracted: 'kubectl podnet ipam check --all-nodes' finds them\n" +
		"warning: node node-3 has no pod CIDR: its pods cannot get an address\n"
	if errOut != wantErr {
		t.Errorf("stderr = %q, want %q", errOut, wantErr)
	}
}

func TestCIDRUsageExitCodes(t *testing.T) {
	// node-3 has no pod CIDR: that is 100% of what it can hold
	_, _, err := runCmd(t, flannelCluster(), "cidr-usage", "--fail-at", "90", "-o", "json")
	if code := ExitCode(err); code != 2 || err.Error() != "utilisation 100% (node node-3 without a pod CIDR) is at or past --fail-at 90%" {
		t.Errorf("exit code %d, error %v; want 2", code, err)
	}
	all := flannelCluster()
	objs := []runtime.Object{all[0], all[1], all[7]} // two healthy nodes and kubeadm-config
	if _, _, err := runCmd(t, objs, "cidr-usage", "--fail-at", "90"); err != nil {
		t.Errorf("healthy cluster: error %v, want none", err)
	}
}

func TestCIDRUsagePrometheus(t *testing.T) {
	all := flannelCluster()
	out, _, err := runCmd(t, []runtime.Object{all[0], all[1], all[3], all[7]}, "cidr-usage", "-o", "prometheus")
	if err != nil {
		t.Fatalf("cidr-usage: %v", err)
	}
	for _, line := range []string{
		"# TYPE podnet_node_pod_ips_used gauge",
		`podnet_node_pod_ips_capacity{node="node-1"} 110`,
		`podnet_cluster_cidr_node_cidrs{cidr="10.244.0.0/16",mask="24"} 256`,
		`podnet_cluster_cidr_node_cidrs_allocated{cidr="10.244.0.0/16",mask="24"} 2`,
		`podnet_cluster_cidr_utilisation_ratio{cidr="10.244.0.0/16",mask="24"} 0.0078125`,
		`podnet_node_pod_ips_used{node="node-1"} 1`,
		"podnet_nodes_without_pod_cidr 0",
		`podnet_platform_limit_utilisation_ratio{limit="nodes per cluster"} 0.0004`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("prometheus output lacks %q:\n%s", line, out)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "# HELP ") && !strings.HasPrefix(l, "# TYPE ") && !strings.HasPrefix(l, "podnet_") {
			t.Errorf("not an exposition line: %q", l)
		}
	}
}

func TestCIDRUsageBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"cidr-usage", "--warn-at", "95", "--fail-at", "90"}, "--warn-at 95 is above --fail-at 90: a warning would come after the failure; give a lower --warn-at"},
		{[]string{"cidr-usage", "-o", "csv"}, `unknown output format "csv": use prometheus, json, yaml, name, jsonpath=..., jsonpath-as-json=..., jsonpath-file=..., go-template=..., go-template-file=..., custom-columns=..., custom-columns-file=...`},
		{[]string{"cidr-usage", "--fail-at", "120"}, "--warn-at and --fail-at are percentages from 0 to 100 (got 80 and 120)"},
		{[]string{"cidr-usage", "--node-subnet", "10.1.0.0"}, `--node-subnet "10.1.0.0" is not a CIDR: give one like 10.224.0.0/16`},
		{[]string{"cidr-usage", "--max-pods", "50"}, "--max-pods and --node-cidr-mask plan with --plan-nodes: give the number of nodes too"},
		{[]string{"cidr-usage", "--plan-nodes", "10", "--node-cidr-mask", "31"}, "--node-cidr-mask must be an IPv4 prefix length from 8 to 30 (got 31)"},
		{[]string{"cidr-usage", "--plan-nodes", "-3"}, "--plan-nodes must be a positive number of nodes (got -3)"},
		{[]string{"cidr-usage", "--plan-nodes", "10", "--node-cidr-mask", "12"}, "--node-cidr-mask /12 does not fit in cluster CIDR 10.244.0.0/16: a node CIDR cannot be larger than the range it is cut from; give a mask from /16 up"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runCmd(t, flannelCluster(), tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
