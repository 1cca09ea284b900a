package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Clients are the API clients and what a user needs to know of where they point.
type Clients struct {
	cluster.Clients
	// Server is the API server's URL, for error messages.
	Server string
	// Namespace is the namespace of -n or of the kubeconfig context.
	Namespace string
	// NamespaceExplicit is set when -n was given.
	NamespaceExplicit bool
}

// ClientFactory builds the clients from the global flags.
type ClientFactory func(flags *genericclioptions.ConfigFlags) (*Clients, error)

// NewClientsFromFlags builds real clients: protobuf for built-in types, JSON for custom resources,
// a rate limit high enough never to throttle a listing.
func NewClientsFromFlags(flags *genericclioptions.ConfigFlags) (*Clients, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, kubeconfigError(err)
	}
	ns, explicit, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, kubeconfigError(err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.UserAgent = "kubectl-podnet"
	pb := *cfg
	pb.ContentType = runtime.ContentTypeProtobuf
	pb.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	kube, err := kubernetes.NewForConfig(&pb)
	if err != nil {
		return nil, kubeconfigError(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, kubeconfigError(err)
	}
	return &Clients{
		Clients:   cluster.Clients{Kube: kube, Dynamic: dyn, Discovery: kube.Discovery(), CoreREST: kube.CoreV1().RESTClient()},
		Server:    cfg.Host,
		Namespace: ns, NamespaceExplicit: explicit,
	}, nil
}

func kubeconfigError(err error) error {
	if clientcmd.IsEmptyConfig(err) {
		return fmt.Errorf("no kubeconfig found: set KUBECONFIG or pass --kubeconfig (or --server and --token)")
	}
	return fmt.Errorf("kubeconfig: %w: check --kubeconfig, KUBECONFIG and --context", err)
}

// apiError turns a failed API call into one sentence a user can act on.
func apiError(err error, server, timeout string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	var certErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted")
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server at %s rejected the credentials (401 Unauthorized): the token or client certificate may have expired or be wrong; log in again or choose another --context", server)
	case errors.As(err, &certErr), errors.As(err, &hostErr):
		return fmt.Errorf("the API server at %s presented a certificate that is not trusted (%v): check certificate-authority-data in the kubeconfig or --certificate-authority", server, err)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		if timeout != "" && timeout != "0" {
			return fmt.Errorf("the API server at %s did not answer within --request-timeout %s: check that it is reachable", server, timeout)
		}
		return fmt.Errorf("the API server at %s did not answer in time: check that it is reachable, or set --request-timeout", server)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach the API server at %s: connection refused: check that the cluster is running and that --kubeconfig/--context point at it", server)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot reach the API server at %s: %v: check the server address in the kubeconfig", server, dnsErr)
	case errors.As(err, &ue):
		return fmt.Errorf("cannot reach the API server at %s: %v", server, strings.TrimPrefix(ue.Err.Error(), "dial tcp "))
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
