// The exporter's state on a live session: gauges rebuilt whole from each new inventory and swapped in, counters
// fed from traced events, the tracer's kernel totals, and its own health. A scrape takes `view()`, a frozen copy,
// so what it serves never mixes two inventories.
import type { ConnectionFilter } from '../domain/filter.js';
import type { KaEvent } from '../domain/event.js';
import type { Inventory } from '../domain/inventory.js';
import type { TracerCounts } from '../domain/counts.js';
import { eventMatchesFilter, filterConnections, matchesFilter, netnsNames } from '../model/filter.js';
import { evaluateFindings } from '../model/findings/index.js';
import { isCrossing } from '../model/findings/rule-kit.js';
import { CounterSet, KernelTotals, METRICS, OwnerIndex, OwnerSlots, countEvent, gaugeSet, netnsLabels, type GaugeSet, type MetricDef, type MetricOptions, type Sample } from '../model/metric-set.js';
import type { Connection, ContainerRef } from '../domain/connection.js';
import type { TracerState } from '../sources/ports.js';
import type { Monitor, MonitorState } from './monitor.js';

/** Findings that rest on events (zero-linger resets, keepalive timeouts, idle reclaim) look this far back. */
export const FINDINGS_WINDOW_MS = 5 * 60_000;
/** Events kept for that window, the newest (the counters stay exact beyond it). */
const MAX_RECENT_EVENTS = 20_000;

export interface ExporterOptions extends MetricOptions {
  filter: ConnectionFilter;
  version: string;
}

/** What one scrape serves: metric name -> samples, frozen. */
export type MetricView = ReadonlyMap<string, readonly Sample[]>;

/** The parts of a LiveSession the exporter reads (a session, or a replay in tests). */
export interface ExporterSource {
  monitor: Pick<Monitor, 'state' | 'subscribe'>;
  tracing: { counts: TracerCounts; state: TracerState | 'off'; subscribe(fn: (e: KaEvent) => void): () => void } | null;
  /** The container of a process, for events of sockets no inventory listed. */
  containerOfPid?: (pid: number) => ContainerRef | null;
}

/**
 * The tracer's kernel-side totals by key (`rst_sent:<reason>`, `rst_received`, `keepalive_timeouts`, `lost`,
 * `capped:<event type>`), and the metric each key family is served as. A new kernel count (closes by how, map-full
 * drops) is one entry in each, plus its definition in METRICS.
 */
function kernelValues(c: TracerCounts): Map<string, number> {
  const m = new Map<string, number>([['rst_received', c.rstReceived], ['keepalive_timeouts', c.keepaliveTimeouts], ['lost', c.lostEvents]]);
  for (const [reason, n] of Object.entries(c.rstSentByReason)) m.set(`rst_sent:${reason}`, n);
  for (const [ns, byCause] of Object.entries(c.rstSentByNetnsCause)) {
    for (const [cause, n] of Object.entries(byCause)) m.set(`netns_rst_sent:${ns}:${cause}`, n);
  }
  for (const [ns, n] of Object.entries(c.rstReceivedByNetns)) m.set(`netns_rst_received:${ns}`, n);
  for (const [ns, byHow] of Object.entries(c.closesByNetns)) {
    for (const [how, n] of Object.entries(byHow)) {
      m.set(`netns_close:${ns}:${how}`, n);
      m.set(`close:${how}`, (m.get(`close:${how}`) ?? 0) + n);
    }
  }
  for (const [map, n] of Object.entries(c.mapFull)) m.set(`map_full:${map}`, n);
  for (const [type, n] of Object.entries(c.cappedEvents)) m.set(`capped:${type}`, n);
  return m;
}
/** `label: 'netns'`: the key's rest is an inode (and `:<sub>`, e.g. a reset's cause), served as the namespace's name
 *  (and its pod's) for the namespaces the inventory lists (a pod's netns lives as long as the pod: a gone one's series
 *  ends, the kernel map keeps its key). */
const KERNEL_METRICS: readonly { metric: MetricDef; key: string; label?: string; sub?: string }[] = [
  { metric: METRICS.kernelResetsSent, key: 'rst_sent:', label: 'reason' },
  { metric: METRICS.netnsResetsSent, key: 'netns_rst_sent:', label: 'netns', sub: 'cause' },
  { metric: METRICS.netnsCloses, key: 'netns_close:', label: 'netns', sub: 'how' },
  { metric: METRICS.netnsResetsReceived, key: 'netns_rst_received:', label: 'netns' },
  { metric: METRICS.kernelResetsReceived, key: 'rst_received' },
  { metric: METRICS.kernelTimeouts, key: 'keepalive_timeouts' },
  { metric: METRICS.eventsLost, key: 'lost' },
  { metric: METRICS.eventsCapped, key: 'capped:', label: 'type' },
  { metric: METRICS.kernelCloses, key: 'close:', label: 'how' },
  { metric: METRICS.mapFullDrops, key: 'map_full:', label: 'map' },
];

export class ExporterState {
  private gauges: GaugeSet = { samples: new Map(), folded: 0 };
  private readonly counters = new CounterSet();
  private readonly kernel = new KernelTotals();
  private readonly slots: OwnerSlots;
  private owners = new OwnerIndex(null);
  /** The inventory before `owners`' (an event's connection may be gone from the newer one). */
  private previousOwners = new OwnerIndex(null);
  private netnsNames = new Map<number, string>();
  /** The labels of the inventory's namespaces by inode (as the kernel's counts key them): name, and pod when known. */
  private labelsByInode = new Map<string, Record<string, string>>();
  private inventory: Inventory | null = null;
  private previous: { connections: readonly Connection[]; atMs: number } | null = null;
  private recent: KaEvent[] = [];
  private readonly lastSeen = new Map<string, { connection: Connection; atMs: number }>();
  private readonly startedAt: number;
  private lastInventorySec = 0;
  private readonly unsubscribe: (() => void)[] = [];
  /** True once an inventory was served: /healthz answers 200 from then on. */
  ready = false;

  constructor(private readonly source: ExporterSource, private readonly o: ExporterOptions, now: () => number = Date.now) {
    this.slots = new OwnerSlots(o);
    this.startedAt = now();
    const onState = (s: MonitorState) => {
      if (s.inventory && s.inventory !== this.inventory) this.apply(s.inventory, s.refresh.lastCostMs, now());
      else if (s.refresh.error) this.counters.inc(METRICS.inventoryErrors, {});
    };
    this.unsubscribe.push(source.monitor.subscribe(onState));
    if (source.monitor.state.inventory) onState(source.monitor.state);
    if (source.tracing) {
      this.unsubscribe.push(source.tracing.subscribe((e) => {
        if (e.type === 'lost' || eventMatchesFilter(e, o.filter, this.netnsNames)) {
          countEvent(e, this.counters, this.owners, this.slots, o, now(), source.containerOfPid);
          if (e.type !== 'lost') {
            this.keepRecent(e);
            this.observe(e);
          }
        }
      }));
    }
  }

  /** The tracer changed state (restarting counts as a restart). */
  tracerState(s: TracerState): void {
    if (s === 'restarting') this.counters.inc(METRICS.tracerRestarts, {});
  }

  scrapeFailed(): void {
    this.counters.inc(METRICS.scrapeErrors, {});
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }

  /** A frozen copy of every metric, for one scrape. */
  view(): MetricView {
    const out = new Map<string, Sample[]>(this.counters.snapshot());
    for (const [name, s] of this.gauges.samples) out.set(name, s);
    const tracing = this.source.tracing;
    if (tracing) {
      this.kernel.observe(kernelValues(tracing.counts));
      const labelsOf = (label: string, rest: string, sub: string | undefined) => {
        if (label !== 'netns') return { [label]: rest };
        const [inode = '', value] = rest.split(':');
        const ns = this.labelsByInode.get(inode);
        return ns && sub && value ? { ...ns, [sub]: value } : ns;
      };
      for (const { metric, key, label, sub } of KERNEL_METRICS) {
        out.set(metric.name, label
          ? this.kernel.keys(key).flatMap((k) => {
            const labels = labelsOf(label, k.slice(key.length), sub);
            return labels ? [{ labels, value: this.kernel.value(k) }] : [];
          })
          : [{ labels: {}, value: this.kernel.value(key) }]);
      }
    }
    out.set(METRICS.tracerUp.name, [{ labels: {}, value: tracing?.state === 'ready' ? 1 : 0 }]);
    out.set(METRICS.buildInfo.name, [{ labels: { version: this.o.version, nodejs: process.versions.node }, value: 1 }]);
    out.set(METRICS.inventorySeconds.name, [{ labels: {}, value: this.lastInventorySec }]);
    out.set(METRICS.owners.name, [{ labels: {}, value: this.slots.size }]);
    out.set(METRICS.ownersFolded.name, [{ labels: {}, value: this.slots.folded }]);
    return out;
  }

  /** The newest events win: a busy host fills the bound long before the window ends. */
  private keepRecent(e: KaEvent): void {
    this.recent.push(e);
    if (this.recent.length > MAX_RECENT_EVENTS * 1.5) this.recent = this.recent.slice(-MAX_RECENT_EVENTS);
  }

  /**
   * Keeps the last observation of the connection an event names, if it may cross a middlebox (only such a flow can
   * be reclaimed by one, and the idle-reclaim rule reads nothing else): from the inventory served now, else from the
   * one before (a reset ends its connection, often before the next inventory is taken). Only named connections:
   * keeping every crossing one, at each refresh, took a tenth of the exporter's refresh at 100k of them.
   */
  private observe(e: Exclude<KaEvent, { type: 'lost' }>): void {
    const id = e.connection;
    if (!id || this.lastSeen.has(id)) return;
    let index = this.owners;
    let c = index.connection(id);
    if (!c) c = (index = this.previousOwners).connection(id);
    if (c && isCrossing(c) && matchesFilter(c, this.o.filter)) this.lastSeen.set(id, { connection: c, atMs: index.takenAtMs });
  }

  /** The observations whose events left the window, or made before it began, go; the connections the window's
   *  events name that this inventory lists are observed in it. */
  private ageLastSeen(connections: readonly Connection[], takenAt: number, windowStart: number): void {
    const named = new Set<string>();
    for (const e of this.recent) if (e.type !== 'lost' && e.connection) named.add(e.connection);
    for (const [id, seen] of this.lastSeen) if (!named.has(id) || seen.atMs < windowStart) this.lastSeen.delete(id);
    // Indexed: run once a refresh over up to 100k connections, the loop stays unoptimized (an iterator result each).
    for (let i = 0; named.size && i < connections.length; i++) {
      const c = connections[i]!;
      if (named.has(c.id) && isCrossing(c)) this.lastSeen.set(c.id, { connection: c, atMs: takenAt });
    }
  }

  private apply(inv: Inventory, costMs: number, now: number): void {
    const connections = filterConnections(inv.connections, this.o.filter);
    // A rolling window, as a capture has: the events of the last minutes, the inventory before this one and the
    // last observation of each connection those events name.
    const windowStart = Math.max(this.startedAt, now - FINDINGS_WINDOW_MS);
    this.recent = this.recent.filter((e) => Date.parse(e.ts) >= windowStart);
    const takenAt = Date.parse(inv.takenAt);
    this.ageLastSeen(connections, takenAt, windowStart);
    const hostAddresses = new Set<string>();
    for (let i = 0; i < inv.connections.length; i++) hostAddresses.add(inv.connections[i]!.local.address);
    const findings = evaluateFindings({
      connections,
      startConnections: this.previous?.connections,
      namespaces: inv.namespaces,
      events: this.recent,
      window: this.previous ? { startMs: windowStart, durationMs: now - windowStart, startInventoryMs: this.previous.atMs } : null,
      idleTimeouts: this.o.idleTimeouts,
      lastSeen: this.lastSeen,
      hostAddresses,
    });
    const next = gaugeSet(inv, connections, findings, this.slots, this.o, now);
    this.counters.dropOwners(this.slots.sweep(now));
    // The swap: everything above was built aside; a scrape sees the old set or the new one, whole.
    this.gauges = next;
    this.inventory = inv;
    this.previous = { connections, atMs: takenAt };
    this.previousOwners = this.owners;
    this.owners = new OwnerIndex(inv);
    this.netnsNames = netnsNames(inv.namespaces);
    this.labelsByInode = new Map(inv.namespaces.map((n) => [String(n.inode), netnsLabels(n)]));
    this.lastInventorySec = costMs / 1000;
    this.counters.inc(METRICS.inventories, {});
    this.ready = true;
  }
}

/**
 * Keeps the tracer of a long-running exporter going: a tracer that failed to start (bpftrace slow to attach on a
 * loaded node) or gave up after its own restarts is started again after `retryMs`. Returns the function that
 * stops retrying.
 */
export function superviseTracer(
  tracing: { start(): Promise<void>; stop(): Promise<void>; state: TracerState | 'off' },
  onRetry: (why: string) => void,
  retryMs = 30_000,
): () => void {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const attempt = (): void => {
    tracing.start().then(watch, (e: Error) => {
      onRetry(`tracer failed to start: ${e.message}`);
      retry();
    });
  };
  const retry = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      if (!stopped) void tracing.stop().then(attempt);
    }, retryMs);
  };
  // Once started, its own restarts run; only a final failure comes back here.
  const watch = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      if (tracing.state === 'failed') {
        onRetry('tracer gave up');
        void tracing.stop().then(attempt);
      } else watch();
    }, retryMs);
  };
  attempt();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
