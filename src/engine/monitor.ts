// The sampling loop: refreshes the inventory on an interval that adapts to its own cost, and keeps the state the
// TUI and watch render (the inventory, capabilities, rows new or closed since the last refreshes).
import type { Capabilities } from '../domain/capabilities.js';
import type { Connection } from '../domain/connection.js';
import type { Clock, InventoryPort } from '../sources/ports.js';
import { InventoryCollector, type CollectedInventory } from './inventory-changes.js';
import { changesBetween, type Inventory, type InventoryChanges } from '../domain/inventory.js';

/** How long a new row stays highlighted. */
export const HIGHLIGHT_MS = 3000;
/** How long a closed connection stays listed, so its death can be followed (TIME-WAIT and the like: HIGHLIGHT_MS). */
export const CLOSED_KEEP_MS = 60_000;
/** Most closed connections listed (a churning host closes thousands a second). */
export const MAX_CLOSED = 5000;
const keptLong = (c: Connection) => c.state !== 'TIME-WAIT' && c.state !== 'SYN-RECV' && c.state !== 'LISTEN';

export interface ClosedConnection {
  connection: Connection;
  closedAt: number;
  /** When the inventory that last listed it was taken (its figures are from then). */
  lastSeenAt?: number;
}

/**
 * Ids of the connections new in the last refreshes, one set per refresh: a refresh adds its own and drops the
 * expired ones, copying nothing (a churning host brings thousands of new connections at every refresh).
 */
export class FreshIds {
  constructor(private readonly generations: readonly { at: number; ids: ReadonlySet<string> }[] = []) {}

  has(id: string): boolean {
    for (const g of this.generations) if (g.ids.has(id)) return true;
    return false;
  }

  /** These less the ones older than `maxAgeMs`, plus `added` as of `now`. */
  next(now: number, maxAgeMs: number, added: readonly Connection[]): FreshIds {
    const kept = this.generations.filter((g) => now - g.at < maxAgeMs);
    if (added.length === 0) return kept.length === this.generations.length ? this : new FreshIds(kept);
    const ids = new Set<string>();
    for (const c of added) ids.add(c.id);
    return new FreshIds([...kept, { at: now, ids }]);
  }
}

/**
 * The closed connections listed after a refresh: `listed` less the expired (see CLOSED_KEEP_MS), then the `gone`
 * ones `keep` accepts, at most MAX_CLOSED in all, the newest kept. Of a churning host's thousands of closes only
 * the newest MAX_CLOSED are wrapped. `listed` itself when that is all of it (the view keys its order on it).
 */
export function closedAfter(listed: readonly ClosedConnection[], gone: readonly Connection[], keep: (c: Connection) => boolean,
  now: number, lastSeenAt: number): readonly ClosedConnection[] {
  const closed = listed.filter((c) => now - c.closedAt < (keptLong(c.connection) ? CLOSED_KEEP_MS : HIGHLIGHT_MS));
  const entering: ClosedConnection[] = [];
  for (let i = gone.length - 1; i >= 0 && entering.length < MAX_CLOSED; i--) {
    if (keep(gone[i]!)) entering.push({ connection: gone[i]!, closedAt: now, lastSeenAt });
  }
  if (entering.length === 0 && closed.length === listed.length) return listed;
  for (let i = entering.length - 1; i >= 0; i--) closed.push(entering[i]!);
  if (closed.length > MAX_CLOSED) closed.splice(0, closed.length - MAX_CLOSED);
  return closed;
}

export interface MonitorState {
  inventory: Inventory | null;
  capabilities: Capabilities | null;
  /** Ids of the connections that appeared within HIGHLIGHT_MS. */
  fresh: FreshIds;
  /** Connections gone recently (see CLOSED_KEEP_MS), oldest first. */
  closed: readonly ClosedConnection[];
  /** What the newest inventory changed, relative to the one of refresh number `since` (the one before it). */
  changes: (InventoryChanges & { since: number }) | null;
  /** Current refresh interval and the cost of the last refresh; `count` numbers the inventories. */
  refresh: { intervalMs: number; lastCostMs: number; count: number; error: string | null };
}

export interface MonitorOptions {
  sources: InventoryPort;
  /** Fastest refresh; slowed down when a refresh costs more than a quarter of it. */
  intervalMs?: number;
  capabilities?: (inv: Inventory) => Promise<Capabilities>;
  now?: Clock;
  /** Which closed connections to list (the view's command-line filter: another workload's churn must not crowd
   *  out the ones watched, MAX_CLOSED being shared). */
  keepClosed?: (c: Connection) => boolean;
  /** Only these namespaces (inodes) are inventoried (`--netns`): each namespace dumped costs a walk of every socket
   *  on the host. All of them when absent. */
  netns?: readonly number[] | null;
}

/** Next delay: never spend more than ~25% of the time refreshing. */
export function adaptiveInterval(baseMs: number, lastCostMs: number): number {
  return Math.max(baseMs, Math.ceil((lastCostMs * 4) / 100) * 100);
}

export class Monitor {
  private current: MonitorState = {
    inventory: null,
    capabilities: null,
    fresh: new FreshIds(),
    closed: [],
    changes: null,
    refresh: { intervalMs: 0, lastCostMs: 0, count: 0, error: null },
  };
  private listeners = new Set<(s: MonitorState) => void>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly baseMs: number;
  private readonly now: Clock;
  private refreshing: Promise<MonitorState> | null = null;
  private lastStart = 0;
  private readonly collector: InventoryCollector;
  /** When the newest completed inventory was started (ms epoch): sockets that existed then are in it. */
  inventoryStartedAt = 0;

  constructor(private readonly opts: MonitorOptions) {
    this.baseMs = opts.intervalMs ?? 2000;
    this.now = opts.now ?? Date.now;
    this.current.refresh.intervalMs = this.baseMs;
    this.collector = new InventoryCollector(opts.sources, opts.netns ? { netns: (ns) => this.covers(ns.inode) } : {});
  }

  /** The namespace of the connection open in the detail view, or null: see InventoryCollector.setNetnsInView. */
  setNetnsInView(inode: number | null): void {
    this.collector.setNetnsInView(inode);
  }

  /** Whether a namespace's sockets are in the inventories (an event of another one never finds its socket there). */
  covers(netns: number): boolean {
    return !this.opts.netns || this.opts.netns.includes(netns);
  }

  get state(): MonitorState {
    return this.current;
  }

  subscribe(fn: (s: MonitorState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Runs the first refresh now, then keeps refreshing until stop(). */
  async start(): Promise<void> {
    await this.refreshOnce();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** One refresh now; concurrent callers share the one in flight. */
  refreshOnce(): Promise<MonitorState> {
    this.refreshing ??= this.collect().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** An early refresh (the event stream met a socket it does not know): at most two a second, and no more than a
   *  tenth of the time (a 1 s inventory at most every 10 s). Keepalive setsockopts of a reconnecting client would
   *  otherwise keep a large host's inventory running back to back. */
  requestRefresh(): void {
    const gap = Math.max(500, this.current.refresh.lastCostMs * 10);
    if (this.refreshing || this.stopped || this.now() - this.lastStart < gap) return;
    void this.refreshOnce();
  }

  private async collect(): Promise<MonitorState> {
    const t0 = performance.now();
    const startedAt = (this.lastStart = this.now());
    try {
      const collected = await this.collector.collect();
      const caps = this.opts.capabilities ? await this.opts.capabilities(collected.inventory) : this.current.capabilities;
      this.inventoryStartedAt = startedAt;
      this.apply(collected, caps, performance.now() - t0);
    } catch (e) {
      this.update({ refresh: { ...this.current.refresh, error: e instanceof Error ? e.message : String(e) } });
    }
    return this.current;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refreshOnce().then(() => this.schedule());
    }, this.current.refresh.intervalMs);
    this.timer.unref?.();
  }

  private apply(collected: CollectedInventory, caps: Capabilities | null, costMs: number): void {
    const now = this.now();
    const prev = this.current.inventory;
    const inv = collected.inventory;
    const changes = collected.changes ?? changesBetween(prev?.connections ?? [], inv.connections);
    // The first inventory's connections are not new, and none of them closed.
    const fresh = this.current.fresh.next(now, HIGHLIGHT_MS, prev ? changes.added : []);
    const closed = closedAfter(this.current.closed, prev ? changes.gone : [], this.opts.keepClosed ?? (() => true), now,
      prev ? Date.parse(prev.takenAt) : now);
    this.update({
      inventory: inv,
      capabilities: caps,
      fresh,
      closed,
      changes: { ...changes, since: this.current.refresh.count },
      refresh: {
        intervalMs: adaptiveInterval(this.baseMs, costMs),
        lastCostMs: costMs,
        count: this.current.refresh.count + 1,
        error: null,
      },
    });
  }

  private update(patch: Partial<MonitorState>): void {
    this.current = { ...this.current, ...patch };
    for (const fn of this.listeners) fn(this.current);
  }
}
