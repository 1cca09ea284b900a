#!/usr/bin/env bash
# Benchmark of `kubectl podnet policy matrix` end to end on a local API server: 1,000 pods in 10
# namespaces that the policies all tell apart, and 200 policies of five kinds (100 NetworkPolicies,
# 40 CiliumNetworkPolicies, 30 Calico GlobalNetworkPolicies, 20 AdminNetworkPolicies, 10 Antrea
# ClusterNetworkPolicies); wall time and peak RSS of the grid and of -o json, against the targets
# of 2 s and 200 MB. Run by `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/build.sh
bin=$(hack/cluster build)
state=$(mktemp -d)
export PODNET_CLUSTER_STATE=$state
trap 'hack/cluster down --name bench-policy >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
# not --bare: pods need their namespace's default ServiceAccount, which the controller manager makes
kc=$(hack/cluster up --name bench-policy 2>/dev/null | tail -n 1)
k() { "$bin/kubectl" --kubeconfig "$kc" "$@"; }
for f in test/e2e/testdata/policy/crds-*.yaml; do k apply -f "$f" >/dev/null; done
k wait --for=condition=Established crd --all --timeout=60s >/dev/null
for n in $(seq 0 9); do
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-%d, labels: {team: t%d}}\n---\n' "$n" $((n % 3))
done | k create -f - >/dev/null
for n in $(seq 0 9); do
  for _ in $(seq 1 100); do k get serviceaccount default -n "ns-$n" >/dev/null 2>&1 && break; sleep 0.2; done
done
gen=$state/objects.yaml
{
  for i in $(seq 0 999); do
    s=$((i % 200))
    printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: pod-%d, namespace: ns-%d, labels: {shard: "%d", slot: "%d"}}\nspec: {containers: [{name: c, image: registry.k8s.io/pause:3.10, ports: [{containerPort: 80}]}]}\n---\n' "$i" $((s % 10)) "$s" $((i / 200))
  done
  for i in $(seq 0 99); do
    printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np-%d, namespace: ns-%d}\nspec: {podSelector: {matchLabels: {shard: "%d"}}, ingress: [{from: [{podSelector: {matchLabels: {slot: "%d"}}}, {namespaceSelector: {matchLabels: {team: t%d}}}], ports: [{port: 80}]}]}\n---\n' "$i" $((i % 10)) "$i" $((i % 5)) $((i % 3))
  done
  for i in $(seq 0 39); do
    printf 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: cnp-%d, namespace: ns-%d}\nspec: {endpointSelector: {matchLabels: {shard: "%d"}}, ingress: [{fromEndpoints: [{matchLabels: {slot: "%d"}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}], ingressDeny: [{fromEndpoints: [{matchLabels: {slot: "%d", "k8s:io.kubernetes.pod.namespace": ns-1}}]}]}\n---\n' "$i" $(((100 + i) % 10)) $((100 + i)) $((i % 5)) $(((i + 1) % 5))
  done
  for i in $(seq 0 29); do
    printf "apiVersion: crd.projectcalico.org/v1\nkind: GlobalNetworkPolicy\nmetadata: {name: gnp-%d}\nspec: {order: %d, selector: \"shard == '%d'\", ingress: [{action: Deny, protocol: TCP, source: {selector: \"slot in {'%d','%d'}\"}, destination: {ports: [80]}}, {action: Allow}]}\n---\n" "$i" "$i" $((140 + i)) $((i % 5)) $(((i + 2) % 5))
  done
  for i in $(seq 0 19); do
    printf 'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: anp-%d}\nspec: {priority: %d, subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {shard: "%d"}}}}, ingress: [{action: Pass, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {slot: "%d"}}}}]}, {action: Deny, from: [{namespaces: {}}]}]}\n---\n' "$i" "$i" $((170 + i)) $((i % 5))
  done
  for i in $(seq 0 9); do
    printf 'apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: acnp-%d}\nspec: {tier: securityops, priority: %d, appliedTo: [{podSelector: {matchLabels: {shard: "%d"}}}], ingress: [{action: Drop, from: [{podSelector: {matchLabels: {slot: "%d"}}}], ports: [{protocol: TCP, port: 80}]}]}\n---\n' "$i" $((i + 1)) $((190 + i)) $((i % 5))
  done
} >"$gen"
k create -f "$gen" >/dev/null
echo "== policy matrix, 1,000 x 1,000 pods, 200 policies of five kinds (targets: 2 s, 200 MB)"
for args in "" "-o json"; do
  best=""
  for _ in 1 2 3; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %M" -o "$state/time" bin/kubectl-podnet --kubeconfig "$kc" policy matrix -A $args >/dev/null 2>"$state/err" ||
      { cat "$state/err" >&2; exit 1; }
    read -r secs kb <"$state/time"
    best=$(printf '%s\n%s %s\n' "$best" "$secs" "$kb" | sed '/^$/d' | sort -n | head -n 1)
  done
  read -r secs kb <<<"$best"
  awk -v a="$args" -v s="$secs" -v kb="$kb" 'BEGIN { printf "policy matrix -A %-8s %5.2f s (%.2fx of 2 s)  %4d MB RSS (%.2fx of 200 MB)\n", a, s, s / 2, kb / 1024, kb / 1024 / 200 }'
done
head -n 1 "$state/err"
