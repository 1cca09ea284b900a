package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func forbidden(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 403, Reason: metav1.StatusReasonForbidden, Message: msg}}
}

func TestExplain(t *testing.T) {
	srv := apiServer{URL: "https://aks.example:443", Timeout: "5s", Context: "prod", User: "clusterUser_prod"}
	refused := &url.Error{Op: "Get", URL: "https://aks.example:443/api/v1/pods", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name string
		err  error
		srv  apiServer
		want string
		code int
	}{
		{"refused", refused, srv, "cannot reach the API server at https://aks.example:443: connection refused: check that the cluster is running and that --kubeconfig/--context point at it", 1},
		{"refused, once for three targets", errors.Join(fmt.Errorf("pod/a/x: %w", refused), fmt.Errorf("pod/a/y: %w", refused), fmt.Errorf("node/n: %w", refused)), srv,
			"cannot reach the API server at https://aks.example:443: connection refused: check that the cluster is running and that --kubeconfig/--context point at it", 1},
		{"deadline", fmt.Errorf("listing: %w", context.DeadlineExceeded), srv, "the API server at https://aks.example:443 did not answer within --request-timeout 5s: check that it is reachable", 1},
		{"deadline without a timeout", context.DeadlineExceeded, apiServer{URL: "https://x"}, "the API server at https://x did not answer in time: check that it is reachable, or set --request-timeout", 1},
		{"expired token", apierrors.NewUnauthorized("Unauthorized"), srv,
			`the API server at https://aks.example:443 rejected the credentials (401 Unauthorized) of user "clusterUser_prod" (context "prod"): the token or client certificate has expired or is wrong; log in again (refresh the kubeconfig) or choose another --context`, 1},
		{"RBAC, namespaced subresource", forbidden(`pods "web-0" is forbidden: User "alice" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "shop"`), srv,
			"alice may not patch pods/ephemeralcontainers in namespace shop (403 Forbidden): ask for that permission (check with 'kubectl auth can-i patch pods/ephemeralcontainers -n shop'), or use another --context", 1},
		{"RBAC, cluster-wide in a group", forbidden(`ipamblocks.crd.projectcalico.org is forbidden: User "alice" cannot list resource "ipamblocks" in API group "crd.projectcalico.org" at the cluster scope`), srv,
			"alice may not list ipamblocks.crd.projectcalico.org cluster-wide (403 Forbidden): ask for that permission (check with 'kubectl auth can-i list ipamblocks.crd.projectcalico.org'), or use another --context", 1},
		{"admission says its own reason", forbidden(`pods "p" is forbidden: violates PodSecurity "restricted:latest": hostNetwork=true`), srv,
			`pods "p" is forbidden: violates PodSecurity "restricted:latest": hostNetwork=true`, 1},
		{"not found", apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "web-0"), srv, `pod "web-0" not found: check the name and the namespace (-n)`, 1},
		{"credential plugin", &url.Error{Op: "Get", URL: "https://x", Err: errors.New("getting credentials: exec: executable kubelogin not found\n\nIt looks like you are trying to use a client-go credential plugin that is not installed.")},
			apiServer{URL: "https://x", User: "u", ExecCommand: "kubelogin", ExecInstallHint: "az aks install-cli\ninstalls it"},
			`the kubeconfig's user "u" gets its credentials from the command "kubelogin", which failed: executable kubelogin not found (the kubeconfig says: az aks install-cli installs it): install it or put it on PATH, log in with it again, or choose another --context`, 1},
		{"exit code kept", finding(fmt.Errorf("x: %w", refused)), srv, "cannot reach the API server at https://aks.example:443: connection refused: check that the cluster is running and that --kubeconfig/--context point at it", 2},
		{"sentences pass", errors.New("pod shop/web-0 is Pending, not Running"), srv, "pod shop/web-0 is Pending, not Running", 1},
		{"same sentence once", errors.Join(errors.New("a"), errors.New("b"), errors.New("a")), srv, "a\nb", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explain(tt.err, tt.srv)
			if got.Error() != tt.want || ExitCode(got) != tt.code {
				t.Errorf("explain =\n%q (exit %d)\nwant\n%q (exit %d)", got, ExitCode(got), tt.want, tt.code)
			}
		})
	}
}

func TestCheckRequestTimeout(t *testing.T) {
	for v, ok := range map[string]bool{"": true, "0": true, "30": true, "30s": true, "2m": true, "1h30m": true, "abc": false, "-1s": false, "5x": false} {
		_, _, err := runCmd(t, flannelCluster(), "nodes", "--request-timeout", v)
		if (err == nil) != ok {
			t.Errorf("--request-timeout %q: error %v, want ok=%v", v, err, ok)
		}
	}
}
