package overlap

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podnet/kubectl-podnet/internal/netmodel"
)

// cl builds a cluster from "role CIDR" pairs: nodes, pods (behind a tunnel), routed-pods,
// network-pods (a cloud route table's), vpc-pods (the node network's addresses), services, and
// node-cidr (a pod CIDR a node holds, or a pod address in use);
// addrs are its node addresses.
func cl(name string, shared string, addrs []string, ranges ...string) Cluster {
	a := &netmodel.Addressing{SharedSubnet: shared}
	for _, ad := range addrs {
		a.NodeAddresses = append(a.NodeAddresses, netip.MustParseAddr(ad))
	}
	for _, r := range ranges {
		role, cidr, _ := strings.Cut(r, " ")
		if role == "node-cidr" {
			a.InUse = append(a.InUse, netip.MustParsePrefix(cidr))
			continue
		}
		cr := netmodel.ClusterRange{CIDR: netip.MustParsePrefix(cidr), Reach: netmodel.ReachCluster}
		switch role {
		case "nodes":
			cr.Role, cr.Reach = netmodel.RoleNodes, netmodel.ReachUnderlay
		case "pods":
			cr.Role = netmodel.RolePods
		case "routed-pods":
			cr.Role, cr.Reach = netmodel.RolePods, netmodel.ReachUnderlay
		case "network-pods":
			cr.Role, cr.Reach = netmodel.RolePods, netmodel.ReachNetwork
		case "vpc-pods":
			cr.Role, cr.Reach, cr.OfNodeNetwork = netmodel.RolePods, netmodel.ReachUnderlay, true
		case "services":
			cr.Role = netmodel.RoleServices
		default:
			panic(role)
		}
		a.Ranges = append(a.Ranges, cr)
	}
	return Cluster{Name: name, Addressing: a}
}

func net(name, cidr string) Network { return Network{Name: name, CIDR: netip.MustParsePrefix(cidr)} }

// summary is one line per overlap: "A ~ B shared relation kind breaks".
func summary(r *Result) []string {
	out := []string{}
	for _, o := range r.Overlaps {
		out = append(out, fmt.Sprintf("%s ~ %s: %s %s %s %s", o.A, o.B, o.Shared, o.Relation, o.Kind, o.Breaks))
	}
	return out
}

func TestCheck(t *testing.T) {
	kubenet := "AKS kubenet clusters cannot share a subnet"
	for _, tc := range []struct {
		name     string
		clusters []Cluster
		networks []Network
		want     []string
	}{
		{
			name: "two AKS kubenet clusters on the defaults, in separate VNets: the same node addresses",
			clusters: []Cluster{
				cl("a", kubenet, []string{"10.224.0.4", "10.224.0.5"}, "nodes 10.224.0.4/31", "network-pods 10.244.0.0/16", "services 10.0.0.0/16"),
				cl("b", kubenet, []string{"10.224.0.4"}, "nodes 10.224.0.4/32", "network-pods 10.244.0.0/16", "services 10.0.0.0/16"),
			},
			want: []string{
				"a nodes 10.224.0.4/31 ~ b nodes 10.224.0.4/32: 10.224.0.4/32 contains SameNodeAddress peering",
				"a pods 10.244.0.0/16 ~ b pods 10.244.0.0/16: 10.244.0.0/16 equal PodsNotUnique mesh",
				"a services 10.0.0.0/16 ~ b services 10.0.0.0/16: 10.0.0.0/16 equal ServicesNotUnique submariner",
			},
		},
		{
			name: "a kubenet cluster's route table over another cluster's nodes and a network",
			clusters: []Cluster{
				cl("a", kubenet, []string{"10.224.0.4"}, "nodes 10.224.0.4/32", "network-pods 10.8.0.0/16"),
				cl("b", "", []string{"10.8.1.4"}, "nodes 10.8.1.0/24", "pods 10.8.0.0/16"),
			},
			networks: []Network{net("onprem", "10.8.200.0/24")},
			want: []string{
				"a pods 10.8.0.0/16 ~ b nodes 10.8.1.0/24: 10.8.1.0/24 contains Shadowed peering",
				"a pods 10.8.0.0/16 ~ b pods 10.8.0.0/16: 10.8.0.0/16 equal PodsNotUnique mesh",
				"a pods 10.8.0.0/16 ~ onprem network 10.8.200.0/24: 10.8.200.0/24 contains Shadowed peering",
				"b nodes 10.8.1.0/24 ~ b pods 10.8.0.0/16: 10.8.1.0/24 within InClusterLatent ",
				"b pods 10.8.0.0/16 ~ onprem network 10.8.200.0/24: 10.8.200.0/24 contains Shadowed peering",
			},
		},
		{
			name: "two kubenet clusters in one subnet",
			clusters: []Cluster{
				cl("a", kubenet, []string{"10.224.0.4", "10.224.0.5"}, "nodes 10.224.0.4/31"),
				cl("b", kubenet, []string{"10.224.0.6"}, "nodes 10.224.0.0/29"),
			},
			want: []string{"a nodes 10.224.0.4/31 ~ b nodes 10.224.0.0/29: 10.224.0.4/31 within SharedSubnet cluster"},
		},
		{
			name: "overlay clusters: equal pod ranges break a mesh, not peering",
			clusters: []Cluster{
				cl("a", "", nil, "nodes 192.168.1.0/24", "pods 10.244.0.0/16", "services 10.96.0.0/12"),
				cl("b", "", nil, "nodes 192.168.2.0/24", "pods 10.244.0.0/16", "services 10.112.0.0/12"),
			},
			want: []string{"a pods 10.244.0.0/16 ~ b pods 10.244.0.0/16: 10.244.0.0/16 equal PodsNotUnique mesh"},
		},
		{
			name: "the same node address in two clusters",
			clusters: []Cluster{
				cl("a", "", []string{"10.0.0.4", "10.0.0.5"}, "nodes 10.0.0.4/31"),
				cl("b", "", []string{"10.0.0.5"}, "nodes 10.0.0.5/32"),
			},
			want: []string{"a nodes 10.0.0.4/31 ~ b nodes 10.0.0.5/32: 10.0.0.5/32 contains SameNodeAddress peering"},
		},
		{
			name: "node ranges meeting: one network or two overlapping ones, until a network says",
			clusters: []Cluster{
				cl("a", "", []string{"10.0.0.4"}, "nodes 10.0.0.0/28"),
				cl("b", "", []string{"10.0.0.9"}, "nodes 10.0.0.8/29"),
			},
			want: []string{"a nodes 10.0.0.0/28 ~ b nodes 10.0.0.8/29: 10.0.0.8/29 contains NodeRangesMeet peering"},
		},
		{
			name: "one VNet holding both clusters' nodes",
			clusters: []Cluster{
				cl("a", "", []string{"10.0.0.4"}, "nodes 10.0.0.0/28"),
				cl("b", "", []string{"10.0.0.9"}, "nodes 10.0.0.8/29"),
			},
			networks: []Network{net("vnet", "10.0.0.0/16")},
			want: []string{
				"a nodes 10.0.0.0/28 ~ b nodes 10.0.0.8/29: 10.0.0.8/29 contains OneNetwork ",
				"a nodes 10.0.0.0/28 ~ vnet network 10.0.0.0/16: 10.0.0.0/28 within HomeNetwork ",
				"b nodes 10.0.0.8/29 ~ vnet network 10.0.0.0/16: 10.0.0.8/29 within HomeNetwork ",
			},
		},
		{
			name: "a cluster's own ranges colliding",
			clusters: []Cluster{
				cl("a", "", nil, "nodes 10.0.0.0/24", "pods 10.0.0.0/16", "services 10.0.128.0/17", "node-cidr 10.0.0.0/24", "node-cidr 10.0.200.0/24"),
			},
			want: []string{
				"a nodes 10.0.0.0/24 ~ a pods 10.0.0.0/16: 10.0.0.0/24 within InCluster cluster",
				"a pods 10.0.0.0/16 ~ a services 10.0.128.0/17: 10.0.128.0/17 contains InCluster cluster",
			},
		},
		{
			name: "a pool holding the Service CIDR, no node CIDR there yet: latent (Cilium's defaults)",
			clusters: []Cluster{
				cl("cil", "", nil, "nodes 172.18.0.8/29", "pods 10.0.0.0/8", "services 10.96.0.0/12", "node-cidr 10.0.1.0/24", "node-cidr 10.0.2.0/24"),
			},
			want: []string{"cil pods 10.0.0.0/8 ~ cil services 10.96.0.0/12: 10.96.0.0/12 contains InClusterLatent "},
		},
		{
			name: "the same pool once a node CIDR lies in the Service CIDR",
			clusters: []Cluster{
				cl("cil", "", nil, "pods 10.0.0.0/8", "services 10.96.0.0/12", "node-cidr 10.96.0.0/24"),
			},
			want: []string{"cil pods 10.0.0.0/8 ~ cil services 10.96.0.0/12: 10.96.0.0/12 contains InCluster cluster"},
		},
		{
			name: "pods of the VPC: in the node network by design, unique across clusters only as the VPCs are",
			clusters: []Cluster{
				cl("eks-a", "", []string{"10.0.1.10"}, "nodes 10.0.1.10/32", "vpc-pods 10.0.1.0/26", "services 172.20.0.0/16"),
				cl("eks-b", "", []string{"10.1.1.10"}, "nodes 10.1.1.10/32", "vpc-pods 10.1.1.0/26", "services 172.20.0.0/16"),
			},
			networks: []Network{net("vpc-a", "10.0.0.0/16"), net("vpc-b", "10.1.0.0/16")},
			want: []string{
				"eks-a nodes 10.0.1.10/32 ~ vpc-a network 10.0.0.0/16: 10.0.1.10/32 within HomeNetwork ",
				"eks-a pods 10.0.1.0/26 ~ vpc-a network 10.0.0.0/16: 10.0.1.0/26 within HomeNetwork ",
				"eks-a services 172.20.0.0/16 ~ eks-b services 172.20.0.0/16: 172.20.0.0/16 equal ServicesNotUnique submariner",
				"eks-b nodes 10.1.1.10/32 ~ vpc-b network 10.1.0.0/16: 10.1.1.10/32 within HomeNetwork ",
				"eks-b pods 10.1.1.0/26 ~ vpc-b network 10.1.0.0/16: 10.1.1.0/26 within HomeNetwork ",
			},
		},
		{
			name: "a peered network inside a cluster's Service CIDR and pod range",
			clusters: []Cluster{
				cl("a", "", []string{"10.224.0.4"}, "nodes 10.224.0.4/32", "pods 10.244.0.0/16", "services 10.0.0.0/16"),
			},
			networks: []Network{net("hub", "10.0.0.0/22"), net("onprem", "10.244.128.0/20")},
			want: []string{
				"a pods 10.244.0.0/16 ~ onprem network 10.244.128.0/20: 10.244.128.0/20 contains Shadowed peering",
				"a services 10.0.0.0/16 ~ hub network 10.0.0.0/22: 10.0.0.0/22 contains Shadowed peering",
			},
		},
		{
			name: "routed pods of one cluster in another's overlay pods and Services",
			clusters: []Cluster{
				cl("bgp", "", nil, "nodes 192.168.0.0/24", "routed-pods 10.8.0.0/16"),
				cl("vx", "", nil, "nodes 192.168.9.0/24", "pods 10.8.0.0/14", "services 10.8.128.0/20"),
			},
			want: []string{
				"bgp pods 10.8.0.0/16 ~ vx pods 10.8.0.0/14: 10.8.0.0/16 within Shadowed peering",
				"bgp pods 10.8.0.0/16 ~ vx services 10.8.128.0/20: 10.8.128.0/20 contains Shadowed peering",
				"vx pods 10.8.0.0/14 ~ vx services 10.8.128.0/20: 10.8.128.0/20 contains InClusterLatent ",
			},
		},
		{
			name: "dual-stack: each family on its own",
			clusters: []Cluster{
				cl("a", "", nil, "nodes 192.168.1.0/24", "nodes fd00:1::/64", "pods 10.244.0.0/16", "pods fd00:10:244::/56", "services fd00:10:96::/112"),
				cl("b", "", nil, "nodes 192.168.2.0/24", "nodes fd00:2::/64", "pods 10.245.0.0/16", "pods fd00:10:244:100::/56", "services fd00:10:96::/108"),
			},
			want: []string{
				"a services fd00:10:96::/112 ~ b services fd00:10:96::/108: fd00:10:96::/112 within ServicesNotUnique submariner",
			},
		},
		{
			name:     "networks overlapping each other",
			networks: []Network{net("vnet-a", "10.0.0.0/16"), net("vnet-b", "10.0.128.0/17"), net("vnet-c", "10.1.0.0/16")},
			want:     []string{"vnet-a network 10.0.0.0/16 ~ vnet-b network 10.0.128.0/17: 10.0.128.0/17 contains NetworksOverlap peering"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(Check(tc.clusters, tc.networks))
			if tc.want == nil {
				tc.want = []string{}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("overlaps (-want +got):\n%s", d)
			}
		})
	}
}

func TestCheckShares(t *testing.T) {
	r := Check([]Cluster{
		cl("a", "", nil, "pods 10.244.0.0/16"),
		cl("b", "", nil, "pods 10.244.64.0/18"),
	}, nil)
	if len(r.Overlaps) != 1 {
		t.Fatalf("want one overlap, got %v", summary(r))
	}
	o := r.Overlaps[0]
	if o.Addresses != "16384" || o.ShareOfA != 0.25 || o.ShareOfB != 1 {
		t.Errorf("shared %s addresses, %g of a, %g of b; want 16384, 0.25, 1", o.Addresses, o.ShareOfA, o.ShareOfB)
	}
	if got := len(r.Broken(GoalPeering)); got != 0 {
		t.Errorf("overlay pod ranges break peering: %d", got)
	}
	if got := len(r.Broken(GoalMesh)); got != 1 {
		t.Errorf("overlapping pod ranges do not break a mesh: %d", got)
	}
}
