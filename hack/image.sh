#!/usr/bin/env bash
# hack/image.sh (make image): the exporter's container image without Docker. Builds the static
# binary and writes a one-layer image tarball, in docker save's format, that holds only
# /kubectl-podnet, runs it as user 65532:65532, and that `ctr images import` (and so
# `hack/cluster image-import`), `docker load` and `podman load` take. Reproducible: the same
# commit gives the same bytes.
#
#   VERSION   the version stamped into the binary and the release tag (make passes git describe)
#   LDFLAGS   the Makefile's -ldflags (make passes them)
#   IMAGE     the release reference (default ghcr.io/podnet/kubectl-podnet:$VERSION); the image is
#             also tagged podnet.local/kubectl-podnet:dev, for local clusters
#   OUT       where the tarball goes (default bin/kubectl-podnet-image.tar)
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$HACK_DIR/.." && pwd)
# shellcheck source=lib/build.sh
source "$HACK_DIR/lib/build.sh"

: "${VERSION:?VERSION is not set: run make image}"
: "${LDFLAGS:?LDFLAGS is not set: run make image}"
IMAGE=${IMAGE:-ghcr.io/podnet/kubectl-podnet:$VERSION}
DEV_IMAGE=podnet.local/kubectl-podnet:dev
OUT=${OUT:-$REPO_DIR/bin/kubectl-podnet-image.tar}

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
# the image's / is this directory: readable by the user the image runs as
chmod 0755 "$rootfs"
(cd "$REPO_DIR" && CGO_ENABLED=0 GOOS=linux GOFLAGS=-buildvcs=false go build -trimpath -ldflags "$LDFLAGS" -o "$rootfs/kubectl-podnet" ./cmd/kubectl-podnet)
chmod 0755 "$rootfs/kubectl-podnet"
mkdir -p "$(dirname "$OUT")"
docker_archive "$rootfs" '["/kubectl-podnet"]' "$IMAGE $DEV_IMAGE" "$OUT.tmp" 65532:65532
mv "$OUT.tmp" "$OUT"
echo "image: $OUT: $IMAGE, $DEV_IMAGE" >&2
