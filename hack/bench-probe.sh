#!/usr/bin/env bash
# Wall time of `kubectl podnet ip POD` and `ip node/NAME` on the real node, next to what an engineer
# does by hand: `kubectl debug` (ephemeral container, or node debugger pod) then `kubectl logs` until
# the output is there. Needs root (the real node). Prints the ratios; target: podnet no slower.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-probe: needs root (the real node)" >&2; exit 1; }
runs=${BENCH_RUNS:-5}
bin=$(hack/cluster build)
state=$(mktemp -d)
export PODNET_CLUSTER_STATE=$state
trap 'hack/cluster down --all >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
kc=$(hack/cluster up --name bench-probe 2>/dev/null | tail -n 1)
node=$(hack/cluster node-up --name bench-probe 2>/dev/null | tail -n 1)
export KUBECONFIG=$kc
k() { "$bin/kubectl" "$@"; }
k run web --image podnet.local/busybox:test --image-pull-policy Never --overrides "{\"spec\":{\"nodeName\":\"$node\"}}" --command -- sleep 3600 >/dev/null
k wait --for=condition=Ready pod/web --timeout=60s >/dev/null
img=(--image podnet.local/busybox:test --image-pull-policy Never)
now() { date +%s.%N; }
wait_for() { # a bounded poll, as an engineer would run it by hand
  for _ in $(seq 1 600); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench-probe: gave up waiting for: $1" >&2; exit 1
}
total() { awk "BEGIN{printf \"%.2f\", $1}"; }
podnet_pod=0 podnet_node=0 debug_pod=0 debug_node=0
for i in $(seq 1 "$runs"); do
  t0=$(now); bin/kubectl-podnet ip web --limit 1000 "${img[@]}" >/dev/null; t1=$(now)
  podnet_pod=$(total "$podnet_pod + $t1 - $t0")
  t0=$(now); bin/kubectl-podnet ip "node/$node" "${img[@]}" >/dev/null; t1=$(now)
  podnet_node=$(total "$podnet_node + $t1 - $t0")
  t0=$(now)
  k debug web "${img[@]}" --profile=general -c "dbg$i" -- sh -c 'ip addr; ip route; ip rule; ip neigh' >/dev/null 2>&1
  wait_for 'k logs web -c "dbg$i"' 
  t1=$(now)
  debug_pod=$(total "$debug_pod + $t1 - $t0")
  t0=$(now)
  p=$(k debug "node/$node" "${img[@]}" --profile=general -- sh -c 'ip addr; ip route; ip rule; ip neigh' 2>&1 | sed -n 's/.*Creating debugging pod \([^ ]*\) .*/\1/p')
  [ -n "$p" ] || { echo "bench-probe: kubectl debug node/$node created no pod" >&2; exit 1; }
  wait_for '[ "$(k get pod "$p" -o jsonpath={.status.phase})" = Succeeded ] && k logs "$p"' 
  k delete pod "$p" --wait=false >/dev/null
  t1=$(now)
  debug_node=$(total "$debug_node + $t1 - $t0")
done
printf '%-44s %8s\n' "command ($runs runs)" "mean"
printf '%-44s %7.2fs\n' "kubectl podnet ip POD" "$(total "$podnet_pod / $runs")" "kubectl debug POD + kubectl logs" "$(total "$debug_pod / $runs")" \
  "kubectl podnet ip node/NAME" "$(total "$podnet_node / $runs")" "kubectl debug node/NAME + logs + delete" "$(total "$debug_node / $runs")"
echo "ratio podnet/debug (pod): $(total "$podnet_pod / $debug_pod") (target <= 1.00)"
echo "ratio podnet/debug (node): $(total "$podnet_node / $debug_node") (target <= 1.00)"
