#!/usr/bin/env bash
# Times `ka-sockinfo scan` / `serve` against `ss -tien` and `ss -tiepn` with N loopback connections (2N sockets)
# held by ka-peer inside a scratch netns. Usage: scripts/bench/sockinfo.sh [connections] (default 10000). Root.
set -euo pipefail
CONNS=${1:-10000}
NS=kat-bench-sockinfo-$$
BIN=$(cd "$(dirname "$0")/../.." && pwd)/dist/bin/$(node -p process.arch)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
OUT=$(mktemp -d)
# At most 5000 connections per process on each side: the fd hard limit is 20000 per process on the test machines.
left=$CONNS; i=0
while ((left > 0)); do
  n=$((left > 5000 ? 5000 : left)); left=$((left - n)); i=$((i + 1))
  ip netns exec "$NS" "$BIN/ka-peer" server --listen 127.0.0.1:0 >"$OUT/server$i" & PIDS+=($!)
  for _ in $(seq 50); do grep -q LISTEN "$OUT/server$i" && break; sleep 0.1; done
  PORT=$(awk '/^LISTEN/{print $3}' "$OUT/server$i")
  ip netns exec "$NS" "$BIN/ka-peer" client --connect "127.0.0.1:$PORT" --conns "$n" --keepidle 60 >"$OUT/client$i" & PIDS+=($!)
done
for _ in $(seq 600); do (($(cat "$OUT"/client* | grep -c '^CONN') >= CONNS)) && break; sleep 0.1; done
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
for run in 1 2 3; do
  echo "run $run: sockets=$((2 * CONNS))" \
    "ss_tien_ms=$(ms nsenter --net=/run/netns/"$NS" ss -tien)" \
    "ss_tiepn_ms=$(ms nsenter --net=/run/netns/"$NS" ss -tiepn)" \
    "sockinfo_scan_ms=$(ms "$BIN/ka-sockinfo" scan)"
done
echo "serve (first scan reads every socket, later ones only readdir+readlink):"
printf 'scan\nscan\nscan\n' | "$BIN/ka-sockinfo" serve | grep '^\.'
rm -rf "$OUT"
