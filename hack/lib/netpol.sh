#!/usr/bin/env bash
# A real NetworkPolicy enforcer on the real node, for the tests only: kube-router's network policy
# controller (its routing and service proxy off), built from the Go module proxy and cached like the
# control plane. The one kube-router version served has reported security flaws: it runs here, on a
# node of our own, against our own API server, and is never shipped or recommended.
# Sourced by hack/cluster; needs root and the real node (node-up).
#
# What it makes is its own and netpol-down (and node-down) removes it: the kube-router process, its
# chains in the filter table (KUBE-ROUTER-*, KUBE-POD-FW-*, KUBE-NWPLCY-*) and its ipsets, and a
# DaemonSet object kube-system/kube-router that runs nowhere (it tells the cluster's readers that
# the controller runs: the process stands for its pod).

KUBE_ROUTER_VERSION=${KUBE_ROUTER_VERSION:-v2.1.0}

netpol_bin_dir() {
  echo "$(podnet_cache_root)/cluster/kube-router-${KUBE_ROUTER_VERSION}/bin"
}

netpol_build() {
  local bin
  bin=$(netpol_bin_dir)
  if [ ! -x "$bin/kube-router" ]; then
    _log "building kube-router ${KUBE_ROUTER_VERSION} (test-only)"
    mkdir -p "$bin"
    (_build_env && GOBIN="$bin" go install -trimpath -ldflags "-s -w" "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@${KUBE_ROUTER_VERSION}")
  fi
  echo "$bin/kube-router"
}

netpol_require() {
  command -v ipset >/dev/null && return 0
  echo "cluster: installing ipset" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ipset >/dev/null
}

# netpol_rules_gone removes kube-router's filter rules and chains and its ipsets, and nothing else.
# (kube-router --cleanup-config would also reset what its routing and proxy controllers own: IPVS,
# routes, devices.)
netpol_cleanup() {
  local dump
  dump=$(mktemp)
  if iptables-save -t filter >"$dump" 2>/dev/null && grep -qE 'KUBE-ROUTER|KUBE-POD-FW|KUBE-NWPLCY' "$dump"; then
    grep -vE 'KUBE-ROUTER|KUBE-POD-FW|KUBE-NWPLCY|KUBE-SRC-|KUBE-DST-|kube-router' "$dump" | iptables-restore -w
  fi
  rm -f "$dump"
  if command -v ipset >/dev/null; then
    local s
    for s in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-SRC-|KUBE-DST-|kube-router)'); do
      ipset destroy "$s" 2>/dev/null || true
    done
  fi
}

netpol_teardown() {
  [ -f "$STATE/kube-router.pid" ] || [ -f "$STATE/node/netpol.env" ] || return 0
  stop_proc kube-router
  netpol_cleanup
  kc delete daemonset -n kube-system kube-router --ignore-not-found --wait=false >/dev/null 2>&1 || true
  rm -f "$STATE/node/netpol.env"
}

cmd_netpol_up() {
  parse_common "$@"
  load_cluster_env
  BIN=${BIN:-$(cluster_bin_dir)}
  NODE=$STATE/node
  [ -f "$NODE/node.env" ] || die "cluster '$NAME' has no real node: hack/cluster node-up --name $NAME first"
  # shellcheck disable=SC1091
  source "$NODE/node.env"
  proc_alive kube-router && die "kube-router already runs for cluster '$NAME'; stop it with: hack/cluster netpol-down --name $NAME"
  netpol_require
  local kr
  kr=$(netpol_build)
  echo "KUBE_ROUTER_VERSION=$KUBE_ROUTER_VERSION" >"$NODE/netpol.env"
  kc apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-router, namespace: kube-system, labels: {app.kubernetes.io/managed-by: podnet-test}}
spec:
  selector: {matchLabels: {k8s-app: kube-router}}
  template:
    metadata: {labels: {k8s-app: kube-router}}
    spec:
      nodeSelector: {podnet.dev/runs-nowhere: "true"}
      containers: [{name: kube-router, image: docker.io/cloudnativelabs/kube-router:${KUBE_ROUTER_VERSION}}]
YAML
  start_proc kube-router "$STATE/logs/kube-router.log" "$kr" --kubeconfig="$STATE/kubeconfig" \
    --hostname-override="$NODE_NAME" --run-firewall=true --run-router=false --run-service-proxy=false \
    --health-port=0 --iptables-sync-period=10s
  for _ in $(seq 1 150); do
    iptables -w -S KUBE-ROUTER-FORWARD >/dev/null 2>&1 && { echo "cluster: kube-router's network policy controller runs on $NODE_NAME" >&2; return 0; }
    proc_alive kube-router || break
    sleep 0.2
  done
  netpol_teardown
  die "kube-router did not set up its chains; the end of its log:
$(tail -n 8 "$STATE/logs/kube-router.log")"
}

cmd_netpol_down() {
  parse_common "$@"
  [ -f "$STATE/cluster.env" ] || { echo "cluster: no cluster '$NAME'" >&2; return 0; }
  # shellcheck disable=SC1091
  source "$STATE/cluster.env"
  BIN=${BIN:-$(cluster_bin_dir)}
  netpol_teardown
  echo "cluster: kube-router of '$NAME' is down" >&2
}
