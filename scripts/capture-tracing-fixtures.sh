#!/usr/bin/env bash
# Captures the tracing fixtures the unit tests parse (test/fixtures/tracing/): tracefs formats of the tracepoints
# ka-top uses, pahole's view of the structs it reads, a kallsyms excerpt, `bpftrace --version`, and one real
# bpftrace run of ka-top's generated program over a zero-linger close and a SYN to a closed port on loopback.
# Root; run after `make build`. Pids, ports, addresses and the kernel differ on every capture: the tests assert
# values of the committed capture, update them when re-capturing. (format-6.1-tcp_send_reset.txt is reconstructed
# from an older kernel's headers, see README-format-6.1.txt, and is not touched here.)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-test/fixtures/tracing}
PEER=dist/bin/$(node -p process.arch)/ka-peer
T=/sys/kernel/tracing
mountpoint -q "$T" || mount -t tracefs nodev "$T"
kernel=$(uname -r | grep -oE '^[0-9]+\.[0-9]+')

for tp in tcp/tcp_send_reset tcp/tcp_receive_reset sock/inet_sock_set_state timer/timer_start \
          timer/timer_expire_entry timer/timer_expire_exit syscalls/sys_enter_setsockopt; do
  cp "$T/events/$tp/format" "$OUT/format-$kernel-${tp#*/}.txt"
done
pahole -C sock,sock_common,inet_sock,inet_connection_sock,tcp_sock,net,ns_common,netns_ipv4,possible_net_t,sk_buff,net_device,iphdr,ipv6hdr,tcphdr \
  /sys/kernel/btf/vmlinux 2>/dev/null >"$OUT/pahole-$kernel.txt" # pahole 1.24 warns about newer BTF kinds
grep -E ' (tcp_keepalive_timer(\.cold)?|__pfx_tcp_keepalive_timer|tcp_v4_rcv)$' /proc/kallsyms >"$OUT/kallsyms-excerpt.txt"
bpftrace --version >"$OUT/bpftrace-version-$(bpftrace --version | grep -oE '[0-9]+\.[0-9]+' | head -1).txt"

# One run of the generated program (every close printed, as `watch --events close` does): a listener, a client
# closing with SO_LINGER {1,0}, SYNs to a closed port, a keepalive connection probing every second (its peer
# answers); only this namespace is printed (the counts stay whole-host).
# Nothing else may run on loopback meanwhile.
program=$(node --input-type=module -e "
  const { probeTracingHost } = await import('./dist/sources/tracing-host.js');
  const { generateBpfProgram } = await import('./dist/model/bpf-program.js');
  const { loadBpfFragments } = await import('./dist/sources/bpf-fragments.js');
  process.stdout.write(generateBpfProgram(await probeTracingHost(), loadBpfFragments(), {
    allCloses: true, filter: { netns: [(await import('node:fs')).statSync('/proc/self/ns/net').ino] } }).text);")
version=$(bpftrace --version | grep -oE '[0-9]+\.[0-9]+' | head -1)
run="$OUT/bpftrace-$version-run"
# setsockopt records are not filtered by namespace: those of ka-peer processes already running (another
# workload on this host) are cut from the recordings afterwards.
foreign=$(pgrep -x ka-peer | paste -sd'|' || true)
unforeign() { if [ -n "$foreign" ]; then grep -vE "\"KA sockopt ($foreign) " "$1" >"$1.tmp" || true; mv "$1.tmp" "$1"; fi; }
BPFTRACE_MAP_KEYS_MAX=65536 bpftrace -f json -e "$program" >"$run.ndjson" 2>"$run.stderr.txt" &
tracer=$!
trap 'kill -INT $tracer 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'KA ready' "$run.ndjson" 2>/dev/null && break; sleep 0.1; done
srv=$(mktemp)
"$PEER" server --listen 127.0.0.1:0 --mode sink --duration 3000 >"$srv" &
for _ in $(seq 50); do grep -q LISTEN "$srv" && break; sleep 0.1; done
port=$(awk '/^LISTEN/{print $3}' "$srv")
"$PEER" client --connect "127.0.0.1:$port" --mode hold --keepalive --keepidle 1 --keepintvl 1 --keepcnt 3 \
  --duration 2600 >/dev/null &
"$PEER" checker --connect "127.0.0.1:$port" --every 200 --count 1 >/dev/null
"$PEER" client --connect 127.0.0.1:1 --duration 500 >/dev/null || true
"$PEER" client --connect '[::1]:1' --duration 500 >/dev/null || true
sleep 3
kill -INT $tracer
wait $tracer || true
unforeign "$run.ndjson"
trap - EXIT
rm -f "$srv"

# A second run, in two scratch namespaces on a veth (198.18.250.0/24, fd6b:6174:fa::/64): a connection dying of
# keepalive timeout (its probes, then the timeout, the reset and the close; `ss` dumps the client's namespace
# first, as ka-top's inventory does: that gives the socket its cookie, which the records then carry) and two
# connects that fail meanwhile, then a listener bound to the wildcard address resetting segments of a connection
# it no longer has, over IPv4 and IPv6.
death="$OUT/bpftrace-$version-scratch-run"
CLI=kat-capt-cli SRV=kat-capt-srv
cleanup() {
  kill -INT "${tracer:-}" 2>/dev/null || true
  for p in ${peers:-}; do kill "$p" 2>/dev/null || true; done
  ip netns del $CLI 2>/dev/null || true; ip netns del $SRV 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add $CLI; ip netns add $SRV
ip link add kat-capt0 netns $CLI type veth peer name kat-capt1 netns $SRV
ip -n $CLI addr add 198.18.250.1/24 dev kat-capt0; ip -n $SRV addr add 198.18.250.2/24 dev kat-capt1
ip -n $CLI addr add fd6b:6174:fa::1/64 dev kat-capt0 nodad; ip -n $SRV addr add fd6b:6174:fa::2/64 dev kat-capt1 nodad
for ns in $CLI $SRV; do ip -n $ns link set lo up; done
ip -n $CLI link set kat-capt0 up; ip -n $SRV link set kat-capt1 up
ino() { stat -L -c %i "/run/netns/$1"; }
program=$(node --input-type=module -e "
  const { probeTracingHost } = await import('./dist/sources/tracing-host.js');
  const { generateBpfProgram } = await import('./dist/model/bpf-program.js');
  const { loadBpfFragments } = await import('./dist/sources/bpf-fragments.js');
  process.stdout.write(generateBpfProgram(await probeTracingHost(), loadBpfFragments(), {
    filter: { netns: [$(ino $CLI), $(ino $SRV)] } }).text);")
BPFTRACE_MAP_KEYS_MAX=65536 bpftrace -f json -e "$program" >"$death.ndjson" 2>/dev/null &
tracer=$!
for _ in $(seq 100); do grep -q 'KA ready' "$death.ndjson" 2>/dev/null && break; sleep 0.1; done
srv=$(mktemp)
ip netns exec $SRV "$PEER" server --listen 198.18.250.2:7004 --mode hold >"$srv" &
peers=$!
for _ in $(seq 50); do grep -q LISTEN "$srv" && break; sleep 0.1; done
ip netns exec $CLI "$PEER" client --connect 198.18.250.2:7004 --mode hold --keepalive --keepidle 1 --keepintvl 1 \
  --keepcnt 2 >/dev/null &
peers="$peers $!"
sleep 0.5
ip netns exec $CLI ss -tn >/dev/null
# the server's namespace goes silent both ways, as the lab's setSilent does
ip netns exec $SRV nft -f - <<NFT
add table inet kasilent
table inet kasilent {
  chain drop_in { type filter hook input priority -10; policy accept; counter drop; }
  chain drop_out { type filter hook output priority -10; policy accept; counter drop; }
}
NFT
# Two connects during the silence that never complete: one the kernel gives up on (TCP_USER_TIMEOUT 1 s:
# ETIMEDOUT), one the application closes while connecting (the checker's own 3 s connect timeout).
ip netns exec $CLI "$PEER" client --connect 198.18.250.2:7004 --user-timeout 1000 --duration 4000 >/dev/null &
peers="$peers $!"
ip netns exec $CLI "$PEER" checker --connect 198.18.250.2:7004 --every 300 --count 1 >/dev/null &
peers="$peers $!"
sleep 5
ip netns exec $SRV nft delete table inet kasilent
# The server resets its end with SO_LINGER {1,0} while its resets are dropped: the client never learns, and its
# next segments reach the listener, which resets them (for it, the tracepoint has the wildcard address).
while read -r bind port dst; do
  ip netns exec $SRV nft -f - <<NFT
table inet karst {
  chain out {
    type filter hook output priority -10; policy accept;
    tcp sport $port tcp flags & rst == rst drop
  }
}
NFT
  ip netns exec $SRV "$PEER" server --listen "$bind:$port" --mode sink --close-after 300 --linger 0 --duration 2000 >/dev/null &
  peers="$peers $!"
  sleep 0.3
  ip netns exec $CLI "$PEER" client --connect "$dst:$port" --mode stream --every 300 --duration 1000 >/dev/null || true
  ip netns exec $SRV nft delete table inet karst
done <<'LISTENERS'
0.0.0.0 7010 198.18.250.2
[::] 7011 [fd6b:6174:fa::2]
LISTENERS
kill -INT $tracer
wait $tracer || true
unforeign "$death.ndjson"
tracer=
rm -f "$srv"
echo "captured into $OUT (kernel $kernel, bpftrace $version)"
