#!/usr/bin/env bash
# Installs what ka-top and its tests need on a Debian machine; idempotent and quiet when all is present.
#   scripts/setup.sh system   apt packages + tracefs/debugfs mounts (needs root; skipped with a note otherwise)
#   scripts/setup.sh node     npm dependencies (npm ci when the lock file changed)
#   scripts/setup.sh newer-bpftrace
#                             Debian trixie with its bpftrace (0.23) in a chroot, for the tests that load ka-top's
#                             program with a newer bpftrace than bookworm's (scripts/newer-bpftrace; ~550 MB)
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package that provides it
declare -A NEED=(
  [bpftrace]=bpftrace [nft]=nftables [ip]=iproute2 [ss]=iproute2 [ps]=procps [pahole]=pahole
  [nsenter]=util-linux [cc]=gcc [make]=make [zsh]=zsh [file]=file [man]=man-db [setpriv]=util-linux
  [prometheus]=prometheus [promtool]=prometheus   # the exporter's end-to-end test and rule checks
  [wrk]=wrk [nstat]=iproute2   # benchmarks (scripts/bench/probe-overhead.mjs, reset-flood.mjs)
  # real servers for the benchmarks and test/integration/apps.test.ts (started by them, never as services)
  [nginx]=nginx-light [redis-server]=redis-server [haproxy]=haproxy [sshd]=openssh-server [ssh-keygen]=openssh-client
)
# The native helpers are built statically for x86_64 and aarch64 (the package carries both): this host's gcc and a
# cross gcc, each with a static libc; the package test runs the other architecture's helper under qemu-user.
declare -A NEED_FILE=()
case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
  arm64|aarch64)
    NEED+=([aarch64-linux-gnu-gcc]=gcc [x86_64-linux-gnu-gcc]=gcc-x86-64-linux-gnu [qemu-x86_64-static]=qemu-user-static)
    NEED_FILE+=([/usr/lib/aarch64-linux-gnu/libc.a]=libc6-dev [/usr/x86_64-linux-gnu/lib/libc.a]=libc6-dev-amd64-cross) ;;
  *)
    NEED+=([x86_64-linux-gnu-gcc]=gcc [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu [qemu-aarch64-static]=qemu-user-static)
    NEED_FILE+=([/usr/lib/x86_64-linux-gnu/libc.a]=libc6-dev [/usr/aarch64-linux-gnu/lib/libc.a]=libc6-dev-arm64-cross) ;;
esac

system() {
  local missing=()
  for cmd in "${!NEED[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}"); done
  # linux-libc-dev gives the UAPI headers the native helpers compile against
  [ -f /usr/include/linux/tcp.h ] || missing+=(linux-libc-dev)
  # GNU time (not the shell keyword): the snapshot benchmark reports CPU time and peak RSS through it
  [ -x /usr/bin/time ] || missing+=(time)
  # files, not commands: PostgreSQL's server binaries and the libkeepalive preload library
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
  [ -f /usr/lib/libkeepalive.so ] || missing+=(libkeepalive0)
  [ -x /usr/bin/python3 ] || missing+=(python3)
  for f in "${!NEED_FILE[@]}"; do [ -f "$f" ] || missing+=("${NEED_FILE[$f]}"); done
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

NEWER_BPFTRACE_ROOT=${KA_TOP_NEWER_BPFTRACE_ROOT:-/var/cache/ka-top-test/bpftrace-trixie}
newer_bpftrace() {
  [ -x "$NEWER_BPFTRACE_ROOT/usr/bin/bpftrace" ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: no $NEWER_BPFTRACE_ROOT; run as root to make it (debootstrap)" >&2
    return
  fi
  command -v debootstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  echo "setup: making $NEWER_BPFTRACE_ROOT (Debian trixie with bpftrace)" >&2
  # Made aside and renamed: an interrupted run leaves no half chroot that the check above would take for done.
  rm -rf "$NEWER_BPFTRACE_ROOT.part"
  mkdir -p "$(dirname "$NEWER_BPFTRACE_ROOT")"
  debootstrap --variant=minbase --include=bpftrace trixie "$NEWER_BPFTRACE_ROOT.part" http://deb.debian.org/debian >/dev/null
  mv "$NEWER_BPFTRACE_ROOT.part" "$NEWER_BPFTRACE_ROOT"
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
  newer-bpftrace) newer_bpftrace ;;
  all) system; node_deps ;;
  *) echo "usage: $0 [system|node|newer-bpftrace|all]" >&2; exit 2 ;;
esac
