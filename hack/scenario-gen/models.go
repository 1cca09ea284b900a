package main

import (
	"fmt"
	"strings"
)

func aksNodes(n int, pool, labelKey, labelVal string, maxPods int, netReason string) []node {
	var out []node
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("aks-%s-38195521-vmss%06d", pool, i)
		labels := map[string]string{
			"kubernetes.azure.com/agentpool":          pool,
			"kubernetes.azure.com/role":               "agent",
			"kubernetes.azure.com/mode":               "system",
			"kubernetes.azure.com/cluster":            "MC_rg-shop_aks-shop_westeurope",
			"kubernetes.azure.com/os-sku":             "Ubuntu",
			"kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202611.04.0",
			"agentpool": pool,
		}
		if labelKey != "" {
			for _, kv := range strings.Split(labelKey, ";") {
				k, v, _ := strings.Cut(kv, "=")
				labels[k] = v
			}
		}
		_ = labelVal
		out = append(out, node{
			name: name, ip: fmt.Sprintf("10.224.0.%d", 4+i), zone: fmt.Sprintf("westeurope-%d", i%3+1), itype: "Standard_D4s_v5",
			provider: fmt.Sprintf("azure:///subscriptions/9b1c4e7a-2f3d-4c5e-8a9b-0c1d2e3f4a5b/resourceGroups/mc_rg-shop_aks-shop_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-%s-38195521-vmss/virtualMachines/%d", pool, i),
			kernel:   "5.15.0-1075-azure", runtime: "containerd://1.7.27-1", os: "Ubuntu 22.04.5 LTS",
			labels: labels, maxPods: maxPods, netReason: netReason,
		})
	}
	return out
}

func aksKubenet() scenario {
	nodes := aksNodes(4, "nodepool1", "", "", 110, "RouteCreated")
	var objs []obj
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, daemonSet("kube-system", "kube-proxy", true), daemonSet("kube-system", "cloud-node-manager", true),
		kubeProxyCM("10.244.0.0/16", "iptables"))
	objs = append(objs, dnsAndApps(nodes, "10.0.0.10", noIPs, 3)...)
	objs = append(objs, podObj(pod{ns: "shop", name: "report-28815720", node: nodes[1].name, complete: true}))
	objs = append(objs, service("shop", "web", "10.0.45.12", map[string]string{"app": "web"}, 80))
	return scenario{name: "aks-kubenet", objs: objs, env: env(
		"DESCRIPTION", "AKS with kubenet: a /24 per node from 10.244.0.0/16, routes in an Azure route table, no CNI DaemonSet",
		"CLUSTER_CIDR", "10.244.0.0/16", "NODE_MASK", "24", "SERVICE_CIDR", "10.0.0.0/16")}
}

func azureCNIOverlay() scenario {
	nodes := aksNodes(3, "userpool", "kubernetes.azure.com/azure-cni-overlay=true;kubernetes.azure.com/podnetwork-type=overlay;kubernetes.azure.com/network-plugin=azure", "", 250, "")
	var objs []obj
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, daemonSet("kube-system", "kube-proxy", true), daemonSet("kube-system", "azure-cns", true),
		daemonSet("kube-system", "azure-ip-masq-agent", true), kubeProxyCM("10.244.0.0/16", "iptables"))
	objs = append(objs, dnsAndApps(nodes, "10.0.0.10", noIPs, 4)...)
	return scenario{name: "azure-cni-overlay", objs: objs, env: env(
		"DESCRIPTION", "AKS with Azure CNI Overlay: a /24 per node from the pod CIDR, routed by Azure without encapsulation",
		"CLUSTER_CIDR", "10.244.0.0/16", "NODE_MASK", "24", "SERVICE_CIDR", "10.0.0.0/16")}
}

func kubeadmNodes(n int, prefix string, ipBase string, netReason string, ann func(i int) map[string]string) []node {
	var out []node
	for i := 0; i < n; i++ {
		nd := node{
			name: fmt.Sprintf("%s-%d", prefix, i+1), ip: fmt.Sprintf("%s.%d", ipBase, 11+i), zone: "", itype: "",
			kernel: "6.1.0-28-amd64", runtime: "containerd://1.7.24", os: "Debian GNU/Linux 12 (bookworm)",
			maxPods: 110, netReason: netReason, labels: map[string]string{},
		}
		if i == 0 {
			nd.labels["node-role.kubernetes.io/control-plane"] = ""
		}
		if ann != nil {
			nd.annotations = ann(i)
		}
		out = append(out, nd)
	}
	return out
}

func flannelVXLAN() scenario {
	nodes := kubeadmNodes(3, "flannel-node", "192.168.56", "FlannelIsUp", func(i int) map[string]string {
		return map[string]string{
			"flannel.alpha.coreos.com/backend-type":        "vxlan",
			"flannel.alpha.coreos.com/backend-data":        fmt.Sprintf(`{"VNI":1,"VtepMAC":"5e:2a:91:0c:3b:%02x"}`, 0x10+i),
			"flannel.alpha.coreos.com/backend-v6-data":     fmt.Sprintf(`{"VNI":1,"VtepMAC":"5e:2a:91:0c:3c:%02x"}`, 0x10+i),
			"flannel.alpha.coreos.com/kube-subnet-manager": "true",
			"flannel.alpha.coreos.com/public-ip":           fmt.Sprintf("192.168.56.%d", 11+i),
			"flannel.alpha.coreos.com/public-ipv6":         fmt.Sprintf("fd00:56::%d", 11+i),
		}
	})
	// dual-stack: every node has an IPv6 InternalIP, a pod CIDR per family, pods an IP per family
	for i := range nodes {
		nodes[i].ip6 = fmt.Sprintf("fd00:56::%d", 11+i)
	}
	var objs []obj
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, ns("kube-flannel"), daemonSet("kube-flannel", "kube-flannel-ds", true), daemonSet("kube-system", "kube-proxy", true),
		configMap("kube-flannel", "kube-flannel-cfg", map[string]string{
			"net-conf.json": "{\n  \"Network\": \"10.244.0.0/16\",\n  \"EnableIPv6\": true,\n  \"IPv6Network\": \"fd00:10:244::/56\",\n  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}\n",
			"cni-conf.json": `{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}`,
		}),
		kubeProxyCM("10.244.0.0/16,fd00:10:244::/56", "iptables"), kubeadmCM("10.244.0.0/16,fd00:10:244::/56", "10.96.0.0/12,fd00:10:96::/112"))
	objs = append(objs, dnsAndApps(nodes, "10.96.0.10", noIPs, 3)...)
	return scenario{name: "flannel-vxlan", objs: objs, env: env(
		"DESCRIPTION", "kubeadm, dual-stack, with Flannel VXLAN: a /24 and a /64 per node, flannel.1 and flannel-v6.1 (VNI 1, UDP 8472)",
		"CLUSTER_CIDR", "10.244.0.0/16,fd00:10:244::/56", "NODE_MASK", "24,64", "SERVICE_CIDR", "10.96.0.0/12,fd00:10:96::/112")}
}

// calicoBlock describes one IPAM block: its CIDR, the node it is affine to, and pods in it.
type calicoBlock struct {
	cidr, node string
	tunnel     string // "" or the tunnel address the block holds
	pods       []pod
}

func calicoObjs(group string, nodes []node, blocks []calicoBlock, poolMode string, v3 bool) []obj {
	ver := "crd.projectcalico.org/v1"
	if v3 {
		ver = "projectcalico.org/v3"
	}
	var objs []obj
	for _, kp := range [][2]string{{"IPPool", "ippools"}, {"IPAMBlock", "ipamblocks"}, {"BlockAffinity", "blockaffinities"}, {"IPAMConfig", "ipamconfigs"}} {
		objs = append(objs, crd(group, kp[0], kp[1], "Cluster", false))
	}
	ipip, vxlan := "Never", "Never"
	if poolMode == "ipip" {
		ipip = "Always"
	} else {
		vxlan = "Always"
	}
	objs = append(objs, obj{"apiVersion": ver, "kind": "IPPool", "metadata": obj{"name": "default-ipv4-ippool"},
		"spec": obj{"cidr": "192.168.0.0/16", "blockSize": 26, "ipipMode": ipip, "vxlanMode": vxlan, "natOutgoing": true, "nodeSelector": "all()"}})
	objs = append(objs, obj{"apiVersion": ver, "kind": "IPPool", "metadata": obj{"name": "legacy-pool"},
		"spec": obj{"cidr": "172.20.0.0/24", "blockSize": 26, "ipipMode": "Never", "vxlanMode": "Never", "natOutgoing": true, "disabled": true}})
	objs = append(objs, obj{"apiVersion": ver, "kind": "IPAMConfig", "metadata": obj{"name": "default"},
		"spec": obj{"strictAffinity": false, "autoAllocateBlocks": true, "maxBlocksPerHost": 4}})
	for _, b := range blocks {
		name := strings.NewReplacer(".", "-", "/", "-").Replace(b.cidr)
		alloc := make([]any, 64)
		var attrs []any
		used := map[int]bool{}
		if b.tunnel != "" { // the node's tunnel address: the first of its first block
			used[0] = true
			alloc[0] = 0
			attrs = append(attrs, obj{"handle_id": poolMode + "-tunnel-addr-" + b.node, "secondary": obj{"node": b.node, "type": poolMode + "TunnelAddress"}})
		}
		for _, p := range b.pods {
			o := ordinal(b.cidr, p.ips[0])
			used[o] = true
			alloc[o] = len(attrs)
			attrs = append(attrs, obj{"handle_id": "k8s-pod-network." + p.ns + "." + p.name, "secondary": obj{"namespace": p.ns, "node": p.node, "pod": p.name, "timestamp": "2026-11-01 10:00:00 +0000 UTC"}})
		}
		var unalloc []any
		for i := 0; i < 64; i++ {
			if !used[i] {
				unalloc = append(unalloc, i)
			}
		}
		objs = append(objs, obj{"apiVersion": ver, "kind": "IPAMBlock", "metadata": obj{"name": name},
			"spec": obj{"cidr": b.cidr, "affinity": "host:" + b.node, "allocations": alloc, "unallocated": unalloc, "attributes": attrs, "strictAffinity": false, "deleted": false}})
		objs = append(objs, obj{"apiVersion": ver, "kind": "BlockAffinity", "metadata": obj{"name": b.node + "-" + name},
			"spec": obj{"state": "confirmed", "node": b.node, "cidr": b.cidr, "deleted": "false"}})
	}
	objs = append(objs, daemonSet("kube-system", "calico-node", true), daemonSet("kube-system", "kube-proxy", true))
	return objs
}

func ordinal(cidr, ip string) int {
	base := strings.Split(strings.Split(cidr, "/")[0], ".")
	parts := strings.Split(ip, ".")
	var b, p int
	fmt.Sscan(base[3], &b)
	fmt.Sscan(parts[3], &p)
	return p - b
}

func calicoScenario(name, mode, group string, v3 bool, allocate bool) scenario {
	blockOf := map[string][]string{ // node -> blocks (first one is home of the tunnel address)
		"calico-node-1": {"192.168.219.64/26"},
		"calico-node-2": {"192.168.84.128/26", "192.168.84.192/26"},
		"calico-node-3": {"192.168.17.0/26"},
	}
	tunnelAnno := "projectcalico.org/IPv4VXLANTunnelAddr"
	if mode == "ipip" {
		tunnelAnno = "projectcalico.org/IPv4IPIPTunnelAddr"
	}
	nodes := kubeadmNodes(3, "calico-node", "10.0.0", "CalicoIsUp", func(i int) map[string]string {
		name := fmt.Sprintf("calico-node-%d", i+1)
		autodetected := fmt.Sprintf("10.0.0.%d/24", 11+i)
		if i == 2 {
			autodetected = "172.17.0.1/16" // autodetection picked docker0: the classic broken overlay
		}
		a := map[string]string{
			"projectcalico.org/IPv4Address": autodetected,
			tunnelAnno:                      nthIP(blockOf[name][0], 0),
		}
		if mode == "vxlan" {
			a["projectcalico.org/VXLANTunnelMACAddr"] = fmt.Sprintf("66:1f:0e:5a:22:%02x", 0x30+i)
		}
		return a
	})
	var blocks []calicoBlock
	var pods []pod
	for i, n := range nodes {
		bs := blockOf[n.name]
		for bi, b := range bs {
			cb := calicoBlock{cidr: b, node: n.name}
			if bi == 0 {
				cb.tunnel = nthIP(b, 0)
			}
			count := 4
			if bi > 0 {
				count = 2
			}
			for j := 0; j < count; j++ {
				p := pod{ns: "shop", name: fmt.Sprintf("web-%d-%d", i, len(cb.pods)+bi*10), node: n.name, ips: []string{nthIP(b, j+1)}, labels: map[string]string{"app": "web"}}
				if bi == 0 && j == 0 && i < 2 {
					p = pod{ns: "kube-system", name: fmt.Sprintf("coredns-7db6d8ff4d-%d", i), node: n.name, ips: []string{nthIP(b, 1)}, labels: map[string]string{"k8s-app": "kube-dns"}}
				}
				cb.pods = append(cb.pods, p)
				pods = append(pods, p)
			}
			blocks = append(blocks, cb)
		}
	}
	// calico-node-3 borrowed one address from calico-node-1's block (strictAffinity false)
	borrowed := pod{ns: "shop", name: "web-2-borrowed", node: "calico-node-3", ips: []string{nthIP("192.168.219.64/26", 40)}, labels: map[string]string{"app": "web"}}
	blocks[0].pods = append(blocks[0].pods, borrowed)
	pods = append(pods, borrowed)
	var objs []obj
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, ns("shop"))
	objs = append(objs, calicoObjs(group, nodes, blocks, mode, v3)...)
	for _, p := range pods {
		objs = append(objs, podObj(p))
	}
	objs = append(objs, service("kube-system", "kube-dns", "10.96.0.10", map[string]string{"k8s-app": "kube-dns"}, 53),
		kubeProxyCM("192.168.0.0/16", "ipvs"), kubeadmCM("192.168.0.0/16", "10.96.0.0/12"))
	e := []string{"DESCRIPTION", fmt.Sprintf("kubeadm with Calico %s, IPPools in %s, /26 blocks claimed on demand", strings.ToUpper(mode), ver(group, v3)),
		"SERVICE_CIDR", "10.96.0.0/12"}
	if allocate {
		e = append(e, "CLUSTER_CIDR", "192.168.0.0/16", "NODE_MASK", "24")
	} else {
		e = append(e, "ALLOCATE_NODE_CIDRS", "false")
	}
	return scenario{name: name, objs: objs, env: env(e...)}
}

func ver(group string, v3 bool) string {
	if v3 {
		return group + "/v3"
	}
	return group + "/v1"
}

func calicoVXLAN() scenario {
	return calicoScenario("calico-vxlan", "vxlan", "crd.projectcalico.org", false, false)
}

func calicoIPIP() scenario {
	return calicoScenario("calico-ipip", "ipip", "projectcalico.org", true, true)
}

func ciliumVXLAN() scenario {
	nodes := kubeadmNodes(3, "cilium-node", "172.18.0", "CiliumIsUp", nil)
	var objs []obj
	objs = append(objs, crd("cilium.io", "CiliumNode", "ciliumnodes", "Cluster", false))
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, ns("shop"))
	for i, n := range nodes {
		cidr := fmt.Sprintf("10.0.%d.0/24", i+1)
		used := obj{}
		var pods []pod
		for j := 0; j < 4; j++ {
			p := pod{ns: "shop", name: fmt.Sprintf("web-%d-%d", i, j), node: n.name, ips: []string{nthIP(cidr, 20+j)}, labels: map[string]string{"app": "web"}}
			if j == 0 && i < 2 {
				p = pod{ns: "kube-system", name: fmt.Sprintf("coredns-6f6b679f8f-%d", i), node: n.name, ips: []string{nthIP(cidr, 20)}, labels: map[string]string{"k8s-app": "kube-dns"}}
			}
			pods = append(pods, p)
			used[p.ips[0]] = obj{"owner": p.ns + "/" + p.name, "resource": "pod"}
		}
		host := nthIP(cidr, 93)
		health := nthIP(cidr, 12)
		used[host] = obj{"owner": "router"}
		used[health] = obj{"owner": "health"}
		objs = append(objs, obj{"apiVersion": "cilium.io/v2", "kind": "CiliumNode", "metadata": obj{"name": n.name},
			"spec": obj{
				"addresses":  []any{obj{"type": "InternalIP", "ip": n.ip}, obj{"type": "CiliumInternalIP", "ip": host}},
				"health":     obj{"ipv4": health},
				"ipam":       obj{"podCIDRs": []any{cidr}},
				"encryption": obj{},
			},
			"status": obj{"ipam": obj{"used": used}}})
		for _, p := range pods {
			objs = append(objs, podObj(p))
		}
	}
	objs = append(objs, daemonSet("kube-system", "cilium", true), daemonSet("kube-system", "cilium-envoy", true),
		configMap("kube-system", "cilium-config", map[string]string{
			"ipam": "cluster-pool", "cluster-pool-ipv4-cidr": "10.0.0.0/8", "cluster-pool-ipv4-mask-size": "24",
			"routing-mode": "tunnel", "tunnel-protocol": "vxlan", "kube-proxy-replacement": "true", "enable-ipv4": "true", "enable-ipv6": "false",
			"cluster-name": "default", "enable-policy": "default",
		}),
		service("kube-system", "kube-dns", "10.96.0.10", map[string]string{"k8s-app": "kube-dns"}, 53),
		kubeadmCM("10.0.0.0/8", "10.96.0.0/12"))
	return scenario{name: "cilium-vxlan", objs: objs, env: env(
		"DESCRIPTION", "Cilium cluster-pool IPAM (10.0.0.0/8, /24 per node) with VXLAN tunnelling and kube-proxy replacement",
		"ALLOCATE_NODE_CIDRS", "false", "SERVICE_CIDR", "10.96.0.0/12")}
}

func awsVPCCNI() scenario {
	subnets := []string{"192.168.0.0/19", "192.168.32.0/19", "192.168.64.0/19"}
	ips := []string{"192.168.12.34", "192.168.45.201", "192.168.77.9"}
	zones := []string{"us-west-2a", "us-west-2b", "us-west-2c"}
	var nodes []node
	for i := range ips {
		name := "ip-" + strings.ReplaceAll(ips[i], ".", "-") + ".us-west-2.compute.internal"
		nodes = append(nodes, node{
			name: name, ip: ips[i], extIP: fmt.Sprintf("54.185.%d.%d", 20+i, 100+i), zone: zones[i], itype: "m5.large",
			provider: fmt.Sprintf("aws:///%s/i-0%x", zones[i], 0x5c1e2a3b4c5d6e7+int64(i)),
			kernel:   "6.1.115-126.197.amzn2023.x86_64", runtime: "containerd://1.7.23", os: "Amazon Linux 2023.6.20241212",
			labels: map[string]string{"eks.amazonaws.com/nodegroup": "general", "eks.amazonaws.com/capacityType": "ON_DEMAND",
				"eks.amazonaws.com/nodegroup-image": "ami-0a1b2c3d4e5f60718", "k8s.io/cloud-provider-aws": "2c7d4e1f"},
			maxPods: 29,
		})
	}
	var objs []obj
	objs = append(objs, crd("crd.k8s.amazonaws.com", "ENIConfig", "eniconfigs", "Cluster", false))
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	for i, z := range zones {
		objs = append(objs, obj{"apiVersion": "crd.k8s.amazonaws.com/v1alpha1", "kind": "ENIConfig", "metadata": obj{"name": z},
			"spec": obj{"subnet": fmt.Sprintf("subnet-0%x", 0xa1b2c3d4e5+i), "securityGroups": []any{"sg-0123456789abcdef0"}}})
	}
	ipFor := func(nodeName string, j int) []string {
		for i, n := range nodes {
			if n.name == nodeName {
				return []string{nthIP(subnets[i], 100+j*7+i)}
			}
		}
		return nil
	}
	objs = append(objs, daemonSet("kube-system", "aws-node", true), daemonSet("kube-system", "kube-proxy", true),
		kubeProxyCM("", "iptables"))
	objs = append(objs, dnsAndApps(nodes, "10.100.0.10", ipFor, 3)...)
	return scenario{name: "aws-vpc-cni", objs: objs, env: env(
		"DESCRIPTION", "EKS with the AWS VPC CNI: pod IPs from the VPC subnets, m5.large nodes (29 pods)",
		"ALLOCATE_NODE_CIDRS", "false", "SERVICE_CIDR", "10.100.0.0/16")}
}

func exhausted() scenario {
	nodes := kubeadmNodes(6, "worker", "10.10.0", "", nil)
	// The first four joined earlier and hold the four /24s of the /22; the last two get CIDRNotAvailable.
	// Flannel (host-gw) runs only where a node has a subnet: the last two carry none of its marks.
	for i := 0; i < 4; i++ {
		nodes[i].podCIDR = fmt.Sprintf("10.244.%d.0/24", i)
		nodes[i].netReason = "FlannelIsUp"
		nodes[i].annotations = map[string]string{
			"flannel.alpha.coreos.com/backend-type":        "host-gw",
			"flannel.alpha.coreos.com/backend-data":        "null",
			"flannel.alpha.coreos.com/kube-subnet-manager": "true",
			"flannel.alpha.coreos.com/public-ip":           nodes[i].ip,
		}
	}
	var objs []obj
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, daemonSet("kube-system", "kube-proxy", true), kubeProxyCM("10.244.0.0/22", "iptables"),
		kubeadmCM("10.244.0.0/22", "10.96.0.0/12"), ns("kube-flannel"), daemonSet("kube-flannel", "kube-flannel-ds", true),
		configMap("kube-flannel", "kube-flannel-cfg", map[string]string{
			"net-conf.json": "{\n  \"Network\": \"10.244.0.0/22\",\n  \"Backend\": {\n    \"Type\": \"host-gw\"\n  }\n}\n",
		}))
	// Only the first four nodes can get a /24 out of the /22; pods are placed there.
	objs = append(objs, dnsAndApps(nodes[:4], "10.96.0.10", noIPs, 5)...)
	return scenario{name: "exhausted", objs: objs, env: env(
		"DESCRIPTION", "kubeadm with Flannel host-gw whose cluster CIDR (/22) holds only four /24 node CIDRs for six nodes",
		"CLUSTER_CIDR", "10.244.0.0/22", "NODE_MASK", "24", "SERVICE_CIDR", "10.96.0.0/12")}
}
