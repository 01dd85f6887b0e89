// A live session: the owner-scan daemon, the inventory Monitor and, where the host allows it, the tracer, opened
// and closed together. `top`, `watch`, `snapshot --capture` and `exporter` run on it, so every exit path ends every
// helper.
import type { Connection } from '../domain/connection.js';
import type { Inventory } from '../domain/inventory.js';
import { capabilitiesFrom } from './capabilities.js';
import { liveInventory } from '../sources/live.js';
import { SockinfoDaemon } from '../sources/sockinfo.js';
import { eventProcessOf } from '../sources/procfs.js';
import type { TracerState } from '../sources/ports.js';
import { probeTracingHost, type TracingHost } from '../sources/tracing-host.js';
import type { ProgramOptions } from '../model/bpf-program.js';
import { LiveTracing, bpftraceSource } from './live-tracing.js';
import { Monitor } from './monitor.js';

export interface SessionOptions {
  /** Base inventory refresh interval. */
  intervalMs: number;
  /** Keep capabilities current with every inventory (the TUI's header). */
  capabilities?: boolean;
  /** Events kept per connection for the detail view. */
  timelineSize?: number;
  onTracerState?: (state: TracerState, detail: string | null) => void;
  /** What the program prints and filters in the kernel (records, closes, netns/port/pid filters). */
  program?: ProgramOptions;
  /** Which closed connections the monitor lists (the TUI's command-line filter). */
  keepClosed?: (c: Connection) => boolean;
  /** Only these namespaces (inodes) are inventoried (`--netns`); all when null or absent. */
  netns?: readonly number[] | null;
}

export class LiveSession {
  private constructor(
    readonly daemon: SockinfoDaemon,
    readonly monitor: Monitor,
    readonly host: TracingHost,
    /** Null when this host cannot trace (`tracingOff` says why). */
    readonly tracing: LiveTracing | null,
  ) {}

  /** Why events are not traced here, or null. */
  get tracingOff(): string | null {
    return this.host.usable.ok ? null : this.host.usable.reason;
  }

  /** Starts the daemon and probes the host; the monitor and tracer are started by the caller. A session that cannot
   *  open ends its daemon before it throws: the process then exits instead of waiting on the helper's pipes. */
  static async open(o: SessionOptions): Promise<LiveSession> {
    const daemon = new SockinfoDaemon();
    daemon.start();
    try {
      const probing = probeTracingHost();
      const capabilities = o.capabilities
        ? async (inv: Inventory) => capabilitiesFrom(await probing, inv.sockoptReads)
        : undefined;
      const monitor = new Monitor({ sources: liveInventory({ daemon }), intervalMs: o.intervalMs, capabilities, keepClosed: o.keepClosed, netns: o.netns });
      const host = await probing;
      const tracing = host.usable.ok
        ? new LiveTracing({
          source: bpftraceSource(host, o.program), monitor, daemon, processOf: eventProcessOf, timelineSize: o.timelineSize, onState: o.onTracerState,
        })
        : null;
      return new LiveSession(daemon, monitor, host, tracing);
    } catch (e) {
      await daemon.close();
      throw e;
    }
  }

  /** Stops refreshing, stops the tracer cleanly (it prints its exact counts on the way out), ends the daemon. */
  async close(): Promise<void> {
    this.monitor.stop();
    await this.tracing?.stop();
    await this.daemon.close();
  }
}
