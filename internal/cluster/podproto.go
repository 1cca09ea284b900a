package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// A PodList page is read as raw bytes and only the fields the network view needs are picked out
// of its protobuf encoding; everything else (containers, volumes, managed fields...) is skipped
// without being decoded. This is what keeps a 150,000-pod listing close to the cost of reading the
// bytes at all, and its memory to the reduced pods.
//
// Field numbers are those of k8s.io/api/core/v1/generated.proto and apimachinery's meta/v1.

// protoMagic starts every protobuf-encoded object the API server sends.
var protoMagic = []byte{'k', '8', 's', 0}

var errBadProto = errors.New("malformed protobuf")

// protoReader walks the fields of one protobuf message.
type protoReader struct {
	b []byte
}

// next returns the next field's number, wire type, and for length-delimited fields its bytes, for
// varints its value.
func (r *protoReader) next() (num int, wire int, data []byte, v uint64, err error) {
	key, n := uvarint(r.b)
	if n <= 0 {
		return 0, 0, nil, 0, errBadProto
	}
	r.b = r.b[n:]
	num, wire = int(key>>3), int(key&7)
	switch wire {
	case 0:
		v, n = uvarint(r.b)
		if n <= 0 {
			return 0, 0, nil, 0, errBadProto
		}
		r.b = r.b[n:]
	case 1:
		if len(r.b) < 8 {
			return 0, 0, nil, 0, errBadProto
		}
		r.b = r.b[8:]
	case 5:
		if len(r.b) < 4 {
			return 0, 0, nil, 0, errBadProto
		}
		r.b = r.b[4:]
	case 2:
		l, n := uvarint(r.b)
		if n <= 0 || l > uint64(len(r.b)-n) {
			return 0, 0, nil, 0, errBadProto
		}
		data = r.b[n : n+int(l)]
		r.b = r.b[n+int(l):]
	default:
		return 0, 0, nil, 0, errBadProto
	}
	return num, wire, data, v, nil
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	var s uint
	for i, c := range b {
		if i == 10 {
			return 0, -1
		}
		if c < 0x80 {
			return x | uint64(c)<<s, i + 1
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, 0
}

// unwrapEnvelope returns the raw object inside the "k8s\0" + runtime.Unknown envelope.
func unwrapEnvelope(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, protoMagic) {
		return nil, errBadProto
	}
	r := protoReader{data[len(protoMagic):]}
	for len(r.b) > 0 {
		num, wire, d, _, err := r.next()
		if err != nil {
			return nil, err
		}
		if num == 2 && wire == 2 {
			return d, nil
		}
	}
	return nil, errBadProto
}

// listMeta is the part of a list's ListMeta that paging needs.
type listMeta struct {
	cont      string
	remaining int64 // -1 when the server did not say
	rv        string
}

// readListMeta reads a protobuf list's ListMeta (field 1) without touching its items.
func readListMeta(list []byte) (listMeta, error) {
	m := listMeta{remaining: -1}
	r := protoReader{list}
	for len(r.b) > 0 {
		num, wire, d, _, err := r.next()
		if err != nil {
			return m, err
		}
		if num != 1 || wire != 2 {
			continue
		}
		mr := protoReader{d}
		for len(mr.b) > 0 {
			num, wire, d, v, err := mr.next()
			if err != nil {
				return m, err
			}
			switch {
			case num == 2 && wire == 2:
				m.rv = string(d)
			case num == 3 && wire == 2:
				m.cont = string(d)
			case num == 4 && wire == 0:
				m.remaining = int64(v)
			}
		}
		return m, nil
	}
	return m, nil
}

// decodePodList reduces every pod of a protobuf-encoded PodList (the envelope's raw bytes).
func decodePodList(list []byte, in interner, out []Pod) ([]Pod, error) {
	r := protoReader{list}
	for len(r.b) > 0 {
		num, wire, d, _, err := r.next()
		if err != nil {
			return out, err
		}
		if num != 2 || wire != 2 {
			continue
		}
		p, err := decodePod(d, in)
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

func decodePod(b []byte, in interner) (Pod, error) {
	var p Pod
	r := protoReader{b}
	for len(r.b) > 0 {
		num, wire, d, _, err := r.next()
		if err != nil {
			return p, err
		}
		if wire != 2 {
			continue
		}
		switch num {
		case 1:
			err = decodeFields(d, func(num, wire int, d []byte, _ uint64) error {
				switch {
				case num == 1 && wire == 2:
					p.Name = string(d)
				case num == 3 && wire == 2:
					p.Namespace = in.getBytes(d)
				}
				return nil
			})
		case 2:
			err = decodeFields(d, func(num, wire int, d []byte, v uint64) error {
				switch {
				case num == 10 && wire == 2:
					p.Node = in.getBytes(d)
				case num == 11 && wire == 0:
					p.HostNetwork = v != 0
				}
				return nil
			})
		case 3:
			err = decodePodStatus(d, &p, in)
		}
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

func decodePodStatus(b []byte, p *Pod, in interner) error {
	var podIP, hostIP []byte
	err := decodeFields(b, func(num, wire int, d []byte, _ uint64) error {
		if wire != 2 {
			return nil
		}
		switch num {
		case 1:
			p.Phase = corev1.PodPhase(in.getBytes(d))
		case 5:
			hostIP = d
		case 6:
			podIP = d
		case 12, 16: // podIPs, hostIPs: messages whose field 1 is the address
			return decodeFields(d, func(n, w int, ip []byte, _ uint64) error {
				if n == 1 && w == 2 {
					if a, err := netip.ParseAddr(string(ip)); err == nil {
						if num == 12 {
							p.IPs = append(p.IPs, a)
						} else {
							p.HostIPs = append(p.HostIPs, a)
						}
					}
				}
				return nil
			})
		}
		return nil
	})
	if len(p.IPs) == 0 && len(podIP) > 0 {
		if a, err := netip.ParseAddr(string(podIP)); err == nil {
			p.IPs = append(p.IPs, a)
		}
	}
	if len(p.HostIPs) == 0 && len(hostIP) > 0 {
		if a, err := netip.ParseAddr(string(hostIP)); err == nil {
			p.HostIPs = append(p.HostIPs, a)
		}
	}
	return err
}

func decodeFields(b []byte, fn func(num, wire int, data []byte, v uint64) error) error {
	r := protoReader{b}
	for len(r.b) > 0 {
		num, wire, d, v, err := r.next()
		if err != nil {
			return err
		}
		if err := fn(num, wire, d, v); err != nil {
			return err
		}
	}
	return nil
}

// decodePodPage reduces one page of pods as the server sent it: protobuf, or JSON from a server
// (or proxy) that does not speak protobuf.
func decodePodPage(body []byte, in interner, out []Pod) ([]Pod, error) {
	if bytes.HasPrefix(body, protoMagic) {
		list, err := unwrapEnvelope(body)
		if err != nil {
			return out, fmt.Errorf("reading a page of pods: %w", err)
		}
		out, err = decodePodList(list, in, out)
		if err != nil {
			return out, fmt.Errorf("reading a page of pods: %w", err)
		}
		return out, nil
	}
	var pl corev1.PodList
	if err := json.Unmarshal(body, &pl); err != nil {
		return out, fmt.Errorf("reading a page of pods: %w", err)
	}
	for i := range pl.Items {
		out = append(out, reducePod(&pl.Items[i], in))
	}
	return out, nil
}

// pageMeta reads the paging fields of a page in either encoding.
func pageMeta(body []byte) (listMeta, error) {
	if bytes.HasPrefix(body, protoMagic) {
		list, err := unwrapEnvelope(body)
		if err != nil {
			return listMeta{}, err
		}
		return readListMeta(list)
	}
	var l struct {
		Metadata struct {
			ResourceVersion    string `json:"resourceVersion"`
			Continue           string `json:"continue"`
			RemainingItemCount *int64 `json:"remainingItemCount"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return listMeta{}, err
	}
	m := listMeta{cont: l.Metadata.Continue, remaining: -1, rv: l.Metadata.ResourceVersion}
	if l.Metadata.RemainingItemCount != nil {
		m.remaining = *l.Metadata.RemainingItemCount
	}
	return m, nil
}
