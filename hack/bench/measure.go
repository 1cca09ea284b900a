package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func port(i int) intstr.IntOrString { return intstr.FromInt32(int32(i)) }

// floor reads every node and pod and discards the bytes: no decoding, nothing kept. Nothing that
// reads them the same way can be faster. mode "paged" lists both in protobuf pages of 500; mode
// "stream" lists nodes so and reads pods through one watch-list stream (protobuf watch frames up
// to the initial-events-end bookmark), the API server's fastest way to send them all.
func floor(kubeconfig, mode string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	rc := kube.CoreV1().RESTClient()
	ctx := context.Background()
	total := 0
	resources := []string{"nodes", "pods"}
	if mode == "stream" {
		resources = resources[:1]
		n, err := streamFloor(ctx, rc)
		if err != nil {
			return err
		}
		total += n
	} else if mode != "paged" {
		return fmt.Errorf("floor --mode is paged or stream, not %q", mode)
	}
	for _, res := range resources {
		cont := ""
		for {
			req := rc.Get().Resource(res).Param("limit", "500")
			if cont != "" {
				req = req.Param("continue", cont)
			}
			body, err := req.Stream(ctx)
			if err != nil {
				return err
			}
			data, err := io.ReadAll(body)
			body.Close()
			if err != nil {
				return err
			}
			total += len(data)
			cont = continueToken(data)
			if cont == "" {
				break
			}
		}
	}
	fmt.Fprintf(os.Stderr, "floor (%s): read %d bytes\n", mode, total)
	return nil
}

// streamFloor reads the watch-list stream of every pod, frame by frame, until the bookmark that
// ends the initial events, and discards it.
func streamFloor(ctx context.Context, rc rest.Interface) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	body, err := rc.Get().Resource("pods").Param("watch", "1").Param("sendInitialEvents", "true").
		Param("resourceVersionMatch", "NotOlderThan").Param("allowWatchBookmarks", "true").
		SetHeader("Accept", "application/vnd.kubernetes.protobuf;stream=watch").Stream(ctx)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	r := bufio.NewReaderSize(body, 64<<10)
	var head [4]byte
	var buf []byte
	total := 0
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return total, fmt.Errorf("the pod stream ended before its initial-events-end bookmark: %w", err)
		}
		n := int(binary.BigEndian.Uint32(head[:]))
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return total, err
		}
		total += 4 + n
		// a WatchEvent: type is field 1; only a bookmark's object is looked into
		switch string(field(buf, 1)) {
		case "BOOKMARK":
			if bytes.Contains(buf, []byte("k8s.io/initial-events-end")) {
				return total, nil
			}
		case "ERROR":
			return total, fmt.Errorf("the pod stream sent an error: %q", field(field(buf, 2), 1))
		}
	}
}

// continueToken digs the continue token out of a protobuf list without decoding the items: the
// envelope is "k8s\0" + runtime.Unknown{typeMeta=1, raw=2}; raw is the List, whose field 1 is
// ListMeta, whose field 3 is continue.
func continueToken(data []byte) string {
	if len(data) < 4 {
		return ""
	}
	raw := field(data[4:], 2)
	meta := field(raw, 1)
	return string(field(meta, 3))
}

// field returns the first length-delimited field num of a protobuf message.
func field(b []byte, num int) []byte {
	for len(b) > 0 {
		key, n := uvarint(b)
		if n <= 0 {
			return nil
		}
		b = b[n:]
		f, wt := int(key>>3), key&7
		switch wt {
		case 0:
			_, n = uvarint(b)
			b = b[n:]
		case 1:
			b = b[8:]
		case 5:
			b = b[4:]
		case 2:
			l, n := uvarint(b)
			b = b[n:]
			if f == num {
				return b[:l]
			}
			b = b[l:]
		default:
			return nil
		}
	}
	return nil
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	var s uint
	for i, c := range b {
		if c < 0x80 {
			return x | uint64(c)<<s, i + 1
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, 0
}

// figure is one command's cost over the rounds: the median wall and client CPU time, the
// highest peak RSS.
type figure struct {
	Name   string  `json:"name"`
	Wall   float64 `json:"wallSeconds"`
	CPU    float64 `json:"cpuSeconds"`
	MaxRSS float64 `json:"peakRSSMB"`
}

// command is something timed: one or more processes run one after the other.
type command struct {
	name string
	runs [][]string
	// okExit are exit codes that are not failures (summary's 2: the bench cluster has no DNS).
	okExit []int
	walls  []float64
	cpus   []float64
	rss    float64
}

func (c *command) runOnce(env []string) error {
	var wall, cpu float64
	for _, args := range c.runs {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout = io.Discard
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		wall += time.Since(start).Seconds()
		var ee *exec.ExitError
		if err != nil && (!errors.As(err, &ee) || !slices.Contains(c.okExit, ee.ExitCode())) {
			return fmt.Errorf("%s: %w: %s", c.name, err, stderr.String())
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		c.rss = max(c.rss, float64(ru.Maxrss)/1024)
	}
	c.walls = append(c.walls, wall)
	c.cpus = append(c.cpus, cpu)
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (c *command) figure() figure {
	return figure{Name: c.name, Wall: median(c.walls), CPU: median(c.cpus), MaxRSS: c.rss}
}

// result is one size's figures, kept to compare sizes.
type result struct {
	Pods    int      `json:"pods"`
	Figures []figure `json:"figures"`
}

// targeted are the commands held to the targets: at most 1.1x the stream floor's wall time and
// at most 100 MB peak RSS.
var targeted = []string{"kubectl podnet nodes", "kubectl podnet cidr-usage", "kubectl podnet summary"}

const (
	streamFloorName = "floor: watch-list stream, discarded"
	pagedFloorName  = "floor: paged protobuf LIST, discarded"
	kubectlName     = "kubectl get nodes + pods -o wide"
)

// measure runs every command in alternating rounds (one of each per round, so that a slow moment
// of the machine does not fall on one command only, in an order that changes every round), prints the medians and the ratios to the
// stream floor, and appends the figures to results when given.
func measure(kubeconfig, plugin, kubectl string, runs, pods int, results string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env := []string{"KUBECONFIG=" + kubeconfig}
	cmds := []*command{
		{name: kubectlName, runs: [][]string{{kubectl, "get", "nodes", "-o", "wide"}, {kubectl, "get", "pods", "-A", "-o", "wide"}}},
		{name: pagedFloorName, runs: [][]string{{self, "floor", "--mode", "paged", "--kubeconfig", kubeconfig}}},
		{name: streamFloorName, runs: [][]string{{self, "floor", "--mode", "stream", "--kubeconfig", kubeconfig}}},
		{name: targeted[0], runs: [][]string{{plugin, "nodes"}}},
		{name: targeted[1], runs: [][]string{{plugin, "cidr-usage"}}, okExit: []int{2}},
		{name: targeted[2], runs: [][]string{{plugin, "summary"}}, okExit: []int{2}},
	}
	// warm-up: the API server's watch cache and the page cache settle before anything is timed.
	// Right after the load the watch cache still lags behind etcd, and a watch-list is refused
	// ("Too large resource version") until it has caught up: wait for that.
	warm := &command{name: "warm-up", runs: cmds[2].runs}
	for try := 1; ; try++ {
		err := warm.runOnce(env)
		if err == nil {
			break
		}
		if try == 120 {
			return err
		}
		time.Sleep(time.Second)
	}
	// Each round runs the commands in another order, so that no command always follows the same
	// one: the API server collects what the previous read left (gigabytes after kubectl's and the
	// paged floor's) while the next command runs. Rounds start one command later each time, and
	// every other round runs backwards.
	n := len(cmds)
	for r := 0; r < runs; r++ {
		for i := 0; i < n; i++ {
			j := (r + i) % n
			if r%2 == 1 {
				j = (r + n - 1 - i) % n
			}
			if err := cmds[j].runOnce(env); err != nil {
				return err
			}
		}
	}
	res := result{Pods: pods}
	for _, c := range cmds {
		res.Figures = append(res.Figures, c.figure())
	}
	printResult(res, runs)
	if results != "" {
		f, err := os.OpenFile(results, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		return json.NewEncoder(f).Encode(res)
	}
	return nil
}

func (r result) get(name string) figure {
	for _, f := range r.Figures {
		if f.Name == name {
			return f
		}
	}
	return figure{}
}

func printResult(r result, runs int) {
	stream := r.get(streamFloorName)
	fmt.Printf("%d pods, median of %d alternating rounds\n", r.Pods, runs)
	fmt.Printf("%-40s %9s %9s %11s %14s\n", "command", "wall", "cpu", "peak RSS", "wall / stream")
	for _, f := range r.Figures {
		fmt.Printf("%-40s %8.2fs %8.2fs %8.1f MB %13.2fx\n", f.Name, f.Wall, f.CPU, f.MaxRSS, f.Wall/stream.Wall)
	}
	for _, name := range targeted {
		f := r.get(name)
		fmt.Printf("target %-32s wall %.2fx the stream floor (<= 1.10: %s), peak RSS %.1f MB (<= 100: %s)\n",
			name, f.Wall/stream.Wall, verdict(f.Wall/stream.Wall <= 1.10), f.MaxRSS, verdict(f.MaxRSS <= 100))
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// compare prints, for each targeted command, how its cost grows from the smallest to the largest
// size measured: the ratio of wall times, against the ratio of pods (target at most 11 for 10x).
func compare(results string) error {
	data, err := os.ReadFile(results)
	if err != nil {
		return err
	}
	var rs []result
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var r result
		if err := dec.Decode(&r); err != nil {
			return err
		}
		rs = append(rs, r)
	}
	if len(rs) < 2 {
		return nil
	}
	slices.SortFunc(rs, func(a, b result) int { return a.Pods - b.Pods })
	small, large := rs[0], rs[len(rs)-1]
	fmt.Printf("cost from %d to %d pods (%.0fx the pods)\n", small.Pods, large.Pods, float64(large.Pods)/float64(small.Pods))
	for _, f := range small.Figures {
		l := large.get(f.Name)
		ratio := l.Wall / f.Wall
		line := fmt.Sprintf("  %-40s wall %.2fx, cpu %.2fx", f.Name, ratio, l.CPU/f.CPU)
		if slices.Contains(targeted, f.Name) {
			line += fmt.Sprintf(" (target <= 11: %s)", verdict(ratio <= 11))
		}
		fmt.Println(line)
	}
	return nil
}
