// The event side of a live session: one tracer, the event stream attributed through the Monitor's inventory, and
// what the views keep of it (per-connection activity and timeline, reset statistics, lost events). Shared by
// `watch`, the TUI and `snapshot --capture`.
import { generateBpfProgram } from '../model/bpf-program.js';
import { addEvent, newActivity, type ConnectionActivity } from '../model/event-activity.js';
import type { KaEvent } from '../domain/event.js';
import { ResetStats, resetRecordOf, type ResetSummary } from '../model/reset-stats.js';
import { socketInodeOf } from '../sources/procfs.js';
import type { SockinfoDaemon } from '../sources/sockinfo.js';
import { Tracer, type TracerState } from '../sources/tracer.js';
import type { TracingHost } from '../sources/tracing-host.js';
import { EventStream, type TracerCounts } from './event-stream.js';
import type { Monitor } from './monitor.js';

export interface LiveTracingOptions {
  host: TracingHost;
  monitor: Monitor;
  /** Events kept per connection for the detail view. */
  timelineSize?: number;
  /** Connections whose activity is kept after they are gone (closed rows, detail views). */
  maxConnections?: number;
  /** The incremental owner scanner: told to re-read a socket's options when a setsockopt on it is traced. */
  daemon?: SockinfoDaemon;
  onState?: (state: TracerState, detail: string | null) => void;
}

export class LiveTracing {
  readonly stream: EventStream;
  readonly resets = new ResetStats();
  /** Why some probes are not attached on this host, in words. */
  readonly missing: string[];
  /** How the keepalive timer is watched (tracepoint, kprobe, fentry) or null. */
  readonly keepaliveVia: string | null;
  state: TracerState | 'off' = 'off';
  detail: string | null = null;
  private tracer: Tracer | null = null;
  private readonly activity = new Map<string, ConnectionActivity>();
  private readonly listeners = new Set<(e: KaEvent) => void>();
  private unsubscribe: (() => void) | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly program: string;

  constructor(private readonly opts: LiveTracingOptions) {
    const monitor = opts.monitor;
    this.stream = new EventStream(
      {
        reasons: opts.host.sendReset.reasons,
        hz: opts.host.hz,
        // An event of a socket the inventory does not list yet: hold it while a newer inventory is taken.
        onUnknownSocket: (at) => {
          if (monitor.inventoryStartedAt >= at) return false;
          monitor.requestRefresh();
          return true;
        },
      },
      (e) => this.record(e),
    );
    const program = generateBpfProgram(opts.host);
    this.program = program.text;
    this.missing = program.missing;
    this.keepaliveVia = program.keepalive ?? null;
  }

  get pid(): number | null {
    return this.tracer?.pid ?? null;
  }

  get counts(): TracerCounts {
    return this.stream.counts;
  }

  subscribe(fn: (e: KaEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Starts bpftrace; resolves once every probe is attached, rejects with bpftrace's own error. */
  async start(): Promise<void> {
    const { monitor, host } = this.opts;
    // The index is rebuilt only for a new inventory, not for every state update (errors, highlights).
    let indexed = monitor.state.inventory;
    if (indexed) this.stream.setInventory(indexed.connections);
    this.unsubscribe = monitor.subscribe((s) => {
      if (!s.inventory || s.inventory === indexed) return;
      indexed = s.inventory;
      this.stream.setInventory(indexed.connections);
    });
    this.tracer = new Tracer({
      bpftrace: host.bpftrace.path!,
      program: this.program,
      onRecord: (r) => this.stream.push(r),
      onState: (s, d) => {
        this.state = s;
        this.detail = d;
        this.opts.onState?.(s, d);
      },
    });
    this.flushTimer = setInterval(() => this.stream.flush(), 50);
    await this.tracer.start();
  }

  /** Stops bpftrace cleanly (it prints its exact counts on the way out) and emits what is still held. */
  async stop(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    this.unsubscribe?.();
    await this.tracer?.stop();
    this.stream.flush(true);
  }

  activityOf(id: string): ConnectionActivity | undefined {
    return this.activity.get(id);
  }

  resetSummary(now = Date.now()): ResetSummary {
    return this.resets.summary(now);
  }

  private record(e: KaEvent): void {
    if (e.type !== 'lost' && e.connection) {
      let a = this.activity.get(e.connection);
      if (!a) {
        this.evictOldest();
        this.activity.set(e.connection, (a = newActivity()));
      }
      addEvent(a, e, this.opts.timelineSize ?? 100);
    }
    if (e.type === 'sockopt_changed' && e.pid !== null) this.optionsChanged(e.pid, e.fd);
    const r = resetRecordOf(e);
    if (r) this.resets.add(r);
    for (const fn of this.listeners) fn(e);
  }

  /** A traced setsockopt (emitted after the call returned): re-read that socket and refresh soon. */
  private optionsChanged(pid: number, fd: number): void {
    const { daemon, monitor } = this.opts;
    const inode = daemon ? socketInodeOf(pid, fd) : null;
    if (!daemon || inode === null) return;
    daemon.reread([inode]).then(() => monitor.requestRefresh(), () => {});
  }

  private evictOldest(): void {
    if (this.activity.size < (this.opts.maxConnections ?? 100_000)) return;
    const oldest = this.activity.keys().next();
    if (!oldest.done) this.activity.delete(oldest.value);
  }
}
