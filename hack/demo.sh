#!/usr/bin/env bash
# make demo: start (afresh) a local control plane with a scenario and run `kubectl podnet nodes`
# through kubectl's plugin dispatch.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-podnet-demo}
scenario=${2:-aks-kubenet}
source hack/lib/build.sh
bindir=$(cluster_bin_dir)
# kubectl: the machine's if it has one, else the one built with the control plane (v1.35.4)
kubectl_dir=$bindir
if command -v kubectl >/dev/null 2>&1; then kubectl_dir=$(dirname "$(command -v kubectl)"); fi
hack/cluster down --name "$name" >/dev/null 2>&1 || true
kubeconfig=$(hack/cluster up --name "$name" --scenario "$scenario" | tail -n 1)
export PATH="$PWD/bin:$kubectl_dir:$PATH" KUBECONFIG="$kubeconfig"
echo
echo "\$ kubectl podnet nodes"
kubectl podnet nodes
cat <<MSG

The local control plane '$name' runs scenario $scenario (kube-apiserver, etcd, kube-controller-manager,
kube-scheduler and kwok on 127.0.0.1). Try it yourself:

  export PATH="$PWD/bin:\$PATH" KUBECONFIG=$kubeconfig
  kubectl podnet nodes -o wide

Another scenario:  make demo SCENARIO=calico-vxlan   (see testdata/scenarios)
Stop it:           make cluster-down   (or: hack/cluster down --name $name)
MSG
