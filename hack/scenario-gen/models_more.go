package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// daemonSetEnv is a DaemonSet whose agent container carries env (the aws-node settings).
func daemonSetEnv(namespace, name string, hostNetwork bool, env map[string]string) obj {
	ds := daemonSet(namespace, name, hostNetwork)
	var vars []any
	for _, k := range slices.Sorted(maps.Keys(env)) {
		vars = append(vars, obj{"name": k, "value": env[k]})
	}
	c := ds["spec"].(obj)["template"].(obj)["spec"].(obj)["containers"].([]any)[0].(obj)
	c["env"] = vars
	return ds
}

// ciliumClusterPool is kubeadm (--pod-network-cidr 10.244.0.0/16, so kube-controller-manager
// hands every node a spec.podCIDR) with Cilium's default cluster-pool IPAM (10.0.0.0/8): the
// addresses pods really get come from the CiliumNodes, and the controller manager's CIDRs are
// decoys nothing uses. Geneve tunnelling, kube-proxy kept.
func ciliumClusterPool() scenario {
	nodes := kubeadmNodes(3, "k8s-worker", "10.128.0", "CiliumIsUp", nil)
	var objs []obj
	objs = append(objs, crd("cilium.io", "CiliumNode", "ciliumnodes", "Cluster", false))
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, ns("shop"))
	cidrOf := map[string]string{}
	for i, n := range nodes {
		cidr := fmt.Sprintf("10.0.%d.0/24", 10+i)
		cidrOf[n.name] = cidr
		host, health := nthIP(cidr, 201), nthIP(cidr, 87)
		used := obj{host: obj{"owner": "router"}, health: obj{"owner": "health"}}
		for j := 0; j < 3; j++ {
			used[nthIP(cidr, 30+j)] = obj{"owner": fmt.Sprintf("shop/web-%d-%d", i, j), "resource": "pod"}
		}
		if i < 2 {
			used[nthIP(cidr, 130+i)] = obj{"owner": fmt.Sprintf("kube-system/coredns-5d78c9869d-%d", i), "resource": "pod"}
		}
		objs = append(objs, obj{"apiVersion": "cilium.io/v2", "kind": "CiliumNode", "metadata": obj{"name": n.name},
			"spec": obj{
				"addresses": []any{obj{"type": "InternalIP", "ip": n.ip}, obj{"type": "CiliumInternalIP", "ip": host}},
				"health":    obj{"ipv4": health},
				"ipam":      obj{"podCIDRs": []any{cidr}, "pools": obj{}},
			},
			"status": obj{"ipam": obj{"used": used, "operator-status": obj{}}}})
	}
	ipFor := func(node string, j int) []string { // web pods .30-.32, coredns .130 and .131
		return []string{nthIP(cidrOf[node], 30+j)}
	}
	objs = append(objs, daemonSet("kube-system", "cilium", true), daemonSet("kube-system", "cilium-envoy", true), daemonSet("kube-system", "kube-proxy", true),
		configMap("kube-system", "cilium-config", map[string]string{
			"ipam": "cluster-pool", "cluster-pool-ipv4-cidr": "10.0.0.0/8", "cluster-pool-ipv4-mask-size": "24",
			"routing-mode": "tunnel", "tunnel-protocol": "geneve", "kube-proxy-replacement": "false", "enable-ipv4": "true", "enable-ipv6": "false",
			"cluster-name": "default", "enable-policy": "default",
		}),
		kubeProxyCM("10.244.0.0/16", "iptables"), kubeadmCM("10.244.0.0/16", "10.96.0.0/12"))
	objs = append(objs, dnsAndApps(nodes, "10.96.0.10", ipFor, 3)...)
	return scenario{name: "cilium-cluster-pool", objs: objs, env: env(
		"DESCRIPTION", "kubeadm (pod CIDR 10.244.0.0/16, so every node also gets an unused spec.podCIDR) with Cilium cluster-pool IPAM (10.0.0.0/8, /24 per node in the CiliumNodes), Geneve, kube-proxy",
		"CLUSTER_CIDR", "10.244.0.0/16", "NODE_MASK", "24", "SERVICE_CIDR", "10.96.0.0/12")}
}

// awsPrefixDelegation is EKS with the VPC CNI's prefix delegation on: a Nitro node group
// (m5.large, max pods 110: /28 prefixes, max-pods binds) and an older Xen node group (m4.large,
// max pods 20: no prefixes, so secondary IPs: 2 ENIs x 9), one of whose nodes is full: 18 pods on
// the pod network and the 2 host-network DaemonSet pods.
func awsPrefixDelegation() scenario {
	type group struct {
		name, itype string
		maxPods     int
		zone        string
		subnet      string
		ips         []string
	}
	groups := []group{
		{"general", "m5.large", 110, "eu-west-1a", "10.20.0.0/19", []string{"10.20.3.41", "10.20.7.188"}},
		{"legacy", "m4.large", 20, "eu-west-1b", "10.20.32.0/19", []string{"10.20.40.12", "10.20.51.230"}},
	}
	var nodes []node
	subnetOf := map[string]string{}
	for gi, g := range groups {
		for i, ip := range g.ips {
			name := "ip-" + strings.ReplaceAll(ip, ".", "-") + ".eu-west-1.compute.internal"
			subnetOf[name] = g.subnet
			nodes = append(nodes, node{
				name: name, ip: ip, zone: g.zone, itype: g.itype, maxPods: g.maxPods,
				provider: fmt.Sprintf("aws:///%s/i-0%x", g.zone, 0x7a1e2a3b4c5d6e7+int64(gi*10+i)),
				kernel:   "6.1.115-126.197.amzn2023.x86_64", runtime: "containerd://1.7.23", os: "Amazon Linux 2023.6.20241212",
				labels: map[string]string{"eks.amazonaws.com/nodegroup": g.name, "eks.amazonaws.com/capacityType": "ON_DEMAND",
					"eks.amazonaws.com/nodegroup-image": "ami-0b2c3d4e5f6071829", "k8s.io/cloud-provider-aws": "5e8f2a1c"},
			})
		}
	}
	// each node's pods take addresses of its subnet from its own stretch (the ENIs' secondary IPs)
	seq, base := map[string]int{}, map[string]int{}
	for i, n := range nodes {
		base[n.name] = 100 + 64*i
	}
	ipFor := func(nodeName string, _ int) []string {
		seq[nodeName]++
		return []string{nthIP(subnetOf[nodeName], base[nodeName]+seq[nodeName])}
	}
	var objs []obj
	objs = append(objs, crd("crd.k8s.amazonaws.com", "ENIConfig", "eniconfigs", "Cluster", false))
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, daemonSetEnv("kube-system", "aws-node", true, map[string]string{
		"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "1", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false", "ENABLE_IPv4": "true", "ENABLE_IPv6": "false",
	}), daemonSet("kube-system", "kube-proxy", true), kubeProxyCM("", "iptables"))
	objs = append(objs, dnsAndApps(nodes, "172.20.0.10", ipFor, 2)...)
	// the full legacy node: 18 pod-network pods (its 2 web pods and 16 workers) and 2 host-network ones
	full := nodes[3].name
	for j := 0; j < 16; j++ {
		objs = append(objs, podObj(pod{ns: "shop", name: fmt.Sprintf("worker-%d", j), node: full, ips: ipFor(full, j), labels: map[string]string{"app": "worker"}}))
	}
	return scenario{name: "aws-prefix-delegation", objs: objs, env: env(
		"DESCRIPTION", "EKS with VPC CNI prefix delegation: m5.large nodes (Nitro, /28 prefixes, max pods 110) and m4.large nodes (Xen: secondary IPs, max pods 20), one of them full",
		"ALLOCATE_NODE_CIDRS", "false", "SERVICE_CIDR", "172.20.0.0/16")}
}

// azureCNI is AKS with Azure CNI in the node subnet: pods get addresses of the nodes' VNet
// subnet (every node takes max-pods + 1 of them up front), no node CIDR, no encapsulation.
func azureCNI() scenario {
	nodes := aksNodes(3, "nodepool1", "kubernetes.azure.com/network-plugin=azure", "", 30, "")
	// Azure CNI (node subnet): node i takes 10.224.0.<4+31i> and its 30 pod addresses after it
	for i := range nodes {
		nodes[i].ip = fmt.Sprintf("10.224.0.%d", 4+31*i)
	}
	seq := map[string]int{}
	ipOf := map[string]string{}
	for _, n := range nodes {
		ipOf[n.name] = n.ip
	}
	ipFor := func(nodeName string, _ int) []string {
		seq[nodeName]++
		return []string{nthIP(ipOf[nodeName]+"/32", seq[nodeName])}
	}
	var objs []obj
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, daemonSet("kube-system", "kube-proxy", true), daemonSet("kube-system", "azure-cns", true),
		daemonSet("kube-system", "azure-ip-masq-agent", true), daemonSet("kube-system", "cloud-node-manager", true), kubeProxyCM("", "iptables"))
	objs = append(objs, dnsAndApps(nodes, "10.0.0.10", ipFor, 4)...)
	objs = append(objs, service("shop", "web", "10.0.187.20", map[string]string{"app": "web"}, 80))
	return scenario{name: "azure-cni", objs: objs, env: env(
		"DESCRIPTION", "AKS with Azure CNI in the node subnet 10.224.0.0/16: pods take VNet addresses (30 per node, taken up front), no node CIDR",
		"ALLOCATE_NODE_CIDRS", "false", "SERVICE_CIDR", "10.0.0.0/16")}
}

// antreaGeneve is kubeadm with Antrea: spec.podCIDRs behind antrea-gw0, Geneve between nodes,
// carried on a network of its own (transportInterfaceCIDRs 172.16.20.0/24): each node's transport
// address, which its agent publishes comma-separated, differs from its InternalIP.
func antreaGeneve() scenario {
	nodes := kubeadmNodes(3, "antrea-node", "172.16.10", "", func(i int) map[string]string {
		return map[string]string{"node.antrea.io/transport-addresses": fmt.Sprintf("172.16.20.%d", 11+i)}
	})
	var objs []obj
	for _, n := range nodes {
		objs = append(objs, nodeObj(n))
	}
	objs = append(objs, daemonSet("kube-system", "antrea-agent", true), daemonSet("kube-system", "kube-proxy", true),
		configMap("kube-system", "antrea-config", map[string]string{
			"antrea-agent.conf":      "featureGates: {}\ntrafficEncapMode: encap\ntunnelType: geneve\ntransportInterface: \"\"\ntransportInterfaceCIDRs:\n- 172.16.20.0/24\nserviceCIDR: 10.96.0.0/12\n",
			"antrea-controller.conf": "featureGates: {}\n",
			"antrea-cni.conflist":    `{"cniVersion":"0.3.0","name":"antrea","plugins":[{"type":"antrea","ipam":{"type":"host-local"}},{"type":"portmap","capabilities":{"portMappings":true}}]}`,
		}),
		kubeProxyCM("10.244.0.0/16", "iptables"), kubeadmCM("10.244.0.0/16", "10.96.0.0/12"))
	objs = append(objs, dnsAndApps(nodes, "10.96.0.10", noIPs, 3)...)
	return scenario{name: "antrea-geneve", objs: objs, env: env(
		"DESCRIPTION", "kubeadm with Antrea: a /24 per node behind antrea-gw0, Geneve (UDP 6081) between nodes over a tunnel network of its own (172.16.20.0/24)",
		"CLUSTER_CIDR", "10.244.0.0/16", "NODE_MASK", "24", "SERVICE_CIDR", "10.96.0.0/12")}
}
