package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/podnet/kubectl-podnet/internal/cluster"
	"github.com/podnet/kubectl-podnet/internal/report"
)

// Summary writes the three networks, one section each, and the findings.
func Summary(w io.Writer, s *report.Summary, p Palette) error {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "  %-16s %s\n", k, v) }
	nn := s.NodeNetwork
	b.WriteString(p.Heading("NODE NETWORK") + "\n")
	nodes := plural(nn.Nodes, "node", "nodes")
	if len(nn.Zones) > 0 {
		nodes += fmt.Sprintf(" in %s (%s)", plural(len(nn.Zones), "zone", "zones"), strings.Join(nn.Zones, ", "))
	}
	line("nodes", nodes)
	line("internal range", joinOr(nn.InternalRanges, "unknown"))
	line("external IPs", joinOr(nn.ExternalIPs, "none"))

	pn := s.PodNetwork
	b.WriteString("\n" + p.Heading("POD NETWORK") + "\n")
	line("model", pn.Network.String())
	if len(pn.Network.Evidence) > 0 {
		line("evidence", strings.Join(pn.Network.Evidence, "; "))
	}
	line("pod CIDR", orUnknown(sourced(pn.PodCIDRs)))
	var masks []string
	for _, m := range pn.NodeMasks {
		masks = append(masks, fmt.Sprintf("/%d", m))
	}
	line("node mask", joinOr(masks, "none (no per-node pod CIDRs)"))
	line("pods", fmt.Sprintf("%s on the pod network, %d on the host network", plural(pn.Pods, "pod", "pods"), pn.HostNetworkPods))
	line("dual-stack", yesNo(pn.DualStack))

	cn := s.ClusterNetwork
	b.WriteString("\n" + p.Heading("CLUSTER NETWORK") + "\n")
	line("service CIDR", orUnknown(sourced(cn.ServiceCIDRs)))
	line("kube-proxy", cn.KubeProxy)
	line("kubernetes API", dash(cn.KubernetesServiceIP))
	line("cluster DNS", dnsLine(cn.DNS))

	b.WriteString("\n" + p.Heading("FINDINGS") + "\n")
	if len(s.Findings) == 0 {
		b.WriteString("  " + p.Good("none") + "\n")
	}
	for _, f := range s.Findings {
		fmt.Fprintf(&b, "  %s %s\n", p.Warn("!"), f.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dnsLine(d *cluster.ClusterDNS) string {
	switch {
	case d == nil:
		return "unknown"
	case d.Service == "" && len(d.Unknown) > 0:
		return "unknown (" + strings.Join(d.Unknown, "; ") + ")"
	case d.Service == "":
		return "none found"
	}
	return fmt.Sprintf("%s %s (%s), %d of %d endpoints ready", d.Service, strings.Join(d.ClusterIPs, ","), strings.Join(d.Ports, ","), d.Ready, len(d.Endpoints))
}

func joinOr(ss []string, none string) string {
	if len(ss) == 0 {
		return none
	}
	return strings.Join(ss, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Who writes one row per owner of each address.
func Who(w io.Writer, r *report.WhoReport, noHeaders bool) error {
	var rows [][]string
	for _, res := range r.Results {
		for _, o := range res.Owners {
			rows = append(rows, []string{res.Address, o.Kind, o.Object, dash(o.Detail)})
		}
	}
	return Table(w, []string{"ADDRESS", "KIND", "OBJECT", "DETAIL"}, rows, noHeaders)
}

// DNS writes the cluster DNS Service, its endpoints and Corefile upstreams, and, when given, the
// resolv.conf a pod gets.
func DNS(w io.Writer, d *cluster.ClusterDNS, rc *report.ResolvConf) error {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster DNS   %s\n", dnsLine(d))
	if d != nil && d.Service != "" {
		fmt.Fprintf(&b, "domain        %s\n", d.Domain)
		for _, e := range d.Endpoints {
			state := "ready"
			if !e.Ready {
				state = "not ready"
			}
			fmt.Fprintf(&b, "endpoint      %s %s %s on node %s\n", e.Address, state, dash(e.Pod), dash(e.Node))
		}
		for _, f := range d.Forward {
			fmt.Fprintf(&b, "forward       zone %s to %s\n", f.Zone, strings.Join(f.To, " "))
		}
	}
	if rc != nil {
		fmt.Fprintf(&b, "\npod %s: dnsPolicy %s", rc.Pod, rc.DNSPolicy)
		if rc.HostNetwork {
			b.WriteString(", host network")
		}
		b.WriteString("\n# resolv.conf as kubelet writes it\n")
		for _, n := range rc.Nameservers {
			fmt.Fprintf(&b, "nameserver %s\n", n)
		}
		if len(rc.Searches) > 0 {
			fmt.Fprintf(&b, "search %s\n", strings.Join(rc.Searches, " "))
		}
		if len(rc.Options) > 0 {
			fmt.Fprintf(&b, "options %s\n", strings.Join(rc.Options, " "))
		}
		if rc.FromNode {
			b.WriteString("# ... plus what comes from the node's own resolv.conf\n")
		}
		for _, n := range rc.Notes {
			fmt.Fprintf(&b, "# %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DNSProbe is what a probe read from inside a pod.
type DNSProbe struct {
	Container    string `json:"probe"`
	ResolvConf   string `json:"resolvConf"`
	Lookup       string `json:"lookup,omitempty"`
	LookupOK     bool   `json:"lookupOK,omitempty"`
	LookupOutput string `json:"lookupOutput,omitempty"`
}

// DNSProbeResult writes the resolv.conf read from the pod and the lookup's outcome.
func DNSProbeResult(w io.Writer, p *DNSProbe) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\n# resolv.conf read from inside the pod (probe %s)\n%s", p.Container, p.ResolvConf)
	if p.Lookup != "" {
		state := "resolved"
		if !p.LookupOK {
			state = "FAILED"
		}
		fmt.Fprintf(&b, "\n# lookup %s from inside the pod: %s\n%s", p.Lookup, state, p.LookupOutput)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
