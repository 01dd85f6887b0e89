// What every findings rule reads (the input) and the helpers they share: grouping, the finding record, which
// connections cross a middlebox, and where to change a keepalive setting.
import type { Connection, NetnsInfo } from '../../domain/connection.js';
import type { KaEvent } from '../../domain/event.js';
import type { Finding, IdleTimeout } from '../../domain/finding.js';
import { endpointKey } from '../../domain/keys.js';
import { netnsLabel } from '../../domain/netns.js';
import { isLoopback } from '../flow.js';

export interface FindingsInput {
  /** The connections now (end of the capture window, or the only inventory). */
  connections: readonly Connection[];
  /** Connections at the start of a capture window (absent for a plain snapshot). */
  startConnections?: readonly Connection[];
  namespaces: readonly NetnsInfo[];
  /** Events of the capture window (empty for a plain snapshot). */
  events: readonly KaEvent[];
  /** Capture window: start (ms epoch), length, and when the start inventory was taken; null for a plain snapshot. */
  window: { startMs: number; durationMs: number; startInventoryMs: number } | null;
  idleTimeouts: readonly IdleTimeout[];
  /** Longest flow idle seen per connection over the window's inventory refreshes (capture only). */
  observedIdleMs?: ReadonlyMap<string, number>;
  /** The last observation of each connection in the window's inventories, with its time (capture only). */
  lastSeen?: ReadonlyMap<string, { connection: Connection; atMs: number }>;
  /** Every local address of this host's sockets, all namespaces (a filtered view must not make a peer in another
   *  namespace look remote); the connections' own local addresses when absent. */
  hostAddresses?: ReadonlySet<string>;
}

/** Connection ids listed per finding; the total stays in the evidence. */
export const MAX_IDS = 50;
export const LINUX_DEFAULTS = { tcp_keepalive_time: 7200, tcp_keepalive_intvl: 75, tcp_keepalive_probes: 9 };

/** The smallest middlebox idle timeout (seconds): the one a keepalive must beat. */
export const minIdleTimeout = (input: FindingsInput): number => Math.min(...input.idleTimeouts.map((t) => t.seconds));

export function processesOf(conns: readonly Connection[]): { pid: number; comm: string }[] {
  const m = new Map<number, string>();
  for (const c of conns) if (c.process) m.set(c.process.pid, c.process.comm);
  return [...m].sort((a, b) => a[0] - b[0]).map(([pid, comm]) => ({ pid, comm }));
}

export function finding(f: Omit<Finding, 'connections' | 'processes'>, conns: readonly Connection[] | readonly string[], processes?: { pid: number; comm: string }[]): Finding {
  const ids = conns.map((c) => (typeof c === 'string' ? c : c.id));
  const objs = conns.filter((c): c is Connection => typeof c !== 'string');
  return {
    ...f,
    connections: ids.slice(0, MAX_IDS),
    processes: processes ?? processesOf(objs),
    evidence: { connectionCount: ids.length, ...f.evidence },
  };
}

export function groupBy<T>(items: Iterable<T>, key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const g = m.get(k);
    if (g) g.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/** Where to change the keepalive idle of these connections: the namespace sysctl or the application's socket. */
export function keepaliveFix(c: Connection, targetSec: number): string {
  const ns = netnsLabel(c.netns);
  const app = `the application's socket options (TCP_KEEPIDLE=${targetSec}, or its own setting: nginx \`listen … so_keepalive=${targetSec}s:…\` / \`proxy_socket_keepalive on\`, Envoy/Gloo \`tcpKeepalive.keepaliveTime\`, HAProxy \`option tcpka\` with \`srvtcpka-idle\`/\`clitcpka-idle\`, gRPC keepalive \`GRPC_ARG_KEEPALIVE_TIME_MS\` / \`keepalive_time\`)`;
  if (c.keepalive.enabled === false) {
    return `enable keepalive on these sockets (SO_KEEPALIVE) with an idle below ${targetSec + 1} s through ${app}; or make the application send its own heartbeats.`;
  }
  if (c.keepalive.sources.idle === 'socket') return `the idle is set on the socket: lower it in ${app}.`;
  return `set \`sysctl -w net.ipv4.tcp_keepalive_time=${targetSec}\` in network namespace ${ns} (\`ip netns exec ${c.netns.name ?? '<ns>'} sysctl …\`, or the pod/container \`sysctls\`), or lower it per socket through ${app}.`;
}

/** ESTAB connections that may cross a middlebox (not loopback, not to one of its own addresses). */
export function crossing(conns: readonly Connection[]): Connection[] {
  return conns.filter((c) => c.state === 'ESTAB' && !isLoopback(c.peer.address) && c.peer.address !== c.local.address);
}

/** Connections that lived through the whole window (or every crossing ESTAB connection of a plain snapshot). */
export function longLived(input: FindingsInput): Connection[] {
  const est = crossing(input.connections);
  if (!input.startConnections) return est;
  const before = new Set(input.startConnections.map((c) => c.id));
  return est.filter((c) => before.has(c.id));
}

const flowKey = (a: { address: string; port: number }, b: { address: string; port: number }) => `${endpointKey(a)}>${endpointKey(b)}`;

/** When both ends are on this host (another namespace), the other end's keepalive may keep the flow fresh. */
export function keptAliveByPeer(input: FindingsInput, maxIdleSec: number): (c: Connection) => boolean {
  const ends = new Map(input.connections.map((c) => [flowKey(c.local, c.peer), c]));
  return (c) => {
    const other = ends.get(flowKey(c.peer, c.local));
    return !!other && other.keepalive.enabled === true && other.keepalive.idleSec !== null && other.keepalive.idleSec <= maxIdleSec;
  };
}

/** Addresses that belong to this host: a peer with one of them is not behind a middlebox. */
export function hostAddresses(input: FindingsInput): ReadonlySet<string> {
  return input.hostAddresses ?? new Set([...input.connections, ...(input.startConnections ?? [])].map((c) => c.local.address));
}
