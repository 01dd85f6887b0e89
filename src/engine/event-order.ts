// Ordering: events are held briefly so they come out cause before effect, whatever order the kernel printed them
// in: tcp_disconnect sets TCP_CLOSE before it sends its reset, over veth/loopback the peer's receipt is printed
// before the send, and the keepalive timer's exit probe comes after the reset and close it caused.
import type { Endpoint } from '../domain/connection.js';
import type { EventProcess } from '../domain/event.js';
import type { Decoded } from './event-decode.js';

export interface Held extends Decoded {
  /** When it was received (ms). */
  at: number;
  /** The process that connected the socket (connectPid), read when the record arrived: a client often exits
   *  right after the reset it receives, before the event leaves the hold. null: it had exited already; absent:
   *  not looked up (no connectPid, or a replay). */
  connector?: EventProcess | null;
}

export const sameEndpoint = (a: Endpoint | null, b: Endpoint | null): boolean =>
  !!a && !!b && a.port === b.port && a.address === b.address;

/** How far back from the tail of the hold an effect of a just-read cause is looked for. */
const EFFECT_WINDOW = 256;

export class HoldQueue {
  private held: Held[] = [];

  get size(): number {
    return this.held.length;
  }

  push(h: Held): void {
    const ev = h.ev;
    let i = -1;
    if (ev.type === 'keepalive_timeout') {
      i = this.findRecent((x) => x.ev.sk === ev.sk && (x.ev.type === 'rst_sent' || x.ev.type === 'close'));
    } else if (ev.type === 'rst_sent') {
      i = this.findRecent((x) =>
        (x.ev.type === 'close' && x.ev.sk === ev.sk && sameEndpoint(x.ev.local, ev.local) && sameEndpoint(x.ev.peer, ev.peer)) ||
        (x.ev.type === 'rst_received' && sameEndpoint(x.ev.local, ev.peer) && sameEndpoint(x.ev.peer, ev.local)));
    }
    // Inserted ahead of its effect, it leaves with the effect's hold time and time stamp (both happened in one
    // kernel call; the stamps only differ by when their records were read), so lines stay in time order.
    if (i >= 0) {
      const effect = this.held[i]!;
      h.ev.ts = effect.ev.ts;
      this.held.splice(i, 0, { ...h, at: effect.at });
    } else this.held.push(h);
  }

  /** The first of the last EFFECT_WINDOW held events that matches. An effect was read just before its cause (one
   *  kernel call): it is near the tail. Searching the whole queue made every reset cost O(held) while a probe
   *  waited for a refresh with a reset storm behind it. */
  private findRecent(match: (h: Held) => boolean): number {
    let found = -1;
    for (let i = this.held.length - 1; i >= Math.max(0, this.held.length - EFFECT_WINDOW); i--) if (match(this.held[i]!)) found = i;
    return found;
  }

  /** Takes the events held at least `holdMs` (all with `all`) in order; stops at the first one `mayLeave`
   *  refuses (later events wait too, keeping the order). */
  take(now: number, holdMs: number, all: boolean, mayLeave: (h: Held) => boolean): Held[] {
    const out: Held[] = [];
    while (this.held.length > 0 && (all || now - this.held[0]!.at >= holdMs)) {
      if (!all && !mayLeave(this.held[0]!)) break;
      out.push(this.held.shift()!);
    }
    return out;
  }
}
