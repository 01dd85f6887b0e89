// The event path: tracer records -> decode (event-decode.ts) -> hold and order (event-order.ts) -> attribute
// (event-attribution.ts) -> KaEvents; the printed maps -> exact counts (tracer-counts.ts), sampled at the end of
// each interval's maps for the kernel's reset rate. Records arrive decoded once by the tracer port; events leave
// after a short hold, so a reset printed after its socket's close still marks that close, and an inventory refresh
// can land before attribution.
import type { BpftraceRecord } from '../parse/bpftrace-json.js';
import type { EventProcess, KaEvent } from '../domain/event.js';
import type { Connection } from '../domain/connection.js';
import type { InventoryChanges } from '../domain/inventory.js';
import { Attribution } from './event-attribution.js';
import { decodeEvent, decodeReceivedReset, type DecodeContext, type Decoded } from './event-decode.js';
import { HoldQueue, type Held } from './event-order.js';
import { applyCountsMap, emptyCounts } from './tracer-counts.js';
import type { TracerCounts } from '../domain/counts.js';
import { CountedResetRate, type CountedResets } from '../model/reset-stats.js';

export type { TracerCounts } from '../domain/counts.js';

export interface EventStreamOptions extends DecodeContext {
  /** How long events are held before emission. */
  holdMs?: number;
  now?: () => number;
  /** Called when an event's socket (seen at `atMs`, in namespace `netns`) is not in the inventory. Return true to
   *  hold it while a refresh that started after `atMs` runs; false once the inventory is newer than the event, or
   *  when no inventory lists that namespace. */
  onUnknownSocket?: (atMs: number, netns: number | null) => boolean;
  /** The process with this pid now (the pid that connected a socket), or null when gone. */
  processOf?: (pid: number) => EventProcess | null;
}

/** Longest a probe of a socket the inventory does not know waits for a newer inventory to name its owner. */
export const UNKNOWN_WAIT_MS = 3000;

export class EventStream {
  private readonly queue = new HoldQueue();
  private readonly attribution: Attribution;
  private readonly holdMs: number;
  private readonly now: () => number;
  private readonly tally = emptyCounts();
  private readonly countedResetRate = new CountedResetRate();
  /** ka-top records received (all but the ready and counts-end markers). */
  private received = 0;
  ready = false;

  constructor(private readonly opts: EventStreamOptions, private readonly emit: (e: KaEvent) => void) {
    this.holdMs = opts.holdMs ?? 300;
    this.now = opts.now ?? Date.now;
    this.attribution = new Attribution(this.now);
  }

  /** The kernel's reset rate over its last counts interval, of these namespaces or the whole host (CountedResetRate). */
  countedResets(netns: readonly number[] | null): CountedResets | null {
    return this.countedResetRate.rate(netns);
  }

  get counts(): TracerCounts {
    const { recordsPrinted: _internal, ...counts } = this.tally;
    return counts;
  }

  /** The next inventory, with what changed since the previous one when known (see Attribution.setInventory). */
  setInventory(connections: readonly Connection[], changes?: InventoryChanges): void {
    this.attribution.setInventory(connections, changes);
  }

  push(rec: BpftraceRecord): void {
    if (rec.type === 'lost_events') {
      this.tally.lostEvents += rec.events;
      this.emit({ type: 'lost', ts: new Date(this.now()).toISOString(), events: rec.events });
      return;
    }
    if (rec.type === 'map') return applyCountsMap(this.tally, rec.name, rec.data, this.opts);
    if (rec.type !== 'ka') return;
    if (rec.rec.kind === 'ready') {
      this.ready = true;
      return;
    }
    if (rec.rec.kind === 'countsEnd') return this.countedResetRate.sample(this.now(), this.tally);
    this.received++;
    const at = this.now();
    const ts = new Date(at).toISOString();
    // One record, two events: the reset received, then the close it caused.
    if (rec.rec.kind === 'resetClose') this.hold(decodeReceivedReset(rec.rec, ts), at);
    const d = decodeEvent(rec.rec, ts, this.opts);
    if (d) this.hold(d, at);
  }

  private hold(d: Decoded, at: number): void {
    const lookup = d.connectPid && this.opts.processOf;
    const h: Held = Object.assign(d, { at, connector: lookup ? (lookup(d.connectPid!) ?? null) : undefined }); // d is ours: no copy (a spread is slow, see event-decode)
    this.attribution.noteSent(h);
    this.queue.push(h);
  }

  /** Once the tracer has stopped: records the kernel printed but ka-top never received are lost events, exactly
   *  printed - received when the final counts came (bpftrace's own loss reports also count dropped map prints);
   *  otherwise the unread rest is added to what bpftrace reported. Delivered + lost = printed. */
  settleLoss(finalCounts: boolean): void {
    const missing = this.tally.recordsPrinted - this.received;
    const lost = finalCounts ? Math.max(0, missing) : Math.max(this.tally.lostEvents, missing);
    if (lost > this.tally.lostEvents) this.emit({ type: 'lost', ts: new Date(this.now()).toISOString(), events: lost - this.tally.lostEvents });
    if (finalCounts || lost > this.tally.lostEvents) this.tally.lostEvents = lost;
  }

  /** Whether events are held (a flush may have some to emit). */
  get holding(): boolean {
    return this.queue.size > 0;
  }

  /** Emits held events older than the hold time (all of them with `all`). */
  flush(all = false): void {
    const now = this.now();
    // Only a socket that lives on can turn up in a newer inventory: a keepalive probe's, or a setsockopt's on an fd
    // that held a connection which just closed (a client reconnecting). The others (closes, resets, timeouts) are
    // gone or going; holding them for a refresh would only make the inventory churn. Such an event waits
    // UNKNOWN_WAIT_MS at most: every later event waits behind it, and on a large host the refresh is slow.
    const mayLeave = (h: Held) =>
      (h.ev.type !== 'keepalive_probe' && h.ev.type !== 'sockopt_changed') || this.attribution.known(h) ||
      now - h.at >= UNKNOWN_WAIT_MS || !this.opts.onUnknownSocket?.(h.at, h.ev.netns);
    for (const h of this.queue.take(now, this.holdMs, all, mayLeave)) {
      this.attribution.attribute(h);
      this.emit(h.ev);
    }
    this.attribution.forget(now);
  }
}
