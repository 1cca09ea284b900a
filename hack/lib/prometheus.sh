#!/usr/bin/env bash
# Prometheus and promtool from Debian's prometheus package, for the alert rules' tests: the pinned
# package is downloaded with apt-get and unpacked with dpkg-deb into
# ${XDG_CACHE_HOME:-~/.cache}/kubectl-podnet/prometheus-<version>/, never installed (its postinst
# would start a Prometheus daemon). Sourced by hack/cluster (prometheus-path) and hack/deps.sh.
PROMETHEUS_DEB_VERSION=${PROMETHEUS_DEB_VERSION:-2.42.0+ds-5+deb12u1}

# prometheus_bin_dir is the directory that holds prometheus and promtool once unpacked.
prometheus_bin_dir() {
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-podnet/prometheus-${PROMETHEUS_DEB_VERSION}/usr/bin"
}

# prometheus_install unpacks the package when it is missing and prints prometheus_bin_dir; a
# complete cache costs nothing. apt-get update runs (as root) only when apt does not know the version.
prometheus_install() {
  local bin root work deb
  bin=$(prometheus_bin_dir)
  root=${bin%/usr/bin}
  if [ -x "$bin/promtool" ] && [ -x "$bin/prometheus" ]; then
    echo "$bin"
    return 0
  fi
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    { echo "prometheus: needs Debian's apt-get and dpkg-deb" >&2; return 1; }
  work=$(mktemp -d)
  # apt downloads as its own user (_apt) where it may write
  chmod 0777 "$work"
  echo "prometheus: downloading Debian's prometheus ${PROMETHEUS_DEB_VERSION} (unpacked into $root, not installed)" >&2
  if ! (cd "$work" && apt-get download -qq "prometheus=${PROMETHEUS_DEB_VERSION}") >/dev/null 2>"$work/err"; then
    if [ "$(id -u)" != 0 ]; then
      echo "prometheus: apt-get download prometheus=${PROMETHEUS_DEB_VERSION} failed: $(cat "$work/err"); run: sudo apt-get update" >&2
      rm -rf "$work"
      return 1
    fi
    apt-get update -qq >/dev/null
    if ! (cd "$work" && apt-get download -qq "prometheus=${PROMETHEUS_DEB_VERSION}") >/dev/null 2>"$work/err"; then
      echo "prometheus: apt-get download prometheus=${PROMETHEUS_DEB_VERSION} failed: $(cat "$work/err")" >&2
      rm -rf "$work"
      return 1
    fi
  fi
  deb=$(ls "$work"/prometheus_*.deb)
  mkdir -p "$work/root"
  dpkg-deb -x "$deb" "$work/root"
  if ! "$work/root/usr/bin/promtool" --version >/dev/null 2>&1 || ! "$work/root/usr/bin/prometheus" --version >/dev/null 2>&1; then
    echo "prometheus: the unpacked promtool or prometheus does not run" >&2
    rm -rf "$work"
    return 1
  fi
  mkdir -p "$(dirname "$root")"
  # another run may have unpacked it meanwhile: mv -T refuses to replace its directory
  mv -T "$work/root" "$root" 2>/dev/null || true
  rm -rf "$work"
  [ -x "$bin/promtool" ] || { echo "prometheus: $bin/promtool is missing" >&2; return 1; }
  echo "$bin"
}
