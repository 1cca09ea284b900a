package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd"
)

// apiServer is what an error message needs to know of the server the command talks to.
type apiServer struct {
	URL     string
	Timeout string
	Context string
	User    string
	// ExecCommand is the credential plugin of the user, when the kubeconfig runs one, and
	// ExecInstallHint what the kubeconfig says of installing it.
	ExecCommand, ExecInstallHint string
}

// serverError is a failure of the connection to the API server or of the credentials: every
// request fails the same way, so it is said once, not once per object or target.
type serverError struct {
	msg string
	err error
}

func (e *serverError) Error() string { return e.msg }
func (e *serverError) Unwrap() error { return e.err }

func serverErr(err error, format string, args ...any) error {
	return &serverError{msg: fmt.Sprintf(format, args...), err: err}
}

// explain is the one error path of every command: it turns API and transport errors into
// sentences naming the server, the object or the permission, and a remedy. Errors already
// written as sentences pass unchanged; a server failure inside a list of errors (one per target)
// is said once; exit codes are kept.
func explain(err error, s apiServer) error {
	if err == nil {
		return nil
	}
	var se *serverError
	if errors.As(err, &se) {
		return keepCode(err, se)
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return &ExitError{Code: ee.Code, Err: explain(ee.Err, s)}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		seen := map[string]bool{}
		for _, e := range j.Unwrap() {
			e = explain(e, s)
			if errors.As(e, &se) {
				return se
			}
			if !seen[e.Error()] {
				seen[e.Error()] = true
				out = append(out, e)
			}
		}
		return errors.Join(out...)
	}
	return apiError(err, s)
}

func keepCode(err error, se *serverError) error {
	if c := ExitCode(err); c != exitError {
		return &ExitError{Code: c, Err: se}
	}
	return se
}

// forbiddenRBAC reads the verb, resource, group and namespace out of an RBAC refusal.
var forbiddenRBAC = regexp.MustCompile(`User "([^"]*)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?`)

// apiError turns one failed API call into a sentence a user can act on.
func apiError(err error, s apiServer) error {
	var ue *url.Error
	var certErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var dnsErr *net.DNSError
	var status apierrors.APIStatus
	switch {
	case errors.Is(err, context.Canceled):
		return serverErr(err, "interrupted")
	case apierrors.IsUnauthorized(err):
		return serverErr(err, "the API server at %s rejected the credentials (401 Unauthorized) of %s: the token or client certificate has expired or is wrong; log in again (refresh the kubeconfig) or choose another --context", s.URL, s.who())
	case apierrors.IsForbidden(err) && errors.As(err, &status):
		msg := status.Status().Message
		m := forbiddenRBAC.FindStringSubmatch(msg)
		if m == nil {
			return err // admission and other refusals say their own reason
		}
		user, verb, resource, group, ns := m[1], m[2], m[3], m[4], m[5]
		res, sub, _ := strings.Cut(resource, "/")
		if group != "" {
			res += "." + group
		}
		if sub != "" {
			res += "/" + sub
		}
		where, flag := "cluster-wide", ""
		if ns != "" {
			where, flag = "in namespace "+ns, " -n "+ns
		}
		return fmt.Errorf("%s may not %s %s %s (403 Forbidden): ask for that permission (check with 'kubectl auth can-i %s %s%s'), or use another --context", user, verb, res, where, verb, res, flag)
	case apierrors.IsNotFound(err) && errors.As(err, &status):
		d := status.Status().Details
		if d != nil && d.Name != "" {
			return fmt.Errorf("%s %q not found: check the name and the namespace (-n)", kindName(d.Kind), d.Name)
		}
		return fmt.Errorf("%s: check the name and the namespace (-n)", status.Status().Message)
	case errors.As(err, &certErr), errors.As(err, &hostErr):
		return serverErr(err, "the API server at %s presented a certificate that is not trusted (%v): check certificate-authority-data in the kubeconfig or --certificate-authority", s.URL, err)
	case strings.Contains(err.Error(), "getting credentials: "):
		_, why, _ := strings.Cut(err.Error(), "getting credentials: ")
		// client-go follows the cause with paragraphs of advice; the first line is the cause
		why, _, _ = strings.Cut(why, "\n")
		why = strings.TrimPrefix(why, "exec: ")
		if s.ExecInstallHint != "" {
			why += " (the kubeconfig says: " + strings.Join(strings.Fields(s.ExecInstallHint), " ") + ")"
		}
		if s.ExecCommand != "" {
			return serverErr(err, "the kubeconfig's user %q gets its credentials from the command %q, which failed: %s: install it or put it on PATH, log in with it again, or choose another --context", s.User, s.ExecCommand, why)
		}
		return serverErr(err, "the kubeconfig's credential plugin failed: %s: install it or put it on PATH, or choose another --context", why)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		if s.Timeout != "" && s.Timeout != "0" {
			return serverErr(err, "the API server at %s did not answer within --request-timeout %s: check that it is reachable", s.URL, s.Timeout)
		}
		return serverErr(err, "the API server at %s did not answer in time: check that it is reachable, or set --request-timeout", s.URL)
	case errors.Is(err, syscall.ECONNREFUSED):
		return serverErr(err, "cannot reach the API server at %s: connection refused: check that the cluster is running and that --kubeconfig/--context point at it", s.URL)
	case errors.As(err, &dnsErr):
		return serverErr(err, "cannot reach the API server at %s: %v: check the server address in the kubeconfig", s.URL, dnsErr)
	case errors.As(err, &ue):
		return serverErr(err, "cannot reach the API server at %s: %v", s.URL, strings.TrimPrefix(ue.Err.Error(), "dial tcp "))
	}
	return err
}

// kindName is a status's kind as a user reads it: "pods" and "pod" alike become "pod".
func kindName(kind string) string {
	if kind == "" {
		return "object"
	}
	return strings.TrimSuffix(strings.ToLower(kind), "s")
}

func (s apiServer) who() string {
	switch {
	case s.User != "" && s.Context != "":
		return fmt.Sprintf("user %q (context %q)", s.User, s.Context)
	case s.User != "":
		return fmt.Sprintf("user %q", s.User)
	}
	return "this kubeconfig"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// kubeconfigError says what is wrong with the kubeconfig the flags point at.
func kubeconfigError(err error) error {
	if clientcmd.IsEmptyConfig(err) {
		return errNoKubeconfig(nil)
	}
	return fmt.Errorf("kubeconfig: %w: check --kubeconfig, KUBECONFIG and --context", err)
}

// errNoKubeconfig: no kubeconfig file was found where kubectl looks, and no --server was given.
func errNoKubeconfig(looked []string) error {
	where := "KUBECONFIG and ~/.kube/config"
	if len(looked) > 0 {
		where = strings.Join(looked, ", ")
	}
	return fmt.Errorf("no kubeconfig found (looked at %s): point KUBECONFIG or --kubeconfig at one (your cloud's CLI writes it, e.g. 'az aks get-credentials'), or pass --server with --token", where)
}

// checkKubeconfigFound refuses to fall back on client-go's default of http://localhost:8080
// when there is no kubeconfig at all: the error would blame a server nobody named.
func checkKubeconfigFound(flags *genericclioptions.ConfigFlags) error {
	if flags.APIServer != nil && *flags.APIServer != "" {
		return nil
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return nil // in a pod: the in-cluster config
	}
	loader := flags.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil || len(raw.Clusters) > 0 {
		return nil // a broken kubeconfig says so itself
	}
	var looked []string
	if flags.KubeConfig != nil && *flags.KubeConfig != "" {
		looked = []string{*flags.KubeConfig}
	} else if ca := loader.ConfigAccess(); ca != nil {
		for _, f := range ca.GetLoadingPrecedence() {
			looked = append(looked, f)
		}
	}
	return errNoKubeconfig(looked)
}

// checkRequestTimeout reads --request-timeout as kubectl does: a duration, or a whole number of
// seconds; 0 waits forever.
func checkRequestTimeout(flags *genericclioptions.ConfigFlags) error {
	if flags.Timeout == nil || *flags.Timeout == "" {
		return nil
	}
	v := *flags.Timeout
	d, err := time.ParseDuration(v)
	if err != nil {
		d, err = time.ParseDuration(v + "s")
	}
	if err != nil || d < 0 {
		return fmt.Errorf("invalid --request-timeout %q: give a duration such as 30s or 2m (a whole number is seconds; 0 waits forever)", v)
	}
	return nil
}
