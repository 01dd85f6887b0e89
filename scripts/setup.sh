#!/usr/bin/env bash
# Installs what ka-top and its tests need on a Debian machine; idempotent and quiet when all is present.
#   scripts/setup.sh system   apt packages + tracefs/debugfs mounts (needs root; skipped with a note otherwise)
#   scripts/setup.sh node     npm dependencies (npm ci when the lock file changed)
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package that provides it
declare -A NEED=(
  [bpftrace]=bpftrace [nft]=nftables [ip]=iproute2 [ss]=iproute2 [ps]=procps [pahole]=pahole
  [nsenter]=util-linux [cc]=gcc [make]=make [prometheus]=prometheus [promtool]=prometheus
)

system() {
  local missing=()
  for cmd in "${!NEED[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}"); done
  # linux-libc-dev gives the UAPI headers the native helpers compile against
  [ -f /usr/include/linux/tcp.h ] || missing+=(linux-libc-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
    else
      echo "setup: installing ${missing[*]}" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
    fi
  fi
  if [ "$(id -u)" -eq 0 ]; then
    mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
    mountpoint -q /sys/kernel/debug || mount -t debugfs nodev /sys/kernel/debug 2>/dev/null || true
  fi
}

node_deps() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing npm dependencies" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
}

case "${1:-all}" in
  system) system ;;
  node) node_deps ;;
  all) system; node_deps ;;
  *) echo "usage: $0 [system|node|all]" >&2; exit 2 ;;
esac
