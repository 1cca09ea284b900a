#!/usr/bin/env bash
# make bench: synthetic clusters of 5,000 nodes and BENCH_PODS pods (default: 15000 and 150000) on a
# real kube-apiserver; in BENCH_RUNS alternating rounds, the median wall and CPU time and the peak RSS
# of `kubectl podnet nodes`, `cidr-usage` and `summary`, of the kubectl pair (get nodes -o wide +
# get pods -A -o wide) and of two floors (the same objects read and discarded: a paged protobuf LIST,
# and a watch-list stream of the pods), as ratios to the stream floor; then how each grows with size.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/build.sh
source hack/lib/bench.sh
sizes=${BENCH_PODS:-"15000 150000"}
nodes=${BENCH_NODES:-5000}
runs=${BENCH_RUNS:-3}
bin=$(hack/cluster build)
(cd hack/bench && go build -o "$PWD/../../bin/podnet-bench" .)
state=$(mktemp -d)
results=$state/results.jsonl
export PODNET_CLUSTER_STATE=$state
trap 'hack/cluster down --all >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
for pods in $sizes; do
  echo "== $nodes nodes, $pods pods"
  kc=$(bench_cluster bench "$nodes" "$pods")
  bin/podnet-bench measure --kubeconfig "$kc" --plugin bin/kubectl-podnet --kubectl "$bin/kubectl" --runs "$runs" --pods "$pods" --results "$results"
  hack/cluster down --name bench >/dev/null 2>&1
done
bin/podnet-bench compare --results "$results"
# the policy engine: a 1,000 x 1,000 pod matrix under 200 policies of five kinds, against its
# targets of 2 s and 200 MB (x-of-2s and x-of-200MB below 1 meet them)
echo "== policy matrix, 1,000 x 1,000 pods, 200 policies"
go test -run XXX -bench PolicyMatrix1000 -benchtime 3x ./internal/report | grep -E '^Benchmark'
# and the command end to end on a local API server (wall time and peak RSS, grid and -o json)
hack/bench-policy.sh
