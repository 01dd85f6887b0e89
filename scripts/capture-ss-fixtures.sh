#!/usr/bin/env bash
# Captures real `ss` output for the parser's unit tests (test/fixtures/ss/). Creates sockets in every state ka-top
# cares about inside a scratch network namespace, so the dumps hold only those sockets. Run as root:
#   scripts/capture-ss-fixtures.sh
set -euo pipefail

NS=kat-capture
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/test/fixtures/ss
WEIRD_DIR=$(mktemp -d /tmp/kat-capture.XXXXXX)
# comm is the executable's basename cut to 15 characters: the first is exactly 15, and ss cuts it at the ')'
# (it reads /proc/<pid>/stat with "%*d (%[^)])"); the second keeps its space, quotes, comma and '('.
WEIRD_BIN="$WEIRD_DIR/we(ird) \"na,me\""
WEIRD_BIN2="$WEIRD_DIR/sp \"q,c\" (p"

cleanup() {
  # Only processes inside our scratch namespace: all of them were started by this script.
  for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WEIRD_DIR"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "capture-ss-fixtures: must run as root" >&2; exit 1; }
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
nsx() { ip netns exec "$NS" "$@"; }

nsx ip link set lo up
nsx ip link add kat0 type veth peer name kat1
nsx ip link set kat1 up
nsx ip link set kat0 up
nsx ip addr add 198.18.0.1/24 dev kat0
nsx ip addr add 198.18.0.2/24 dev kat0
nsx ip addr add fd6b:6174::1/64 dev kat0 nodad
nsx ip addr add fe80::1/64 dev kat0 nodad
# fin_timeout > 60 s: an orphaned FIN-WAIT-2 socket keeps a full socket with the keepalive timer (tcp_close).
nsx sysctl -qw net.ipv4.tcp_fin_timeout=120
nsx nft -f - <<'EOF'
table inet kat {
  chain input {
    type filter hook input priority 0; policy accept;
    # SYN-SENT: SYNs to this address vanish.
    ip daddr 198.18.0.2 tcp dport 9 drop
    # SYN-RECV: the client's final handshake ACK never reaches the listener.
    tcp dport 8090 tcp flags & (syn | ack | fin) == ack drop
  }
}
EOF

cp /usr/bin/sleep "$WEIRD_BIN"
cp /usr/bin/sleep "$WEIRD_BIN2"
mkdir -p "$OUT"
nsx python3 - "$OUT" "$WEIRD_BIN" "$WEIRD_BIN2" <<'PY'
import ctypes, os, signal, socket, subprocess, sys, time

out_dir, weird_bins = sys.argv[1], sys.argv[2:]
keep = []          # sockets that must stay open until the capture
children = []

def nft(rule):
    subprocess.run(['nft', 'add', 'rule', 'inet', 'kat', 'input'] + rule.split(), check=True)

def listener(family, addr, port, backlog=16, v6only=None, device=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    if device:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
    s.bind(addr if isinstance(addr, tuple) else (addr, port))
    s.listen(backlog)
    keep.append(s)
    return s

def pair(lst, family, target):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.connect(target)
    a, _ = lst.accept()
    keep.extend([c, a])
    return c, a

# LISTEN v4, shared by this process and four children with awkward names (users:(...) with five entries).
l4 = listener(socket.AF_INET, '198.18.0.1', 8080)
libc = ctypes.CDLL(None, use_errno=True)
for name in (b'k)",pid=7,fd=8', b'a",pid=1,fd=2'):
    pid = os.fork()
    if pid == 0:
        libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0)  # PR_SET_NAME
        signal.pause()
        os._exit(0)
    children.append(pid)
for b in weird_bins:
    children.append(subprocess.Popen([b, '600'], pass_fds=[l4.fileno()]).pid)

# LISTEN v6 only, with an established IPv6 connection.
l6 = listener(socket.AF_INET6, 'fd6b:6174::1', 8081, v6only=True)
pair(l6, socket.AF_INET6, ('fd6b:6174::1', 8081))

# Dual-stack listener (`*:8082`) and a v4 client: the accepted socket is v4-mapped.
ld = listener(socket.AF_INET6, '::', 8082, v6only=False)
pair(ld, socket.AF_INET, ('127.0.0.1', 8082))

# IPv6 link-local with a scope id.
ifx = socket.if_nametoindex('kat0')
ll = listener(socket.AF_INET6, ('fe80::1', 8083, 0, ifx), 0)
pair(ll, socket.AF_INET6, ('fe80::1', 8083, 0, ifx))

# Listener bound to an interface (`127.0.0.1%lo:8084`).
listener(socket.AF_INET, '127.0.0.1', 8084, device='lo')

# ESTAB with keepalive armed: idle 600 s (minutes form), 45 s (seconds form), 5 s (S.mmm form).
lk = listener(socket.AF_INET, '198.18.0.1', 8085)
for idle in (600, 45, 5):
    c, _ = pair(lk, socket.AF_INET, ('198.18.0.1', 8085))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 10)
    c.send(b'x' * (100 * idle))

# Keepalive probes outstanding: the peer's answers are dropped.
lp = listener(socket.AF_INET, '198.18.0.1', 8086)
c, _ = pair(lp, socket.AF_INET, ('198.18.0.1', 8086))
c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 20)
nft('tcp sport 8086 drop')

# TIME-WAIT: the client closes first.
lt = listener(socket.AF_INET, '198.18.0.1', 8087)
c, a = pair(lt, socket.AF_INET, ('198.18.0.1', 8087))
c.close(); time.sleep(0.05); a.close()

# FIN-WAIT-2 / CLOSE-WAIT: once half-closed (the client keeps its fd), once orphaned (keepalive timer, see sysctl).
lf = listener(socket.AF_INET, '198.18.0.1', 8088)
c, a = pair(lf, socket.AF_INET, ('198.18.0.1', 8088))
c.shutdown(socket.SHUT_WR)
c2, a2 = pair(lf, socket.AF_INET, ('198.18.0.1', 8088))
keep.remove(c2); c2.close()

# SYN-SENT with its retransmit timer.
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setblocking(False)
s.connect_ex(('198.18.0.2', 9))
keep.append(s)

# SYN-RECV: a request socket on the listener (the final ACK is dropped by nft).
lr = listener(socket.AF_INET, '198.18.0.1', 8090)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(('198.18.0.1', 8090))
keep.append(s)

# LAST-ACK: the client closes, then its ACK of the server's FIN is dropped.
la = listener(socket.AF_INET, '198.18.0.1', 8091)
c, a = pair(la, socket.AF_INET, ('198.18.0.1', 8091))
keep.remove(c); c.close(); time.sleep(0.05)
nft('tcp dport 8091 drop')
keep.remove(a); a.close()

# FIN-WAIT-1 / CLOSING: the client's FIN is dropped, then the server closes too.
lc = listener(socket.AF_INET, '198.18.0.1', 8092)
c, a = pair(lc, socket.AF_INET, ('198.18.0.1', 8092))
nft('tcp dport 8092 drop')
keep.remove(c); c.close(); time.sleep(0.05)
keep.remove(a); a.close()

# Zero window: the receiver never reads, the sender fills the window -> persist timer.
lz = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lz.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # inherited by the accepted socket: small window from the start
lz.bind(('198.18.0.1', 8093))
lz.listen(1)
keep.append(lz)
c, a = pair(lz, socket.AF_INET, ('198.18.0.1', 8093))
c.setblocking(False)
try:
    while True:
        c.send(b'z' * 65536)
except BlockingIOError:
    pass

time.sleep(2.5)
captures = [
    ('ss-HtinaeO.txt', ['ss', '-HtinaeO']),
    ('ss-HtinaepO.txt', ['ss', '-HtinaepO']),
    ('ss-tiepn.txt', ['ss', '-tiepn']),
    ('ss-taeon.txt', ['ss', '-taeon']),
]
for name, argv in captures:
    with open(os.path.join(out_dir, name), 'w') as f:
        f.write(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
for pid in children:
    os.kill(pid, signal.SIGKILL)
PY

{
  echo "# Captured by scripts/capture-ss-fixtures.sh in a scratch netns"
  echo "ss: $(ss -V)"
  echo "kernel: $(uname -r)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "files: ss-HtinaeO.txt (ss -HtinaeO), ss-HtinaepO.txt (ss -HtinaepO), ss-tiepn.txt (ss -tiepn),"
  echo "       ss-taeon.txt (ss -taeon: header, no tcp_info)"
} >"$OUT/VERSION"
echo "capture-ss-fixtures: wrote $(ls "$OUT" | tr '\n' ' ')" >&2
