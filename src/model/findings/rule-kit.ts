// What every findings rule reads (the input) and the helpers they share: grouping, the finding record, which
// connections cross a middlebox, and where to change a keepalive setting.
import type { Connection, NetnsInfo } from '../../domain/connection.js';
import type { KaEvent, RstCause, SocketEvent } from '../../domain/event.js';
import type { Finding, IdleTimeout } from '../../domain/finding.js';
import { endpointKey } from '../../domain/keys.js';
import { netnsLabel } from '../../domain/netns.js';
import { isLoopback } from '../flow.js';
import { fixValues, noSettingFix, ownerAdvice, type OwnerAdvice } from '../apps/recognise.js';

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
  /** The last observation in the window's inventories, with its time, of (at least) each connection an event names. */
  lastSeen?: ReadonlyMap<string, { connection: Connection; atMs: number }>;
  /** Every local address of this host's sockets, all namespaces (a filtered view must not make a peer in another
   *  namespace look remote); the connections' own local addresses when absent. */
  hostAddresses?: ReadonlySet<string>;
}

/** Connection ids listed per finding (and per-connection evidence entries); the total stays in the evidence. */
export const MAX_IDS = 50;

/** Per-connection evidence, cut like the id list: 46k probing connections must not make a 46k-key object. */
export function perConnection<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  const out: Record<string, V> = {};
  let n = 0;
  for (const [id, v] of entries) {
    if (n++ === MAX_IDS) break;
    out[id] = v;
  }
  return out;
}
export const LINUX_DEFAULTS = { tcp_keepalive_time: 7200, tcp_keepalive_intvl: 75, tcp_keepalive_probes: 9 };

/** The smallest middlebox idle timeout (seconds): the one a keepalive must beat. */
export const minIdleTimeout = (input: FindingsInput): number => Math.min(...input.idleTimeouts.map((t) => t.seconds));

export function processesOf(conns: readonly Connection[]): { pid: number; comm: string }[] {
  const m = new Map<number, string>();
  for (const c of conns) if (c.process) m.set(c.process.pid, c.process.comm);
  return [...m].sort((a, b) => a[0] - b[0]).map(([pid, comm]) => ({ pid, comm }));
}

/** Every connection id of the findings evaluated here that concern more than MAX_IDS. */
const allIds = new WeakMap<Finding, readonly string[]>();

/** The ids of every connection a finding concerns when it was evaluated in this process (the live view shows them
 *  all), else the ones it lists (a finding read from a file names at most MAX_IDS). */
export const findingConnectionIds = (f: Finding): readonly string[] => allIds.get(f) ?? f.connections;

/** How many connections a finding concerns (`finding` puts the count in its evidence; its list names at most
 *  MAX_IDS of them). */
export const findingConnectionCount = (f: Finding): number => (f.evidence.connectionCount as number | undefined) ?? f.connections.length;

export function finding(f: Omit<Finding, 'connections' | 'processes'>, conns: readonly Connection[] | readonly string[], processes?: { pid: number; comm: string }[]): Finding {
  const ids = conns.map((c) => (typeof c === 'string' ? c : c.id));
  const objs = conns.filter((c): c is Connection => typeof c !== 'string');
  const out: Finding = {
    ...f,
    connections: ids.slice(0, MAX_IDS),
    processes: processes ?? processesOf(objs),
    evidence: { connectionCount: ids.length, ...f.evidence },
  };
  if (ids.length > MAX_IDS) allIds.set(out, ids);
  return out;
}

/** The largest `value` over `items` (-Infinity for none). A loop: a group can hold every connection of a host, and
 *  spreading more than ~125k arguments into Math.max overflows the stack. */
export function maxOf<T>(items: readonly T[], value: (t: T) => number): number {
  let max = -Infinity;
  for (const it of items) max = Math.max(max, value(it));
  return max;
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

/** One process's resets of one cause in the window: who (`comm[pid]`), how many a second, its events. */
export interface ResetSender {
  who: string;
  /** Resets a second over the window; null without one. */
  rate: number | null;
  events: Extract<KaEvent, { type: 'rst_sent' }>[];
  /** The connections its events name (those the inventory knew). */
  connections: string[];
  processes: { pid: number; comm: string }[];
}

/** The window's resets sent with `cause`, by the process that sent them (the one closing, for a close()'s reset). */
export function resetSenders(input: FindingsInput, cause: RstCause): ResetSender[] {
  const ev = input.events.filter((e): e is Extract<KaEvent, { type: 'rst_sent' }> => e.type === 'rst_sent' && e.cause === cause);
  const secs = input.window ? Math.max(input.window.durationMs / 1000, 0.001) : null;
  return [...groupBy(ev, (e) => `${e.pid ?? '?'}/${e.comm ?? '?'}`).values()].map((g) => {
    const e0 = g[0]!;
    return {
      who: e0.pid !== null ? `${e0.comm}[${e0.pid}]` : 'an unidentified process',
      rate: secs ? g.length / secs : null,
      events: g,
      connections: [...new Set(g.map((e) => e.connection).filter((c): c is string => !!c))],
      processes: e0.pid !== null ? [{ pid: e0.pid, comm: e0.comm ?? '?' }] : [],
    };
  });
}

/** What a finding built from events names: the connections (those the inventory knew), their owners, the peers. */
export function eventSubjects(events: readonly SocketEvent[]): { connections: string[]; processes: { pid: number; comm: string }[]; peers: string[] } {
  const procs = new Map<number, string>();
  for (const e of events) if (e.pid !== null) procs.set(e.pid, e.comm ?? '?');
  return {
    connections: events.map((e) => e.connection).filter((c): c is string => !!c),
    processes: [...procs].map(([pid, comm]) => ({ pid, comm })),
    peers: [...new Set(events.map((e) => e.peer?.address).filter((a): a is string => !!a))],
  };
}

/** A rate as a finding's evidence keeps it: two decimals. */
export const evidenceRate = (rate: number | null): number | null => (rate === null ? null : Math.round(rate * 100) / 100);

/**
 * Where to change the keepalive of these connections, most specific first: each owner's own setting (from the
 * applications table, model/apps) with the values to use, then the generic socket options, then the namespace
 * sysctl. `applications` says which application rule matched, for the finding's evidence.
 */
export function keepaliveFix(conns: readonly Connection[], targetSec: number): { fix: string; applications: OwnerAdvice['evidence'] } {
  const c = conns[0]!;
  const v = fixValues(targetSec);
  const owners = ownerAdvice(conns, v);
  const ns = netnsLabel(c.netns);
  const noSetting = owners.unrecognised || !owners.settings.length ? `; ${noSettingFix(v)}` : '';
  const socket = `the socket options (SO_KEEPALIVE=1, TCP_KEEPIDLE=${v.idleSec}, TCP_KEEPINTVL=${v.intervalSec}, TCP_KEEPCNT=${v.probes})${noSetting}`;
  const specific = [...owners.settings, socket].join('; or ');
  const sysctl = `\`sysctl -w net.ipv4.tcp_keepalive_time=${targetSec}\` in network namespace ${ns} (\`ip netns exec ${c.netns.name ?? '<ns>'} sysctl …\`, or the pod/container \`sysctls\`)`;
  let fix: string;
  if (c.keepalive.enabled === false) {
    fix = `enable keepalive on these sockets with an idle below ${targetSec + 1} s, most specific first: ${specific}; with keepalive on, ${sysctl} gives the idle to sockets that set none; or make the application send its own heartbeats.`;
  } else if (c.keepalive.sources.idle === 'socket') {
    fix = `the idle is set on the socket: lower it, most specific first: ${specific}.`;
  } else {
    fix = `most specific first: ${specific}; or for every socket of the namespace: ${sysctl}.`;
  }
  return { fix, applications: owners.evidence };
}

/** An ESTAB connection that may cross a middlebox (not loopback, not to one of its own addresses). */
export const isCrossing = (c: Connection): boolean => c.state === 'ESTAB' && !isLoopback(c.peer.address) && c.peer.address !== c.local.address;

/** The crossing connections that `hit`; `hit` is asked first (a rule's own test is cheaper than the address checks
 *  and few connections pass it). */
export function crossing(conns: readonly Connection[], hit: (c: Connection) => boolean = () => true): Connection[] {
  return conns.filter((c) => hit(c) && isCrossing(c));
}

/** The crossing connections that `hit` and lived through the whole window (all of them in a plain snapshot). */
export function longLived(input: FindingsInput, hit: (c: Connection) => boolean): Connection[] {
  const est = crossing(input.connections, hit);
  if (!input.startConnections || !est.length) return est;
  const ids = new Set(est.map((c) => c.id));
  const before = new Set<string>();
  for (const c of input.startConnections) if (ids.has(c.id)) before.add(c.id);
  return est.filter((c) => before.has(c.id));
}

/**
 * The latest version of each connection of both inventories (the end's over the start's, in first-seen order) that
 * satisfies `hit`: the same as indexing every connection by id and filtering, but only the connections some
 * version of which passes `hit` are indexed (a few, not the 100k of a busy host, at every live evaluation).
 */
export function latestWhere(input: FindingsInput, hit: (c: Connection) => boolean): Connection[] {
  const ids = new Set<string>();
  eachConnection(input, (c) => hit(c) && ids.add(c.id));
  return [...latestOf(input, ids).values()].filter(hit);
}

/** The latest version of each connection named in `ids` (end over start), by id, in first-seen order. */
export function latestOf(input: FindingsInput, ids: ReadonlySet<string>): Map<string, Connection> {
  const byId = new Map<string, Connection>();
  if (ids.size) eachConnection(input, (c) => ids.has(c.id) && byId.set(c.id, c));
  return byId;
}

/** Each connection of the start inventory, then of the end one. Indexed loops: a rule runs once per evaluation,
 *  too rarely to be optimised, and a `for…of` there allocates an iterator result per connection (11 MB a time). */
export function eachConnection(input: FindingsInput, visit: (c: Connection) => unknown): void {
  for (const list of [input.startConnections ?? [], input.connections]) for (let i = 0; i < list.length; i++) visit(list[i]!);
}

const flowKey = (a: { address: string; port: number }, b: { address: string; port: number }) => `${endpointKey(a)}>${endpointKey(b)}`;

/**
 * The flows (local>peer) of the connections whose own keepalive, idle at most `maxIdleSec`, keeps their flow fresh
 * for both ends; built once per inventory and bound, only when a rule asks. Only those: another end keeps nothing
 * alive, and keying every connection of a host with 100k crossing ones took a tenth of an exporter's refresh.
 */
const keepingByInventory = new WeakMap<readonly Connection[], Map<number, Set<string>>>();
function keepingFlows(conns: readonly Connection[], maxIdleSec: number): Set<string> {
  let byBound = keepingByInventory.get(conns);
  if (!byBound) keepingByInventory.set(conns, (byBound = new Map()));
  let flows = byBound.get(maxIdleSec);
  if (!flows) {
    flows = new Set();
    for (let i = 0; i < conns.length; i++) {
      const k = conns[i]!.keepalive;
      if (k.enabled === true && k.idleSec !== null && k.idleSec <= maxIdleSec) flows.add(flowKey(conns[i]!.local, conns[i]!.peer));
    }
    byBound.set(maxIdleSec, flows);
  }
  return flows;
}

/** When both ends are on this host (another namespace), the other end's keepalive may keep the flow fresh. */
export function keptAliveByPeer(input: FindingsInput, maxIdleSec: number): (c: Connection) => boolean {
  const keeping = keepingFlows(input.connections, maxIdleSec);
  return keeping.size ? (c) => keeping.has(flowKey(c.peer, c.local)) : () => false;
}

/** Addresses that belong to this host: a peer with one of them is not behind a middlebox. */
export function hostAddresses(input: FindingsInput): ReadonlySet<string> {
  if (input.hostAddresses) return input.hostAddresses;
  const local = new Set<string>();
  for (const c of input.connections) local.add(c.local.address);
  for (const c of input.startConnections ?? []) local.add(c.local.address);
  return local;
}
