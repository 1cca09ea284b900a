package cmd

import (
	"errors"
	"fmt"
	"os"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
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
	// Context and User are the kubeconfig's, and ExecCommand the user's credential plugin, for
	// error messages.
	Context, User, ExecCommand, ExecInstallHint string
}

// ClientFactory builds the clients from the global flags.
type ClientFactory func(flags *genericclioptions.ConfigFlags) (*Clients, error)

// NewClientsFromFlags builds real clients: protobuf for built-in types, JSON for custom resources,
// a rate limit high enough never to throttle a listing.
func NewClientsFromFlags(flags *genericclioptions.ConfigFlags) (*Clients, error) {
	if flags.KubeConfig != nil && *flags.KubeConfig != "" {
		if _, err := os.Stat(*flags.KubeConfig); err != nil {
			return nil, fmt.Errorf("the kubeconfig %s given with --kubeconfig cannot be read (%v): check the path", *flags.KubeConfig, errors.Unwrap(err))
		}
	}
	if err := checkKubeconfigFound(flags); err != nil {
		return nil, err
	}
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
	c := &Clients{
		Clients:   cluster.Clients{Kube: kube, Dynamic: dyn, Discovery: kube.Discovery(), CoreREST: kube.CoreV1().RESTClient()},
		Server:    cfg.Host,
		Namespace: ns, NamespaceExplicit: explicit,
	}
	if raw, err := flags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		c.Context = raw.CurrentContext
		if flags.Context != nil && *flags.Context != "" {
			c.Context = *flags.Context
		}
		if ctx := raw.Contexts[c.Context]; ctx != nil {
			c.User = ctx.AuthInfo
		}
		if flags.AuthInfoName != nil && *flags.AuthInfoName != "" {
			c.User = *flags.AuthInfoName
		}
		if u := raw.AuthInfos[c.User]; u != nil && u.Exec != nil {
			c.ExecCommand, c.ExecInstallHint = u.Exec.Command, u.Exec.InstallHint
		}
	}
	return c, nil
}
