#!/usr/bin/env bash
# The real node of the local control plane: one kubelet with Debian's containerd, runc and CNI
# plugins, a bridge (cbr0) with host-local IPAM from the node's podCIDR (kubenet semantics), so
# that real pods get real IPs in real network namespaces. Sourced by hack/cluster; needs root.
#
# Everything it makes is its own: a bridge holding the node IP (198.18.0.0/15, the benchmarking
# range, never routed off this machine), cbr0, iptables rules tagged with the cluster name that
# forward nothing off the bridge, and state under the cluster's state directory.

NODE_PKGS=(containerd runc containernetworking-plugins busybox-static iptables)
PAUSE_IMAGE=registry.k8s.io/pause:3.10
BUSYBOX_IMAGE=podnet.local/busybox:test

node_require() {
  [ "$(id -u)" = 0 ] || die "node-up needs root (network namespaces, containerd, kubelet)"
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v iptables >/dev/null || missing+=(iptables)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "cluster: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# docker_archive (hack/lib/build.sh) makes the image tarballs.

# node_images_build builds the pause and busybox images into $NODE/images.
node_images_build() {
  local dir=$NODE/images
  mkdir -p "$dir/pause" "$dir/busybox/bin"
  (cd "$REPO_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/pause/pause" ./hack/node/pause)
  docker_archive "$dir/pause" '["/pause"]' "$PAUSE_IMAGE" "$dir/pause.tar"
  cp /bin/busybox "$dir/busybox/bin/busybox"
  local a
  for a in sh ip cat ls sleep echo nslookup wget timeout ping nc httpd date stat; do ln -sf busybox "$dir/busybox/bin/$a"; done
  docker_archive "$dir/busybox" '["/bin/sh"]' "$BUSYBOX_IMAGE" "$dir/busybox.tar"
}

node_images() {
  local dir=$NODE/images i
  node_images_build
  for i in pause busybox; do
    ctr --address "$NODE/containerd/containerd.sock" -n k8s.io images import --no-unpack=false "$dir/$i.tar" >/dev/null
  done
}

# cgroup_parents are containerd's cgroup parents (k8s.io) in each hierarchy, as they are now.
cgroup_parents() { ls -d /sys/fs/cgroup/k8s.io /sys/fs/cgroup/*/k8s.io 2>/dev/null | tr '\n' ' '; }

# containers_of STATE: the containers and sandboxes a node's containerd (state directory STATE) runs.
containers_of() { ls "$1/io.containerd.runtime.v2.task/k8s.io" 2>/dev/null || true; }

# remove_cgroups PARENTS_BEFORE ID...: once their processes are gone, the cgroups runc made for the
# containers (a killed shim never deletes them), and the k8s.io parents that were not there before.
remove_cgroups() {
  local before=$1 id c
  shift
  for _ in $(seq 1 20); do
    local left=0
    for id in "$@"; do
      for c in /sys/fs/cgroup/k8s.io/"$id" /sys/fs/cgroup/*/k8s.io/"$id"; do
        [ -d "$c" ] || continue
        rmdir "$c" 2>/dev/null || left=1
      done
    done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for c in /sys/fs/cgroup/k8s.io /sys/fs/cgroup/*/k8s.io; do
    [ -d "$c" ] || continue
    case " $before " in *" $c "*) ;; *) rmdir "$c" 2>/dev/null || true ;; esac
  done
}

# kubelet_chains are the chains kubelet makes in this namespace that exist now (iptables and ip6tables).
kubelet_chains() {
  local ipt
  for ipt in iptables ip6tables; do
    command -v "$ipt-save" >/dev/null || continue
    "$ipt-save" 2>/dev/null | sed -n 's/^:\(KUBE-FIREWALL\|KUBE-KUBELET-CANARY\|KUBE-IPTABLES-HINT\) .*/'"$ipt"':\1/p' | sort -u | tr '\n' ' '
  done
}

nft_tables() { command -v nft >/dev/null && nft list tables 2>/dev/null | sed 's/^table //; s/ /:/' | tr '\n' ' '; }

# kubelet_chains_remove BEFORE TABLES_BEFORE: removes the kubelet chains (and the jumps to them) and
# the nftables tables that were not there before the node.
kubelet_chains_remove() {
  local before=$1 tables=$2 ipt t
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    case " $before " in *" $ipt:KUBE-FIREWALL "*) ;; *)
      while "$ipt" -w -D INPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
      while "$ipt" -w -D OUTPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
      "$ipt" -w -F KUBE-FIREWALL 2>/dev/null && "$ipt" -w -X KUBE-FIREWALL 2>/dev/null ;;
    esac
    case " $before " in *" $ipt:KUBE-KUBELET-CANARY "*) ;; *)
      for t in mangle nat filter; do "$ipt" -w -t "$t" -X KUBE-KUBELET-CANARY 2>/dev/null; done ;;
    esac
    case " $before " in *" $ipt:KUBE-IPTABLES-HINT "*) ;; *) "$ipt" -w -t mangle -X KUBE-IPTABLES-HINT 2>/dev/null ;; esac
  done
  command -v nft >/dev/null || return 0
  local tbl
  for tbl in $(nft_tables); do
    case " $tables " in *" $tbl "*) continue ;; esac
    # only tables that hold no rule any more (iptables-nft leaves its empty tables behind)
    if ! nft list table "${tbl%%:*}" "${tbl#*:}" 2>/dev/null | grep -qE '^[[:space:]]+(counter|ip|ip6|meta|jump|iifname|oifname|tcp|udp|ct|drop|accept|reject|xt)'; then
      nft delete table "${tbl%%:*}" "${tbl#*:}" 2>/dev/null || true
    fi
  done
}

# containerd_config FILE ROOT STATE SOCKET CNI_DIR: a node's containerd (CRI, runc, cgroupfs), its
# CNI plugins in CNI_DIR/bin and its configuration in CNI_DIR/net.d.
containerd_config() {
  local file=$1 root=$2 state=$3 sock=$4 cni=$5
  cat >"$file" <<TOML
version = 2
root = "$root"
state = "$state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$cni/bin"
    conf_dir = "$cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
TOML
}

# kubelet_config FILE ADDRESS PORT HEALTHZ_PORT CERT_NAME SOCKET: a node's kubelet configuration,
# serving with the certificate pki/CERT_NAME.crt, talking to containerd on SOCKET.
kubelet_config() {
  local file=$1 address=$2 port=$3 hport=$4 cert=$5 sock=$6 pki=$STATE/pki svcdns
  svcdns=$(first_service_ip "$SERVICE_CIDR")
  svcdns=${svcdns%.*}.10
  cat >"$file" <<CFG
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $address
port: $port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $hport
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: AlwaysAllow}
tlsCertFile: "$pki/$cert.crt"
tlsPrivateKeyFile: "$pki/$cert.key"
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: "unix://$sock"
clusterDNS: ["$svcdns"]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
localStorageCapacityIsolation: false
serializeImagePulls: false
nodeStatusUpdateFrequency: 10s
maxPods: 110
CFG
}

# node_kubeconfig FILE NODE_NAME: the node's client credentials for the API server on 127.0.0.1.
node_kubeconfig() {
  local pki=$STATE/pki
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority: "$pki/ca.crt"}
users:
- name: node
  user: {client-certificate: "$pki/node-$2.crt", client-key: "$pki/node-$2.key"}
contexts:
- name: node
  context: {cluster: local, user: node}
current-context: node
KC
}

node_containerd() {
  # /run/netns as iproute2 makes it on first use (a shared bind of itself), before containerd
  # mounts its pods' namespaces there: an 'ip netns add' later (the kernel tests) then stacks no
  # second bind over them, which would hide their mounts from node-down
  ip netns add "podnet-probe-$NAME" && ip netns delete "podnet-probe-$NAME"
  mkdir -p "$NODE/containerd" "$NODE/cni/net.d" "$NODE/cni/bin" "$NODE_RUN"
  chmod 755 "$NODE_RUN"
  # the node's own plugin directory (links to Debian's plugins), so that a test can take a plugin
  # away from this node alone
  local p
  for p in /usr/lib/cni/*; do ln -sf "$p" "$NODE/cni/bin/"; done
  containerd_config "$NODE/containerd/config.toml" "$NODE/containerd/root" "$NODE_RUN/containerd" "$NODE/containerd/containerd.sock" "$NODE/cni"
  start_proc containerd "$STATE/logs/containerd.log" containerd --config "$NODE/containerd/config.toml"
  for _ in $(seq 1 100); do
    ctr --address "$NODE/containerd/containerd.sock" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "containerd did not start; see $STATE/logs/containerd.log"
}

node_network() {
  # the node IP lives on an empty bridge of ours: this kernel has no dummy devices
  ip link add "$HOSTDEV" type bridge
  ip addr add "$NODE_IP/24" dev "$HOSTDEV"
  ip link set "$HOSTDEV" up
  # nothing from the pods' bridge is forwarded anywhere else
  iptables -w -I FORWARD -i cbr0 ! -o cbr0 -m comment --comment "podnet-$NAME" -j DROP
  iptables -w -I FORWARD -o cbr0 ! -i cbr0 -m comment --comment "podnet-$NAME" -j DROP
}

node_kubelet() {
  local kport hport
  kport=$(free_port)
  hport=$(free_port)
  gen_cert kubelet "/CN=$NODE_NAME" "subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment"
  gen_cert "node-$NODE_NAME" "/O=system:nodes/CN=system:node:$NODE_NAME" "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment"
  node_kubeconfig "$NODE/kubeconfig" "$NODE_NAME"
  kubelet_config "$NODE/kubelet.yaml" "$NODE_IP" "$kport" "$hport" kubelet "$NODE/containerd/containerd.sock"
  start_proc kubelet "$STATE/logs/kubelet.log" "$BIN/kubelet" --config "$NODE/kubelet.yaml" --kubeconfig "$NODE/kubeconfig" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --root-dir "$NODE/kubelet" --v=1
}

# node_cni writes the bridge CNI config once node IPAM has given the node its podCIDR.
node_cni() {
  local cidr=""
  for _ in $(seq 1 300); do
    cidr=$(kc get node "$NODE_NAME" -o jsonpath='{.spec.podCIDR}' 2>/dev/null || true)
    [ -n "$cidr" ] && break
    proc_alive kubelet || die "kubelet exited; the end of its log:
$(tail -n 8 "$STATE/logs/kubelet.log")"
    sleep 0.1
  done
  [ -n "$cidr" ] || die "node $NODE_NAME got no podCIDR (is the cluster running node IPAM? start it without --no-allocate-node-cidrs)"
  cat >"$NODE/cni/net.d/10-podnet-bridge.conflist" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {"type": "bridge", "bridge": "cbr0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "loopback"}
  ]
}
CNI
  echo "$cidr"
}

cmd_node_up() {
  parse_common "$@"
  if [ -n "$COUNT$CNI" ]; then
    cmd_nodes_up
    return
  fi
  node_require
  load_cluster_env
  NODE=$STATE/node
  NODE_NAME=${PODNET_NODE_NAME:-podnet-node-1}
  HOSTDEV=pn-$(printf '%s' "$NAME" | cksum | cut -c1-8)
  NODE_IP=198.18.$(( $(printf '%s' "$NAME" | cksum | cut -d' ' -f1) % 250 )).2
  # containerd's state on a tmpfs as on a real node (its shim sockets want a short path), and
  # host-local's reservations where host-local keeps them by default, in a network of this
  # cluster's own name: what 'ipam check --nodes' reads
  NODE_RUN=/run/podnet-$NAME
  CNI_NETWORK=podnet-$NAME
  [ -f "$NODE/node.env" ] && die "cluster '$NAME' already has a real node; remove it with: hack/cluster node-down --name $NAME"
  [ -f "$STATE/nodes/nodes.env" ] && die "cluster '$NAME' has real nodes in namespaces of their own (node-up --count); remove them first with: hack/cluster node-down --name $NAME"
  mkdir -p "$NODE"
  # what node-down restores
  {
    echo "NODE_NAME=$NODE_NAME"
    echo "HOSTDEV=$HOSTDEV"
    echo "NODE_IP=$NODE_IP"
    echo "NODE_RUN=$NODE_RUN"
    echo "CNI_NETWORK=$CNI_NETWORK"
    echo "CNI_DIRS_BEFORE=\"$(for d in /var/lib/cni /var/lib/cni/networks /var/lib/cni/results; do [ -d "$d" ] && printf '%s ' "$d"; done)\""
    for s in net.ipv4.ip_forward vm.overcommit_memory kernel.panic kernel.panic_on_oops; do
      echo "SYSCTL_$(echo "$s" | tr '.' '_')=$(sysctl -n "$s")"
    done
    echo "NETNS_BEFORE=\"$(ls /run/netns 2>/dev/null | tr '\n' ' ')\""
    echo "CGROUPS_BEFORE=\"$(cgroup_parents)\""
    # kubelet's own chains in the root namespace (KUBE-FIREWALL, its canaries) and the tables
    # iptables-nft makes for them
    echo "KUBELET_CHAINS_BEFORE=\"$(kubelet_chains)\""
    echo "NFT_TABLES_BEFORE=\"$(nft_tables)\""
  } >"$NODE/node.env"
  trap '[ "${NODE_DONE:-}" = true ] || node_teardown' EXIT
  node_network
  node_containerd
  node_images
  node_kubelet
  local cidr
  cidr=$(node_cni)
  kc wait --for=condition=Ready "node/$NODE_NAME" --timeout=60s >/dev/null ||
    die "node $NODE_NAME did not become Ready; the end of the kubelet log:
$(tail -n 8 "$STATE/logs/kubelet.log")"
  NODE_DONE=true
  echo "cluster: real node $NODE_NAME is Ready: IP $NODE_IP, pod CIDR $cidr, images $BUSYBOX_IMAGE and $PAUSE_IMAGE" >&2
  echo "$NODE_NAME"
}

node_teardown() {
  [ -f "$NODE/node.env" ] || return 0
  netpol_teardown
  # shellcheck disable=SC1091
  source "$NODE/node.env"
  kc delete node "$NODE_NAME" --wait=false >/dev/null 2>&1 || true
  stop_proc kubelet
  local ids
  ids=$(containers_of "${NODE_RUN:-/nonexistent}/containerd")
  # the containers outlive containerd in their shims: stop them by the shims of our socket
  local pid
  for pid in $(pgrep -f "containerd-shim.*$NODE/containerd" 2>/dev/null); do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done
  stop_proc containerd
  sleep 0.2
  local m
  # unmount what containerd and kubelet mounted below the node's state and containerd's (deepest first)
  for m in $(awk -v p="$NODE" -v r="${NODE_RUN:-$NODE}" 'index($2, p "/") == 1 || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  local ns
  for ns in $(ls /run/netns 2>/dev/null); do
    case " $NETNS_BEFORE " in *" $ns "*) continue ;; esac
    case "$ns" in cni-*) ;; *) continue ;; esac
    if ! ip netns delete "$ns" 2>/dev/null && [ -e "/run/netns/$ns" ]; then
      # an 'ip netns' run after containerd's mount bound /run/netns over itself and hid the mount
      # beneath: lift that bind (refused while anything else is mounted on it) and delete again
      umount /run/netns 2>/dev/null && ip netns delete "$ns" 2>/dev/null || true
    fi
  done
  # shellcheck disable=SC2086
  remove_cgroups "${CGROUPS_BEFORE:-}" $ids
  ip link delete cbr0 2>/dev/null || true
  ip link delete "$HOSTDEV" 2>/dev/null || true
  while iptables -w -D FORWARD -i cbr0 ! -o cbr0 -m comment --comment "podnet-$NAME" -j DROP 2>/dev/null; do :; done
  while iptables -w -D FORWARD -o cbr0 ! -i cbr0 -m comment --comment "podnet-$NAME" -j DROP 2>/dev/null; do :; done
  kubelet_chains_remove "${KUBELET_CHAINS_BEFORE:-}" "${NFT_TABLES_BEFORE:-}"
  sysctl -qw net.ipv4.ip_forward="$SYSCTL_net_ipv4_ip_forward" vm.overcommit_memory="$SYSCTL_vm_overcommit_memory" \
    kernel.panic="$SYSCTL_kernel_panic" kernel.panic_on_oops="$SYSCTL_kernel_panic_on_oops" >/dev/null 2>&1 || true
  # host-local's reservations of this node's network, and the directories it made for them
  if [ -n "${CNI_NETWORK:-}" ]; then rm -rf "/var/lib/cni/networks/${CNI_NETWORK:?}"; fi
  if [ -n "${NODE_RUN:-}" ]; then
    # libcni's cached results of this node's sandboxes (its own network's and the loopback's)
    local id
    for id in $(ls "$NODE_RUN/containerd/io.containerd.grpc.v1.cri/sandboxes" 2>/dev/null); do
      rm -f /var/lib/cni/results/*-"$id"-*
    done
    rm -rf "${NODE_RUN:?}"
  fi
  local d
  for d in /var/lib/cni/networks /var/lib/cni/results /var/lib/cni; do
    case " $CNI_DIRS_BEFORE " in *" $d "*) ;; *) rmdir "$d" 2>/dev/null || true ;; esac
  done
  rm -rf "$NODE"
}

# node-env prints the real node's facts, KEY=VALUE, for tests: its name and IP, its CNI config,
# plugin, host-local and containerd state directories.
cmd_node_env() {
  parse_common "$@"
  NODE=$STATE/node
  if [ -f "$STATE/nodes/nodes.env" ]; then
    nodes_env
    return
  fi
  [ -f "$NODE/node.env" ] || die "cluster '$NAME' has no real node (hack/cluster node-up --name $NAME)"
  # shellcheck disable=SC1091
  source "$NODE/node.env"
  echo "NODE_NAME=$NODE_NAME"
  echo "NODE_IP=$NODE_IP"
  echo "CNI_CONF=$NODE/cni/net.d/10-podnet-bridge.conflist"
  echo "CNI_BIN_DIR=$NODE/cni/bin"
  echo "CNI_DATA_DIR=/var/lib/cni/networks"
  echo "CNI_NETWORK=$CNI_NETWORK"
  echo "RUNTIME_STATE_DIR=$NODE_RUN/containerd"
}

cmd_node_down() {
  parse_common "$@"
  [ -f "$STATE/cluster.env" ] || { echo "cluster: no cluster '$NAME'" >&2; return 0; }
  # shellcheck disable=SC1091
  source "$STATE/cluster.env"
  BIN=${BIN:-$(cluster_bin_dir)}
  NODE=$STATE/node
  node_teardown
  nodes_teardown
  echo "cluster: real nodes of '$NAME' are down" >&2
}
