package cluster

import (
	"context"
	"net/netip"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ClusterIPs are the allocated ClusterIPs and where they were counted from.
type ClusterIPs struct {
	Addresses   []netip.Addr
	CountedFrom string
	// Unknown says what could not be read.
	Unknown []string
	// Transient counts the reads of Unknown that failed for a passing reason (see Evidence).
	Transient int
}

var gvrIPAddresses = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ipaddresses"}

// ReadClusterIPs reads the allocated ClusterIPs: IPAddress objects where the API has them (one per
// allocated address, written by the allocator itself), else the Services' ClusterIPs.
func ReadClusterIPs(ctx context.Context, c Clients, ev *Evidence) *ClusterIPs {
	x := &ClusterIPs{}
	if ev.Offers(gvrIPAddresses) {
		list, err := c.Kube.NetworkingV1().IPAddresses().List(ctx, metav1.ListOptions{})
		if err == nil {
			x.CountedFrom = "IPAddress objects"
			for _, it := range list.Items {
				if a, err := netip.ParseAddr(it.Name); err == nil {
					x.Addresses = append(x.Addresses, a)
				}
			}
			return x
		}
		x.Unknown = append(x.Unknown, "IPAddresses: "+x.failed(err))
	}
	svcs, err := c.Kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsForbidden(err) {
			x.Unknown = append(x.Unknown, "Services: forbidden: service CIDR usage unknown")
		} else {
			x.Unknown = append(x.Unknown, "Services: "+x.failed(err))
		}
		return x
	}
	x.CountedFrom = "Services"
	for _, s := range svcs.Items {
		for _, ip := range s.Spec.ClusterIPs {
			if a, err := netip.ParseAddr(ip); err == nil {
				x.Addresses = append(x.Addresses, a)
			}
		}
	}
	return x
}
