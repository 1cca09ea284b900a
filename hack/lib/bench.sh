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
  for _ in $(seq 1 600); do
    seen=$("$bin/kubectl" --kubeconfig "$kc" get --raw '/api/v1/pods?limit=1' | sed -n 's/.*"remainingItemCount":\([0-9]*\).*/\1/p')
    [ "${seen:-0}" -ge $((pods - 1)) ] && break
    sleep 1
  done
  echo "$kc"
}
