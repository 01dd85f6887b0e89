// Core data shapes shared by every layer. Parsers produce the `Ss*` records, sources produce the raw facts,
// the join in model/ turns them into `Connection`s, and ui/ and output/ only ever read `Connection`s.

/** An address as ss prints it, normalised: IPv4 dotted, IPv6 lower-case compressed (v4-mapped stays `::ffff:a.b.c.d`). */
export interface Endpoint {
  address: string;
  port: number;
  /** IPv6 zone (`%eth0` in ss output), when present. */
  scope?: string;
}

/** ss's state names. `UNCONN` is ss's name for TCP_CLOSE. */
export type TcpState =
  | 'ESTAB'
  | 'SYN-SENT'
  | 'SYN-RECV'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'TIME-WAIT'
  | 'UNCONN'
  | 'CLOSE-WAIT'
  | 'LAST-ACK'
  | 'LISTEN'
  | 'CLOSING';

export const TCP_STATES: readonly TcpState[] = [
  'ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN', 'CLOSE-WAIT', 'LAST-ACK',
  'LISTEN', 'CLOSING',
];

/** ss `timer:(kind,expiry,count)`. `on` = retransmit/RTO, `persist` = zero-window probe. */
export type TimerKind = 'on' | 'keepalive' | 'timewait' | 'persist' | 'unknown';

export interface SsTimer {
  kind: TimerKind;
  /** Time until expiry in ms (already corrected for the pre-6.11 `S.mmmms` notation). */
  remainingMs: number;
  /** Retransmits for `on`, outstanding keepalive probes (icsk_probes_out) for `keepalive`. */
  count: number;
}

/** One `users:(("name",pid=N,fd=N))` entry (only present when ss ran with -p, e.g. in captured fixtures). */
export interface SsUser {
  comm: string;
  pid: number;
  fd: number;
}

/** The tcp_info figures ka-top uses; everything else ss printed stays in `extra`. Times in ms. */
export interface TcpInfo {
  lastsndMs: number | null;
  lastrcvMs: number | null;
  lastackMs: number | null;
  rtoMs: number | null;
  rttMs: number | null;
  rttVarMs: number | null;
  mss: number | null;
  cwnd: number | null;
  bytesSent: number | null;
  bytesAcked: number | null;
  bytesReceived: number | null;
  segsOut: number | null;
  segsIn: number | null;
  unacked: number | null;
  lost: number | null;
  /** `retrans:current/total` */
  retransCurrent: number | null;
  retransTotal: number | null;
  /** Flags such as `ts`, `sack`, `ecn` and the congestion control name, in order of appearance. */
  flags: string[];
}

/** One socket line of `ss -HtinaeO` (optionally with -p). Pure data, no joins. */
export interface SsSocket {
  state: TcpState;
  recvQ: number;
  sendQ: number;
  local: Endpoint;
  peer: Endpoint;
  timer: SsTimer | null;
  uid: number | null;
  /** Socket inode; 0 for sockets without one (TIME-WAIT, SYN-RECV request sockets). */
  inode: number;
  /** `sk:` cookie as lower-case hex without leading zeros, or null when ss printed none. */
  cookie: string | null;
  cgroup: string | null;
  users: SsUser[];
  info: TcpInfo;
  /** Remaining `key:value` tokens, verbatim (kept out of `info` so connections carry only the typed figures). */
  extra: Record<string, string>;
}

/** The net.ipv4 sysctls ka-top reads per network namespace. */
export const SYSCTL_NAMES = [
  'tcp_keepalive_time', 'tcp_keepalive_intvl', 'tcp_keepalive_probes', 'tcp_retries2', 'tcp_fin_timeout',
] as const satisfies readonly (keyof NetnsSysctl)[];

/** Keepalive-related sysctls of one network namespace (seconds / counts, by their sysctl names). */
export interface NetnsSysctl {
  tcp_keepalive_time: number;
  tcp_keepalive_intvl: number;
  tcp_keepalive_probes: number;
  tcp_retries2: number;
  tcp_fin_timeout: number;
}

export interface NetnsInfo {
  inode: number;
  /** Name under /run/netns (ip netns), if any. */
  name: string | null;
  /** Container id (short, 12 hex) and runtime when a process in this namespace belongs to one. */
  container: ContainerRef | null;
  /** True for the namespace ka-top itself runs in. */
  self: boolean;
  sysctl: NetnsSysctl | null;
  /** Why sysctl or the socket dump of this namespace could not be read, if so. */
  error: string | null;
}

export interface ContainerRef {
  id: string;
  runtime: string;
  /** The container's name (docker, or Kubernetes' container name), when the node tells it. */
  name?: string | null;
  /** The Kubernetes pod it runs in (from the kubepods cgroup), when it is one. */
  pod?: PodRef | null;
}

/** A Kubernetes pod: its UID from the cgroup path, its namespace and name from the node's pod log directories. */
export interface PodRef {
  uid: string;
  namespace: string | null;
  name: string | null;
}

/** Socket options read from the owner's fd (pidfd_getfd + getsockopt): what the kernel actually uses now. */
export interface SockOpts {
  keepalive: boolean;
  /** TCP_KEEPIDLE, TCP_KEEPINTVL (s) and TCP_KEEPCNT: effective values (the kernel returns the sysctl when unset). */
  keepIdleSec: number;
  keepIntvlSec: number;
  keepCnt: number;
  /** TCP_USER_TIMEOUT in ms; 0 = unset. */
  userTimeoutMs: number;
  lingerOn: boolean;
  lingerSec: number;
}

export interface ProcessInfo {
  pid: number;
  comm: string;
  /** argv joined with spaces (NULs in /proc/<pid>/cmdline). */
  cmdline: string;
  /** /proc/<pid>/exe (the program file), when readable. */
  exe?: string | null;
  /** Libraries named in the process's LD_PRELOAD (base names), when readable and set. */
  preload?: string[];
  uid: number | null;
  user: string | null;
  cgroup: string | null;
  container: ContainerRef | null;
  netns: number | null;
}

/** A process holding a socket, with the fd it holds it on (its cgroup and namespace are the connection's). */
export interface SocketOwner extends Omit<ProcessInfo, 'cgroup' | 'netns'> {
  fd: number;
}

export type KeepaliveSource = 'socket' | 'sysctl' | 'unknown';

export interface KeepaliveView {
  /** SO_KEEPALIVE; null when it could not be read. */
  enabled: boolean | null;
  idleSec: number | null;
  intervalSec: number | null;
  probes: number | null;
  /** `socket` if any of idle/interval/probes was set on the socket (differs from the namespace sysctl). */
  source: KeepaliveSource;
  /** Per-field origin, for the TUI's mark. */
  sources: { idle: KeepaliveSource; interval: KeepaliveSource; probes: KeepaliveSource };
  /** Why the settings are unknown (not root, process gone, …); null when known. */
  reason: string | null;
  /** The keepalive timer as the kernel shows it (ss `timer:(keepalive,…)`), or null when not armed/visible. */
  timer: { remainingMs: number; probesOutstanding: number } | null;
  /** Derived, assuming the peer stays silent from now on (see model/keepalive.ts). */
  nextProbeInMs: number | null;
  /** Worst-case time until the kernel declares the peer dead; null when keepalive cannot kill this connection. */
  deadInMs: number | null;
  /** Which rule decides death: probe count, or TCP_USER_TIMEOUT (which then overrides TCP_KEEPCNT). */
  giveUpRule: 'probes' | 'user_timeout' | null;
  /** True when the figures are estimated because the keepalive timer is hidden (another timer pending). */
  estimated: boolean;
}

export interface Connection {
  /** Stable across refreshes: `<netns>:<cookie>` (or the 4-tuple when the kernel gives no cookie). */
  id: string;
  state: TcpState;
  local: Endpoint;
  peer: Endpoint;
  netns: { inode: number; name: string | null; container: ContainerRef | null };
  inode: number;
  cookie: string | null;
  uid: number | null;
  cgroup: string | null;
  /** The primary owner (lowest pid) or null (TIME-WAIT, orphaned, or owners unreadable). */
  process: SocketOwner | null;
  /** Every process holding the socket (shared after fork, passed over unix sockets…). */
  processes: SocketOwner[];
  keepalive: KeepaliveView;
  userTimeoutMs: number | null;
  linger: { enabled: boolean; seconds: number } | null;
  idleMs: { send: number | null; recv: number | null; ack: number | null };
  /** Whatever timer ss shows (any kind), verbatim. */
  timer: SsTimer | null;
  queues: { recv: number; send: number };
  /** tcp_info figures (ss's untyped extras stay in the SsSocket: they would double a large snapshot). */
  tcp: TcpInfo;
  /** The owning application as recognised from comm, exe, cmdline, LD_PRELOAD and listening ports (absent without
   *  an owner). */
  application?: ApplicationView;
}

/** Which application owns a connection and where its keepalive values come from (model/apps). */
export interface ApplicationView {
  /** Entry of the applications table (src/model/apps/table.ts); null when the owner matched none. */
  id: string | null;
  name: string | null;
  /** How it was recognised: `comm redis-server`, `exe nginx`, `listening port 6379`, … */
  recognisedBy: string | null;
  /** Where the keepalive values read from the socket come from, in words ("Redis default tcp-keepalive 300",
   *  "set by the application", "namespace sysctl"); null when keepalive is off or could not be read. */
  keepalive: string | null;
  /** The table entry whose keepalive pattern matched (an unrecognised program can match Go's default). */
  keepaliveRule: string | null;
}

/** One TCP socket fd found by the owner scan (ka-sockinfo), with its options when they could be read. */
export interface ScannedSocket {
  pid: number;
  fd: number;
  inode: number;
  opts: SockOpts | null;
  /** errno name when the options could not be read (EPERM without root, ESRCH when the process exited). */
  error: string | null;
}

export interface SockScan {
  sockets: ScannedSocket[];
  /** Processes whose fds could not be read (not root). */
  deniedPids: number;
  elapsedUs: number;
}
