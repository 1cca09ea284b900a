#!/usr/bin/env bash
# Several real nodes on a real CNI (node-up --count N --cni flannel-vxlan|flannel-host-gw): each node
# is a network namespace of its own holding its kubelet, its containerd, its flanneld and its pods,
# with a mount namespace of its own (its /var/log, /var/lib/cni and the pods' namespaces under
# /run/netns are its own). The nodes are joined by an underlay: a bridge in a namespace of its own,
# node addresses 198.19.X.11-13/24 (the benchmarking range, never routed off this machine).
# flanneld (built from the Go module proxy, cached) runs in kube subnet manager mode, annotates the
# Nodes and programs flannel.1, its FDB, neighbours and routes itself; the bridge + host-local CNI
# plugins are fed from the subnet.env it writes, as the flannel CNI plugin would.
#
# The nodes reach the API server on the root namespace's 127.0.0.1 through hack/node/nodenet (a
# listener on each node's own 127.0.0.1, forwarding here), and the API server reaches the kubelets
# through nodenet's egress socket: nothing is added to the root namespace's interfaces, nothing is
# routed. node-down kills every process of the nodes (their mount namespaces, and the pods'
# namespaces pinned there, go with them), deletes the namespaces (and the devices in them) and the
# state directories. Sourced by hack/cluster; needs root.

FLANNEL_VERSION=${FLANNEL_VERSION:-v0.28.10}
NETCHECK_IMAGE=podnet.local/netcheck:test
MAX_NODES=3

flannel_bin_dir() {
  echo "$(podnet_cache_root)/cluster/flannel-${FLANNEL_VERSION}/bin"
}

# flannel_build builds flanneld from flannel's own main package, less its Tencent VPC backend
# (whose SDK the module proxy does not serve): a wrapper module, as for the control plane. cgo is
# on, as flannel's releases build it (its UDP backend needs it).
flannel_build() {
  local bin src dir
  bin=$(flannel_bin_dir)
  if [ ! -x "$bin/flanneld" ]; then
    _log "building flanneld ${FLANNEL_VERSION} (test-only)"
    command -v gcc >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null; }
    src="$(podnet_cache_root)/cluster/src/flannel-${FLANNEL_VERSION}"
    mkdir -p "$src" "$bin"
    (
      cd "$src"
      export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=1
      dir=$(go mod download -json "github.com/flannel-io/flannel@${FLANNEL_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
      [ -n "$dir" ] && [ -f "$dir/main.go" ] || { _log "cannot download github.com/flannel-io/flannel@${FLANNEL_VERSION}"; exit 1; }
      printf 'module podnet.local/flannelbuild\n\ngo 1.25\n\nrequire github.com/flannel-io/flannel %s\n' "${FLANNEL_VERSION}" >go.mod
      grep -v 'pkg/backend/tencentvpc"' "$dir/main.go" >main.go
      go build -trimpath -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=${FLANNEL_VERSION}" -o "$bin/flanneld.tmp" .
    ) || die "building flanneld ${FLANNEL_VERSION} failed"
    mv "$bin/flanneld.tmp" "$bin/flanneld"
  fi
  echo "$bin/flanneld"
}

nodes_require() {
  node_require
  local missing=()
  command -v ping >/dev/null || missing+=(iputils-ping)
  command -v nft >/dev/null || missing+=(nftables)
  command -v nsenter >/dev/null || missing+=(util-linux)
  [ -x /sbin/bridge ] || [ -x /usr/sbin/bridge ] || missing+=(iproute2)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "cluster: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# netcheck_image: busybox with Debian's iproute2 (ip, bridge) and iputils ping (-M do), and the
# libraries they link: what check overlay and trace --probe need to see tunnel details.
netcheck_image() {
  local dir=$NODES/images/netcheck b lib
  rm -rf "$dir"
  mkdir -p "$dir/bin" "$dir/etc"
  cp /bin/busybox "$dir/bin/busybox"
  for b in cat ls sleep echo timeout nc date wget; do ln -sf busybox "$dir/bin/$b"; done
  # the shell is dash: busybox's sh runs its own applets (its ip, its ping) before anything in PATH
  for b in /bin/dash "$(command -v ip)" "$(command -v bridge || echo /sbin/bridge)" "$(command -v ping)"; do
    cp "$b" "$dir/bin/"
    for lib in $(ldd "$b" | grep -o '/[^ ]*'); do
      mkdir -p "$dir$(dirname "$lib")"
      cp -L "$lib" "$dir$lib"
    done
  done
  ln -sf dash "$dir/bin/sh"
  [ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$dir/etc/"
  [ -d /usr/share/iproute2 ] && mkdir -p "$dir/usr/share" && cp -r /usr/share/iproute2 "$dir/usr/share/"
  docker_archive "$dir" '["/bin/sh"]' "$NETCHECK_IMAGE" "$NODES/images/netcheck.tar"
}

nodes_images() {
  NODE=$NODES
  node_images_build
  netcheck_image
}

# node_in I CMD...: run CMD in node I's network and mount namespaces.
node_in() {
  local i=$1
  shift
  nsenter -t "$(cat "$STATE/n$i-holder.pid")" --mount --net -- "$@"
}

nodes_cni_conf() { # I: the flannel CNI plugin's delegate, from the subnet.env flanneld wrote
  local i=$1 d=$NODES/n$1 env
  env=$d/subnet.env
  for _ in $(seq 1 300); do
    [ -s "$env" ] && grep -q FLANNEL_MTU "$env" && break
    proc_alive "n$i-flanneld" || die "flanneld on node $i exited; the end of its log:
$(tail -n 8 "$STATE/logs/n$i-flanneld.log")"
    sleep 0.1
  done
  [ -s "$env" ] || die "flanneld on node $i wrote no $env; see $STATE/logs/n$i-flanneld.log"
  local net sub mtu
  net=$(sed -n 's/^FLANNEL_NETWORK=//p' "$env")
  sub=$(sed -n 's/^FLANNEL_SUBNET=//p' "$env")
  mtu=$(sed -n 's/^FLANNEL_MTU=//p' "$env")
  # host-local wants the subnet's network address; flannel writes the gateway's (10.244.1.1/24)
  local a b c _d
  IFS=./ read -r a b c _d _ <<<"$sub"
  local mask=${sub#*/}
  [ "$mask" -le 24 ] || die "flannel gave node $i a subnet smaller than /24 ($sub): not handled here"
  cat >"$d/cni/net.d/10-flannel.conflist" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "cbr0",
  "plugins": [
    {"type": "bridge", "name": "cbr0", "bridge": "cni0", "isGateway": true, "isDefaultGateway": true,
     "hairpinMode": true, "ipMasq": false, "mtu": $mtu,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$a.$b.$c.0/$mask"}]], "routes": [{"dst": "$net"}]}},
    {"type": "loopback"}
  ]
}
CNI
}

node_one_up() { # I
  local i=$1 d=$NODES/n$1 ns ip name run
  ns=$NETNS_PREFIX$i
  ip=$UNDERLAY_NET.$((10 + i))
  name=$NODE_PREFIX-$i
  run=/run/podnet-$NAME-n$i
  mkdir -p "$d/cni/net.d" "$d/cni/bin" "$d/cni-state" "$d/containerd" "$run"
  chmod 755 "$run"
  local p
  for p in /usr/lib/cni/*; do ln -sf "$p" "$d/cni/bin/"; done
  # the node's network namespace, wired to the underlay
  ip netns add "$ns"
  ip -n "$UNDERLAY_NS" link add "ul$i" type veth peer name eth0 netns "$ns"
  ip -n "$UNDERLAY_NS" link set "ul$i" master ul0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
  nsenter --net="/run/netns/$ns" sysctl -qw net.ipv4.ip_forward=1
  # its mount namespace, held by a sleeping process: its own /var/log (pods' logs), /var/lib/cni
  # (host-local's reservations) and /run/netns (its pods' namespaces, which go with it)
  start_proc "n$i-holder" "$STATE/logs/n$i-holder.log" nsenter --net="/run/netns/$ns" unshare --mount --propagation private \
    sh -c "mount -t tmpfs podnet-netns /run/netns && mount -t tmpfs podnet-log /var/log && mount --bind '$d/cni-state' /var/lib/cni && touch '$d/holder.ready' && exec sleep infinity"
  for _ in $(seq 1 100); do [ -f "$d/holder.ready" ] && break; sleep 0.05; done
  [ -f "$d/holder.ready" ] || die "the mount namespace of node $i did not come up; see $STATE/logs/n$i-holder.log"
  # the API server on the node's own 127.0.0.1, and the kubelet for the API server
  start_proc "n$i-forward" "$STATE/logs/n$i-forward.log" "$STATE/nodenet" forward --netns "/run/netns/$ns" \
    --listen "127.0.0.1:$APISERVER_PORT" --to "127.0.0.1:$APISERVER_PORT"
  echo "$ip /run/netns/$ns" >>"$STATE/egress.routes"
  # containerd
  containerd_config "$d/containerd/config.toml" "$d/containerd/root" "$run/containerd" "$d/containerd/containerd.sock" "$d/cni"
  start_proc "n$i-containerd" "$STATE/logs/n$i-containerd.log" nsenter -t "$(cat "$STATE/n$i-holder.pid")" --mount --net -- \
    containerd --config "$d/containerd/config.toml"
  local ok=false
  for _ in $(seq 1 100); do
    if ctr --address "$d/containerd/containerd.sock" version >/dev/null 2>&1; then ok=true; break; fi
    sleep 0.1
  done
  [ "$ok" = true ] || die "containerd of node $i did not start; see $STATE/logs/n$i-containerd.log"
  local img
  for img in pause busybox netcheck; do
    ctr --address "$d/containerd/containerd.sock" -n k8s.io images import --no-unpack=false "$NODES/images/$img.tar" >/dev/null
  done
  # kubelet
  gen_cert "kubelet-$name" "/CN=$name" "subjectAltName=IP:$ip,DNS:$name\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment"
  gen_cert "node-$name" "/O=system:nodes/CN=system:node:$name" "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment"
  node_kubeconfig "$d/kubeconfig" "$name"
  kubelet_config "$d/kubelet.yaml" "$ip" 10250 10248 "kubelet-$name" "$d/containerd/containerd.sock"
  start_proc "n$i-kubelet" "$STATE/logs/n$i-kubelet.log" nsenter -t "$(cat "$STATE/n$i-holder.pid")" --mount --net -- \
    "$BIN/kubelet" --config "$d/kubelet.yaml" --kubeconfig "$d/kubeconfig" \
    --hostname-override "$name" --node-ip "$ip" --root-dir "$d/kubelet" --v=1
}

# node_one_cni I: flanneld on node I once the node has its podCIDR, then the CNI config from it.
node_one_cni() {
  local i=$1 d=$NODES/n$1 name cidr=""
  name=$NODE_PREFIX-$i
  for _ in $(seq 1 300); do
    cidr=$(kc get node "$name" -o jsonpath='{.spec.podCIDR}' 2>/dev/null || true)
    [ -n "$cidr" ] && break
    proc_alive "n$i-kubelet" || die "the kubelet of node $i exited; the end of its log:
$(tail -n 8 "$STATE/logs/n$i-kubelet.log")"
    sleep 0.1
  done
  [ -n "$cidr" ] || die "node $name got no podCIDR (is the cluster running node IPAM? start it without --no-allocate-node-cidrs)"
  start_proc "n$i-flanneld" "$STATE/logs/n$i-flanneld.log" env NODE_NAME="$name" \
    nsenter -t "$(cat "$STATE/n$i-holder.pid")" --mount --net -- \
    "$FLANNELD" --kube-subnet-mgr --kubeconfig-file "$NODES/flannel.kubeconfig" --iface eth0 --ip-masq \
    --net-config-path "$NODES/net-conf.json" --subnet-file "$d/subnet.env" --v=1
}

# nodes_objects are what a flannel install puts in the cluster besides its pods (as its
# kube-flannel.yml ships them): the namespace, the ServiceAccount with flannel's ClusterRole, the
# ConfigMap with net-conf.json, and a DaemonSet that runs nowhere (the processes stand for its pods,
# as kube-router's does in netpol-up), so readers of the cluster see flannel installed. flanneld
# runs with a token of that ServiceAccount: it has the rights it has in a real cluster, no more.
nodes_objects() {
  local conf
  conf=$(sed 's/^/    /' "$NODES/net-conf.json")
  kc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flannel
  namespace: kube-flannel
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: flannel
  labels: {k8s-app: flannel}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [nodes/status]
  verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: flannel
  labels: {k8s-app: flannel}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: flannel}
subjects:
- {kind: ServiceAccount, name: flannel, namespace: kube-flannel}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
  labels: {app: flannel, tier: node}
data:
  cni-conf.json: |
    {"name": "cbr0", "cniVersion": "0.3.1", "plugins": [{"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}}, {"type": "portmap", "capabilities": {"portMappings": true}}]}
  net-conf.json: |
$conf
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
  labels: {app: flannel, tier: node, app.kubernetes.io/managed-by: podnet-hack-cluster}
spec:
  selector: {matchLabels: {app: flannel}}
  template:
    metadata: {labels: {app: flannel, tier: node}}
    spec:
      hostNetwork: true
      serviceAccountName: flannel
      nodeSelector: {podnet.dev/runs-nowhere: "true"}
      containers:
      - name: kube-flannel
        image: ghcr.io/flannel-io/flannel:${FLANNEL_VERSION}
        command: ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"]
YAML
  local token
  token=$(kc create token flannel -n kube-flannel --duration 24h) || die "cannot get a token of ServiceAccount kube-flannel/flannel"
  cat >"$NODES/flannel.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority: "$STATE/pki/ca.crt"}
users:
- name: flannel
  user: {token: "$token"}
contexts:
- name: flannel
  context: {cluster: local, user: flannel}
current-context: flannel
KC
  chmod 600 "$NODES/flannel.kubeconfig"
}

cmd_nodes_up() {
  nodes_require
  load_cluster_env
  [ -n "${EGRESS_SOCK:-}" ] || die "cluster '$NAME' was started without the nodes' egress (--bare, or by an older hack/cluster): restart it with hack/cluster up --name $NAME"
  COUNT=${COUNT:-2}
  CNI=${CNI:-flannel-vxlan}
  [[ "$COUNT" =~ ^[1-9]$ ]] && [ "$COUNT" -le $MAX_NODES ] || die "--count must be 1 to $MAX_NODES, not '$COUNT'"
  local backend
  case "$CNI" in
    flannel-vxlan) backend=vxlan ;;
    flannel-host-gw) backend=host-gw ;;
    *) die "--cni must be flannel-vxlan or flannel-host-gw, not '$CNI'" ;;
  esac
  [ "$ALLOCATE_NODE_CIDRS" = true ] || die "flannel's kube subnet manager needs node IPAM: start the cluster without --no-allocate-node-cidrs"
  case "$CLUSTER_CIDR" in *,*|*:*) die "the flannel nodes are IPv4 only; the cluster CIDR is $CLUSTER_CIDR" ;; esac
  NODES=$STATE/nodes
  [ -f "$NODES/nodes.env" ] && die "cluster '$NAME' already has real nodes; remove them with: hack/cluster node-down --name $NAME"
  [ -f "$STATE/node/node.env" ] && die "cluster '$NAME' has a real node in the root namespace (node-up without --count); remove it first with: hack/cluster node-down --name $NAME"
  local h
  h=$(printf '%s' "$NAME" | cksum | cut -d' ' -f1)
  UNDERLAY_NET=198.19.$((h % 250))
  UNDERLAY_NS=podnet-$(printf '%08x' "$h" | cut -c1-8)-ul
  NETNS_PREFIX=podnet-$(printf '%08x' "$h" | cut -c1-8)-n
  NODE_PREFIX=${PODNET_NODE_PREFIX:-podnet-node}
  local n
  for n in "$UNDERLAY_NS" "${NETNS_PREFIX}1" "${NETNS_PREFIX}2" "${NETNS_PREFIX}3"; do
    [ -e "/run/netns/$n" ] && die "network namespace $n exists already (another checkout's cluster '$NAME'?): remove it, or use another --name"
  done
  mkdir -p "$NODES"
  {
    echo "COUNT=$COUNT"
    echo "CNI=$CNI"
    echo "UNDERLAY_NET=$UNDERLAY_NET"
    echo "UNDERLAY_NS=$UNDERLAY_NS"
    echo "NETNS_PREFIX=$NETNS_PREFIX"
    echo "NODE_PREFIX=$NODE_PREFIX"
    echo "CNI_DIRS_BEFORE=\"$(for d in /var/lib/cni; do [ -d "$d" ] && printf '%s ' "$d"; done)\""
    echo "CGROUPS_BEFORE=\"$(cgroup_parents)\""
  } >"$NODES/nodes.env"
  trap '[ "${NODES_DONE:-}" = true ] || nodes_teardown' EXIT
  mkdir -p /var/lib/cni
  FLANNELD=$(flannel_build)
  nodes_images
  printf '{\n  "Network": "%s",\n  "EnableNFTables": false,\n  "Backend": {"Type": "%s"}\n}\n' "$CLUSTER_CIDR" "$backend" >"$NODES/net-conf.json"
  nodes_objects
  # the underlay: a bridge in a namespace of its own
  ip netns add "$UNDERLAY_NS"
  ip -n "$UNDERLAY_NS" link set lo up
  ip -n "$UNDERLAY_NS" link add ul0 type bridge
  ip -n "$UNDERLAY_NS" link set ul0 up
  local i
  for i in $(seq 1 "$COUNT"); do node_one_up "$i"; done
  for i in $(seq 1 "$COUNT"); do node_one_cni "$i"; done
  for i in $(seq 1 "$COUNT"); do nodes_cni_conf "$i"; done
  for i in $(seq 1 "$COUNT"); do
    kc wait --for=condition=Ready "node/$NODE_PREFIX-$i" --timeout=90s >/dev/null ||
      die "node $NODE_PREFIX-$i did not become Ready; the end of its kubelet log:
$(tail -n 8 "$STATE/logs/n$i-kubelet.log")"
  done
  # flanneld has annotated every node and programmed its peers before the nodes are handed over
  for i in $(seq 1 "$COUNT"); do
    local ok=false
    for _ in $(seq 1 200); do
      if [ -n "$(kc get node "$NODE_PREFIX-$i" -o jsonpath='{.metadata.annotations.flannel\.alpha\.coreos\.com/public-ip}')" ] &&
        [ "$(node_in "$i" ip -4 route show root "$CLUSTER_CIDR" | grep -vc ' dev cni0 ')" -ge $((COUNT - 1)) ]; then
        ok=true
        break
      fi
      sleep 0.1
    done
    [ "$ok" = true ] || die "flanneld on node $i did not program its peers; see $STATE/logs/n$i-flanneld.log"
  done
  NODES_DONE=true
  echo "cluster: $COUNT real nodes on $CNI are Ready: $(for i in $(seq 1 "$COUNT"); do printf '%s (%s) ' "$NODE_PREFIX-$i" "$UNDERLAY_NET.$((10 + i))"; done)" >&2
  for i in $(seq 1 "$COUNT"); do echo "$NODE_PREFIX-$i"; done
}

nodes_teardown() {
  NODES=$STATE/nodes
  [ -f "$NODES/nodes.env" ] || return 0
  # shellcheck disable=SC1091
  source "$NODES/nodes.env"
  local i d name pid ids=""
  for i in 1 2 3; do
    d=$NODES/n$i
    name=$NODE_PREFIX-$i
    [ -d "$d" ] || continue
    kc delete node "$name" --wait=false >/dev/null 2>&1 || true
    stop_proc "n$i-flanneld"
    stop_proc "n$i-kubelet"
    ids="$ids $(containers_of "/run/podnet-$NAME-n$i/containerd")"
    # the containers outlive containerd in their shims: stop them by the shims of this node's socket
    for pid in $(pgrep -f "containerd-shim.*$d/containerd" 2>/dev/null); do
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    done
    stop_proc "n$i-containerd"
    stop_proc "n$i-forward"
    # whatever else still runs in the node's network namespace (host-network containers)
    if [ -e "/run/netns/$NETNS_PREFIX$i" ]; then
      for pid in $(ip netns pids "$NETNS_PREFIX$i" 2>/dev/null); do
        [ "$pid" = "$(cat "$STATE/n$i-holder.pid" 2>/dev/null)" ] || kill -KILL "$pid" 2>/dev/null || true
      done
    fi
    # the last process of its mount namespace: the namespace, its mounts and the pods' pinned
    # network namespaces go with it
    stop_proc "n$i-holder"
    ip netns delete "$NETNS_PREFIX$i" 2>/dev/null || true
    rm -rf "/run/podnet-$NAME-n$i"
    sed -i "\#/run/netns/$NETNS_PREFIX$i\$#d" "$STATE/egress.routes" 2>/dev/null || true
  done
  # shellcheck disable=SC2086
  remove_cgroups "${CGROUPS_BEFORE:-}" $ids
  [ -e "/run/netns/$UNDERLAY_NS" ] && ip netns delete "$UNDERLAY_NS" 2>/dev/null
  kc delete namespace kube-flannel --wait=false >/dev/null 2>&1 || true
  kc delete clusterrolebinding,clusterrole flannel --ignore-not-found >/dev/null 2>&1 || true
  case " $CNI_DIRS_BEFORE " in *" /var/lib/cni "*) ;; *) rmdir /var/lib/cni 2>/dev/null || true ;; esac
  rm -rf "$NODES"
}

# cmd_underlay changes what the underlay carries, for fault tests: --drop-udp PORT drops UDP to
# that port between the nodes (an nftables rule in the underlay's namespace, as a security group
# would), --mtu N lowers the MTU of the underlay's ports (a path that carries less than the nodes
# send), --reset undoes both.
cmd_underlay() {
  parse_common "$@"
  load_cluster_env
  NODES=$STATE/nodes
  [ -f "$NODES/nodes.env" ] || die "cluster '$NAME' has no real nodes on an underlay (hack/cluster node-up --count N --name $NAME)"
  # shellcheck disable=SC1091
  source "$NODES/nodes.env"
  local u=(nsenter --net="/run/netns/$UNDERLAY_NS")
  local i
  if [ "$RESET" = true ]; then
    "${u[@]}" nft delete table bridge podnet 2>/dev/null || true
    for i in $(seq 1 "$COUNT"); do ip -n "$UNDERLAY_NS" link set "ul$i" mtu 1500; done
    ip -n "$UNDERLAY_NS" link set ul0 mtu 1500 2>/dev/null || true
  fi
  if [ -n "$DROP_UDP" ]; then
    [[ "$DROP_UDP" =~ ^[0-9]+$ ]] && [ "$DROP_UDP" -ge 1 ] && [ "$DROP_UDP" -le 65535 ] || die "--drop-udp takes a port, not '$DROP_UDP'"
    "${u[@]}" nft add table bridge podnet
    "${u[@]}" nft add chain bridge podnet forward '{ type filter hook forward priority 0; policy accept; }'
    "${u[@]}" nft add rule bridge podnet forward udp dport "$DROP_UDP" counter drop
  fi
  if [ -n "$UNDERLAY_MTU" ]; then
    [[ "$UNDERLAY_MTU" =~ ^[0-9]+$ ]] && [ "$UNDERLAY_MTU" -ge 576 ] && [ "$UNDERLAY_MTU" -le 9000 ] || die "--mtu takes 576 to 9000, not '$UNDERLAY_MTU'"
    for i in $(seq 1 "$COUNT"); do ip -n "$UNDERLAY_NS" link set "ul$i" mtu "$UNDERLAY_MTU"; done
  fi
  [ "$RESET" = true ] || [ -n "$DROP_UDP$UNDERLAY_MTU" ] || die "usage: hack/cluster underlay [--name NAME] --drop-udp PORT | --mtu N | --reset"
}

# nodes_env prints the --count nodes' facts, KEY=VALUE, for tests.
nodes_env() {
  # shellcheck disable=SC1091
  source "$STATE/nodes/nodes.env"
  echo "COUNT=$COUNT"
  echo "CNI=$CNI"
  echo "UNDERLAY_NETNS=$UNDERLAY_NS"
  echo "NETCHECK_IMAGE=$NETCHECK_IMAGE"
  local i
  for i in $(seq 1 "$COUNT"); do
    echo "NODE_${i}_NAME=$NODE_PREFIX-$i"
    echo "NODE_${i}_IP=$UNDERLAY_NET.$((10 + i))"
    echo "NODE_${i}_NETNS=$NETNS_PREFIX$i"
  done
}
