// Ordering: events are held briefly so they come out cause before effect, whatever order the kernel printed them
// in: tcp_disconnect sets TCP_CLOSE before it sends its reset, over veth/loopback the peer's receipt is printed
// before the send, and the keepalive timer's exit probe comes after the reset and close it caused.
import type { Endpoint } from '../domain/connection.js';
import type { EventProcess } from '../domain/event.js';
import { endpointKey } from '../domain/keys.js';
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

/** How a held event can be found as the effect of a later cause: a close or reset sent by its socket (a keepalive
 *  timeout's effects), a close by its socket and endpoints (a reset's: socket memory is reused at once under churn,
 *  so the socket alone would count the closes of earlier connections), a reset received by its endpoints. */
function findableKeys(ev: Held['ev']): string[] {
  if (ev.type === 'rst_sent') return [socketKey(ev.sk)];
  if (ev.type === 'close') {
    const ends = connectionKey(ev.sk, ev.local, ev.peer);
    return ends === null ? [socketKey(ev.sk)] : [socketKey(ev.sk), ends];
  }
  if (ev.type === 'rst_received') {
    const ends = endpointsKey(ev.local, ev.peer);
    return ends === null ? [] : [ends];
  }
  return [];
}
const socketKey = (sk: string | null) => `s${sk}`; // null has its key too: the match compares sk with ===
const endpoints = (local: Endpoint, peer: Endpoint) => `${endpointKey(local)} ${endpointKey(peer)}`;
const endpointsKey = (local: Endpoint | null, peer: Endpoint | null): string | null => (local && peer ? `e${endpoints(local, peer)}` : null);
const connectionKey = (sk: string | null, local: Endpoint | null, peer: Endpoint | null): string | null =>
  local && peer ? `c${sk} ${endpoints(local, peer)}` : null;

export class HoldQueue {
  private held: Held[] = [];
  /** Held events by findableKeys: how many. A cause with no possible effect held skips the scan; one whose every
   *  possible effect was met stops there (under churn, a reset's scan of the last EFFECT_WINDOW events with a
   *  close of another socket at each step was the event path's largest cost). */
  private readonly findable = new Map<string, number>();

  get size(): number {
    return this.held.length;
  }

  push(h: Held): void {
    const ev = h.ev;
    let i = -1;
    if (ev.type === 'keepalive_timeout') {
      i = this.findRecent(
        (x) => x.ev.sk === ev.sk && (x.ev.type === 'rst_sent' || x.ev.type === 'close'),
        this.count(socketKey(ev.sk)),
      );
    } else if (ev.type === 'rst_sent') {
      i = this.findRecent(
        (x) =>
          (x.ev.type === 'close' && x.ev.sk === ev.sk && sameEndpoint(x.ev.local, ev.local) && sameEndpoint(x.ev.peer, ev.peer)) ||
          (x.ev.type === 'rst_received' && sameEndpoint(x.ev.local, ev.peer) && sameEndpoint(x.ev.peer, ev.local)),
        this.count(connectionKey(ev.sk, ev.local, ev.peer)) + this.count(endpointsKey(ev.peer, ev.local)),
      );
    }
    // Inserted ahead of its effect, it leaves with the effect's hold time and time stamp (both happened in one
    // kernel call; the stamps only differ by when their records were read), so lines stay in time order.
    if (i >= 0) {
      const effect = this.held[i]!;
      h.ev.ts = effect.ev.ts;
      h.at = effect.at;
      this.held.splice(i, 0, h);
    } else this.held.push(h);
    this.tally(ev, 1);
  }

  /** The first of the last EFFECT_WINDOW held events that matches. An effect was read just before its cause (one
   *  kernel call): it is near the tail. Searching the whole queue made every reset cost O(held) while a probe
   *  waited for a refresh with a reset storm behind it. `findable`: how many held events could match (every match
   *  is one of them), so the scan ends once that many matched. */
  private findRecent(match: (h: Held) => boolean, findable: number): number {
    let found = -1;
    let matched = 0;
    for (let i = this.held.length - 1; matched < findable && i >= Math.max(0, this.held.length - EFFECT_WINDOW); i--) {
      if (match(this.held[i]!)) {
        found = i;
        matched++;
      }
    }
    return found;
  }

  private count(key: string | null): number {
    return key === null ? 0 : (this.findable.get(key) ?? 0);
  }

  private tally(ev: Held['ev'], by: 1 | -1): void {
    for (const key of findableKeys(ev)) {
      const n = this.count(key) + by;
      if (n === 0) this.findable.delete(key);
      else this.findable.set(key, n);
    }
  }

  /** Takes the events held at least `holdMs` (all with `all`) in order; stops at the first one `mayLeave`
   *  refuses (later events wait too, keeping the order). */
  take(now: number, holdMs: number, all: boolean, mayLeave: (h: Held) => boolean): Held[] {
    const out: Held[] = [];
    while (this.held.length > 0 && (all || now - this.held[0]!.at >= holdMs)) {
      if (!all && !mayLeave(this.held[0]!)) break;
      const h = this.held.shift()!;
      this.tally(h.ev, -1);
      out.push(h);
    }
    return out;
  }
}
