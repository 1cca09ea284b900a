package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A streaming watch-list (KEP-3157) sends the state of every pod in one response: the API server
// walks its cache once, where a paged LIST walks it again for every page. The response is a watch
// stream: ADDED events for every pod, then a BOOKMARK annotated k8s.io/initial-events-end whose
// resourceVersion is the consistent point the pods were read at. Frames are read one at a time and
// reduced with the same lean decoder as the pages (podproto.go); no frame is kept.
//
// On the wire (protobuf, Accept application/vnd.kubernetes.protobuf;stream=watch) each frame is a
// 4-byte big-endian length and a meta/v1 WatchEvent without the "k8s\0" envelope: field 1 is the
// event type, field 2 a RawExtension whose field 1 holds the object in its "k8s\0" envelope.

// watchStreamAccept asks for protobuf watch frames.
const watchStreamAccept = "application/vnd.kubernetes.protobuf;stream=watch"

// maxWatchFrame bounds one frame: an object is at most ~1.5 MiB in etcd, its event a little more.
const maxWatchFrame = 16 << 20

// initialEventsEnd is the annotation of the bookmark that ends the initial events.
const initialEventsEnd = "k8s.io/initial-events-end"

// errStreamIncomplete is a stream that ended before its initial-events-end bookmark.
var errStreamIncomplete = errors.New("the watch stream ended before the end of its initial events")

// frameReader reads length-prefixed frames.
type frameReader struct {
	r   *bufio.Reader
	buf []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next frame; its bytes are valid until the following call. io.EOF means the
// stream ended between frames.
func (f *frameReader) next() ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(f.r, head[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("a watch frame's length was cut off: %w", err)
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > maxWatchFrame {
		return nil, fmt.Errorf("a watch frame of %d bytes is larger than any object (%d): %w", n, maxWatchFrame, errBadProto)
	}
	if cap(f.buf) < int(n) {
		f.buf = make([]byte, n)
	}
	f.buf = f.buf[:n]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return nil, fmt.Errorf("a watch frame of %d bytes was cut off: %w", n, err)
	}
	return f.buf, nil
}

// watchEvent is one decoded frame: its type and the object's raw bytes (without the envelope).
type watchEvent struct {
	typ    string
	object []byte
}

// decodeWatchEvent reads a frame's WatchEvent.
func decodeWatchEvent(frame []byte) (watchEvent, error) {
	var ev watchEvent
	if bytes.HasPrefix(frame, protoMagic) { // an enveloped event, as a non-streaming encoder writes it
		var err error
		if frame, err = unwrapEnvelope(frame); err != nil {
			return ev, err
		}
	}
	var raw []byte
	err := decodeFields(frame, func(num, wire int, d []byte, _ uint64) error {
		switch {
		case num == 1 && wire == 2:
			ev.typ = string(d)
		case num == 2 && wire == 2:
			return decodeFields(d, func(n, w int, b []byte, _ uint64) error {
				if n == 1 && w == 2 {
					raw = b
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return ev, err
	}
	if ev.typ == "" || raw == nil {
		return ev, fmt.Errorf("a watch event without type or object: %w", errBadProto)
	}
	if ev.object, err = unwrapEnvelope(raw); err != nil {
		return ev, err
	}
	return ev, nil
}

// bookmarkEnd reads a bookmark's object (a Pod with metadata only): its resourceVersion and
// whether it ends the initial events.
func bookmarkEnd(obj []byte) (rv string, end bool, err error) {
	err = decodeFields(obj, func(num, wire int, d []byte, _ uint64) error {
		if num != 1 || wire != 2 {
			return nil
		}
		return decodeFields(d, func(n, w int, b []byte, _ uint64) error {
			switch {
			case n == 6 && w == 2:
				rv = string(b)
			case n == 12 && w == 2: // annotations: map entries of key 1, value 2
				var k, v []byte
				if err := decodeFields(b, func(en, ew int, eb []byte, _ uint64) error {
					switch {
					case en == 1 && ew == 2:
						k = eb
					case en == 2 && ew == 2:
						v = eb
					}
					return nil
				}); err != nil {
					return err
				}
				if string(k) == initialEventsEnd && string(v) == "true" {
					end = true
				}
			}
			return nil
		})
	})
	return rv, end, err
}

// statusError turns an ERROR event's meta/v1 Status into the API error it stands for.
func statusError(obj []byte) error {
	st := metav1.Status{Status: metav1.StatusFailure}
	err := decodeFields(obj, func(num, wire int, d []byte, v uint64) error {
		switch {
		case num == 3 && wire == 2:
			st.Message = string(d)
		case num == 4 && wire == 2:
			st.Reason = metav1.StatusReason(d)
		case num == 6 && wire == 0:
			st.Code = int32(v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("an error event from the watch stream: %w", err)
	}
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	return &apierrors.StatusError{ErrStatus: st}
}

// readPodStream reduces the pods of a watch-list stream until its initial-events-end bookmark
// and returns them with the bookmark's resourceVersion.
func readPodStream(r io.Reader, in interner, out []Pod, progress func(int)) ([]Pod, string, error) {
	fr := newFrameReader(r)
	if b, err := fr.r.Peek(1); err == nil && b[0] == '{' {
		return out, "", errors.New("the server answered the watch-list in JSON, not protobuf frames")
	}
	for {
		frame, err := fr.next()
		if errors.Is(err, io.EOF) {
			return out, "", errStreamIncomplete
		}
		if err != nil {
			return out, "", err
		}
		ev, err := decodeWatchEvent(frame)
		if err != nil {
			return out, "", fmt.Errorf("reading the pod stream: %w", err)
		}
		switch ev.typ {
		case "ADDED":
			p, err := decodePod(ev.object, in)
			if err != nil {
				return out, "", fmt.Errorf("reading the pod stream: %w", err)
			}
			out = append(out, p)
			if progress != nil && len(out)%PageSize == 0 {
				progress(len(out))
			}
		case "BOOKMARK":
			rv, end, err := bookmarkEnd(ev.object)
			if err != nil {
				return out, "", fmt.Errorf("reading the pod stream's bookmark: %w", err)
			}
			if end {
				return out, rv, nil
			}
		case "ERROR":
			return out, "", statusError(ev.object)
		default:
			// MODIFIED or DELETED before the end of the initial events: not a watch-list stream
			return out, "", fmt.Errorf("a %s event before the end of the initial events: the server does not send a watch-list stream", ev.typ)
		}
	}
}

// streamPods reads the pods of namespace ns ("" for all) through one watch-list request. hint is
// how many pods to expect (0 when unknown).
func (g *gatherer) streamPods(ctx context.Context, ns string, hint int) ([]Pod, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the watch: the server would go on sending changes
	req := g.rest.Get().Resource("pods").
		Param("watch", "1").
		Param("sendInitialEvents", "true").
		Param("resourceVersionMatch", string(metav1.ResourceVersionMatchNotOlderThan)).
		Param("allowWatchBookmarks", "true").
		SetHeader("Accept", watchStreamAccept)
	if ns != "" {
		req = req.Namespace(ns)
	}
	body, err := req.Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var progress func(int)
	if g.opts.Progress != nil {
		progress = func(n int) { g.opts.Progress("pods", n) }
	}
	pods, _, err := readPodStream(body, newInterner(), make([]Pod, 0, hint), progress)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if progress != nil {
		progress(len(pods))
	}
	return pods, nil
}
