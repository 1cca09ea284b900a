#!/usr/bin/env bash
# Installs the Debian packages the scripts and tests need, only those missing (apt-get update first).
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v ss >/dev/null || need+=(iproute2)
command -v git >/dev/null || need+=(git)
# the completion tests source the generated scripts in a real bash and zsh, as users' shells do
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
command -v zsh >/dev/null || need+=(zsh)
# the tests that run as root (real node, kernel datapaths) also use busybox (ping, nc) and iptables
if [ "$(id -u)" = 0 ]; then
  [ -x /bin/busybox ] || need+=(busybox-static)
  command -v iptables >/dev/null || need+=(iptables)
  # the real nodes on flanneld (node-up --count): iputils' ping for the netcheck image, nftables for
  # the underlay's faults, and cgo for building flanneld
  command -v ping >/dev/null || need+=(iputils-ping)
  command -v nft >/dev/null || need+=(nftables)
  command -v gcc >/dev/null || need+=(gcc libc6-dev)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps: missing ${need[*]}; install them: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# prometheus and promtool for the alert rules' tests (test/e2e/deploy_test.go): Debian's package,
# pinned, unpacked into the cache only if missing and never installed, so no Prometheus daemon
# starts (hack/cluster prometheus-path prints where)
# shellcheck source=lib/prometheus.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/prometheus.sh"
prometheus_install >/dev/null
