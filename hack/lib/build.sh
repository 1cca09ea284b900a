#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy and caches them under
# ${XDG_CACHE_HOME:-~/.cache}/kubectl-podnet/cluster/<versions>/bin. Sourced by hack/cluster.
#
# Pinned versions; changing one changes the cache directory, so a rebuild happens exactly then.
K8S_VERSION=${K8S_VERSION:-v1.35.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}

podnet_cache_root() {
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-podnet"
}

cluster_bin_dir() {
  echo "$(podnet_cache_root)/cluster/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}/bin"
}

# build_flags are shared by every binary: static, reproducible, small.
_build_env() {
  export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
}

_log() { echo "cluster: $*" >&2; }

_build_etcd() {
  local bin=$1 src
  src="$(podnet_cache_root)/cluster/src/etcd-${ETCD_VERSION}"
  mkdir -p "$src"
  (
    cd "$src"
    [ -f go.mod ] || go mod init podnet.local/etcdbuild >/dev/null 2>&1
    # go install refuses etcd's server module because of its replace directives; a wrapper module works.
    go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null
    go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
  )
}

_build_k8s() {
  local bin=$1 src gomod minor
  src="$(podnet_cache_root)/cluster/src/k8s-${K8S_VERSION}"
  minor="v0.${K8S_VERSION#v1.}"
  mkdir -p "$src"
  (
    cd "$src"
    gomod=$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
    [ -n "$gomod" ] && [ -f "$gomod" ] || { _log "cannot read go.mod of k8s.io/kubernetes@${K8S_VERSION}"; exit 1; }
    {
      echo "module podnet.local/k8sbuild"
      echo
      grep -E '^go [0-9.]+$' "$gomod"
      echo
      echo "require k8s.io/kubernetes ${K8S_VERSION}"
      echo
      echo "replace ("
      # k8s.io/X => ./staging/src/k8s.io/X becomes k8s.io/X => k8s.io/X v0.<minor>.<patch>
      sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/k8s\.io/.*$#\t\1 => \1 '"${minor}"'#p' "$gomod"
      echo ")"
    } >go.mod
    local pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubelet)
    local p
    for p in "${pkgs[@]}"; do go get "$p@${K8S_VERSION}" >/dev/null; done
    local ld="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "${K8S_VERSION#v1.}" | cut -d. -f1) -X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}"
    for p in "${pkgs[@]}"; do
      _log "building ${p##*/} ${K8S_VERSION}"
      go build -trimpath -ldflags "$ld" -o "$bin/${p##*/}" "$p"
    done
  )
}

_build_kwok() {
  local bin=$1
  GOBIN="$bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
}

# cluster_build builds whatever is missing; a complete cache costs nothing.
cluster_build() {
  local bin
  bin=$(cluster_bin_dir)
  mkdir -p "$bin"
  _build_env
  if [ ! -x "$bin/etcd" ]; then _log "building etcd ${ETCD_VERSION}"; _build_etcd "$bin.tmp" && mv "$bin.tmp/etcd" "$bin/"; fi
  local need_k8s=0 b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet; do [ -x "$bin/$b" ] || need_k8s=1; done
  if [ "$need_k8s" = 1 ]; then
    _build_k8s "$bin.tmp"
    for b in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet; do mv "$bin.tmp/$b" "$bin/"; done
  fi
  if [ ! -x "$bin/kwok" ]; then _log "building kwok ${KWOK_VERSION}"; _build_kwok "$bin.tmp" && mv "$bin.tmp/kwok" "$bin/"; fi
  rm -rf "$bin.tmp"
  echo "$bin"
}

# docker_archive DIR ENTRYPOINT_JSON TAGS OUT [USER]: a one-layer image tarball of DIR in docker
# save's format, which `ctr images import` takes, tagged with each of TAGS (space-separated) and
# running ENTRYPOINT as USER (default: root). Reproducible: the same DIR gives the same bytes
# (entries sorted, mtime 0, owned by root); its modes are the files' own.
docker_archive() {
  local rootfs=$1 entry=$2 tags=$3 out=$4 user=${5:-} work arch tag repotags=""
  arch=$(go env GOARCH)
  work=$(mktemp -d)
  local t=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu)
  tar "${t[@]}" -C "$rootfs" -cf "$work/layer.tar" .
  local diff
  diff=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  mkdir -p "$work/$diff"
  mv "$work/layer.tar" "$work/$diff/layer.tar"
  printf '{"architecture":"%s","os":"linux","config":{%s"Entrypoint":%s,"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "${user:+\"User\":\"$user\",}" "$entry" "$diff" >"$work/config.json"
  local cfg
  cfg=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/$cfg.json"
  for tag in $tags; do repotags="$repotags${repotags:+,}\"$tag\""; done
  printf '[{"Config":"%s.json","RepoTags":[%s],"Layers":["%s/layer.tar"]}]' "$cfg" "$repotags" "$diff" >"$work/manifest.json"
  chmod 0755 "$work/$diff"
  chmod 0644 "$work/manifest.json" "$work/$cfg.json" "$work/$diff/layer.tar"
  tar "${t[@]}" -C "$work" -cf "$out" manifest.json "$cfg.json" "$diff"
  rm -rf "$work"
}
