#!/usr/bin/env bash
# The krew path, proven offline: render the manifest from the release archives, check that two
# builds give the same bytes, run krew's own validate-krew-manifest (its install of every platform
# downloads the uri: served here from 127.0.0.1), install this platform's archive into a throwaway
# KREW_ROOT, run the installed `kubectl podnet` against a local control plane, uninstall.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/build.sh
KREW_VERSION=${KREW_VERSION:-v0.4.4}
krewbin="$(podnet_cache_root)/krew/$KREW_VERSION/bin"
if [ ! -x "$krewbin/kubectl-krew" ] || [ ! -x "$krewbin/validate-krew-manifest" ]; then
  echo "krew-test: building krew $KREW_VERSION" >&2
  mkdir -p "$krewbin"
  # built without a release tag: this krew never checks for upgrades
  GOBIN="$krewbin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION" "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION"
  mv "$krewbin/krew" "$krewbin/kubectl-krew"
fi
cluster_bin=$(hack/cluster build)
work=$(mktemp -d)
export PODNET_CLUSTER_STATE="$work/clusters"
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  hack/cluster down --all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
version=v0.0.0-krewtest
go build -o "$work/serve" ./hack/serve
mkfifo "$work/stdin"
# the server lives until this script ends (its stdin closes); its own time limit only guards
# against an orphan, and must outlast two cross-builds of six archives on a busy machine
# the manifest's uri is BASE/VERSION/FILE: serve the first build there
mkdir -p "$work/www"
ln -s "$work/dist1" "$work/www/$version"
"$work/serve" --dir "$work/www" --port-file "$work/port" --timeout 60m <"$work/stdin" &
serve_pid=$!
exec 9>"$work/stdin"
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
base="http://127.0.0.1:$(cat "$work/port")"

echo "krew-test: building the release archives twice" >&2
go run ./hack/dist --version "$version" --out "$work/dist1" --base-uri "$base"
go run ./hack/dist --version "$version" --out "$work/dist2" --base-uri "$base"
if ! cmp -s "$work/dist1/checksums.txt" "$work/dist2/checksums.txt"; then
  echo "krew-test: FAIL: two builds gave different archives" >&2
  diff "$work/dist1/checksums.txt" "$work/dist2/checksums.txt" >&2 || true
  exit 1
fi
echo "krew-test: reproducible: $(wc -l <"$work/dist1/checksums.txt") archives, same bytes twice" >&2

export PATH="$krewbin:$cluster_bin:$PATH"
echo "krew-test: validate-krew-manifest (installs every platform from $base)" >&2
(cd "$work" && validate-krew-manifest -manifest "$work/dist1/podnet.yaml" >"$work/validate.log" 2>&1) || { echo "krew-test: FAIL: validate-krew-manifest:" >&2; grep -v "^\s*/\|^\s*[a-z]*\.\|goroutine\|runtime\." "$work/validate.log" | tail -n 25 >&2; exit 1; }
# the checked-in manifest validates too (structure; its archives are the release's)
cp krew.yaml "$work/podnet.yaml"
validate-krew-manifest -manifest "$work/podnet.yaml" -skip-install >/dev/null 2>&1 ||
  { echo "krew-test: FAIL: the checked-in krew.yaml does not validate" >&2; validate-krew-manifest -manifest "$work/podnet.yaml" -skip-install; exit 1; }

echo "krew-test: offline install into a throwaway KREW_ROOT" >&2
export KREW_ROOT="$work/krew" KREW_NO_UPGRADE_CHECK=1
mkdir -p "$KREW_ROOT/index/default"
git -C "$KREW_ROOT/index/default" init -q
os=$(go env GOOS) arch=$(go env GOARCH)
kubectl krew install --manifest="$work/dist1/podnet.yaml" --archive="$work/dist1/kubectl-podnet_${version}_${os}_${arch}.tar.gz" >"$work/install.log" 2>&1 || { echo "krew-test: FAIL: krew install:" >&2; cat "$work/install.log" >&2; exit 1; }
export PATH="$KREW_ROOT/bin:$PATH"
[ "$(command -v kubectl-podnet)" = "$KREW_ROOT/bin/kubectl-podnet" ] || { echo "krew-test: FAIL: the installed kubectl-podnet is not the one on PATH" >&2; exit 1; }
got=$(kubectl podnet version)
case "$got" in "kubectl-podnet $version "*) ;; *) echo "krew-test: FAIL: kubectl podnet version said: $got" >&2; exit 1 ;; esac
kc=$(hack/cluster up --name krewtest --scenario aks-kubenet 2>/dev/null | tail -n 1)
out=$(KUBECONFIG=$kc kubectl podnet nodes 2>&1)
echo "$out" | grep -q "^network kubenet " || { echo "krew-test: FAIL: kubectl podnet nodes through krew said:" >&2; echo "$out" >&2; exit 1; }
list=$(kubectl krew list 2>&1) ; echo "$list" | grep -qE "(^|/)podnet$" || { echo "krew-test: FAIL: krew list does not show podnet: $list" >&2; exit 1; }
kubectl krew uninstall podnet >/dev/null
[ ! -e "$KREW_ROOT/bin/kubectl-podnet" ] || { echo "krew-test: FAIL: uninstall left kubectl-podnet" >&2; exit 1; }
echo "krew-test: ok: validated, installed offline, ran version and nodes through krew, uninstalled" >&2
