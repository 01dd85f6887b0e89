// What `ka-top exporter` publishes, as plain data: the metric definitions, owner labels (network namespace,
// Kubernetes namespace, pod, container; process name only when asked), a cap on owners with the rest folded into
// `other`, event counters, and the gauge set of one inventory. Never addresses, ports, pids or cookies.
import type { Connection, NetnsInfo } from '../domain/connection.js';
import type { KaEvent } from '../domain/event.js';
import type { Finding, IdleTimeout } from '../domain/finding.js';
import type { Inventory } from '../domain/inventory.js';
import { netnsLabel } from '../domain/netns.js';
import { flowIdleMs } from './flow.js';
import { isCrossing } from './findings/rule-kit.js';

export type MetricKind = 'counter' | 'gauge';
export interface MetricDef {
  name: string;
  kind: MetricKind;
  help: string;
  /** Labels beside the owner labels (which only `owned` metrics carry). */
  labels: readonly string[];
  owned: boolean;
}

const def = (name: string, kind: MetricKind, help: string, labels: readonly string[] = [], owned = false): MetricDef => ({ name, kind, help, labels, owned });

/** Every metric, in exposition order. Counters end in `_total`, durations are in seconds. */
export const METRICS = {
  resetsSent: def('katop_resets_sent_total', 'counter', 'TCP resets sent by sockets of the owner, by cause (linger, keepalive_timeout, unread_data, no_socket, timewait, other) and kernel reason.', ['cause', 'reason'], true),
  resetsReceived: def('katop_resets_received_total', 'counter', 'TCP resets received by sockets of the owner.', [], true),
  probes: def('katop_keepalive_probes_total', 'counter', 'Keepalive probes sent by sockets of the owner.', [], true),
  timeouts: def('katop_keepalive_timeouts_total', 'counter', 'Connections of the owner the kernel closed because keepalive probes went unanswered.', [], true),
  closes: def('katop_closes_total', 'counter', 'Connections of the owner closed, by how (fin, rst_sent, rst_received, timeout, retransmit_timeout, connect_failed).', ['how'], true),
  kernelResetsSent: def('katop_kernel_resets_sent_total', 'counter', 'Resets sent on the whole host by kernel reason, counted in the kernel (exact even when events are lost).', ['reason']),
  kernelResetsReceived: def('katop_kernel_resets_received_total', 'counter', 'Resets received on the whole host, counted in the kernel.'),
  kernelTimeouts: def('katop_kernel_keepalive_timeouts_total', 'counter', 'Keepalive timeouts on the whole host, counted in the kernel.'),
  netnsResetsSent: def('katop_netns_resets_sent_total', 'counter', 'Resets sent from the network namespace by cause (linger, keepalive_timeout, unread_data, no_socket, timewait, other), counted in the kernel: exact also when a flood\'s event records are held back or lost.', ['netns', 'namespace', 'pod', 'cause']),
  netnsResetsReceived: def('katop_netns_resets_received_total', 'counter', 'Resets received in the network namespace, counted in the kernel.', ['netns', 'namespace', 'pod']),
  netnsCloses: def('katop_netns_closes_total', 'counter', 'Closed connections of the network namespace by how they ended (fin, rst_sent, rst_received, timeout, retransmit_timeout, connect_failed), counted in the kernel: exact also when a flood\'s close records are held back.', ['netns', 'namespace', 'pod', 'how']),
  kernelCloses: def('katop_kernel_closes_total', 'counter', 'Closed connections on the whole host by how they ended (fin, rst_sent, rst_received, timeout, retransmit_timeout, connect_failed), counted in the kernel.', ['how']),
  eventsLost: def('katop_events_lost_total', 'counter', 'Event records the tracer lost (its kernel counts stay exact).'),
  eventsCapped: def('katop_events_held_back_total', 'counter', 'Event records the tracer held back by event type, beyond the records a second each kind may print (a flood): the per-owner counters miss them, the kernel counts stay exact.', ['type']),
  mapFullDrops: def('katop_map_full_drops_total', 'counter', 'Connections whose state the kernel could not keep (a full map), by map: their close outcome, lifetime or probe total are incomplete.', ['map']),
  connections: def('katop_connections', 'gauge', 'TCP connections of the owner by state and keepalive source (off, sysctl, socket, unknown).', ['state', 'keepalive'], true),
  keepaliveOverIdle: def('katop_connections_keepalive_over_idle_timeout', 'gauge', 'Established connections crossing a middlebox whose keepalive idle is longer than that middlebox\'s idle timeout.', ['middlebox'], true),
  idleNoKeepalive: def('katop_connections_idle_without_keepalive', 'gauge', 'Established connections crossing a middlebox, keepalive off, idle longer than that middlebox\'s idle timeout.', ['middlebox'], true),
  findings: def('katop_findings', 'gauge', 'Active findings by rule and severity.', ['rule', 'severity']),
  sysctlTime: def('katop_netns_keepalive_time_seconds', 'gauge', 'net.ipv4.tcp_keepalive_time of the network namespace.', ['netns']),
  sysctlIntvl: def('katop_netns_keepalive_interval_seconds', 'gauge', 'net.ipv4.tcp_keepalive_intvl of the network namespace.', ['netns']),
  sysctlProbes: def('katop_netns_keepalive_probes', 'gauge', 'net.ipv4.tcp_keepalive_probes of the network namespace.', ['netns']),
  buildInfo: def('katop_build_info', 'gauge', 'Always 1: the ka-top and Node.js versions.', ['version', 'nodejs']),
  inventorySeconds: def('katop_inventory_duration_seconds', 'gauge', 'How long the last inventory took.'),
  inventories: def('katop_inventories_total', 'counter', 'Inventories taken.'),
  inventoryErrors: def('katop_inventory_errors_total', 'counter', 'Inventories that failed (the previous set keeps being served).'),
  tracerUp: def('katop_tracer_up', 'gauge', '1 while the tracer runs, 0 when it is down or this host cannot trace.'),
  tracerRestarts: def('katop_tracer_restarts_total', 'counter', 'Tracer restarts after it died.'),
  scrapeErrors: def('katop_scrape_errors_total', 'counter', 'Scrapes that failed.'),
  owners: def('katop_owners', 'gauge', 'Owner label sets with their own series now (at most --max-owners).'),
  ownersFolded: def('katop_owners_folded_total', 'counter', 'Owner label sets folded into `other` (once per inventory per owner, and per event) because --max-owners was reached.'),
} as const satisfies Record<string, MetricDef>;

export const OWNER_LABELS = ['netns', 'namespace', 'pod', 'container'] as const;
export const OTHER = 'other';

/** netns, namespace, pod, container and, with --process-labels, process. Empty string = unknown. */
export type OwnerLabels = Record<string, string>;

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface MetricOptions {
  processLabels: boolean;
  /** Owner label sets with their own series; the rest fold into `other`. */
  maxOwners: number;
  idleTimeouts: readonly IdleTimeout[];
}

type Ref = NetnsInfo['container'];

/** A network namespace's labels: its name, and its pod's (empty outside Kubernetes). */
export function netnsLabels(netns: { inode: number; name: string | null; container?: Ref }, ref: Ref | undefined = netns.container): { netns: string; namespace: string; pod: string } {
  return { netns: netnsLabel(netns), namespace: ref?.pod?.namespace ?? '', pod: ref?.pod?.name ?? ref?.pod?.uid ?? '' };
}

function ownerLabels(netns: { inode: number; name: string | null; container?: Ref }, ref: Ref | undefined, comm: string | null | undefined, o: MetricOptions): OwnerLabels {
  const l: OwnerLabels = { ...netnsLabels(netns, ref), container: ref?.name ?? ref?.id ?? '' };
  if (o.processLabels) l.process = comm ?? '';
  return l;
}

// What a connection's owner labels are made of, besides its namespace: its process's container (else the
// namespace's) and, with process labels, its process's name.
const ownerRef = (c: Connection): Ref => c.process?.container ?? c.netns.container;
const ownerComm = (c: Connection, o: MetricOptions): string | null => (o.processLabels ? c.process?.comm ?? null : null);

export function connectionOwner(c: Connection, o: MetricOptions): OwnerLabels {
  return ownerLabels(c.netns, ownerRef(c), ownerComm(c, o), o);
}

function otherOwner(o: MetricOptions): OwnerLabels {
  const l: OwnerLabels = { netns: OTHER, namespace: OTHER, pod: OTHER, container: OTHER };
  if (o.processLabels) l.process = OTHER;
  return l;
}

const keyOf = (l: Record<string, string>) => JSON.stringify(l);

/**
 * The owners that have their own series, at most `maxOwners`; an owner keeps its slot while it has connections or
 * events, and loses it (with its counter series) after `idleMs` without either.
 */
export class OwnerSlots {
  private slots = new Map<string, number>();
  folded = 0;

  constructor(private readonly o: MetricOptions, private readonly idleMs = 15 * 60_000) {}

  get size(): number {
    return this.slots.size;
  }

  /** The labels to count `owner` under: its own, or `other` when the cap is reached. */
  admit(owner: OwnerLabels, now: number): OwnerLabels {
    const k = keyOf(owner);
    if (this.slots.has(k) || this.slots.size < this.o.maxOwners) {
      this.slots.set(k, now);
      return owner;
    }
    this.folded++;
    return otherOwner(this.o);
  }

  /** Frees the slots of owners not seen for `idleMs`; returns their keys. */
  sweep(now: number): Set<string> {
    const gone = new Set<string>();
    for (const [k, at] of this.slots) if (now - at > this.idleMs) gone.add(k);
    for (const k of gone) this.slots.delete(k);
    return gone;
  }
}

/** Monotonic counters by label set, fed from events. */
export class CounterSet {
  private readonly series = new Map<string, Map<string, { owner: string | null; sample: Sample }>>();

  inc(m: MetricDef, labels: Record<string, string>, by = 1, owner: OwnerLabels | null = null): void {
    let s = this.series.get(m.name);
    if (!s) this.series.set(m.name, (s = new Map()));
    const all = owner ? { ...owner, ...labels } : labels;
    const k = keyOf(all);
    const hit = s.get(k);
    if (hit) hit.sample.value += by;
    else s.set(k, { owner: owner ? keyOf(owner) : null, sample: { labels: all, value: by } });
  }

  /** Drops the series of owners that lost their slot. */
  dropOwners(keys: ReadonlySet<string>): void {
    if (keys.size === 0) return;
    for (const s of this.series.values()) for (const [k, v] of s) if (v.owner && keys.has(v.owner)) s.delete(k);
  }

  /** A copy: what a scrape serves must not move while it is rendered. */
  snapshot(): Map<string, Sample[]> {
    return new Map([...this.series].map(([name, s]) => [name, [...s.values()].map((v) => ({ labels: v.sample.labels, value: v.sample.value }))]));
  }
}

/** Which connection and namespace an event's owner is looked up in (one per inventory; its connections are indexed
 *  when the first event asks: an idle host's 100k connections are not, at every refresh). */
export class OwnerIndex {
  private byConnection: Map<string, Connection> | null = null;
  private readonly byNetns: Map<number, NetnsInfo>;
  /** When the inventory was taken (ms epoch; 0 without one). */
  readonly takenAtMs: number;

  constructor(private readonly inv: Inventory | null) {
    this.byNetns = new Map((inv?.namespaces ?? []).map((n) => [n.inode, n]));
    this.takenAtMs = inv ? Date.parse(inv.takenAt) : 0;
  }

  /** The inventory's connection with this id. */
  connection(id: string): Connection | undefined {
    if (!this.byConnection) {
      this.byConnection = new Map();
      const all = this.inv?.connections ?? [];
      for (let i = 0; i < all.length; i++) this.byConnection.set(all[i]!.id, all[i]!);
    }
    return this.byConnection.get(id);
  }

  /** The event's owner: its connection's; for a socket that lived between two inventories, its process's
   *  container (`containerOfPid`) or else its namespace's. */
  ownerOf(e: Exclude<KaEvent, { type: 'lost' }>, o: MetricOptions, containerOfPid?: (pid: number) => Ref): OwnerLabels {
    const c = e.connection ? this.connection(e.connection) : undefined;
    if (c) return connectionOwner(c, o);
    const ns = e.netns ? this.byNetns.get(e.netns) : undefined;
    const ref = (e.pid !== null ? containerOfPid?.(e.pid) : null) ?? ns?.container;
    return ownerLabels(ns ?? { inode: e.netns ?? 0, name: null }, ref, e.comm, o);
  }
}

/** Counts one traced event into the counters. Host-wide exact totals come from the kernel (`KernelTotals`). */
export function countEvent(e: KaEvent, counters: CounterSet, owners: OwnerIndex, slots: OwnerSlots, o: MetricOptions, now: number, containerOfPid?: (pid: number) => Ref): void {
  if (e.type === 'lost' || e.type === 'sockopt_changed') return;
  const owner = slots.admit(owners.ownerOf(e, o, containerOfPid), now);
  switch (e.type) {
    case 'rst_sent': return counters.inc(METRICS.resetsSent, { cause: e.cause, reason: e.reason ?? 'unknown' }, 1, owner);
    case 'rst_received': return counters.inc(METRICS.resetsReceived, {}, 1, owner);
    case 'keepalive_probe': return counters.inc(METRICS.probes, {}, 1, owner);
    case 'keepalive_timeout': return counters.inc(METRICS.timeouts, {}, 1, owner);
    case 'close': return counters.inc(METRICS.closes, { how: e.how }, 1, owner);
  }
}

/**
 * Totals the tracer keeps in kernel maps, made monotonic: a restarted tracer starts its maps from zero, so what
 * was counted before is carried as a base. New kernel-side counts (closes by how, map-full drops) are one more
 * entry in `read`.
 */
export class KernelTotals {
  private readonly last = new Map<string, number>();
  private readonly base = new Map<string, number>();

  observe(values: ReadonlyMap<string, number>): void {
    for (const [k, v] of values) {
      const prev = this.last.get(k) ?? 0;
      if (v < prev) this.base.set(k, (this.base.get(k) ?? 0) + prev);
      this.last.set(k, v);
    }
  }

  value(key: string): number {
    return (this.base.get(key) ?? 0) + (this.last.get(key) ?? 0);
  }

  keys(prefix: string): string[] {
    return [...this.last.keys()].filter((k) => k.startsWith(prefix));
  }
}

export interface GaugeSet {
  /** Metric name -> samples; built whole, then swapped in. */
  samples: Map<string, Sample[]>;
  /** Owners folded into `other` in this inventory. */
  folded: number;
}

/** The keepalive label values, by index (one count per index while an owner's connections are counted). */
const KEEPALIVE_SOURCES = ['unknown', 'off', 'socket', 'sysctl'] as const;
function keepaliveSourceIndex(c: Connection): number {
  if (c.keepalive.enabled === null) return 0;
  if (!c.keepalive.enabled) return 1;
  return c.keepalive.source === 'socket' ? 2 : 3;
}

class SampleTable {
  readonly samples = new Map<string, Map<string, Sample>>();
  add(m: MetricDef, labels: Record<string, string>, by = 1): void {
    let s = this.samples.get(m.name);
    if (!s) this.samples.set(m.name, (s = new Map()));
    const k = keyOf(labels);
    const hit = s.get(k);
    if (hit) hit.value += by;
    else s.set(k, { labels, value: by });
  }
  set(m: MetricDef, labels: Record<string, string>, value: number): void {
    this.add(m, labels, 0);
    this.samples.get(m.name)!.get(keyOf(labels))!.value = value;
  }
  done(): Map<string, Sample[]> {
    return new Map([...this.samples].map(([n, s]) => [n, [...s.values()]]));
  }
}

interface OwnerGroup {
  owner: OwnerLabels;
  size: number;
  /** Connections by state, then by keepalive source (KEEPALIVE_SOURCES' order), in the order first met. */
  byState: Map<string, number[]>;
  /** Per middlebox (the options' order): crossing connections whose keepalive idle is longer than its timeout… */
  keepaliveOver: number[];
  /** …and crossing connections with keepalive off, idle longer than it. */
  idleWithout: number[];
}

/**
 * The owner groups of one inventory's connections, counted in one pass. The parts a connection's owner labels are
 * made of are shared objects (one namespace object for all of its connections, one container reference per
 * process): the labels and their key are made once per distinct set of parts, not once per connection (at 100k
 * connections a label object and its JSON text each were most of an exporter refresh).
 */
function ownerGroups(connections: readonly Connection[], o: MetricOptions): OwnerGroup[] {
  const byKey = new Map<string, OwnerGroup>();
  const byParts = new Map<object, Map<Ref, Map<string | null, OwnerGroup>>>();
  const middleboxes = o.idleTimeouts;
  for (let i = 0; i < connections.length; i++) {
    const c = connections[i]!;
    const ref = ownerRef(c);
    const comm = ownerComm(c, o);
    let byRef = byParts.get(c.netns);
    if (!byRef) byParts.set(c.netns, (byRef = new Map()));
    let byComm = byRef.get(ref);
    if (!byComm) byRef.set(ref, (byComm = new Map()));
    let g = byComm.get(comm);
    if (!g) {
      const owner = connectionOwner(c, o);
      const k = keyOf(owner);
      g = byKey.get(k);
      if (!g) {
        g = { owner, size: 0, byState: new Map(), keepaliveOver: middleboxes.map(() => 0), idleWithout: middleboxes.map(() => 0) };
        byKey.set(k, g);
      }
      byComm.set(comm, g);
    }
    g.size++;
    let counts = g.byState.get(c.state);
    if (!counts) g.byState.set(c.state, (counts = [0, 0, 0, 0]));
    counts[keepaliveSourceIndex(c)]!++;
    if (!isCrossing(c)) continue;
    const k = c.keepalive;
    const idleMs = k.enabled === false ? flowIdleMs(c) ?? 0 : 0;
    for (let m = 0; m < middleboxes.length; m++) {
      const seconds = middleboxes[m]!.seconds;
      if (k.enabled === true && k.idleSec !== null && k.idleSec > seconds) g.keepaliveOver[m]!++;
      if (k.enabled === false && idleMs > seconds * 1000) g.idleWithout[m]!++;
    }
  }
  return [...byKey.values()];
}

/**
 * The gauges of one inventory. The biggest owners get the free slots first, so a cap cuts off the smallest.
 * Series bound: (maxOwners + 1) owner sets × (states × keepalive sources + 2 × middleboxes), plus one per
 * namespace with sysctls (capped at maxOwners) and rules × severities.
 */
export function gaugeSet(inv: Inventory, connections: readonly Connection[], findings: readonly Finding[], slots: OwnerSlots, o: MetricOptions, now: number): GaugeSet {
  const t = new SampleTable();
  const foldedBefore = slots.folded;
  const groups = ownerGroups(connections, o).sort((a, b) => b.size - a.size);
  for (const g of groups) {
    const labels = slots.admit(g.owner, now);
    for (const [state, counts] of g.byState) {
      counts.forEach((n, i) => n && t.add(METRICS.connections, { ...labels, state, keepalive: KEEPALIVE_SOURCES[i]! }, n));
    }
    o.idleTimeouts.forEach((mb, m) => {
      const over = g.keepaliveOver[m]!, without = g.idleWithout[m]!;
      if (over) t.add(METRICS.keepaliveOverIdle, { ...labels, middlebox: mb.name }, over);
      if (without) t.add(METRICS.idleNoKeepalive, { ...labels, middlebox: mb.name }, without);
    });
  }
  for (const f of findings) t.add(METRICS.findings, { rule: f.rule, severity: f.severity });
  const withSysctl = inv.namespaces.filter((n) => n.sysctl);
  for (const n of withSysctl.slice(0, o.maxOwners)) {
    const netns = { netns: netnsLabel(n) };
    t.set(METRICS.sysctlTime, netns, n.sysctl!.tcp_keepalive_time);
    t.set(METRICS.sysctlIntvl, netns, n.sysctl!.tcp_keepalive_intvl);
    t.set(METRICS.sysctlProbes, netns, n.sysctl!.tcp_keepalive_probes);
  }
  const folded = slots.folded - foldedBefore + Math.max(0, withSysctl.length - o.maxOwners);
  slots.folded += Math.max(0, withSysctl.length - o.maxOwners);
  return { samples: t.done(), folded };
}
