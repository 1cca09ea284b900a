package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func port(i int) intstr.IntOrString { return intstr.FromInt32(int32(i)) }

// floor reads every node and pod with a paged protobuf LIST (500 a page) and discards the bytes:
// no decoding, nothing kept. Nothing that lists them can be faster.
func floor(kubeconfig string) error {
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
	for _, res := range []string{"nodes", "pods"} {
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
	fmt.Fprintf(os.Stderr, "floor: read %d bytes\n", total)
	return nil
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

// figure is one command's cost.
type figure struct {
	name   string
	wall   time.Duration
	maxRSS int64 // KiB
}

func runOnce(name string, env []string, args ...string) (figure, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return figure{}, fmt.Errorf("%s: %w", name, err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return figure{name: name, wall: time.Since(start), maxRSS: ru.Maxrss}, nil
}

func best(runs int, name string, env []string, cmds ...[]string) (figure, error) {
	out := figure{name: name}
	for r := 0; r < runs; r++ {
		var f figure
		for _, c := range cmds {
			one, err := runOnce(name, env, c...)
			if err != nil {
				return out, err
			}
			f.wall += one.wall
			f.maxRSS = max(f.maxRSS, one.maxRSS)
		}
		if out.wall == 0 || f.wall < out.wall {
			out.wall = f.wall
		}
		out.maxRSS = max(out.maxRSS, f.maxRSS)
	}
	return out, nil
}

func measure(kubeconfig, plugin, kubectl string, runs int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env := []string{"KUBECONFIG=" + kubeconfig}
	// warm-up: the API server's watch cache and our page cache settle before anything is timed
	if _, err := runOnce("warm-up", env, self, "floor", "--kubeconfig", kubeconfig); err != nil {
		return err
	}
	fl, err := best(runs, "floor (raw paged protobuf LIST)", env, []string{self, "floor", "--kubeconfig", kubeconfig})
	if err != nil {
		return err
	}
	pn, err := best(runs, "kubectl podnet nodes", env, []string{plugin, "nodes"})
	if err != nil {
		return err
	}
	cu, err := best(runs, "kubectl podnet cidr-usage", env, []string{plugin, "cidr-usage"})
	if err != nil {
		return err
	}
	kc, err := best(runs, "kubectl get nodes -o wide + get pods -A -o wide", env,
		[]string{kubectl, "get", "nodes", "-o", "wide"}, []string{kubectl, "get", "pods", "-A", "-o", "wide"})
	if err != nil {
		return err
	}
	fmt.Printf("%-50s %10s %12s\n", "command", "wall", "peak RSS")
	for _, f := range []figure{fl, pn, cu, kc} {
		fmt.Printf("%-50s %9.2fs %9.1f MB\n", f.name, f.wall.Seconds(), float64(f.maxRSS)/1024)
	}
	fmt.Printf("ratio podnet/floor wall: %.2f (target <= 1.20)\n", pn.wall.Seconds()/fl.wall.Seconds())
	fmt.Printf("podnet peak RSS: %.1f MB (target <= 150 MB at 150,000 pods)\n", float64(pn.maxRSS)/1024)
	fmt.Printf("ratio cidr-usage/nodes wall: %.2f (target <= 1.10)\n", cu.wall.Seconds()/pn.wall.Seconds())
	fmt.Printf("ratio podnet/kubectl wall: %.2f\n", pn.wall.Seconds()/kc.wall.Seconds())
	fmt.Printf("ratio podnet/kubectl peak RSS: %.2f\n", float64(pn.maxRSS)/float64(kc.maxRSS))
	return nil
}
