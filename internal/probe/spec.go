package probe

import (
	"fmt"
	"math/rand/v2"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Labels and names of what the probe creates.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "kubectl-podnet"
	NamePrefix     = "podnet-"
	// DefaultImage is busybox 1.36.1 pinned by digest: its `ip` reads addresses, routes, rules
	// and neighbours; a mirror or an iproute2 image can be given with --image.
	DefaultImage = "docker.io/library/busybox:1.36.1@sha256:73aaf090f3d85aa34ee199857f03fa3a95c8ede2ffd4cc2cdb5b94e566b11662"
	// nonRootUID is "nobody": reading netlink needs no privilege.
	nonRootUID = 65534
)

// Profiles of the probe container's security context.
const (
	ProfileRestricted = "restricted"
	ProfileNetAdmin   = "netadmin"
	// ProfileNetRaw runs as root with NET_RAW alone, for ping: iputils ping needs a raw ICMP
	// socket for -M do (don't fragment) on the host network, where the ICMP datagram sockets of
	// ping_group_range are the node's to allow, and a non-root user keeps no added capability.
	ProfileNetRaw = "netraw"
)

// nameSuffix makes names unique; tests swap it.
var nameSuffix = func() string {
	const letters = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

// Script is the fixed, read-only shell script the probe runs: it says whether `ip` speaks JSON,
// then runs each command between markers. It ends by itself (no command waits).
func Script() string {
	var b strings.Builder
	writeFormat(&b)
	for _, c := range Commands {
		writeIPSection(&b, c)
	}
	b.WriteString("echo '" + markEnd + "'\n")
	return b.String()
}

// writeFormat writes the script's first lines: whether `ip` speaks JSON, and the marker saying so.
func writeFormat(b *strings.Builder) {
	b.WriteString("fmt=text; ip -j link show lo >/dev/null 2>&1 && fmt=json\n")
	b.WriteString("echo '" + markFormat + "'$fmt\n")
}

// writeIPSection writes one `ip` command between markers, in JSON where ip speaks it.
func writeIPSection(b *strings.Builder, c string) {
	fmt.Fprintf(b, "echo '%s%s'; if [ $fmt = json ]; then ip -j %s; else ip %s; fi 2>&1; echo '%s'$?\n", markSection, c, c, c, markExit)
}

// securityContext is admitted by the Pod Security "restricted" level: non-root, no privilege
// escalation, every capability dropped, the runtime's seccomp profile. netadmin adds NET_ADMIN
// and NET_RAW (and so needs a namespace at baseline or privileged); netraw runs as root with
// NET_RAW alone (baseline or privileged, and a node probe's host network needs privileged anyway).
func securityContext(profile string) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		RunAsUser:                ptr.To(int64(nonRootUID)),
		RunAsGroup:               ptr.To(int64(nonRootUID)),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	switch profile {
	case ProfileNetAdmin:
		sc.Capabilities.Add = []corev1.Capability{"NET_ADMIN", "NET_RAW"}
	case ProfileNetRaw:
		sc.RunAsNonRoot, sc.RunAsUser, sc.RunAsGroup = ptr.To(false), ptr.To(int64(0)), ptr.To(int64(0))
		sc.Capabilities.Add = []corev1.Capability{"NET_RAW"}
	}
	return sc
}

// Options shape a probe.
type Options struct {
	Image      string
	PullPolicy corev1.PullPolicy
	Profile    string
	// TimeoutSeconds bounds the whole probe; a node pod gets it as activeDeadlineSeconds.
	TimeoutSeconds int64
	// Script is what the probe runs; empty is the ip script (Script()).
	Script string
	// HostRoot mounts the node's root file system read-only at HostRoot in a node probe pod, for
	// scripts that read the node's files (host-local's reservations).
	HostRoot bool
}

func (o Options) script() string {
	if o.Script != "" {
		return o.Script
	}
	return Script()
}

// DNSScript reads the pod's resolv.conf and, when lookup is not empty, resolves that name from
// inside the pod (busybox nslookup, else getent). lookup must be a DNS name (checked by ValidName).
func DNSScript(lookup string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "echo '%sresolv.conf'; cat /etc/resolv.conf 2>&1; echo '%s'$?\n", markSection, markExit)
	if lookup != "" {
		fmt.Fprintf(&b, "echo '%slookup %s'; if command -v nslookup >/dev/null 2>&1; then nslookup '%s' 2>&1; else getent hosts '%s' 2>&1; fi; echo '%s'$?\n", markSection, lookup, lookup, lookup, markExit)
	}
	b.WriteString("echo '" + markEnd + "'\n")
	return b.String()
}

// ValidName reports whether s is a DNS name the lookup may be given (letters, digits, dots, dashes).
func ValidName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Section is one command's output in a probe's output.
type Section struct {
	Name   string `json:"name"`
	Output string `json:"output"`
	Exit   string `json:"exit"`
}

// Sections splits a probe's output into its commands' outputs.
func Sections(out string) ([]Section, error) {
	if !strings.Contains(out, markEnd) {
		return nil, fmt.Errorf("the probe's output is cut short (no end marker)")
	}
	var secs []Section
	var cur *Section
	for _, line := range strings.SplitAfter(out, "\n") {
		t := strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(t, markSection):
			secs = append(secs, Section{Name: strings.TrimPrefix(t, markSection)})
			cur = &secs[len(secs)-1]
		case strings.HasPrefix(t, markExit) && cur != nil:
			cur.Exit = strings.TrimPrefix(t, markExit)
			cur = nil
		case cur != nil:
			cur.Output += line
		}
	}
	return secs, nil
}

// EphemeralContainer is the probe container added to a pod: it shares the pod's network namespace.
func EphemeralContainer(o Options) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name:                     NamePrefix + nameSuffix(),
		Image:                    o.Image,
		ImagePullPolicy:          o.PullPolicy,
		Command:                  []string{"sh", "-c", o.script()},
		SecurityContext:          securityContext(o.Profile),
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}}
}

// NodePod is the short-lived host-network pod that probes a node: pinned to it, tolerating every
// taint, labelled, bounded by activeDeadlineSeconds, never restarted.
func NodePod(node, namespace string, o Options) *corev1.Pod {
	name := NamePrefix + "node-" + nameSuffix()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace,
			Labels:      map[string]string{ManagedByLabel: ManagedBy, "podnet.dev/probe": "node"},
			Annotations: map[string]string{"podnet.dev/node": node},
		},
		Spec: corev1.PodSpec{
			NodeName:                      node,
			HostNetwork:                   true,
			RestartPolicy:                 corev1.RestartPolicyNever,
			ActiveDeadlineSeconds:         ptr.To(max(o.TimeoutSeconds, 1)),
			TerminationGracePeriodSeconds: ptr.To(int64(0)),
			AutomountServiceAccountToken:  ptr.To(false),
			EnableServiceLinks:            ptr.To(false),
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			SecurityContext:               &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{
				Name:                     "probe",
				Image:                    o.Image,
				ImagePullPolicy:          o.PullPolicy,
				Command:                  []string{"sh", "-c", o.script()},
				SecurityContext:          securityContext(o.Profile),
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			}},
		},
	}
	if o.Profile == ProfileNetRaw {
		pod.Spec.SecurityContext.RunAsNonRoot = nil // the container runs as root (see ProfileNetRaw)
	}
	if o.HostRoot {
		// read-only, recursively where the runtime can, no propagation. The CNI's and the
		// runtime's directories are root's and often mode 0700 (libcni creates /var/lib/cni so),
		// so the container runs as root, but without a single capability (no DAC override: it
		// reads what root owns, nothing else) and without privilege escalation.
		pod.Spec.SecurityContext.RunAsNonRoot = nil
		sc := pod.Spec.Containers[0].SecurityContext
		sc.RunAsNonRoot, sc.RunAsUser, sc.RunAsGroup = ptr.To(false), ptr.To(int64(0)), ptr.To(int64(0))
		sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
		pod.Spec.Volumes = []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{
			HostPath: &corev1.HostPathVolumeSource{Path: "/", Type: ptr.To(corev1.HostPathDirectory)}}}}
		pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "host", MountPath: HostRoot, ReadOnly: true,
			RecursiveReadOnly: ptr.To(corev1.RecursiveReadOnlyIfPossible), MountPropagation: ptr.To(corev1.MountPropagationNone)}}
	}
	return pod
}
