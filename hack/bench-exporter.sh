#!/usr/bin/env bash
# hack/bench-exporter.sh (the end of make bench; runnable alone after make build): the cost of
# `kubectl podnet exporter` on a synthetic cluster of BENCH_NODES nodes (default 5000) and
# BENCH_PODS pods (default 150000; of a list, as bench.sh takes, the last) on a bare local API
# server, against its targets:
#   - the initial sync (start to /readyz 200, median of BENCH_RUNS starts) within 1.2x the wall time
#     of `kubectl podnet cidr-usage -o json` (median of as many runs, alternating with the starts);
#     also shown against a floor (the same pods and nodes read as a watch-list stream, discarded)
#   - the steady-state RSS (VmRSS, BENCH_IDLE after the sync, default 20s) at most 150 MB
#   - under 5% of one core (utime + stime from /proc) while pods change BENCH_RATE times a second
#     (default 10) for BENCH_CHURN (default 60s): pods created on a node, given an address, deleted;
#     and the figures follow them (pods held and the node's IPs in use, on /metrics)
# A target missed prints MISSED; the exit status is not 0 only on an error (or figures that do not
# follow the changes). The exporters' logs are kept when BENCH_KEEP_LOGS=DIR is set.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/build.sh
source hack/lib/bench.sh
pods=${BENCH_PODS:-150000}
pods=${pods##* }
nodes=${BENCH_NODES:-5000}
runs=${BENCH_RUNS:-3}
[ -x bin/kubectl-podnet ] || { echo "bench-exporter: bin/kubectl-podnet is missing: run make build" >&2; exit 1; }
bin=$(hack/cluster build)
(cd hack/bench && go build -o "$PWD/../../bin/podnet-bench" .)
state=$(mktemp -d)
logs=${BENCH_KEEP_LOGS:-$state/logs}
mkdir -p "$logs"
export PODNET_CLUSTER_STATE=$state
trap 'hack/cluster down --all >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
echo "== exporter: $nodes nodes, $pods pods"
kc=$(bench_cluster bench-exporter "$nodes" "$pods")
bin/podnet-bench exporter --kubeconfig "$kc" --plugin bin/kubectl-podnet --pods "$pods" --runs "$runs" \
  --rate "${BENCH_RATE:-10}" --duration "${BENCH_CHURN:-60s}" --idle "${BENCH_IDLE:-20s}" --log-dir "$logs"
