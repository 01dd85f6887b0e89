// What ka-top knows about applications' keepalive settings: one entry per application, each with how to recognise
// it, its settings with their defaults and the socket options they map to, the keepalive values they produce, how
// to write a fix in its own terms, and the vendor sources every default was checked against. Extend it here: the
// findings rules read it through model/apps/recognise.ts and never name an application themselves.
import type { AppEntry, KeepaliveFacts } from './entry.js';

const onSocket = (k: KeepaliveFacts, f: 'idle' | 'interval' | 'probes') => k.sources[f] === 'socket';
const allSysctl = (k: KeepaliveFacts) => k.enabled && !onSocket(k, 'idle') && !onSocket(k, 'interval') && !onSocket(k, 'probes');
/** `a:b:c` with the fields the socket does not set left empty (nginx's and libkeepalive's notation). */
const triple = (k: KeepaliveFacts) => [onSocket(k, 'idle') ? `${k.idleSec}s` : '', onSocket(k, 'interval') ? `${k.intervalSec}s` : '', onSocket(k, 'probes') ? `${k.probes}` : ''].join(':');

export const APPS: readonly AppEntry[] = [
  {
    id: 'libkeepalive',
    name: 'libkeepalive (LD_PRELOAD)',
    // Debian's libkeepalive0 0.3 hooks socket() and reads KEEPALIVE (off disables), KEEPIDLE, KEEPINTVL, KEEPCNT.
    recognise: { preload: /(^|\/)libkeepalive[^/]*\.so/ },
    settings: [
      { setting: 'KEEPIDLE / KEEPINTVL / KEEPCNT (environment)', default: 'unset: the namespace sysctl', maps: 'SO_KEEPALIVE on every socket(), TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT when set' },
      { setting: 'KEEPALIVE=off', default: 'on', maps: 'leaves SO_KEEPALIVE off' },
    ],
    patterns: [{ when: (k) => k.enabled, says: (k) => `libkeepalive (LD_PRELOAD)${allSysctl(k) ? ' with the namespace sysctl timing' : ` KEEPIDLE/KEEPINTVL/KEEPCNT ${triple(k)}`}` }],
    keepaliveFix: (v) => `\`KEEPIDLE=${v.idleSec} KEEPINTVL=${v.intervalSec} KEEPCNT=${v.probes}\` in the environment next to its \`LD_PRELOAD=libkeepalive.so\``,
    sources: ['https://packages.debian.org/bookworm/libkeepalive0', 'https://libkeepalive.sourceforge.net/'],
  },
  {
    id: 'redis',
    name: 'Redis',
    recognise: { comm: /^redis-server$/, exe: /^redis-server$/, cmdline: /(^|\/)redis-server(\s|$)/, listenPorts: [6379] },
    settings: [
      // anetKeepAlive(fd, N): SO_KEEPALIVE, TCP_KEEPIDLE N, TCP_KEEPINTVL N/3 (at least 1), TCP_KEEPCNT 3.
      { setting: 'tcp-keepalive N (redis.conf, CONFIG SET)', default: '300 (since 3.2.1; 0 disables)', maps: 'SO_KEEPALIVE, TCP_KEEPIDLE N, TCP_KEEPINTVL N/3, TCP_KEEPCNT 3 on client connections' },
    ],
    patterns: [
      { when: (k) => k.idleSec === 300 && k.intervalSec === 100 && k.probes === 3, says: () => 'Redis default tcp-keepalive 300' },
      { when: (k) => k.idleSec !== null && onSocket(k, 'idle') && k.intervalSec === Math.max(1, Math.floor(k.idleSec / 3)) && k.probes === 3, says: (k) => `Redis tcp-keepalive ${k.idleSec}` },
    ],
    keepaliveFix: (v) => `\`tcp-keepalive ${v.idleSec}\` in redis.conf (or \`CONFIG SET tcp-keepalive ${v.idleSec}\`; Redis then sets TCP_KEEPIDLE ${v.idleSec}, TCP_KEEPINTVL ${Math.max(1, Math.floor(v.idleSec / 3))}, TCP_KEEPCNT 3)`,
    sources: ['https://raw.githubusercontent.com/redis/redis/7.0/redis.conf (tcp-keepalive, "Redis default starting with Redis 3.2.1")', 'https://github.com/redis/redis/blob/7.0/src/anet.c (anetKeepAlive)'],
  },
  {
    id: 'nginx',
    name: 'nginx',
    recognise: { comm: /^nginx$/, exe: /^nginx$/, cmdline: /^nginx: (master|worker) process/ },
    settings: [
      { setting: 'listen … so_keepalive=on|off|[idle]:[intvl]:[cnt]', default: 'off', maps: 'SO_KEEPALIVE (+ TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT for the fields given) on the listening socket, inherited by accepted connections' },
      { setting: 'proxy_socket_keepalive on (1.15.6)', default: 'off', maps: 'SO_KEEPALIVE on upstream connections, timing from the namespace sysctl' },
    ],
    patterns: [
      { when: allSysctl, says: () => 'nginx so_keepalive=on or proxy_socket_keepalive on (timing from the namespace sysctl)' },
      { when: (k) => k.enabled, says: (k) => `nginx listen … so_keepalive=${triple(k)}` },
    ],
    keepaliveFix: (v) => `\`listen … so_keepalive=${v.idleSec}s:${v.intervalSec}s:${v.probes}\` on the server's listen line (client side); upstream connections: \`proxy_socket_keepalive on\` (they take the namespace sysctl's timing)`,
    sources: ['https://nginx.org/en/docs/http/ngx_http_core_module.html#listen', 'https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_socket_keepalive'],
  },
  {
    id: 'postgresql',
    name: 'PostgreSQL',
    recognise: { comm: /^(postgres|postmaster)$/, exe: /^(postgres|postmaster)$/, cmdline: /^postgres: /, listenPorts: [5432] },
    settings: [
      // The backend turns SO_KEEPALIVE on for every TCP client connection (pq_init / StreamConnection).
      { setting: 'tcp_keepalives_idle / tcp_keepalives_interval / tcp_keepalives_count', default: '0 = the namespace sysctl (SO_KEEPALIVE is always on for TCP clients)', maps: 'TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT on backend sockets' },
      { setting: 'tcp_user_timeout (ms)', default: '0 = the system default', maps: 'TCP_USER_TIMEOUT' },
    ],
    patterns: [
      { when: allSysctl, says: () => 'PostgreSQL default tcp_keepalives_idle/interval/count 0 (SO_KEEPALIVE on, timing from the namespace sysctl)' },
      { when: (k) => k.enabled, says: (k) => `PostgreSQL ${[onSocket(k, 'idle') ? `tcp_keepalives_idle = ${k.idleSec}` : '', onSocket(k, 'interval') ? `tcp_keepalives_interval = ${k.intervalSec}` : '', onSocket(k, 'probes') ? `tcp_keepalives_count = ${k.probes}` : ''].filter(Boolean).join(', ')}${k.userTimeoutMs ? `, tcp_user_timeout = ${k.userTimeoutMs}` : ''}` },
    ],
    keepaliveFix: (v) => `\`tcp_keepalives_idle = ${v.idleSec}\`, \`tcp_keepalives_interval = ${v.intervalSec}\`, \`tcp_keepalives_count = ${v.probes}\` in postgresql.conf (clients: libpq \`keepalives_idle=${v.idleSec}\`)`,
    userTimeoutFix: '`tcp_user_timeout` (ms) in postgresql.conf, libpq `tcp_user_timeout` on clients',
    sources: ['https://www.postgresql.org/docs/15/runtime-config-connection.html#GUC-TCP-KEEPALIVES-IDLE', 'https://www.postgresql.org/docs/15/runtime-config-connection.html#GUC-TCP-USER-TIMEOUT', 'https://github.com/postgres/postgres/blob/REL_15_STABLE/src/backend/libpq/pqcomm.c (SO_KEEPALIVE on)'],
  },
  {
    id: 'haproxy',
    name: 'HAProxy',
    recognise: { comm: /^haproxy$/, exe: /^haproxy$/ },
    settings: [
      { setting: 'option tcpka / clitcpka / srvtcpka', default: 'off', maps: 'SO_KEEPALIVE on both sides / the client side / the server side' },
      { setting: 'clitcpka-idle, -intvl, -cnt / srvtcpka-idle, -intvl, -cnt (2.2)', default: 'unset: the namespace sysctl', maps: 'TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT' },
      { setting: 'server … check', default: 'off', maps: 'health-check connections closed with SO_LINGER {1,0} (a reset), deliberately' },
    ],
    patterns: [
      { when: allSysctl, says: () => 'HAProxy option tcpka (timing from the namespace sysctl)' },
      { when: (k) => k.enabled, says: (k) => `HAProxy option tcpka with ${[onSocket(k, 'idle') ? `*tcpka-idle ${k.idleSec}s` : '', onSocket(k, 'interval') ? `*tcpka-intvl ${k.intervalSec}s` : '', onSocket(k, 'probes') ? `*tcpka-cnt ${k.probes}` : ''].filter(Boolean).join(', ')}` },
    ],
    keepaliveFix: (v) => `\`option tcpka\` with \`clitcpka-idle ${v.idleSec}s\`, \`clitcpka-intvl ${v.intervalSec}s\`, \`clitcpka-cnt ${v.probes}\` (client side) and \`srvtcpka-idle ${v.idleSec}s\`, \`srvtcpka-intvl ${v.intervalSec}s\`, \`srvtcpka-cnt ${v.probes}\` (server side) in its defaults/frontend/backend`,
    checker: {
      what: 'HAProxy `check` health checks',
      remedy: 'HAProxy closes its health checks with a reset on purpose (it frees the source port at once) and has no setting to change it: nothing to fix on HAProxy; on the backend, do not log or alert on resets from the HAProxy host\'s address (they come every `inter`, 2 s by default), or count them apart',
    },
    sources: ['https://docs.haproxy.org/2.6/configuration.html#4-option%20tcpka', 'https://docs.haproxy.org/2.6/configuration.html#4-clitcpka-idle', 'https://github.com/haproxy/haproxy/issues/560 (checks close with RST to free the port)'],
  },
  {
    id: 'openssh',
    name: 'OpenSSH',
    recognise: { comm: /^(sshd|ssh)$/, exe: /^(sshd|ssh)$/, cmdline: /^sshd: /, listenPorts: [22] },
    settings: [
      { setting: 'TCPKeepAlive (sshd_config, ssh_config)', default: 'yes', maps: 'SO_KEEPALIVE, timing from the namespace sysctl' },
      { setting: 'ClientAliveInterval / ClientAliveCountMax (sshd), ServerAliveInterval (ssh)', default: '0 (off) / 3', maps: 'encrypted keepalive messages inside the session, not socket options' },
    ],
    patterns: [{ when: allSysctl, says: () => 'OpenSSH default TCPKeepAlive yes (SO_KEEPALIVE, timing from the namespace sysctl)' }],
    keepaliveFix: (v) => `\`ClientAliveInterval ${v.idleSec}\` in sshd_config (\`ServerAliveInterval ${v.idleSec}\` for the ssh client): keepalive messages inside the session every ${v.idleSec} s idle; \`TCPKeepAlive yes\` (the default) has no timing of its own, it takes the namespace sysctl`,
    sources: ['https://man.openbsd.org/sshd_config#TCPKeepAlive', 'https://man.openbsd.org/sshd_config#ClientAliveInterval'],
  },
  {
    id: 'envoy',
    name: 'Envoy (Gloo)',
    recognise: { comm: /^envoy$/, exe: /^envoy$/, cmdline: /(^|\/)envoy\s/ },
    settings: [
      { setting: 'cluster upstream_connection_options.tcp_keepalive {keepalive_time, keepalive_interval, keepalive_probes}', default: 'unset: no keepalive; unset fields take the namespace sysctl', maps: 'SO_KEEPALIVE + TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT on upstream connections' },
      { setting: 'listener socket_options (level/name/int_value)', default: 'none', maps: 'any socket option on the listener, inherited by downstream connections' },
    ],
    patterns: [{ when: (k) => k.enabled, says: () => 'Envoy tcp_keepalive or listener socket_options' }],
    keepaliveFix: (v) => `cluster \`upstream_connection_options.tcp_keepalive\` {\`keepalive_time: ${v.idleSec}\`, \`keepalive_interval: ${v.intervalSec}\`, \`keepalive_probes: ${v.probes}\`} (Gloo: the Upstream's \`connectionConfig.tcpKeepalive\`); downstream: listener \`socket_options\` SO_KEEPALIVE=1, TCP_KEEPIDLE=${v.idleSec}, TCP_KEEPINTVL=${v.intervalSec}, TCP_KEEPCNT=${v.probes} (Gloo: the Gateway's \`options.socketOptions\`)`,
    sources: ['https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/address.proto#config-core-v3-tcpkeepalive', 'https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener.proto (socket_options)', 'https://docs.solo.io/gloo-edge/latest/ (Upstream connectionConfig.tcpKeepalive, Gateway socketOptions)'],
  },
  {
    id: 'keepalived',
    name: 'keepalived',
    recognise: { comm: /^keepalived$/, exe: /^keepalived$/ },
    settings: [{ setting: 'TCP_CHECK { connect_timeout, delay_loop }', default: 'n/a', maps: 'a connect per check, closed with SO_LINGER {1,0} (a reset)' }],
    patterns: [],
    keepaliveFix: () => 'keepalived\'s check connections are short-lived and have no keepalive setting: fix the services it balances',
    checker: {
      what: 'keepalived `TCP_CHECK`',
      remedy: 'keepalived\'s TCP_CHECK closes every check with SO_LINGER {1,0} and has no option to close gracefully: on the real servers, do not log or alert on resets from the director\'s address, or use a MISC_CHECK script that closes gracefully',
    },
    sources: ['https://github.com/acassen/keepalived/issues/2560 (TCP_CHECK closes with SO_LINGER, no graceful option)', 'https://keepalived.org/manpage.html (TCP_CHECK)'],
  },
  {
    id: 'node',
    name: 'Node.js',
    recognise: { comm: /^(node|nodejs)$/, exe: /^(node|nodejs)$/ },
    settings: [
      // libuv >= 1.35 (Node >= 12.17/13.12): uv_tcp_keepalive sets TCP_KEEPINTVL 1 and TCP_KEEPCNT 10 with the delay.
      { setting: 'socket.setKeepAlive(true, initialDelay ms)', default: 'off; initialDelay 0 keeps the current idle', maps: 'SO_KEEPALIVE, TCP_KEEPIDLE initialDelay/1000, TCP_KEEPINTVL 1, TCP_KEEPCNT 10' },
      { setting: 'http.Agent {keepAlive, keepAliveMsecs}', default: 'keepAliveMsecs 1000', maps: 'setKeepAlive(true, keepAliveMsecs) on the agent\'s sockets' },
    ],
    patterns: [
      { when: (k) => k.idleSec === 1 && k.intervalSec === 1 && k.probes === 10, says: () => 'Node http.Agent keepAlive default (keepAliveMsecs 1000: idle 1 s, libuv interval 1 s × 10)' },
      { when: (k) => onSocket(k, 'idle') && k.intervalSec === 1 && k.probes === 10, says: (k) => `Node socket.setKeepAlive(true, ${(k.idleSec ?? 0) * 1000})` },
    ],
    keepaliveFix: (v) => `\`socket.setKeepAlive(true, ${v.idleSec * 1000})\` (libuv then probes every 1 s, 10 times), or \`keepAliveMsecs: ${v.idleSec * 1000}\` on the http.Agent`,
    sources: ['https://nodejs.org/api/net.html#socketsetkeepaliveenable-initialdelay', 'https://github.com/libuv/libuv/pull/2669 (TCP_KEEPINTVL 1, TCP_KEEPCNT 10)', 'https://nodejs.org/api/http.html#new-agentoptions (keepAliveMsecs 1000)'],
  },
  {
    id: 'java',
    name: 'Java / Netty',
    recognise: { comm: /^java$/, exe: /^java$/ },
    settings: [
      { setting: 'ChannelOption.SO_KEEPALIVE + NioChannelOption/EpollChannelOption TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT', default: 'off', maps: 'SO_KEEPALIVE, TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT' },
      { setting: 'Socket.setKeepAlive + setOption(ExtendedSocketOptions.TCP_KEEPIDLE…) (JDK 11)', default: 'off', maps: 'the same socket options' },
    ],
    patterns: [],
    keepaliveFix: (v) => `Netty \`ChannelOption.SO_KEEPALIVE, true\` with \`NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), ${v.idleSec}\`, \`TCP_KEEPINTERVAL ${v.intervalSec}\`, \`TCP_KEEPCOUNT ${v.probes}\` (epoll transport: \`EpollChannelOption.TCP_KEEPIDLE\`…); plain sockets: \`setKeepAlive(true)\` + \`setOption(ExtendedSocketOptions.TCP_KEEPIDLE, ${v.idleSec})\``,
    sources: ['https://netty.io/4.1/api/io/netty/channel/epoll/EpollChannelOption.html', 'https://docs.oracle.com/en/java/javase/17/docs/api/jdk.net/jdk/net/ExtendedSocketOptions.html'],
  },
  {
    id: 'grpc',
    name: 'gRPC',
    // Before Go: its TCP_USER_TIMEOUT is the more specific sign (grpc-go sockets also carry Go's 15 s).
    recognise: {},
    matchesUnrecognised: true,
    settings: [
      { setting: 'GRPC_ARG_KEEPALIVE_TIME_MS / keepalive_time', default: 'off on clients (INT_MAX), 2 h on servers', maps: 'HTTP/2 PING frames, not socket options' },
      { setting: 'GRPC_ARG_KEEPALIVE_TIMEOUT_MS / keepalive_timeout', default: '20 s', maps: 'TCP_USER_TIMEOUT = the timeout when keepalive is on (C core, Java, Go)' },
    ],
    patterns: [{ when: (k) => k.userTimeoutMs === 20_000, says: () => 'matches gRPC\'s default keepalive_timeout 20 s (TCP_USER_TIMEOUT 20000 ms)' }],
    keepaliveFix: (v) => `if it is a gRPC program: keepalive pings every ${v.idleSec} s (C core \`GRPC_ARG_KEEPALIVE_TIME_MS=${v.idleSec * 1000}\`, grpc-go \`keepalive.ClientParameters{Time: ${v.idleSec}s}\`, grpc-java \`keepAliveTime(${v.idleSec}, SECONDS)\`)`,
    userTimeoutFix: 'gRPC `GRPC_ARG_KEEPALIVE_TIMEOUT_MS` / `keepalive_timeout` (it sets TCP_USER_TIMEOUT)',
    sources: ['https://github.com/grpc/proposal/blob/master/A18-tcp-user-timeout.md (TCP_USER_TIMEOUT = keepalive timeout, default 20 s)', 'https://github.com/grpc/grpc/blob/master/doc/keepalive.md'],
  },
  {
    id: 'go',
    name: 'Go (net)',
    // Go binaries carry any name: recognised by the default they put on the socket, not by name.
    recognise: {},
    matchesUnrecognised: true,
    settings: [
      { setting: 'net.Dialer.KeepAlive / net.ListenConfig.KeepAlive', default: '15 s (0 = default, negative = off)', maps: 'SO_KEEPALIVE, TCP_KEEPIDLE and TCP_KEEPINTVL both the value' },
      { setting: 'KeepAliveConfig {Idle, Interval, Count} (Go 1.23)', default: '15 s, 15 s, 9', maps: 'TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT' },
    ],
    patterns: [
      { when: (k) => k.idleSec === 15 && k.intervalSec === 15, says: () => 'matches Go\'s net default KeepAlive 15 s (idle 15 s, interval 15 s)' },
    ],
    keepaliveFix: (v) => `if it is a Go program: \`net.Dialer{KeepAlive: ${v.idleSec} * time.Second}\` (ListenConfig for accepted connections), or Go ≥ 1.23 \`KeepAliveConfig{Enable: true, Idle: ${v.idleSec}s, Interval: ${v.intervalSec}s, Count: ${v.probes}}\``,
    sources: ['https://pkg.go.dev/net#Dialer (KeepAlive "currently 15 seconds")', 'https://pkg.go.dev/net#KeepAliveConfig', 'https://go.dev/issue/62254 (defaults 15 s / 15 s / 9)'],
  },
];

/** What a program with no keepalive setting of its own can use instead (Debian package libkeepalive0). */
export const NO_SETTING_FALLBACK = 'libkeepalive';
