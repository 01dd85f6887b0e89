// `snapshot --capture`: an inventory at the start and at the end of a window, and every event in between, each
// linked to its connection. Runs on a LiveSession, like `watch` and the TUI.
import type { Connection } from '../domain/connection.js';
import { heldBackTotal, type CaptureTotals } from '../domain/counts.js';
import type { KaEvent } from '../domain/event.js';
import type { Inventory } from '../domain/inventory.js';
import { tupleKey } from '../domain/keys.js';
import { flowIdleMs } from '../model/flow.js';
import type { Monitor } from './monitor.js';
import type { LiveSession } from './session.js';

/** Events kept in the document; beyond this only the counts grow (a storm must not exhaust memory). */
export const MAX_CAPTURED_EVENTS = 200_000;

export interface CaptureOptions {
  durationMs: number;
  /** Resolves to end the window early (a signal). */
  stop: Promise<unknown>;
  /** Called about once a second while capturing. */
  onProgress?: (remainingMs: number, events: number) => void;
}

export interface CaptureResult {
  start: Inventory;
  end: Inventory;
  /** ms epoch: the window is [startedAt, endedAt]. */
  startedAt: number;
  endedAt: number;
  events: KaEvent[];
  /** Events seen but not kept (beyond MAX_CAPTURED_EVENTS). */
  eventsDropped: number;
  /** The tracer's exact totals (null without tracing). */
  counts: CaptureTotals | null;
  /** Whether events were traced and, if not, why. */
  tracing: { on: boolean; reason: string | null; missing: string[] };
  /** True when a signal ended the window early. */
  interrupted: boolean;
  /** Longest flow idle (ms) seen per connection id over every inventory of the window. */
  observedIdleMs: Map<string, number>;
  /** The last observation of every connection seen in an inventory of the window, with its time (ms epoch). */
  lastSeen: Map<string, { connection: Connection; atMs: number }>;
}

/** What every inventory of the window adds: idle peaks and the last observation of each connection. */
class Observations {
  readonly idle = new Map<string, number>();
  readonly lastSeen = new Map<string, { connection: Connection; atMs: number }>();

  add(inv: Inventory): void {
    const at = Date.parse(inv.takenAt);
    for (const c of inv.connections) {
      const idle = flowIdleMs(c);
      if (idle !== null && idle > (this.idle.get(c.id) ?? -1)) this.idle.set(c.id, idle);
      this.lastSeen.set(c.id, { connection: c, atMs: at });
    }
  }

  /** Links events the live stream could not attribute (a socket closed before the next refresh saw it) to a
   *  connection seen during the window with the same namespace and 4-tuple. */
  link(events: KaEvent[]): void {
    const byTuple = new Map<string, Connection>();
    for (const { connection: c } of this.lastSeen.values()) byTuple.set(tupleKey(c.netns.inode, c.local, c.peer), c);
    for (const e of events) {
      if (e.type === 'lost' || e.connection || !e.local || !e.peer || e.netns === null) continue;
      const c = byTuple.get(tupleKey(e.netns, e.local, e.peer));
      if (!c) continue;
      e.connection = c.id;
      if (e.pid === null && c.process) {
        e.pid = c.process.pid;
        e.comm = c.process.comm;
        e.process = { pid: c.process.pid, comm: c.process.comm, cmdline: c.process.cmdline };
      }
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitWindow(o: CaptureOptions, startedAt: number, events: () => number): Promise<boolean> {
  let interrupted = false;
  const stopped = o.stop.then(() => (interrupted = true));
  for (;;) {
    const remaining = startedAt + o.durationMs - Date.now();
    if (remaining <= 0 || interrupted) break;
    o.onProgress?.(remaining, events());
    await Promise.race([sleep(Math.min(1000, remaining)), stopped]);
  }
  return interrupted;
}

/** The monitor's inventory after one more refresh. */
async function takeInventory(m: Monitor): Promise<Inventory> {
  const st = await m.refreshOnce();
  if (!st.inventory) throw new Error(`inventory failed: ${st.refresh.error ?? 'unknown error'}`);
  return st.inventory;
}

async function withoutEvents(session: LiveSession, o: CaptureOptions, reason: string | null, missing: string[] = []): Promise<CaptureResult> {
  // Both inventories still show what changed over the window.
  const start = await takeInventory(session.monitor);
  const startedAt = Date.now();
  const interrupted = await waitWindow(o, startedAt, () => 0);
  await session.daemon.full();
  const end = await takeInventory(session.monitor);
  const seen = new Observations();
  seen.add(start);
  seen.add(end);
  return {
    start, end, startedAt, endedAt: Date.now(), events: [], eventsDropped: 0, counts: null, interrupted,
    observedIdleMs: seen.idle, lastSeen: seen.lastSeen,
    tracing: { on: false, reason, missing },
  };
}

/** Runs the window on a session opened for it (its monitor and tracer are started and stopped here). */
export async function runCapture(session: LiveSession, o: CaptureOptions): Promise<CaptureResult> {
  const { monitor, tracing, daemon } = session;
  if (!tracing) return withoutEvents(session, o, session.tracingOff);
  const events: KaEvent[] = [];
  let dropped = 0;
  tracing.subscribe((e) => {
    if (events.length < MAX_CAPTURED_EVENTS) events.push(e);
    else dropped++;
  });
  try {
    // Refreshes let events of sockets opened during the window find their owner.
    await monitor.start();
    try {
      await tracing.start();
    } catch (e) {
      monitor.stop();
      return await withoutEvents(session, o, `tracer failed to start: ${(e as Error).message.split('\n')[0]}`, tracing.missing);
    }
    // The window opens once the tracer is attached; the start inventory is taken right then.
    const startedAt = Date.now();
    const start = await takeInventory(monitor);
    const seen = new Observations();
    seen.add(start);
    let last = start;
    monitor.subscribe((st) => {
      if (st.inventory && st.inventory !== last) seen.add((last = st.inventory));
    });
    const interrupted = await waitWindow(o, startedAt, () => events.length + dropped);
    monitor.stop();
    // The end inventory holds the options the kernel uses at the end: every socket is read again.
    await daemon.full();
    const end = await takeInventory(monitor);
    await tracing.stop(); // bpftrace prints its exact counts on the way out; held events are emitted
    const endedAt = Date.now();
    seen.link(events);
    const { rstSentByReason, rstReceived, keepaliveTimeouts, lostEvents, cappedEvents, rstSentByNetnsCause, rstReceivedByNetns, closesByNetns } = tracing.counts;
    const counts = { rstSentByReason, rstReceived, keepaliveTimeouts, lostEvents, ...(heldBackTotal(cappedEvents) ? { cappedEvents } : {}), rstSentByNetnsCause, rstReceivedByNetns, closesByNetns };
    return {
      start, end, startedAt, endedAt, events, eventsDropped: dropped, counts, interrupted,
      observedIdleMs: seen.idle, lastSeen: seen.lastSeen,
      tracing: { on: true, reason: null, missing: tracing.missing },
    };
  } finally {
    monitor.stop();
  }
}
