// The event side of a live session: one tracer (any TraceSource: bpftrace, or a recording), the event stream
// attributed through an inventory feed (the Monitor), and what the views keep of it (per-connection activity and
// timeline, reset statistics, lost events). Shared by `watch`, the TUI and `snapshot --capture`. Building the
// program and starting bpftrace is bpftraceSource()'s job, not this class's.
import { generateBpfProgram, type PrintedRecord, type ProgramOptions } from '../model/bpf-program.js';
import type { ConnectionFilter } from '../domain/filter.js';
import { loadBpfFragments } from '../sources/bpf-fragments.js';
import { addEvent, newActivity, type ConnectionActivity } from '../model/event-activity.js';
import type { EventProcess, EventType, KaEvent } from '../domain/event.js';
import { netnsOfPid, socketInodeOf } from '../sources/procfs.js';
import { switchOffTracepointSampling, type SockinfoDaemon } from '../sources/sockinfo.js';
import { Tracer } from '../sources/tracer.js';
import type { TraceSource, TracerState } from '../sources/ports.js';
import type { TracingHost } from '../sources/tracing-host.js';
import type { DecodeContext } from './event-decode.js';
import type { CountedResets } from '../model/reset-stats.js';
import { EventStream, type TracerCounts } from './event-stream.js';
import type { MonitorState } from './monitor.js';

/** The inventory, and (from the Monitor) what it changed and its number. */
type FeedState = Pick<MonitorState, 'inventory'> & Partial<Pick<MonitorState, 'changes' | 'refresh'>>;

/** What the tracer needs of the inventory side (the Monitor, or a fixed inventory in tests). */
export interface InventoryFeed {
  readonly state: FeedState;
  /** When the newest inventory was started (ms epoch): sockets that existed then are in it. */
  readonly inventoryStartedAt: number;
  subscribe(fn: (s: FeedState) => void): () => void;
  requestRefresh(): void;
  /** Whether the inventories list this namespace's sockets. */
  covers(netns: number): boolean;
}

/** How often held events, option re-reads and wanted refreshes are looked at while any waits (events are held
 *  300 ms to be put in order)… */
const TICK_MS = 50;
/** …and while none does: each tick wakes ka-top, 20 a second cost ~0.003 core on an idle host for nothing. */
const IDLE_TICK_MS = 1000;

/** A tracer and the facts its records are decoded with. */
export interface TracingSource extends DecodeContext {
  tracer: TraceSource;
  /** Why some probes are not attached on this host, in words. */
  missing: string[];
  /** How the keepalive timer is watched (tracepoint, kprobe, fentry) or null. */
  keepaliveVia: string | null;
  /** How TCP state changes are watched (tracepoint, rawtracepoint) or null. */
  stateVia: string | null;
  /** Every keepalive/linger setsockopt on the host is traced (default false). */
  allSetsockopts?: boolean;
}

/** What the program must print for the events a run shows, and the filters it can apply in the kernel. Closes
 *  of every connection only when asked for by name or narrowed by a netns/port filter; otherwise only those of
 *  connections that had a probe, a timeout or a reset. */
export function programOptionsFor(events: ReadonlySet<EventType> | null, filter: ConnectionFilter, netnsInodes: number[] | null): ProgramOptions {
  const want = (t: EventType) => !events || events.has(t);
  const records = new Set<PrintedRecord>();
  if (want('keepalive_probe')) records.add('probe');
  if (want('keepalive_timeout')) records.add('katimeout');
  // The resets we send decide how a close ended and what caused a received reset.
  if (want('rst_sent') || want('rst_received') || want('close')) records.add('rst');
  if (want('rst_received')) records.add('rrst');
  if (want('close')) records.add('close');
  // A keepalive setsockopt runs in its owner's context before the probes start: it re-reads that socket and
  // refreshes the inventory early, so the probes of a new connection find their owner while it is alive.
  if (want('sockopt_changed') || want('keepalive_probe') || want('keepalive_timeout')) records.add('sockopt');
  return {
    records,
    allCloses: !!events?.has('close') || !!filter.ports?.length || !!netnsInodes?.length,
    filter: { netns: netnsInodes ?? undefined, ports: filter.ports, pids: filter.pids, comms: filter.comms },
  };
}

/** The live tracer: this host's program (with the run's filters) under bpftrace. */
export function bpftraceSource(host: TracingHost, opts: ProgramOptions = {}): TracingSource {
  const program = generateBpfProgram(host, loadBpfFragments(), opts);
  return {
    tracer: new Tracer({ bpftrace: host.bpftrace.path!, program: program.text, env: program.env, switchOffSampling: switchOffTracepointSampling }),
    reasons: program.reasons, tcpStates: program.tcpStates, hz: host.hz,
    missing: program.missing, keepaliveVia: program.keepalive, stateVia: program.state, allSetsockopts: program.allSetsockopts,
  };
}

export interface LiveTracingOptions {
  source: TracingSource;
  monitor: InventoryFeed;
  /** Events kept per connection for the detail view (default 100); 0 keeps no per-connection activity at all. */
  timelineSize?: number;
  /** Connections whose activity is kept after they are gone (closed rows, detail views). */
  maxConnections?: number;
  /** The incremental owner scanner: told to re-read a socket's options when a setsockopt on it is traced. */
  daemon?: SockinfoDaemon;
  /** The process with a pid now (the owner of a client socket is the pid that connected it); none in replays. */
  processOf?: (pid: number) => EventProcess | null;
  onState?: (state: TracerState, detail: string | null) => void;
}

/** How long the events of a connection gone from the inventory are kept after its last one. */
export const GONE_KEEP_MS = 5 * 60_000;

export class LiveTracing {
  readonly stream: EventStream;
  /** Why some probes are not attached on this host, in words. */
  readonly missing: string[];
  /** How the keepalive timer is watched (tracepoint, kprobe, fentry) or null. */
  readonly keepaliveVia: string | null;
  /** How TCP state changes are watched (tracepoint, rawtracepoint) or null. */
  readonly stateVia: string | null;
  state: TracerState | 'off' = 'off';
  detail: string | null = null;
  private readonly tracer: TraceSource;
  /** By connection id, in the order of each one's latest event (an event moves its connection to the end). */
  private readonly activity = new Map<string, ConnectionActivity>();
  private lastSweep = 0;
  private seen = 0;
  private readonly timelineSize: number;
  private readonly listeners = new Set<(e: KaEvent) => void>();
  private unsubscribe: (() => void) | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  /** The next tick is an idle one (IDLE_TICK_MS): a record brings it forward. */
  private tickIdle = false;
  private ticking = false;
  /** An inventory started after this time (ms epoch) is wanted (see rereadChangedOptions). */
  private refreshAfter: number | null = null;
  /** Setsockopts traced since the last tick, by `pid:fd`: re-read together at the tick. */
  private readonly optionChanges = new Map<string, { pid: number; fd: number; at: number; probesFollow: boolean }>();
  /** What /proc said for this tick's records, by pid. A health checker's hundreds of records a second come from a
   *  few processes: each read once per tick, not once per record (most of the event path's system calls). */
  private readonly perTick = { netns: new Map<number, number | null>(), process: new Map<number, EventProcess | null>() };

  constructor(private readonly opts: LiveTracingOptions) {
    this.timelineSize = opts.timelineSize ?? 100;
    const monitor = opts.monitor;
    const { source } = opts;
    this.stream = new EventStream(
      {
        reasons: source.reasons,
        tcpStates: source.tcpStates,
        hz: source.hz,
        // An event of a socket the inventory does not list yet: hold it while a newer inventory is taken.
        onUnknownSocket: (at, netns) => {
          if (monitor.inventoryStartedAt >= at || (netns !== null && !monitor.covers(netns))) return false;
          monitor.requestRefresh();
          return true;
        },
        processOf: opts.processOf && ((pid) => once(this.perTick.process, pid, opts.processOf!)),
      },
      (e) => this.record(e),
    );
    this.tracer = source.tracer;
    this.missing = source.missing;
    this.keepaliveVia = source.keepaliveVia;
    this.stateVia = source.stateVia;
  }

  get pid(): number | null {
    return this.tracer.pid;
  }

  /** Tracepoints whose perf sampling is off (null: not done, or it failed). */
  get samplingOff(): number | null {
    return this.tracer.samplingOff ?? null;
  }

  get counts(): TracerCounts {
    return this.stream.counts;
  }

  countedResets(netns: readonly number[] | null): CountedResets | null {
    return this.stream.countedResets(netns);
  }

  subscribe(fn: (e: KaEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Starts bpftrace; resolves once every probe is attached, rejects with bpftrace's own error. */
  async start(): Promise<void> {
    const { monitor } = this.opts;
    // The index follows each new inventory (not every state update: errors, highlights), by its changes when they
    // are relative to the inventory it holds.
    let indexed = monitor.state.inventory;
    let indexedCount = monitor.state.refresh?.count;
    if (indexed) this.stream.setInventory(indexed.connections);
    this.unsubscribe = monitor.subscribe((s) => {
      if (!s.inventory || s.inventory === indexed) return;
      const changes = indexed && s.changes && s.changes.since === indexedCount ? s.changes : undefined;
      indexed = s.inventory;
      indexedCount = s.refresh?.count;
      this.stream.setInventory(indexed.connections, changes);
    });
    this.ticking = true;
    this.scheduleTick(TICK_MS);
    await this.tracer.start(
      (r) => {
        this.stream.push(r);
        if (this.tickIdle) this.scheduleTick(TICK_MS);
      },
      (s, d) => {
        this.state = s;
        this.detail = d;
        // While every setsockopt is traced (each one re-reads its socket), the helper's periodic re-read of every
        // socket's options is only a safety net and runs less often.
        this.opts.daemon?.setsockoptsTraced(s === 'ready' && this.opts.source.allSetsockopts === true);
        this.opts.onState?.(s, d);
      },
    );
  }

  /** Stops bpftrace cleanly (it prints its exact counts on the way out) and emits what is still held. */
  async stop(): Promise<void> {
    this.ticking = false;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    this.unsubscribe?.();
    const finalCounts = await this.tracer.stop();
    this.stream.flush(true);
    this.stream.settleLoss(finalCounts);
  }

  /** Emits held events that are due, re-reads changed options, asks for a wanted refresh; every TICK_MS while any
   *  of that waits, every IDLE_TICK_MS otherwise. */
  private tick(): void {
    this.stream.flush();
    this.rereadChangedOptions();
    this.perTick.netns.clear();
    this.perTick.process.clear();
    this.refreshIfWanted();
    this.forgetGone();
    const busy = this.stream.holding || this.optionChanges.size > 0 || this.refreshAfter !== null;
    this.scheduleTick(busy ? TICK_MS : IDLE_TICK_MS);
  }

  private scheduleTick(ms: number): void {
    if (!this.ticking) return; // stopped: the final records are flushed by stop()
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickIdle = ms === IDLE_TICK_MS;
    this.tickTimer = setTimeout(() => this.tick(), ms);
  }

  /** Events received so far (lost records not counted). */
  get eventsSeen(): number {
    return this.seen;
  }

  activityOf(id: string): ConnectionActivity | undefined {
    return this.activity.get(id);
  }

  private record(e: KaEvent): void {
    if (e.type !== 'lost') this.seen++;
    if (e.type !== 'lost' && e.connection && this.timelineSize > 0) {
      let a = this.activity.get(e.connection);
      if (a) this.activity.delete(e.connection);
      else {
        this.evictOldest();
        a = newActivity();
      }
      this.activity.set(e.connection, a);
      addEvent(a, e, this.timelineSize);
    }
    if (e.type === 'lost') this.opts.daemon?.setsockoptsMissed(); // some may have been setsockopts
    if (e.type === 'sockopt_changed' && e.pid !== null) {
      // A socket the inventory does not list yet: its namespace is the caller's (setsockopt runs in its context).
      e.netns ??= once(this.perTick.netns, e.pid, netnsOfPid);
      if (this.opts.daemon) {
        const key = `${e.pid}:${e.fd}`;
        const prev = this.optionChanges.get(key);
        this.optionChanges.set(key, { pid: e.pid, fd: e.fd, at: Date.now(), probesFollow: (prev?.probesFollow ?? false) || e.option !== 'SO_LINGER' });
      }
    }
    for (const fn of this.listeners) fn(e);
  }

  /** The setsockopts traced since the last tick (emitted after the calls returned): one re-read of those sockets.
   *  For a keepalive option, also take an inventory that starts after now (a refresh already running may predate
   *  the socket): it names the owner while the socket lives, before its keepalive probes need one. SO_LINGER has no
   *  probes to wait for, and health checkers set it on every check: hundreds a second would keep the inventory
   *  refreshing twice a second. */
  private rereadChangedOptions(): void {
    const { daemon } = this.opts;
    if (!daemon || this.optionChanges.size === 0) return;
    const inodes: number[] = [];
    let after: number | null = null;
    for (const c of this.optionChanges.values()) {
      const inode = socketInodeOf(c.pid, c.fd);
      if (inode === null) continue; // closed meanwhile: nothing to re-read
      inodes.push(inode);
      if (c.probesFollow) after = Math.max(after ?? 0, c.at);
    }
    this.optionChanges.clear();
    if (inodes.length === 0) return;
    daemon.reread(inodes).then(() => {
      if (after === null) return;
      this.refreshAfter = Math.max(this.refreshAfter ?? 0, after);
      if (this.tickIdle) this.scheduleTick(TICK_MS);
    }, () => {});
  }

  private refreshIfWanted(): void {
    const { monitor } = this.opts;
    if (this.refreshAfter === null) return;
    if (monitor.inventoryStartedAt > this.refreshAfter) this.refreshAfter = null;
    else monitor.requestRefresh();
  }

  /**
   * Forgets the activity of connections gone from the inventory whose last event is older than GONE_KEEP_MS (a
   * closed row shows for CLOSED_KEEP_MS). A health checker's every check is a connection with a reset: without
   * this, hundreds a second would fill the map to its cap and hold it there. Live connections keep theirs (the
   * running probe count). Runs every 10 s, from the oldest event on.
   */
  forgetGone(now = Date.now()): void {
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    let alive: Set<string> | null = null;
    for (const [id, a] of this.activity) {
      const last = a.timeline.at(-1);
      if (!last || now - Date.parse(last.ts) < GONE_KEEP_MS) break;
      alive ??= new Set(this.opts.monitor.state.inventory?.connections.map((c) => c.id));
      if (!alive.has(id)) this.activity.delete(id);
    }
  }

  private evictOldest(): void {
    if (this.activity.size < (this.opts.maxConnections ?? 100_000)) return;
    const oldest = this.activity.keys().next();
    if (!oldest.done) this.activity.delete(oldest.value);
  }
}

/** The value of `key` in `cache`, read with `read` when not there yet. */
function once<K, V>(cache: Map<K, V>, key: K, read: (key: K) => V): V {
  if (cache.has(key)) return cache.get(key)!;
  const v = read(key);
  cache.set(key, v);
  return v;
}
