// The findings rules engine: turns a snapshot (and the events of a capture window) into plain-language findings,
// each with a severity, the connections and processes concerned, a concrete fix at the right layer, and the
// evidence it rests on. Pure: every rule is a small function of the data; the README (Findings) explains each one.
import type { KaEvent } from './events.js';
import type { Connection, NetnsInfo } from './types.js';

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

export interface Finding {
  rule: string;
  severity: Severity;
  summary: string;
  /** Connection ids (bounded; `evidence.connectionCount` has the total). */
  connections: string[];
  processes: { pid: number; comm: string }[];
  fix: string;
  evidence: Record<string, unknown>;
}

export interface IdleTimeout {
  name: string;
  seconds: number;
}

/**
 * Idle timeouts of common middleboxes (defaults; override with --idle-timeouts). Each checked against the vendor:
 * - aws-nlb 350 s: AWS Network Load Balancer, "The default idle timeout value for TCP flows is 350 seconds"
 *   (docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html; configurable 60–6000 s).
 * - aws-nat 350 s: AWS NAT gateway, a connection idle for 350 s or more times out
 *   (docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html, "Connection timeout").
 * - azure-lb 240 s: Azure Load Balancer rules, "The default setting is 4 minutes" (4–100 min)
 *   (learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout); Azure NAT Gateway also defaults to 4 min.
 * - gcp-nat 1200 s: Google Cloud NAT `tcpEstablishedIdleTimeoutSec`, "Defaults to 1200s if not set" (Compute API
 *   RouterNat). Its 30 s default is for transitory (SYN/FIN) TCP and for UDP, not for established flows.
 */
export const DEFAULT_IDLE_TIMEOUTS: readonly IdleTimeout[] = [
  { name: 'azure-lb', seconds: 240 },
  { name: 'aws-nlb', seconds: 350 },
  { name: 'aws-nat', seconds: 350 },
  { name: 'gcp-nat', seconds: 1200 },
];

/** `name=S,name=S` (S in seconds, or with an s/m/h suffix). */
export function parseIdleTimeouts(text: string): IdleTimeout[] {
  const out: IdleTimeout[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+)=(\d+(?:\.\d+)?)(s|m|h)?$/.exec(part);
    if (!m) throw new Error(`invalid idle timeout '${part}': expected name=SECONDS (e.g. aws-nlb=350)`);
    const seconds = Number(m[2]) * (m[3] === 'h' ? 3600 : m[3] === 'm' ? 60 : 1);
    if (seconds <= 0) throw new Error(`invalid idle timeout '${part}': must be positive`);
    out.push({ name: m[1]!, seconds });
  }
  if (!out.length) throw new Error('empty --idle-timeouts list');
  return out;
}

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
}

/** Connection ids listed per finding; the total stays in the evidence. */
export const MAX_IDS = 50;
const LINUX_DEFAULTS = { tcp_keepalive_time: 7200, tcp_keepalive_intvl: 75, tcp_keepalive_probes: 9 };

// ---- shared helpers ----

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** Idle time of the flow as a middlebox sees it: nothing sent, received or acknowledged. */
export function flowIdleMs(c: Connection): number | null {
  const vals = [c.idleMs.send, c.idleMs.recv, c.idleMs.ack].filter((v): v is number => v !== null);
  return vals.length ? Math.min(...vals) : null;
}

const nsLabel = (c: Connection | NetnsInfo): string =>
  ('netns' in c ? (c.netns.name ?? c.netns.container?.id ?? String(c.netns.inode)) : (c.name ?? c.container?.id ?? String(c.inode)));

function processesOf(conns: readonly Connection[]): { pid: number; comm: string }[] {
  const m = new Map<number, string>();
  for (const c of conns) if (c.process) m.set(c.process.pid, c.process.comm);
  return [...m].sort((a, b) => a[0] - b[0]).map(([pid, comm]) => ({ pid, comm }));
}

function finding(f: Omit<Finding, 'connections' | 'processes'>, conns: readonly Connection[] | readonly string[], processes?: { pid: number; comm: string }[]): Finding {
  const ids = conns.map((c) => (typeof c === 'string' ? c : c.id));
  const objs = conns.filter((c): c is Connection => typeof c !== 'string');
  return {
    ...f,
    connections: ids.slice(0, MAX_IDS),
    processes: processes ?? processesOf(objs),
    evidence: { connectionCount: ids.length, ...f.evidence },
  };
}

function groupBy<T>(items: Iterable<T>, key: (t: T) => string): Map<string, T[]> {
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
function keepaliveFix(c: Connection, targetSec: number): string {
  const ns = nsLabel(c);
  const app = `the application's socket options (TCP_KEEPIDLE=${targetSec}, or its own setting: nginx \`listen … so_keepalive=${targetSec}s:…\` / \`proxy_socket_keepalive on\`, Envoy/Gloo \`tcpKeepalive.keepaliveTime\`, HAProxy \`option tcpka\` with \`srvtcpka-idle\`/\`clitcpka-idle\`, gRPC keepalive \`GRPC_ARG_KEEPALIVE_TIME_MS\` / \`keepalive_time\`)`;
  if (c.keepalive.enabled === false) {
    return `enable keepalive on these sockets (SO_KEEPALIVE) with an idle below ${targetSec + 1} s through ${app}; or make the application send its own heartbeats.`;
  }
  if (c.keepalive.sources.idle === 'socket') return `the idle is set on the socket: lower it in ${app}.`;
  return `set \`sysctl -w net.ipv4.tcp_keepalive_time=${targetSec}\` in network namespace ${ns} (\`ip netns exec ${c.netns.name ?? '<ns>'} sysctl …\`, or the pod/container \`sysctls\`), or lower it per socket through ${app}.`;
}

// ---- rules ----

/** ESTAB connections that may cross a middlebox (not loopback, not to one of its own addresses). */
function crossing(conns: readonly Connection[]): Connection[] {
  return conns.filter((c) => c.state === 'ESTAB' && !isLoopback(c.peer.address) && c.peer.address !== c.local.address);
}

/** Connections that lived through the whole window (or every crossing ESTAB connection of a plain snapshot). */
function longLived(input: FindingsInput): Connection[] {
  const est = crossing(input.connections);
  if (!input.startConnections) return est;
  const before = new Set(input.startConnections.map((c) => c.id));
  return est.filter((c) => before.has(c.id));
}

const tupleKey = (a: { address: string; port: number }, b: { address: string; port: number }) => `${a.address}:${a.port}>${b.address}:${b.port}`;

/** When both ends are on this host (another namespace), the other end's keepalive may keep the flow fresh. */
function keptAliveByPeer(input: FindingsInput, maxIdleSec: number): (c: Connection) => boolean {
  const ends = new Map(input.connections.map((c) => [tupleKey(c.local, c.peer), c]));
  return (c) => {
    const other = ends.get(tupleKey(c.peer, c.local));
    return !!other && other.keepalive.enabled === true && other.keepalive.idleSec !== null && other.keepalive.idleSec <= maxIdleSec;
  };
}

/** Keepalive idle longer than a middlebox idle timeout: the flow is dropped before the first probe. */
export function ruleKeepaliveOverMiddlebox(input: FindingsInput): Finding[] {
  const minT = Math.min(...input.idleTimeouts.map((t) => t.seconds));
  const keptAlive = keptAliveByPeer(input, minT);
  const hit = longLived(input).filter((c) => c.keepalive.enabled === true && c.keepalive.idleSec !== null && c.keepalive.idleSec > minT && !keptAlive(c));
  return [...groupBy(hit, (c) => `${c.netns.inode}/${c.keepalive.idleSec}/${c.keepalive.sources.idle}`).values()].map((g) => {
    const c0 = g[0]!;
    const idle = c0.keepalive.idleSec!;
    const exceeded = input.idleTimeouts.filter((t) => idle > t.seconds).sort((a, b) => a.seconds - b.seconds);
    const target = Math.max(1, Math.floor(exceeded[0]!.seconds * 0.8));
    return finding({
      rule: 'keepalive-idle-over-middlebox-timeout',
      severity: 'warning',
      summary: `${g.length} long-lived connection(s) in netns ${nsLabel(c0)} wait ${idle} s of idleness before the first keepalive probe (${c0.keepalive.sources.idle === 'socket' ? 'set on the socket' : 'namespace sysctl'}), longer than ${exceeded.map((t) => `${t.name} ${t.seconds} s`).join(', ')}: a load balancer or NAT on the path silently drops such a flow once it idles, and the next send hangs or gets a reset.`,
      fix: keepaliveFix(c0, target),
      evidence: { keepaliveIdleSec: idle, source: c0.keepalive.sources.idle, netns: nsLabel(c0), exceeds: exceeded },
    }, g);
  });
}

/** Long-idle connections without keepalive: nothing detects a dead peer or keeps a middlebox's entry fresh. */
export function ruleIdleWithoutKeepalive(input: FindingsInput): Finding[] {
  const minT = Math.min(...input.idleTimeouts.map((t) => t.seconds));
  const keptAlive = keptAliveByPeer(input, minT);
  const idleOf = (c: Connection) => Math.max(flowIdleMs(c) ?? 0, input.observedIdleMs?.get(c.id) ?? 0);
  const hit = crossing(input.connections).filter((c) => c.keepalive.enabled === false && idleOf(c) >= minT * 1000 && !keptAlive(c));
  return [...groupBy(hit, (c) => `${c.netns.inode}/${c.process?.comm ?? '?'}`).values()].map((g) => {
    const c0 = g[0]!;
    const maxIdle = Math.max(...g.map(idleOf));
    const exceeded = input.idleTimeouts.filter((t) => t.seconds * 1000 <= maxIdle).sort((a, b) => a.seconds - b.seconds);
    return finding({
      rule: 'idle-without-keepalive',
      severity: 'warning',
      summary: `${g.length} connection(s) of ${c0.process?.comm ?? 'unknown owner'} in netns ${nsLabel(c0)} were idle up to ${Math.round(maxIdle / 1000)} s with keepalive off, longer than ${exceeded.map((t) => `${t.name} ${t.seconds} s`).join(', ')}: a middlebox with such an idle timeout silently forgets the flow (the next send hangs or is reset), and a peer that vanished is never noticed.`,
      fix: keepaliveFix(c0, Math.max(1, Math.floor(minT * 0.8))),
      evidence: { maxIdleMs: maxIdle, exceeds: exceeded },
    }, g);
  });
}

/** Peers not answering keepalive probes: probes outstanding now, or probes sent while earlier ones were unanswered. */
export function rulePeersNotAnswering(input: FindingsInput): Finding[] {
  const byId = new Map<string, Connection>();
  for (const c of [...(input.startConnections ?? []), ...input.connections]) byId.set(c.id, c);
  const outstanding = new Map<string, number>();
  for (const c of [...(input.startConnections ?? []), ...input.connections]) {
    const po = c.keepalive.timer?.probesOutstanding ?? 0;
    if (po > 0) outstanding.set(c.id, Math.max(po, outstanding.get(c.id) ?? 0));
  }
  const unanswered = new Map<string, { n: number; pid: number | null; comm: string | null }>();
  for (const e of input.events) {
    // probesOutstanding counts this probe: 2 or more means the previous one got no answer.
    if (e.type === 'keepalive_probe' && e.probesOutstanding >= 2 && e.connection) {
      const u = unanswered.get(e.connection);
      unanswered.set(e.connection, { n: Math.max(u?.n ?? 0, e.probesOutstanding), pid: e.pid, comm: e.comm });
    }
  }
  const ids = [...new Set([...outstanding.keys(), ...unanswered.keys()])];
  if (!ids.length) return [];
  const conns = ids.map((id) => byId.get(id)).filter((c): c is Connection => !!c);
  const procs = new Map<number, string>();
  for (const c of conns) if (c.process) procs.set(c.process.pid, c.process.comm);
  for (const u of unanswered.values()) if (u.pid !== null) procs.set(u.pid, u.comm ?? '?');
  const peers = [...new Set(ids.map((id) => byId.get(id)?.peer.address).filter(Boolean))];
  return [finding({
    rule: 'peers-not-answering-probes',
    severity: 'warning',
    summary: `${ids.length} connection(s) have keepalive probes going unanswered (peer${peers.length === 1 ? '' : 's'} ${peers.slice(0, 5).join(', ')}${peers.length > 5 ? ', …' : ''}): the peer host is down, partitioned, or a firewall/middlebox drops the flow. The kernel will reset them when the probes run out.`,
    fix: 'check the peers\' reachability (ping, the peer service\'s health); if the peer is gone for good nothing is needed: keepalive will end these connections. If probes are answered too late, raise TCP_KEEPINTVL/TCP_KEEPCNT (net.ipv4.tcp_keepalive_intvl/_probes).',
    evidence: {
      probesOutstandingNow: Object.fromEntries(outstanding),
      unansweredProbesSeen: Object.fromEntries([...unanswered].map(([id, u]) => [id, u.n])),
      peers,
    },
  }, ids, [...procs].map(([pid, comm]) => ({ pid, comm })))];
}

/** Connections the kernel ended because keepalive probes went unanswered. */
export function ruleKeepaliveTimeouts(input: FindingsInput): Finding[] {
  const ev = input.events.filter((e): e is Extract<KaEvent, { type: 'keepalive_timeout' }> => e.type === 'keepalive_timeout');
  if (!ev.length) return [];
  const procs = new Map<number, string>();
  for (const e of ev) if (e.pid !== null) procs.set(e.pid, e.comm ?? '?');
  const peers = [...new Set(ev.map((e) => e.peer?.address).filter(Boolean))];
  return [finding({
    rule: 'keepalive-timeouts',
    severity: 'critical',
    summary: `${ev.length} connection(s) were declared dead by keepalive during the capture (the application got ETIMEDOUT); peers: ${peers.slice(0, 5).join(', ')}.`,
    fix: 'the peers stopped answering: check their hosts and the network path. The applications must reconnect on ETIMEDOUT.',
    evidence: { timeouts: ev.length, peers },
  }, ev.map((e) => e.connection).filter((c): c is string => !!c), [...procs].map(([pid, comm]) => ({ pid, comm })))];
}

/** Processes closing with SO_LINGER {1,0}: every close is a reset (typical of load-balancer health checkers). */
export function ruleZeroLingerResets(input: FindingsInput): Finding[] {
  const ev = input.events.filter((e): e is Extract<KaEvent, { type: 'rst_sent' }> => e.type === 'rst_sent' && e.cause === 'linger');
  const out: Finding[] = [];
  const secs = input.window ? Math.max(input.window.durationMs / 1000, 0.001) : null;
  for (const [, g] of groupBy(ev, (e) => `${e.pid ?? '?'}/${e.comm ?? '?'}`)) {
    const e0 = g[0]!;
    const rate = secs ? g.length / secs : null;
    const who = e0.pid !== null ? `${e0.comm}[${e0.pid}]` : 'an unidentified process';
    const peers = [...new Set(g.map((e) => e.peer ? `${e.peer.address}:${e.peer.port}` : '?'))];
    out.push(finding({
      rule: 'zero-linger-resets',
      severity: rate !== null && rate >= 1 ? 'warning' : 'info',
      summary: `${who} closed ${g.length} connection(s) with SO_LINGER {1,0}${rate !== null ? ` (${rate.toFixed(2)}/s)` : ''}, so each close sent a reset to ${peers.slice(0, 3).join(', ')}${peers.length > 3 ? ', …' : ''}. This is the pattern of TCP health checkers: reset counters rise on a healthy backend; it is not an outage by itself.`,
      fix: `if ${e0.comm ?? 'it'} is a health checker, exclude its source from reset alerts, or make it close gracefully (no SO_LINGER {1,0}) or check at the application layer (HAProxy \`option httpchk\`/\`tcp-check\`, an HTTP health check on the load balancer).`,
      evidence: { resets: g.length, ratePerSec: rate === null ? null : Math.round(rate * 100) / 100, peers, reason: e0.reason },
    }, [...new Set(g.map((e) => e.connection).filter((c): c is string => !!c))], e0.pid !== null ? [{ pid: e0.pid, comm: e0.comm ?? '?' }] : []));
  }
  // Without events (plain snapshot or no tracer): the sockets that will do it.
  if (!ev.length) {
    const armed = input.connections.filter((c) => c.linger?.enabled && c.linger.seconds === 0 && c.state === 'ESTAB');
    for (const [, g] of groupBy(armed, (c) => `${c.process?.pid ?? '?'}`)) {
      const c0 = g[0]!;
      out.push(finding({
        rule: 'zero-linger-resets',
        severity: 'info',
        summary: `${g.length} connection(s) of ${c0.process ? `${c0.process.comm}[${c0.process.pid}]` : 'an unknown owner'} have SO_LINGER {1,0}: closing them sends a reset instead of a FIN (health-checker style).`,
        fix: 'expected for health checkers; otherwise remove SO_LINGER {1,0} so closes are graceful.',
        evidence: { armedSockets: g.length },
      }, g));
    }
  }
  return out;
}

/** TCP_USER_TIMEOUT decides instead of TCP_KEEPCNT, or is shorter than the keepalive idle. */
export function ruleUserTimeout(input: FindingsInput): Finding[] {
  // Both inventories: a connection that died in the window (its user timeout fired) still counts.
  const all = new Map([...(input.startConnections ?? []), ...input.connections].map((c) => [c.id, c]));
  const hit = [...all.values()].filter((c) => (c.userTimeoutMs ?? 0) > 0 && c.keepalive.enabled === true && c.keepalive.idleSec !== null);
  return [...groupBy(hit, (c) => `${c.process?.pid ?? '?'}/${c.userTimeoutMs}/${c.keepalive.idleSec}/${c.keepalive.intervalSec}/${c.keepalive.probes}`).values()].map((g) => {
    const c0 = g[0]!;
    const k = c0.keepalive;
    const ut = c0.userTimeoutMs!;
    const byProbes = (k.idleSec! + (k.intervalSec ?? 0) * (k.probes ?? 0)) * 1000;
    const shorter = ut < k.idleSec! * 1000;
    return finding({
      rule: 'user-timeout-overrides-keepalive',
      severity: shorter ? 'warning' : 'info',
      summary: shorter
        ? `${g.length} connection(s) of ${c0.process?.comm ?? '?'} have TCP_USER_TIMEOUT ${ut} ms, shorter than the keepalive idle of ${k.idleSec} s: once idle that long, the first keepalive timer run kills the connection at the first unanswered probe; TCP_KEEPINTVL/TCP_KEEPCNT do not matter.`
        : `${g.length} connection(s) of ${c0.process?.comm ?? '?'} have TCP_USER_TIMEOUT ${ut} ms: it, not TCP_KEEPCNT, decides when a silent peer is declared dead (~${Math.round(ut / 1000)} s of silence instead of ${Math.round(byProbes / 1000)} s by ${k.probes} probes). Usually set by gRPC (its keepalive timeout).`,
      fix: 'intended with gRPC keepalive (`GRPC_ARG_KEEPALIVE_TIMEOUT_MS` / `keepalive_timeout`, which sets TCP_USER_TIMEOUT): keep it longer than TCP_KEEPIDLE + one TCP_KEEPINTVL, or change it with setsockopt(TCP_USER_TIMEOUT) / the library option.',
      evidence: { userTimeoutMs: ut, keepaliveIdleSec: k.idleSec, intervalSec: k.intervalSec, probes: k.probes, giveUpByProbesMs: byProbes },
    }, g);
  });
}

interface Reclaimed { id: string; idleAtResetMs: number; timeout: IdleTimeout | null; conn: Connection; inferredCause: string }

/** Resets received on flows idle for at least a middlebox timeout, from a sender not seen on this host. */
function reclaimedFlows(input: FindingsInput): Reclaimed[] {
  const minT = Math.min(...input.idleTimeouts.map((t) => t.seconds));
  const seen = input.lastSeen ?? new Map((input.startConnections ?? []).map((c) => [c.id, { connection: c, atMs: input.window?.startInventoryMs ?? 0 }]));
  const out: Reclaimed[] = [];
  if (!input.window) return out;
  for (const e of input.events) {
    if (e.type !== 'rst_received' || !e.connection || !e.inferredCause.startsWith('peer_reset')) continue;
    const obs = seen.get(e.connection);
    const idle = obs ? flowIdleMs(obs.connection) : null;
    if (!obs || idle === null) continue;
    // Idle when last seen, plus the time from that inventory to the reset.
    const idleAtReset = idle + Math.max(0, Date.parse(e.ts) - obs.atMs);
    if (idleAtReset < minT * 1000) continue;
    const fitting = input.idleTimeouts.filter((t) => t.seconds * 1000 <= idleAtReset).sort((a, b) => b.seconds - a.seconds);
    out.push({ id: obs.connection.id, idleAtResetMs: idleAtReset, timeout: fitting[0] ?? null, conn: obs.connection, inferredCause: e.inferredCause });
  }
  return out;
}

/** A reset arriving on a flow that had been idle longer than a middlebox timeout: the middlebox forgot it. */
export function ruleIdleReclaimed(input: FindingsInput): Finding[] {
  const r = reclaimedFlows(input);
  if (!r.length) return [];
  return [...groupBy(r, (x) => String(x.conn.netns.inode)).values()].map((g) => {
    const c0 = g[0]!.conn;
    const maxIdle = Math.max(...g.map((x) => x.idleAtResetMs));
    const t = g[0]!.timeout!;
    return finding({
      rule: 'idle-flow-reset-by-middlebox',
      severity: 'critical',
      summary: `${g.length} connection(s) in netns ${nsLabel(c0)} received a reset after ${Math.round(maxIdle / 1000)} s of idleness, from a sender not seen on this host: a middlebox with an idle timeout (matches ${t.name} ${t.seconds} s) dropped the flow and rejected the next packet.`,
      fix: `keep such flows busier than the timeout: ${keepaliveFix(c0, Math.max(1, Math.floor(t.seconds * 0.8)))}`,
      evidence: { idleAtResetMs: Object.fromEntries(g.map((x) => [x.id, x.idleAtResetMs])), matchedTimeout: t },
    }, g.map((x) => x.conn));
  });
}

/** Namespaces on the 7200/75/9 defaults whose connections cross a middlebox (heuristic, see the README, Findings). */
export function ruleDefaultSysctlBehindMiddlebox(input: FindingsInput): Finding[] {
  const local = new Set([...input.connections, ...(input.startConnections ?? [])].map((c) => c.local.address));
  const reclaimedConns = reclaimedFlows(input).map((r) => r.conn);
  const reclaimed = new Set(reclaimedConns.map((c) => c.netns.inode));
  const minT = Math.min(...input.idleTimeouts.map((t) => t.seconds));
  const out: Finding[] = [];
  for (const ns of input.namespaces) {
    const s = ns.sysctl;
    if (!s || s.tcp_keepalive_time !== LINUX_DEFAULTS.tcp_keepalive_time || s.tcp_keepalive_intvl !== LINUX_DEFAULTS.tcp_keepalive_intvl || s.tcp_keepalive_probes !== LINUX_DEFAULTS.tcp_keepalive_probes) continue;
    const conns = input.connections.filter((c) => c.netns.inode === ns.inode && c.state === 'ESTAB');
    // Relies on the defaults: keepalive from the sysctl, or no keepalive at all.
    const relying = conns.filter((c) => c.keepalive.enabled === false || (c.keepalive.enabled === true && c.keepalive.sources.idle === 'sysctl'));
    const remote = relying.filter((c) => !isLoopback(c.peer.address) && !local.has(c.peer.address));
    const sign = reclaimed.has(ns.inode);
    if (!sign && !remote.length) continue;
    const concerned = sign ? [...new Set([...reclaimedConns.filter((c) => c.netns.inode === ns.inode), ...relying])] : remote;
    out.push(finding({
      rule: 'default-keepalive-sysctl-behind-middlebox',
      severity: sign ? 'warning' : 'info',
      summary: `netns ${nsLabel(ns)} still uses the Linux keepalive defaults (7200 s idle / 75 s / 9 probes) while ${sign ? 'a middlebox reset an idle flow there during the capture' : `${remote.length} connection(s) relying on them go to peers outside this host`}: a flow idle for 2 hours is far beyond any load-balancer/NAT idle timeout (${input.idleTimeouts.map((t) => `${t.name} ${t.seconds} s`).join(', ')}).`,
      fix: `in netns ${nsLabel(ns)}: \`sysctl -w net.ipv4.tcp_keepalive_time=${Math.max(1, Math.floor(minT * 0.8))} net.ipv4.tcp_keepalive_intvl=${Math.max(1, Math.min(30, Math.floor(minT / 4)))} net.ipv4.tcp_keepalive_probes=5\` (persist it in /etc/sysctl.d or the pod's \`securityContext.sysctls\`); applications still need SO_KEEPALIVE on their sockets.`,
      evidence: { netns: nsLabel(ns), sysctl: s, middleboxSign: sign ? 'reset received on an idle flow' : 'peers outside this host', connectionsRelying: relying.length },
    }, concerned));
  }
  return out;
}

export const RULES: readonly ((input: FindingsInput) => Finding[])[] = [
  ruleKeepaliveTimeouts, ruleIdleReclaimed, rulePeersNotAnswering, ruleKeepaliveOverMiddlebox, ruleIdleWithoutKeepalive,
  ruleDefaultSysctlBehindMiddlebox, ruleUserTimeout, ruleZeroLingerResets,
];

/** Every rule's findings, most severe first. */
export function evaluateFindings(input: FindingsInput): Finding[] {
  const all = RULES.flatMap((r) => r(input));
  return all
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITIES.indexOf(a.f.severity) - SEVERITIES.indexOf(b.f.severity) || a.i - b.i)
    .map((x) => x.f);
}
