# shellcheck shell=bash
# The benchmarks' synthetic cluster, shared by hack/bench.sh and hack/bench-exporter.sh.

# bench_cluster NAME NODES PODS: starts a bare local API server (PODNET_CLUSTER_STATE), writes the
# nodes and pods straight into its etcd (podnet-bench load), waits until the API server's cache
# holds every pod, and prints the kubeconfig. Needs $bin (hack/cluster build's directory).
bench_cluster() {
  local name=$1 nodes=$2 pods=$3 kc etcd_port seen
  kc=$(hack/cluster up --name "$name" --bare --service-cidr 10.0.0.0/16 2>/dev/null | tail -n 1)
  etcd_port=$(sed -n 's/^ETCD_PORT=//p' "$PODNET_CLUSTER_STATE/$name/cluster.env")
  bin/podnet-bench load --kubeconfig "$kc" --etcd "http://127.0.0.1:$etcd_port" --nodes "$nodes" --pods "$pods" >&2
  # every pod served, twice in a row: while the API server's cache fills, a read may count all the
  # pods (from etcd) and the next fewer (from the cache)
  local ok=0
  for _ in $(seq 1 600); do
    seen=$("$bin/kubectl" --kubeconfig "$kc" get --raw '/api/v1/pods?limit=1' | sed -n 's/.*"remainingItemCount":\([0-9]*\).*/\1/p')
    if [ "${seen:-0}" -ge $((pods - 1)) ]; then
      ok=$((ok + 1))
      [ "$ok" -ge 2 ] && break
    else
      ok=0
    fi
    sleep 1
  done
  [ "$ok" -ge 2 ] || { echo "bench: $name serves $((${seen:-0} + 1)) pods of $pods after 600 s" >&2; return 1; }
  echo "$kc"
}
