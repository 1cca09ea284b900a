#!/usr/bin/env bash
# make demo: start (afresh) a local control plane with a scenario and run the three commands users
# run most, through kubectl's plugin dispatch: nodes, cidr-usage and a trace between two pods on
# different nodes.
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
run() {
	echo
	echo "\$ kubectl podnet $*"
	# exit 2 is a finding (a threshold crossed), which a demo shows rather than stops at
	kubectl podnet "$@" || [ $? -eq 2 ]
}
run nodes
run cidr-usage
# two running pod-network pods on different nodes, whatever the scenario calls them
read -r src dst < <(kubectl get pods -A --field-selector=status.phase=Running --no-headers \
	-o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,NODE:.spec.nodeName,HOSTNET:.spec.hostNetwork |
	awk '$4 != "true" && $3 != "<none>" { if (!first) { first = $1 "/" $2; node = $3 } else if ($3 != node) { print first, $1 "/" $2; exit } }') || true
if [ -n "${dst:-}" ]; then
	run trace "$src" "$dst"
else
	echo "(no two running pods on different nodes in scenario $scenario: no trace to show)"
fi
cat <<MSG

The local control plane '$name' runs scenario $scenario (kube-apiserver, etcd, kube-controller-manager,
kube-scheduler and kwok on 127.0.0.1). Try it yourself:

  export PATH="$PWD/bin:\$PATH" KUBECONFIG=$kubeconfig
  kubectl podnet nodes -o wide
  kubectl podnet cidr-usage --node-cidr-mask 25     # what if nodes got a /25?
  kubectl podnet trace ${src:-NS/POD} ${dst:-NS/POD} --port 80   # with the NetworkPolicy verdict

Another scenario:  make demo SCENARIO=calico-vxlan   (see testdata/scenarios)
Stop it:           make cluster-down   (or: hack/cluster down --name $name)
MSG
