// What changed between two snapshot documents (`ka-top diff A B`, schema/diff.schema.json). Pure: documents in,
// one diff document out. Connections are matched by id (`<netns>:<cookie>`), then, for those left over, by
// namespace + 4-tuple (ids differ after a reboot or between hosts' recordings of one connection).
import type { Capabilities } from '../domain/capabilities.js';
import { activityByConnection } from './event-activity.js';
import { CLOSE_HOWS, type CloseHow, type KaEvent } from '../domain/event.js';
import { matchesFilter, netnsSelected } from './filter.js';
import type { ConnectionFilter } from '../domain/filter.js';
import { resetKeys, resetRecordOf } from './reset-stats.js';
import type { Connection, Endpoint, NetnsInfo, NetnsSysctl, TcpState } from '../domain/connection.js';

export const DIFF_SCHEMA = 'ka-top/diff/v1';

/** The parts of a snapshot document a diff reads (events only when the snapshot was taken with a capture). */
export interface DiffInput {
  takenAt: string;
  kaTopVersion: string;
  host: { hostname: string; kernel: string };
  capabilities: Capabilities;
  namespaces: NetnsInfo[];
  connections: Connection[];
  events?: KaEvent[];
  /** `snapshot --capture`: connections of the start inventory gone by the end. */
  closedConnections?: Connection[];
  /** `snapshot --capture`: whether events were traced, and the tracer's exact totals for the window. */
  capture?: {
    tracing: { on: boolean };
    lostEvents: number;
    eventsDropped: number;
    counts: { rstSentByReason: Record<string, number>; rstReceived: number; closesByNetns?: Record<string, Record<CloseHow, number>> } | null;
  };
}

export type Scalar = string | number | boolean | null;

export interface ConnRef {
  id: string;
  state: TcpState;
  netns: { inode: number; name: string | null };
  local: Endpoint;
  peer: Endpoint;
  owner: { pid: number; comm: string } | null;
  keepalive: { enabled: boolean | null; idleSec: number | null; intervalSec: number | null; probes: number | null };
}

export interface FieldChange {
  field: string;
  before: Scalar;
  after: Scalar;
}

export interface ChangedConnection {
  before: ConnRef;
  after: ConnRef;
  matchedBy: 'id' | 'tuple';
  changes: FieldChange[];
}

export interface ProbeChange {
  connection: ConnRef;
  /** Keepalive probes outstanding (ss) in A and in B; null when the keepalive timer was not visible. */
  outstanding: { before: number | null; after: number | null };
  /** Probes sent while each snapshot's capture ran; null when that snapshot has no events. */
  probesSent: { before: number | null; after: number | null };
}

export interface ResetCounts {
  /** Exact when the capture kept the tracer's totals, else counted from the events. */
  total: number;
  /** From the events: sent resets by cause, received ones as `received: <inferred cause>`. */
  byCause: Record<string, number>;
  /** The tracer's exact totals (sent by kernel reason, received), when the capture kept them. */
  exact: { sentByReason: Record<string, number>; received: number } | null;
  /** Events the tracer lost, and events seen but not kept in the document: byCause is then a lower bound. */
  lostEvents: number;
  eventsDropped: number;
}

export interface NsRef {
  inode: number;
  name: string | null;
}

export interface SideInfo {
  file: string | null;
  takenAt: string;
  kaTopVersion: string;
  host: { hostname: string; kernel: string };
  /** Connections compared (after the filters). */
  connections: number;
  /** Events in the document, null when it has none (taken without a capture). */
  events: number | null;
}

export interface SnapshotDiff {
  schema: typeof DIFF_SCHEMA;
  a: SideInfo;
  b: SideInfo;
  filters?: ConnectionFilter;
  /** True when connections, settings, outstanding probes, namespaces or capabilities differ (not resets: those are
   *  events during a capture, not state). */
  differ: boolean;
  connections: {
    /** Present in both (by id or by tuple), changed or not. */
    matched: number;
    matchedByTuple: number;
    new: ConnRef[];
    gone: ConnRef[];
    changed: ChangedConnection[];
  };
  probes: ProbeChange[];
  /** Resets seen while each snapshot's capture ran; null = unknown (no events recorded). */
  resets: { a: ResetCounts | null; b: ResetCounts | null };
  /** How connections ended while each snapshot's capture ran, as the kernel counted them (see closeCounts). */
  closes: { a: Record<CloseHow, number> | null; b: Record<CloseHow, number> | null };
  namespaces: {
    new: NsRef[];
    gone: NsRef[];
    sysctl: { netns: NsRef; field: keyof NetnsSysctl; before: number | null; after: number | null }[];
  };
  capabilities: { name: string; before: boolean | null; after: boolean | null; detail: string }[];
}

export interface DiffOptions {
  filter?: ConnectionFilter;
  files?: [string, string];
}

function connRef(c: Connection): ConnRef {
  const k = c.keepalive;
  return {
    id: c.id,
    state: c.state,
    netns: { inode: c.netns.inode, name: c.netns.name },
    local: c.local,
    peer: c.peer,
    owner: c.process ? { pid: c.process.pid, comm: c.process.comm } : null,
    keepalive: { enabled: k.enabled, idleSec: k.idleSec, intervalSec: k.intervalSec, probes: k.probes },
  };
}

/** The settings a diff compares, by the field name it reports. */
const SETTINGS: ReadonlyArray<readonly [string, (c: Connection) => Scalar]> = [
  ['state', (c) => c.state],
  ['keepalive.enabled', (c) => c.keepalive.enabled],
  ['keepalive.idleSec', (c) => c.keepalive.idleSec],
  ['keepalive.intervalSec', (c) => c.keepalive.intervalSec],
  ['keepalive.probes', (c) => c.keepalive.probes],
  ['keepalive.source', (c) => c.keepalive.source],
  ['userTimeoutMs', (c) => c.userTimeoutMs],
  ['linger.enabled', (c) => c.linger?.enabled ?? null],
  ['linger.seconds', (c) => c.linger?.seconds ?? null],
  ['owner.pid', (c) => c.process?.pid ?? null],
  ['owner.comm', (c) => c.process?.comm ?? null],
];

export function settingChanges(before: Connection, after: Connection): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [field, get] of SETTINGS) {
    const b = get(before);
    const a = get(after);
    if (b !== a) out.push({ field, before: b, after: a });
  }
  return out;
}

const nsKey = (ns: NsRef): string => (ns.name === null ? `#${ns.inode}` : ns.name);
const tupleKey = (c: Connection): string =>
  `${nsKey(c.netns)}|${c.local.address}|${c.local.port}|${c.peer.address}|${c.peer.port}`;

function byPosition(a: ConnRef, b: ConnRef): number {
  return nsKey(a.netns).localeCompare(nsKey(b.netns)) || a.local.address.localeCompare(b.local.address)
    || a.local.port - b.local.port || a.peer.address.localeCompare(b.peer.address) || a.peer.port - b.peer.port;
}

/** Pairs the connections of A and B: by id first, then by namespace + 4-tuple among the rest. */
export function matchConnections(a: readonly Connection[], b: readonly Connection[]) {
  const bById = new Map(b.map((c) => [c.id, c]));
  const pairs: { before: Connection; after: Connection; by: 'id' | 'tuple' }[] = [];
  const restA: Connection[] = [];
  const usedB = new Set<Connection>();
  for (const c of a) {
    const m = bById.get(c.id);
    if (m && !usedB.has(m)) {
      pairs.push({ before: c, after: m, by: 'id' });
      usedB.add(m);
    } else restA.push(c);
  }
  // Several sockets can share a tuple (SO_REUSEPORT listeners): a queue per tuple.
  const bByTuple = new Map<string, Connection[]>();
  for (const c of b) {
    if (usedB.has(c)) continue;
    const k = tupleKey(c);
    const q = bByTuple.get(k);
    if (q) q.push(c);
    else bByTuple.set(k, [c]);
  }
  const gone: Connection[] = [];
  for (const c of restA) {
    const m = bByTuple.get(tupleKey(c))?.shift();
    if (m) {
      pairs.push({ before: c, after: m, by: 'tuple' });
      usedB.add(m);
    } else gone.push(c);
  }
  return { pairs, gone, added: b.filter((c) => !usedB.has(c)) };
}

/** Resets of one snapshot's capture. With `only` (the filtered connections' ids) just their events count, and the
 *  tracer's totals, which cannot be split by connection, are left out. */
export function resetCounts(d: Pick<DiffInput, 'events' | 'capture'>, only?: ReadonlySet<string>): ResetCounts | null {
  if (d.capture ? !d.capture.tracing.on : !d.events) return null;
  const byCause: Record<string, number> = {};
  let total = 0;
  let lostEvents = 0;
  for (const e of d.events ?? []) {
    if (e.type === 'lost') lostEvents += e.events;
    const r = resetRecordOf(e);
    if (!r || (only && (e.type === 'lost' || !e.connection || !only.has(e.connection)))) continue;
    const cause = resetKeys(r).cause;
    byCause[cause] = (byCause[cause] ?? 0) + 1;
    total++;
  }
  const counts = only ? null : d.capture?.counts ?? null;
  const exact = counts && { sentByReason: counts.rstSentByReason, received: counts.rstReceived };
  if (exact) total = Object.values(exact.sentByReason).reduce((n, v) => n + v, exact.received);
  return { total, byCause, exact, lostEvents: d.capture?.lostEvents ?? lostEvents, eventsDropped: d.capture?.eventsDropped ?? 0 };
}

/** How the connections of one snapshot's capture ended, summed over its namespaces (those a --netns filter
 *  selects), as the kernel counted them. Null without those counts (no capture, or taken before they were kept), and
 *  with any other filter: the counts are per namespace, not per connection. */
export function closeCounts(d: Pick<DiffInput, 'capture' | 'namespaces'>, filter: ConnectionFilter): Record<CloseHow, number> | null {
  const by = d.capture?.counts?.closesByNetns;
  if (!by || Object.keys(filter).some((k) => k !== 'netns')) return null;
  const names = new Map(d.namespaces.map((n) => [String(n.inode), n.name]));
  const sum = Object.fromEntries(CLOSE_HOWS.map((h) => [h, 0])) as Record<CloseHow, number>;
  for (const [inode, n] of Object.entries(by)) {
    if (!netnsSelected(filter, Number(inode), names.get(inode) ?? null)) continue;
    for (const h of CLOSE_HOWS) sum[h] += n[h] ?? 0;
  }
  return sum;
}

function diffNamespaces(a: readonly NetnsInfo[], b: readonly NetnsInfo[]): SnapshotDiff['namespaces'] {
  const ref = (n: NetnsInfo): NsRef => ({ inode: n.inode, name: n.name });
  const bByKey = new Map(b.map((n) => [nsKey(n), n]));
  const aKeys = new Set(a.map(nsKey));
  const out: SnapshotDiff['namespaces'] = { new: b.filter((n) => !aKeys.has(nsKey(n))).map(ref), gone: [], sysctl: [] };
  for (const n of a) {
    const m = bByKey.get(nsKey(n));
    if (!m) {
      out.gone.push(ref(n));
      continue;
    }
    const fields = new Set([...Object.keys(n.sysctl ?? {}), ...Object.keys(m.sysctl ?? {})]) as Set<keyof NetnsSysctl>;
    for (const field of fields) {
      const before = n.sysctl?.[field] ?? null;
      const after = m.sysctl?.[field] ?? null;
      if (before !== after) out.sysctl.push({ netns: ref(m), field, before, after });
    }
  }
  return out;
}

function diffCapabilities(a: Capabilities, b: Capabilities): SnapshotDiff['capabilities'] {
  type Cap = { available: boolean; detail: string } | undefined;
  const get = (c: Capabilities, k: string): Cap => (c as unknown as Record<string, Cap>)[k];
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return names.flatMap((name) => {
    const before = get(a, name);
    const after = get(b, name);
    if (before?.available === after?.available) return [];
    return [{ name, before: before?.available ?? null, after: after?.available ?? null, detail: after?.detail ?? before?.detail ?? '' }];
  });
}

export function diffSnapshots(a: DiffInput, b: DiffInput, opts: DiffOptions = {}): SnapshotDiff {
  const filter = opts.filter ?? {};
  const keep = (c: Connection) => matchesFilter(c, filter);
  const connsA = a.connections.filter(keep);
  const connsB = b.connections.filter(keep);
  const filtered = Object.keys(filter).length > 0;
  // A capture's connections closed during its window are the ones resets are most often about.
  const ids = (d: DiffInput, conns: readonly Connection[]) => new Set([...conns, ...(d.closedConnections ?? []).filter(keep)].map((c) => c.id));
  const nsFilter = (n: NetnsInfo) => netnsSelected(filter, n.inode, n.name);

  const { pairs, gone, added } = matchConnections(connsA, connsB);
  const sentA = a.events ? activityByConnection(a.events) : null;
  const sentB = b.events ? activityByConnection(b.events) : null;
  const changed: ChangedConnection[] = [];
  const probes: ProbeChange[] = [];
  for (const p of pairs) {
    const changes = settingChanges(p.before, p.after);
    if (changes.length) changed.push({ before: connRef(p.before), after: connRef(p.after), matchedBy: p.by, changes });
    const outstanding = {
      before: p.before.keepalive.timer?.probesOutstanding ?? null,
      after: p.after.keepalive.timer?.probesOutstanding ?? null,
    };
    const probesSent = {
      before: sentA ? sentA.get(p.before.id)?.probesSent ?? 0 : null,
      after: sentB ? sentB.get(p.after.id)?.probesSent ?? 0 : null,
    };
    if ((outstanding.before ?? 0) !== (outstanding.after ?? 0) || (probesSent.before ?? 0) > 0 || (probesSent.after ?? 0) > 0) {
      probes.push({ connection: connRef(p.after), outstanding, probesSent });
    }
  }
  const namespaces = diffNamespaces(a.namespaces.filter(nsFilter), b.namespaces.filter(nsFilter));
  const capabilities = diffCapabilities(a.capabilities, b.capabilities);
  const side = (d: DiffInput, n: number, file: string | undefined): SideInfo => ({
    file: file ?? null,
    takenAt: d.takenAt,
    kaTopVersion: d.kaTopVersion,
    host: { hostname: d.host.hostname, kernel: d.host.kernel },
    connections: n,
    events: d.events ? d.events.length : null,
  });
  const differ = gone.length > 0 || added.length > 0 || changed.length > 0
    || probes.some((p) => (p.outstanding.before ?? 0) !== (p.outstanding.after ?? 0))
    || namespaces.new.length > 0 || namespaces.gone.length > 0 || namespaces.sysctl.length > 0 || capabilities.length > 0;
  return {
    schema: DIFF_SCHEMA,
    a: side(a, connsA.length, opts.files?.[0]),
    b: side(b, connsB.length, opts.files?.[1]),
    ...(filtered ? { filters: filter } : {}),
    differ,
    connections: {
      matched: pairs.length,
      matchedByTuple: pairs.filter((p) => p.by === 'tuple').length,
      new: added.map(connRef).sort(byPosition),
      gone: gone.map(connRef).sort(byPosition),
      changed: changed.sort((x, y) => byPosition(x.after, y.after)),
    },
    probes: probes.sort((x, y) => byPosition(x.connection, y.connection)),
    resets: { a: resetCounts(a, filtered ? ids(a, connsA) : undefined), b: resetCounts(b, filtered ? ids(b, connsB) : undefined) },
    closes: { a: closeCounts(a, filter), b: closeCounts(b, filter) },
    namespaces,
    capabilities,
  };
}
