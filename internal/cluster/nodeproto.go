package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Nodes are paged as raw protobuf too, and only what reduceNode reads is decoded into a bare
// corev1.Node: a real node's status carries its container images, volumes and daemon endpoints,
// which a typed decoding of 5,000 nodes allocates by the hundred megabytes. Field numbers are those
// of k8s.io/api/core/v1/generated.proto.

// decodeNodeLean decodes the fields reduceNode reads.
func decodeNodeLean(b []byte) (*corev1.Node, error) {
	n := &corev1.Node{}
	err := decodeFields(b, func(num, wire int, d []byte, _ uint64) error {
		if wire != 2 {
			return nil
		}
		switch num {
		case 1:
			return decodeNodeMeta(d, n)
		case 2:
			return decodeFields(d, func(num, wire int, d []byte, v uint64) error {
				switch {
				case num == 1 && wire == 2:
					n.Spec.PodCIDR = string(d)
				case num == 3 && wire == 2:
					n.Spec.ProviderID = string(d)
				case num == 4 && wire == 0:
					n.Spec.Unschedulable = v != 0
				case num == 7 && wire == 2:
					n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, string(d))
				}
				return nil
			})
		case 3:
			return decodeNodeStatus(d, n)
		}
		return nil
	})
	return n, err
}

func decodeNodeMeta(b []byte, n *corev1.Node) error {
	return decodeFields(b, func(num, wire int, d []byte, _ uint64) error {
		switch {
		case num == 1 && wire == 2:
			n.Name = string(d)
		case num == 11 && wire == 2:
			k, v, err := mapEntry(d)
			if err != nil {
				return err
			}
			if n.Labels == nil {
				n.Labels = map[string]string{}
			}
			n.Labels[string(k)] = string(v)
		case num == 12 && wire == 2:
			k, v, err := mapEntry(d)
			if err != nil {
				return err
			}
			if networkAnnotation(string(k)) {
				if n.Annotations == nil {
					n.Annotations = map[string]string{}
				}
				n.Annotations[string(k)] = string(v)
			}
		}
		return nil
	})
}

// networkAnnotation reports whether a node annotation is one a network plugin writes.
func networkAnnotation(k string) bool {
	for _, p := range networkAnnotationPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// mapEntry reads a protobuf map entry: key 1, value 2.
func mapEntry(b []byte) (k, v []byte, err error) {
	err = decodeFields(b, func(num, wire int, d []byte, _ uint64) error {
		switch {
		case num == 1 && wire == 2:
			k = d
		case num == 2 && wire == 2:
			v = d
		}
		return nil
	})
	return k, v, err
}

func decodeNodeStatus(b []byte, n *corev1.Node) error {
	return decodeFields(b, func(num, wire int, d []byte, _ uint64) error {
		if wire != 2 {
			return nil
		}
		switch num {
		case 2: // allocatable: map<string, Quantity{string = 1}>
			k, v, err := mapEntry(d)
			if err != nil || string(k) != string(corev1.ResourcePods) {
				return err
			}
			var s []byte
			if err := decodeFields(v, func(num, wire int, d []byte, _ uint64) error {
				if num == 1 && wire == 2 {
					s = d
				}
				return nil
			}); err != nil {
				return err
			}
			if q, err := resource.ParseQuantity(string(s)); err == nil {
				n.Status.Allocatable = corev1.ResourceList{corev1.ResourcePods: q}
			}
		case 4:
			var c corev1.NodeCondition
			if err := decodeFields(d, func(num, wire int, d []byte, _ uint64) error {
				if wire != 2 {
					return nil
				}
				switch num {
				case 1:
					c.Type = corev1.NodeConditionType(d)
				case 2:
					c.Status = corev1.ConditionStatus(d)
				case 5:
					c.Reason = string(d)
				case 6:
					c.Message = string(d)
				}
				return nil
			}); err != nil {
				return err
			}
			if c.Type == corev1.NodeReady || c.Type == corev1.NodeNetworkUnavailable {
				n.Status.Conditions = append(n.Status.Conditions, c)
			}
		case 5:
			k, v, err := mapEntry(d) // NodeAddress: type 1, address 2
			if err != nil {
				return err
			}
			n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeAddressType(k), Address: string(v)})
		case 7:
			i := &n.Status.NodeInfo
			return decodeFields(d, func(num, wire int, d []byte, _ uint64) error {
				if wire != 2 {
					return nil
				}
				switch num {
				case 4:
					i.KernelVersion = string(d)
				case 5:
					i.OSImage = string(d)
				case 6:
					i.ContainerRuntimeVersion = string(d)
				case 9:
					i.OperatingSystem = string(d)
				}
				return nil
			})
		}
		return nil
	})
}

// decodeNodePage reduces one page of nodes as the server sent it: protobuf, or JSON from a server
// (or proxy) that does not speak protobuf.
func decodeNodePage(body []byte, out []Node) ([]Node, error) {
	if !bytes.HasPrefix(body, protoMagic) {
		var nl corev1.NodeList
		if err := json.Unmarshal(body, &nl); err != nil {
			return out, fmt.Errorf("reading a page of nodes: %w", err)
		}
		for i := range nl.Items {
			out = append(out, reduceNode(&nl.Items[i]))
		}
		return out, nil
	}
	list, err := unwrapEnvelope(body)
	if err != nil {
		return out, fmt.Errorf("reading a page of nodes: %w", err)
	}
	err = decodeFields(list, func(num, wire int, d []byte, _ uint64) error {
		if num != 2 || wire != 2 {
			return nil
		}
		n, err := decodeNodeLean(d)
		if err != nil {
			return err
		}
		out = append(out, reduceNode(n))
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("reading a page of nodes: %w", err)
	}
	return out, nil
}

// pageNodes pages through the nodes as raw protobuf and reduces each page lean.
func (g *gatherer) pageNodes(ctx context.Context) ([]Node, error) {
	var out []Node
	cont := ""
	for {
		req := g.rest.Get().Resource("nodes").Param("limit", strconv.Itoa(PageSize))
		if g.opts.NodeSelector != "" {
			req = req.Param("labelSelector", g.opts.NodeSelector)
		}
		if cont != "" {
			req = req.Param("continue", cont)
		}
		buf, err := readRaw(ctx, req)
		if err != nil {
			return nil, err
		}
		meta, err := pageMeta(buf.Bytes())
		if err != nil {
			err = fmt.Errorf("reading a page of nodes: %w", err)
		} else {
			if out == nil && meta.remaining >= 0 {
				out = make([]Node, 0, PageSize+int(meta.remaining))
			}
			out, err = decodeNodePage(buf.Bytes(), out) // its errors say which page
		}
		pageBuffers.Put(buf)
		if err != nil {
			return nil, err
		}
		if g.opts.Progress != nil {
			g.opts.Progress("nodes", len(out))
		}
		if cont = meta.cont; cont == "" {
			return out, nil
		}
	}
}
