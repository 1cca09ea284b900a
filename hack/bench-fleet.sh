#!/usr/bin/env bash
# hack/bench-fleet.sh (make bench; runnable alone after make build): reading several clusters at
# once (--contexts) against reading each one alone. One bare local API server per size in
# BENCH_FLEET_PODS (pods, default "2000 5000 10000", a fleet of common sizes; clusters
# bench-fleet-1, -2, ...; large ones make the local part CPU-bound on a small machine), with one
# node per BENCH_PODS_PER_NODE pods (default 30), and one KUBECONFIG joining their kubeconfigs. For
# `cidr-usage -o json` and `overlap -o json`, in BENCH_RUNS alternating rounds (default 3): each
# cluster alone (--context NAME) and all of them (--contexts a,b,c); the median wall times, the sum
# and the slowest of the clusters alone, the fleet as ratios to both (read at once, the fleet should
# take about the slowest: fleet/slowest near 1, fleet/sum well below 1), and the peak RSS of each.
# Measured twice, as the two conditions differ:
# - local, no latency: the API servers and the plugin share this machine's CPUs, so the time is
#   CPU; with fewer cores than clusters the fleet drifts toward the sum. This shows what reading
#   at once costs the plugin; the cores busy during each run (from /proc/stat, the whole machine)
#   tell when it is the machine that was saturated.
# - with a round trip of BENCH_FLEET_RTT (default 40ms; 0 skips it): each API server behind a
#   `podnet-bench delay-proxy` (rtt/2 each way, not a bandwidth cap; TLS passed through), as real
#   fleets are clusters in other regions. There each page read waits for the link, clusters read
#   one after another add their waits up, and reading them at once overlaps them: the case the
#   fleet is for.
# No target: the exit status is not 0 only on an error (a command failing, a cluster not answering).
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/build.sh
source hack/lib/bench.sh
read -r -a sizes <<<"${BENCH_FLEET_PODS:-2000 5000 10000}"
per_node=${BENCH_PODS_PER_NODE:-30}
runs=${BENCH_RUNS:-3}
rtt=${BENCH_FLEET_RTT:-40ms}
[ ${#sizes[@]} -ge 2 ] || { echo "bench-fleet: BENCH_FLEET_PODS needs two sizes or more (one cluster each)" >&2; exit 1; }
[[ $rtt =~ ^([0-9]+([.][0-9]*)?(ns|us|µs|ms|s|m|h))+$|^0$ ]] || { echo "bench-fleet: BENCH_FLEET_RTT=$rtt is not a duration (40ms, 0.1s; 0 for none)" >&2; exit 1; }
[ -x bin/kubectl-podnet ] || { echo "bench-fleet: bin/kubectl-podnet is missing: run make build" >&2; exit 1; }
bin=$(hack/cluster build)
(cd hack/bench && go build -o "$PWD/../../bin/podnet-bench" .)
state=$(mktemp -d)
export PODNET_CLUSTER_STATE=$state
names=()
for i in "${!sizes[@]}"; do names+=("bench-fleet-$((i + 1))"); done
proxies=()
cleanup() {
  local n
  if [ ${#proxies[@]} -gt 0 ]; then
    kill "${proxies[@]}" 2>/dev/null || true
    wait "${proxies[@]}" 2>/dev/null || true
  fi
  for n in "${names[@]}"; do hack/cluster down --name "$n" >/dev/null 2>&1 || true; done
  rm -rf "$state"
}
trap cleanup EXIT
kcs=() nodes=()
for i in "${!sizes[@]}"; do
  nodes+=($(((sizes[i] + per_node - 1) / per_node)))
  echo "== ${names[i]}: ${nodes[i]} nodes, ${sizes[i]} pods"
  kc=$(bench_cluster "${names[i]}" "${nodes[i]}" "${sizes[i]}")
  [ -f "$kc" ] || { echo "bench-fleet: ${names[i]} did not start" >&2; exit 1; }
  seen=$("$bin/kubectl" --kubeconfig "$kc" get --raw '/api/v1/pods?limit=1' | sed -n 's/.*"remainingItemCount":\([0-9]*\).*/\1/p')
  [ "${seen:-0}" -ge $((sizes[i] - 1)) ] || { echo "bench-fleet: ${names[i]} serves $((${seen:-0} + 1)) pods of ${sizes[i]}" >&2; exit 1; }
  kcs+=("$kc")
done
KUBECONFIG=$(IFS=:; echo "${kcs[*]}")
export KUBECONFIG
contexts=$("$bin/kubectl" config get-contexts -o name)
for n in "${names[@]}"; do
  grep -qx "$n" <<<"$contexts" || { echo "bench-fleet: the joined kubeconfig has no context $n" >&2; exit 1; }
done
all=$(IFS=,; echo "${names[*]}")
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f %M -o "$state/rss")
# busy: the machine's CPU time so far, in clock ticks (all but idle and iowait)
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
hz=$(getconf CLK_TCK)
# timed KEY ARGS...: one run of the plugin (exit 0, or 2 for a finding); its wall seconds, peak RSS
# in KB (0 without /usr/bin/time) and the cores busy meanwhile appended to $state/KEY
timed() {
  local key=$1 t0 t1 b0 b1 rc=0 kb=0
  shift
  b0=$(busy)
  t0=${EPOCHREALTIME/,/.}
  "${timer[@]}" bin/kubectl-podnet "$@" >"$state/out" 2>"$state/err" || rc=$?
  t1=${EPOCHREALTIME/,/.}
  b1=$(busy)
  case $rc in 0 | 2) ;; *)
    echo "bench-fleet: kubectl podnet $* exited $rc:" >&2
    cat "$state/err" >&2
    exit 1
    ;;
  esac
  [ ${#timer[@]} -eq 0 ] || kb=$(tail -n 1 "$state/rss")
  echo "$t0 $t1 $kb $((b1 - b0))" | awk -v hz="$hz" '{ printf "%.3f %d %.2f\n", $2 - $1, $3, $4 / hz / ($2 - $1) }' >>"$state/$key"
}
median() { awk -v k="${2:-1}" '{ print $k }' "$1" | sort -n | awk '{ s[NR] = $1 } END { print (NR % 2) ? s[(NR + 1) / 2] : (s[NR / 2] + s[NR / 2 + 1]) / 2 }'; }
peak() { sort -k2 -n "$1" | tail -n 1 | awk '{ print $2 }'; }
# fleet_vs_alone TAG TITLE: the rounds and a table a command, as the header says, against the
# clusters of $KUBECONFIG; the timings go to $state/TAG-*
fleet_vs_alone() {
  local tag=$1 title=$2 cmd n i w sum slowest fleet k
  echo "== $title: ${#names[@]} clusters at once against each alone; median of $runs runs; $(nproc 2>/dev/null || echo '?') CPUs"
  for cmd in cidr-usage overlap; do
    k=$tag-$cmd
    for _ in $(seq 1 "$runs"); do
      for n in "${names[@]}"; do timed "$k-$n" --context "$n" "$cmd" -o json; done
      timed "$k-fleet" --contexts "$all" "$cmd" -o json
      for n in "${names[@]}"; do
        grep -q "\"$n\"" "$state/out" || { echo "bench-fleet: $cmd --contexts $all: no result for $n" >&2; exit 1; }
      done
    done
    printf '%s -o json\n' "$cmd"
    printf '  %-22s %7s %6s %9s %8s %6s\n' "" pods nodes wall "peak RSS" cores
    sum=0 slowest=0
    for i in "${!names[@]}"; do
      w=$(median "$state/$k-${names[i]}")
      sum=$(awk -v a="$sum" -v b="$w" 'BEGIN { print a + b }')
      slowest=$(awk -v a="$slowest" -v b="$w" 'BEGIN { print (b > a) ? b : a }')
      printf '  %-22s %7d %6d %7.3f s %5d MB %6.2f\n' "${names[i]} alone" "${sizes[i]}" "${nodes[i]}" "$w" \
        $(($(peak "$state/$k-${names[i]}") / 1024)) "$(median "$state/$k-${names[i]}" 3)"
    done
    fleet=$(median "$state/$k-fleet")
    printf '  %-22s %14s %7.3f s\n' "sum of the alone" "" "$sum" "slowest alone" "" "$slowest"
    printf '  %-22s %7d %6d %7.3f s %5d MB %6.2f\n' "fleet (--contexts)" "$(IFS=+; echo $((${sizes[*]})))" "$(IFS=+; echo $((${nodes[*]})))" \
      "$fleet" $(($(peak "$state/$k-fleet") / 1024)) "$(median "$state/$k-fleet" 3)"
    awk -v f="$fleet" -v s="$slowest" -v t="$sum" 'BEGIN { printf "  fleet/slowest %.2fx   fleet/sum %.2fx\n", f / s, f / t }'
  done
}
fleet_vs_alone local "local, no latency"
[[ $rtt =~ ^0+([.]0*)?[^0-9.]*$ ]] && exit 0
# the same clusters, each behind a delay-proxy: a copy of its kubeconfig whose server is the proxy
pkcs=()
for i in "${!names[@]}"; do
  backend=$(sed -n 's#^ *server: https://\(127\.0\.0\.1:[0-9]*\)$#\1#p' "${kcs[i]}")
  [ -n "$backend" ] || { echo "bench-fleet: no https://127.0.0.1:PORT server in ${kcs[i]}" >&2; exit 1; }
  bin/podnet-bench delay-proxy -listen 127.0.0.1:0 -backend "$backend" -rtt "$rtt" \
    >"$state/proxy-${names[i]}.addr" 2>"$state/proxy-${names[i]}.log" &
  proxies+=($!)
  for _ in $(seq 1 100); do
    [ -s "$state/proxy-${names[i]}.addr" ] && break
    kill -0 "${proxies[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  addr=$(head -n 1 "$state/proxy-${names[i]}.addr")
  [ -n "$addr" ] || { echo "bench-fleet: the delay-proxy of ${names[i]} did not start:" >&2; cat "$state/proxy-${names[i]}.log" >&2; exit 1; }
  pkc=$state/kubeconfig-${names[i]}-rtt
  sed "s#^\( *server: https://\)$backend\$#\1$addr#" "${kcs[i]}" >"$pkc"
  chmod 600 "$pkc"
  "$bin/kubectl" --kubeconfig "$pkc" get --raw /version >/dev/null ||
    { echo "bench-fleet: ${names[i]} does not answer through its delay-proxy" >&2; exit 1; }
  pkcs+=("$pkc")
done
KUBECONFIG=$(IFS=:; echo "${pkcs[*]}")
fleet_vs_alone rtt "round trip $rtt (delay-proxy)"
