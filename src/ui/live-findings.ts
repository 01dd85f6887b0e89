// Findings of the live view: the rules of model/findings.ts over the current inventory and a sliding window of the
// events seen, so a keepalive timeout or a reset storm shows up on screen while it matters and ages out after.
import type { MonitorState } from '../engine/monitor.js';
import type { Connection } from '../domain/connection.js';
import type { KaEvent } from '../domain/event.js';
import type { ConnectionFilter } from '../domain/filter.js';
import type { Finding, IdleTimeout } from '../domain/finding.js';
import { eventMatchesFilter, filterConnections, netnsNames, netnsSelected } from '../model/filter.js';
import { DEFAULT_IDLE_TIMEOUTS, evaluateFindings } from '../model/findings/index.js';

export interface LiveFindingsOptions {
  /** How far back events count. */
  windowMs?: number;
  /** Most events kept (default 20k: a reset storm must not grow memory, or each evaluation, without bound). */
  maxEvents?: number;
  /** Least time between two evaluations (default 5 s): on a busy host one costs a few hundred ms (every rule over
   *  the inventory and the window), and an inventory comes every 2 s. Longer when the last one cost more than a
   *  fiftieth of it: the findings never take more than 2% of the time. */
  minIntervalMs?: number;
  /** Least time between two evaluations while neither the connections (the same array: see InventoryCollector) nor
   *  the events changed (default 15 s): time alone moves few findings (an idle connection past a middlebox timeout,
   *  events leaving the window), and at 100k idle sockets an evaluation is a fifth of the TUI's time. */
  agingIntervalMs?: number;
  idleTimeouts?: readonly IdleTimeout[];
  /** The view's command-line filter: findings about what the view shows, so choosing one never empties the table. */
  filter?: ConnectionFilter;
  now?: () => number;
}

/** Events the rules read; the rest (sockopt changes, lost counts) would only take room. */
const USED: ReadonlySet<KaEvent['type']> = new Set(['keepalive_probe', 'keepalive_timeout', 'rst_sent', 'rst_received', 'close']);

export class LiveFindings {
  private events: KaEvent[] = [];
  private times: number[] = [];
  /** Events before this index have left the window. */
  private head = 0;
  private added = 0;
  private readonly startedAt: number;
  private last: { inventory: unknown; connections: unknown; added: number; at: number; costMs: number; findings: readonly Finding[] } | null = null;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: LiveFindingsOptions = {}) {
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  push(e: KaEvent): void {
    if (!USED.has(e.type)) return;
    this.events.push(e);
    this.times.push(Date.parse(e.ts));
    this.added++;
    if (this.events.length - this.head > (this.opts.maxEvents ?? 20_000)) this.drop(1);
  }

  /** The findings now; evaluated again for a new inventory or new events, at most every minIntervalMs (or 50 times
   *  what the last evaluation took). */
  findings(state: MonitorState): readonly Finding[] {
    const inv = state.inventory;
    if (!inv) return [];
    const now = this.now();
    const l = this.last;
    if (l) {
      const sameEvents = l.added === this.added;
      const onlyAged = sameEvents && l.connections === inv.connections;
      const wait = Math.max(this.opts.minIntervalMs ?? 5000, l.costMs * 50, onlyAged ? (this.opts.agingIntervalMs ?? 15_000) : 0);
      if ((l.inventory === inv && sameEvents) || now - l.at < wait) return l.findings;
    }
    const from = Math.max(this.startedAt, now - this.windowMs);
    let old = this.head;
    while (old < this.times.length && this.times[old]! < from) old++;
    this.drop(old - this.head);
    const window = this.events.slice(this.head);
    const f = this.opts.filter ?? {};
    const all = !Object.keys(f).length;
    const connections = filterConnections(inv.connections, f);
    const namespaces = all ? inv.namespaces : inv.namespaces.filter((n) => netnsSelected(f, n.inode, n.name));
    const names = netnsNames(inv.namespaces);
    const events = all ? window : window.filter((e) => eventMatchesFilter(e, f, names));
    // Where each connection an event names was last seen: the inventory, or the one that last listed it (closed
    // rows). Only those: the rules look up nothing else, and indexing 100k connections took most of an evaluation.
    const named = new Set<string>();
    for (const e of events) if (e.type !== 'lost' && e.connection) named.add(e.connection);
    const lastSeen = new Map<string, { connection: Connection; atMs: number }>();
    for (const x of state.closed) if (named.has(x.connection.id)) lastSeen.set(x.connection.id, { connection: x.connection, atMs: x.lastSeenAt ?? x.closedAt });
    const takenAt = Date.parse(inv.takenAt);
    if (named.size) for (const c of connections) if (named.has(c.id)) lastSeen.set(c.id, { connection: c, atMs: takenAt });
    const findings = evaluateFindings({
      connections,
      namespaces,
      events,
      window: { startMs: from, durationMs: Math.max(1, now - from), startInventoryMs: from },
      idleTimeouts: this.opts.idleTimeouts ?? DEFAULT_IDLE_TIMEOUTS,
      lastSeen,
    });
    this.last = { inventory: inv, connections: inv.connections, added: this.added, at: now, costMs: this.now() - now, findings };
    return findings;
  }

  /** Drops the n oldest events: the head moves, the arrays are compacted once half of them is dropped (a reset
   *  storm fills the window: copying the whole window for each new event took most of a core). */
  private drop(n: number): void {
    if (n <= 0) return;
    this.head += n;
    if (this.head * 2 < this.events.length) return;
    this.events = this.events.slice(this.head);
    this.times = this.times.slice(this.head);
    this.head = 0;
  }
}
