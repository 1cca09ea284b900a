package probe

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// HostRoot is where a node probe that reads the node's files mounts the node's root file system
// (read-only, as `kubectl debug node/...` mounts it at /host).
const HostRoot = "/host"

// Defaults of the host-local store and of the container runtime's state.
var (
	// DefaultCNIDataDir is host-local's default dataDir: one directory per CNI network, one file
	// per reserved address holding the container ID and interface it was reserved for.
	DefaultCNIDataDir = "/var/lib/cni/networks"
	// DefaultRuntimeStateDirs are containerd's state directories (stock and k3s/RKE2): a running
	// sandbox has its shim bundle under io.containerd.runtime.v2.task/k8s.io/<sandbox ID>, and the
	// sandbox ID is the container ID host-local records.
	DefaultRuntimeStateDirs = []string{"/run/containerd", "/run/k3s/containerd"}
)

// Store states of one node's host-local reservations.
const (
	StoreOK         = "ok"
	StoreAbsent     = "absent"
	StoreUnreadable = "unreadable"
)

// Sandbox states of a reservation's container.
const (
	SandboxRunning    = "running"
	SandboxGone       = "gone"
	SandboxUnknown    = "unknown"
	sectionHostLocal  = "host-local"
	hostLocalFieldSep = "\t"
)

// Reservation is one address host-local reserved on a node.
type Reservation struct {
	Network string     `json:"network"`
	Address netip.Addr `json:"address"`
	// Container is the container (sandbox) ID it was reserved for, "" when the file could not be read.
	Container string `json:"container,omitempty"`
	Interface string `json:"interface,omitempty"`
	// Since is the file's modification time: when the address was reserved.
	Since time.Time `json:"since,omitzero"`
	// Sandbox says whether the runtime still runs that sandbox.
	Sandbox string `json:"sandbox"`
	// File is the reservation's path on the node.
	File string `json:"file"`
}

// HostLocalNode is what the host-local probe read on one node.
type HostLocalNode struct {
	Node string `json:"node"`
	// DataDir is host-local's dataDir on the node, and its state.
	DataDir string `json:"dataDir"`
	State   string `json:"state"`
	// Networks are the network directories read, and those that could not be.
	Networks   []string `json:"networks"`
	Unreadable []string `json:"unreadableNetworks,omitempty"`
	// Runtime is the runtime state directory whose sandboxes were checked, "" when none was
	// visible; RuntimeState says why.
	Runtime      string `json:"runtime,omitempty"`
	RuntimeState string `json:"runtimeState"`
	// Now is the node's clock when the probe ran.
	Now          time.Time     `json:"now"`
	Reservations []Reservation `json:"reservations"`
}

var (
	containerIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	ifaceRe       = regexp.MustCompile(`^[A-Za-z0-9_.@:-]{1,15}$`)
)

// CheckHostPath checks a node directory given by the user: absolute, clean, no character the
// probe's shell script could not carry.
func CheckHostPath(flag, p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("invalid %s %q: give an absolute path on the node", flag, p)
	case path.Clean(p) != p || p == "/":
		return fmt.Errorf("invalid %s %q: give a clean directory path (such as %s)", flag, p, path.Clean(p))
	case strings.ContainsAny(p, "'\"\\$`\n\t\r*?[]"):
		return fmt.Errorf("invalid %s %q: quotes, '$', '`', '\\', wildcards and control characters are not taken", flag, p)
	}
	return nil
}

// HostLocalScript reads host-local's reservations under dataDir and checks each reserved
// container against the first runtime state directory visible. It only reads, through the node's
// file system mounted read-only at HostRoot; the paths must have passed CheckHostPath.
func HostLocalScript(dataDir string, runtimeDirs []string) string {
	return hostLocalScript(HostRoot, dataDir, runtimeDirs)
}

func hostLocalScript(root, dataDir string, runtimeDirs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "echo '%s%s'\n", markSection, sectionHostLocal)
	b.WriteString("cr=$(printf '\\r'); t=$(printf '\\t')\n")
	b.WriteString("echo \"now${t}$(date +%s)\"\n")
	fmt.Fprintf(&b, "d='%s%s'\n", root, dataDir)
	b.WriteString(`if [ ! -e "$d" ]; then echo "dir${t}absent"; elif [ ! -r "$d" ] || [ ! -x "$d" ]; then echo "dir${t}unreadable"; else echo "dir${t}ok"; fi` + "\n")
	b.WriteString("rt=''\n")
	for _, r := range runtimeDirs {
		fmt.Fprintf(&b, "if [ -z \"$rt\" ] && [ -d '%s%s/io.containerd.runtime.v2.task/k8s.io' ]; then if [ -x '%[1]s%[2]s/io.containerd.runtime.v2.task/k8s.io' ]; then rt='%[1]s%[2]s/io.containerd.runtime.v2.task/k8s.io'; echo \"runtime${t}ok${t}%[2]s\"; else echo \"runtime${t}unsearchable${t}%[2]s\"; fi; fi\n", root, r)
	}
	b.WriteString(`for n in "$d"/*; do
  [ -d "$n" ] || continue
  net=${n##*/}
  if [ ! -r "$n" ] || [ ! -x "$n" ]; then echo "net${t}${net}${t}unreadable"; continue; fi
  echo "net${t}${net}${t}ok"
  for f in "$n"/*; do
    [ -f "$f" ] || continue
    a=${f##*/}
    case "$a" in lock|last_reserved_ip*) continue;; esac
    id=''; ifn=''
    { IFS= read -r id; IFS= read -r ifn; } <"$f" 2>/dev/null
    id=${id%"$cr"}; ifn=${ifn%"$cr"}
    m=$(stat -c %Y "$f" 2>/dev/null) || m=-
    s=unknown
    if [ -n "$rt" ] && [ -n "$id" ]; then if [ -d "$rt/$id" ]; then s=running; else s=gone; fi; fi
    echo "res${t}${net}${t}${a}${t}${m}${t}${s}${t}${id}${t}${ifn}"
  done
done
`)
	fmt.Fprintf(&b, "echo '%s'0\necho '%s'\n", markExit, markEnd)
	return b.String()
}

// ParseHostLocal reads the output of HostLocalScript run on node. Lines it cannot read make the
// reservation's container unknown; they are never dropped.
func ParseHostLocal(node, dataDir, out string) (*HostLocalNode, error) {
	secs, err := Sections(out)
	if err != nil {
		return nil, err
	}
	var body string
	found := false
	for _, s := range secs {
		if s.Name == sectionHostLocal {
			body, found = s.Output, true
		}
	}
	if !found {
		return nil, fmt.Errorf("the probe's output has no %s section", sectionHostLocal)
	}
	h := &HostLocalNode{Node: node, DataDir: dataDir, RuntimeState: "not found", Networks: []string{}, Reservations: []Reservation{}}
	for _, line := range strings.Split(body, "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), hostLocalFieldSep)
		switch f[0] {
		case "now":
			if len(f) == 2 {
				if sec, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					h.Now = time.Unix(sec, 0).UTC()
				}
			}
		case "dir":
			if len(f) == 2 {
				h.State = f[1]
			}
		case "runtime":
			if len(f) == 3 {
				if f[1] == "ok" {
					h.Runtime, h.RuntimeState = f[2], "ok"
				} else {
					h.RuntimeState = f[2] + " is not searchable by the probe's user"
				}
			}
		case "net":
			if len(f) == 3 {
				if f[2] == "ok" {
					h.Networks = append(h.Networks, f[1])
				} else {
					h.Unreadable = append(h.Unreadable, f[1])
				}
			}
		case "res":
			if len(f) != 7 {
				continue
			}
			a, err := netip.ParseAddr(f[2])
			if err != nil {
				continue // not an address file
			}
			r := Reservation{Network: f[1], Address: a, Sandbox: SandboxUnknown, File: path.Join(dataDir, f[1], f[2])}
			if containerIDRe.MatchString(f[5]) {
				r.Container = f[5]
				switch f[4] {
				case "running":
					r.Sandbox = SandboxRunning
				case "gone":
					r.Sandbox = SandboxGone
				}
			}
			if ifaceRe.MatchString(f[6]) {
				r.Interface = f[6]
			}
			if sec, err := strconv.ParseInt(f[3], 10, 64); err == nil {
				r.Since = time.Unix(sec, 0).UTC()
			}
			h.Reservations = append(h.Reservations, r)
		}
	}
	switch h.State {
	case StoreOK, StoreAbsent, StoreUnreadable:
	default:
		return nil, fmt.Errorf("the probe's output does not say whether %s could be read", dataDir)
	}
	if h.Now.IsZero() {
		return nil, fmt.Errorf("the probe's output has no clock reading of the node")
	}
	return h, nil
}
