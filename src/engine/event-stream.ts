// Turns tracer records into KaEvents: decodes, attributes each to its connection's owner through the inventory
// index, and holds events briefly so a reset printed after its socket's close (tcp_disconnect sets TCP_CLOSE
// before it sends) still marks that close as `rst_sent`, and an inventory refresh can land before attribution.
import type { BpftraceRecord } from '../parse/bpftrace-json.js';
import { parseKaRecord } from '../parse/bpftrace-json.js';
import { sockoptName, tcpStateName } from '../domain/kernel.js';
import { tupleKey } from '../domain/keys.js';
import { ConnectionIndex } from '../model/connection-index.js';
import { classifyRst, endpointFromSockaddr, endpointsFromSock, endpointsFromTp, giveUpInMs, lingerZero } from '../model/events.js';
import type { CloseHow, EventProcess, KaEvent, OwnerVia, RstCause } from '../domain/event.js';
import type { Connection, Endpoint } from '../domain/connection.js';
import type { Clock } from '../sources/ports.js';

export interface EventStreamOptions {
  /** enum sk_rst_reason (number -> name) from the tracing host. */
  reasons: Record<number, string>;
  /** Kernel HZ, to turn keepalive jiffies into ms. */
  hz: number | null;
  /** How long events are held before emission. */
  holdMs?: number;
  now?: Clock;
  /** Called when an event's socket (seen at `atMs`) is not in the inventory. Return true to hold it while a
   *  refresh that started after `atMs` runs; false once the inventory is newer than the event. */
  onUnknownSocket?: (atMs: number) => boolean;
}

export interface TracerCounts {
  /** Exact, from the tracer's maps: resets sent by kernel reason name. */
  rstSentByReason: Record<string, number>;
  rstReceived: number;
  keepaliveTimeouts: number;
  /** Cumulative keepalive probes per socket (hex address) while observed. */
  probesBySocket: Record<string, number>;
  lostEvents: number;
}

type Draft = Extract<KaEvent, { sk: string | null }>;
interface Held {
  at: number;
  ev: Draft;
  cookie: string | null;
  /** The on-CPU task, usable as owner only when the event ran in the owner's syscall (close, setsockopt). */
  ctx: EventProcess | null;
}
interface RecentRst {
  at: number;
  sk: string | null;
  local: Endpoint | null;
  peer: Endpoint | null;
  netns: number | null;
  cause: RstCause;
}

const sameEp = (a: Endpoint | null, b: Endpoint | null) => !!a && !!b && a.port === b.port && a.address === b.address;

export class EventStream {
  private index = new ConnectionIndex();
  private held: Held[] = [];
  private recentRst: RecentRst[] = [];
  /** Owners remembered per socket, for events after the inventory lost the connection. */
  private owners = new Map<string, { process: EventProcess; connection: string; via: OwnerVia }>();
  private readonly holdMs: number;
  private readonly now: Clock;
  readonly counts: TracerCounts = { rstSentByReason: {}, rstReceived: 0, keepaliveTimeouts: 0, probesBySocket: {}, lostEvents: 0 };
  ready = false;

  constructor(private readonly opts: EventStreamOptions, private readonly emit: (e: KaEvent) => void) {
    this.holdMs = opts.holdMs ?? 300;
    this.now = opts.now ?? Date.now;
  }

  setInventory(connections: readonly Connection[]): void {
    this.index = new ConnectionIndex(connections);
  }

  push(rec: BpftraceRecord): void {
    if (rec.type === 'lost_events') {
      this.counts.lostEvents += rec.events;
      this.emit({ type: 'lost', ts: new Date(this.now()).toISOString(), events: rec.events });
      return;
    }
    if (rec.type === 'map') return this.pushMap(rec.name, rec.data);
    if (rec.type !== 'printf') return;
    const r = parseKaRecord(rec.data);
    if (!r) return;
    const f = r.fields;
    const at = this.now();
    const ts = new Date(at).toISOString();
    const sk = f.sk && f.sk !== '0' ? f.sk : null;
    const netns = f.ns && f.ns !== '0' ? Number(f.ns) : null;
    const cookie = f.ck && f.ck !== '0' ? f.ck : null;
    const ctx: EventProcess | null = f.pid ? { pid: Number(f.pid), comm: f.comm ?? '', cmdline: null } : null;
    const base = { ts, netns, pid: null, comm: null, process: null, connection: null, ownerVia: null, sk };
    const hold = (ev: Draft, withCtx = false) => this.held.push({ at, ev, cookie, ctx: withCtx ? ctx : null });
    switch (r.kind) {
      case 'ready':
        this.ready = true;
        return;
      case 'probe':
      case 'katimeout': {
        const hz = this.opts.hz ?? 250;
        const intervalMs = Math.round((Number(f.ki) * 1000) / hz);
        const idleMs = Math.round((Number(f.kt) * 1000) / hz);
        const max = Number(f.kp);
        const out = Number(f.po);
        const ends = endpointsFromSock(f);
        if (r.kind === 'probe') {
          hold({
            ...base, ...ends, type: 'keepalive_probe', probesSent: Number(f.total), probesOutstanding: out,
            maxProbes: max, intervalMs, userTimeoutMs: Number(f.ut),
            giveUpInMs: giveUpInMs(out, max, intervalMs, Number(f.ut), idleMs),
          });
        } else {
          // The timer's exit probe comes after the reset and close it caused: report it before them.
          const ev: Draft = { ...base, ...ends, type: 'keepalive_timeout', probesSent: Number(f.total), maxProbes: max };
          const i = this.held.findIndex((x) => x.ev.sk === sk && (x.ev.type === 'rst_sent' || x.ev.type === 'close'));
          if (i >= 0) this.held.splice(i, 0, { at: this.held[i]!.at, ev, cookie, ctx: null });
          else hold(ev);
        }
        return;
      }
      case 'rst': {
        const rs = Number(f.rs);
        const reason = rs >= 0 ? (this.opts.reasons[rs] ?? `reason ${rs}`) : null;
        const state = f.st && f.st !== '0' ? tcpStateName(Number(f.st)) : null;
        const ends = f.sa !== undefined
          ? { local: endpointFromSockaddr(f.sa), peer: endpointFromSockaddr(f.da ?? '') }
          : endpointsFromTp(f);
        const { cause, inferred } = classifyRst({
          reason, state, hasSocket: sk !== null, inKeepaliveTimer: f.ka === '1', lingerZero: lingerZero(f.lf, f.lt),
        });
        this.recentRst.push({ at, sk, local: ends.local, peer: ends.peer, netns, cause });
        // Only a close() (linger, unread data) runs in the owner's context; the rest run in softirq or timers.
        const withCtx = cause === 'linger' || cause === 'unread_data';
        const ev: Draft = { ...base, ...ends, type: 'rst_sent', reason, cause, causeInferred: inferred, state };
        // Cause before effect: the kernel reports the socket's close (tcp_disconnect) and, over veth/loopback, the
        // peer's receipt before the send. Put the reset ahead of those.
        const i = this.held.findIndex((x) =>
          (x.ev.type === 'close' && x.ev.sk === sk && sameEp(x.ev.local, ends.local) && sameEp(x.ev.peer, ends.peer)) ||
          (x.ev.type === 'rst_received' && sameEp(x.ev.local, ends.peer) && sameEp(x.ev.peer, ends.local)));
        if (i >= 0) this.held.splice(i, 0, { at: this.held[i]!.at, ev, cookie, ctx: withCtx ? ctx : null });
        else hold(ev, withCtx);
        return;
      }
      case 'rrst':
        hold({ ...base, ...endpointsFromTp(f), type: 'rst_received', inferredCause: '' });
        return;
      case 'close': {
        const how: CloseHow = f.how === '1' ? 'rst_sent' : f.how === '2' ? 'rst_received' : 'fin';
        hold({
          ...base, ...endpointsFromTp(f), type: 'close', how, lifetimeMs: f.known === '1' ? Number(f.life) : null,
          probesSent: Number(f.probes ?? 0),
        }, true);
        return;
      }
      case 'sockopt': {
        const option = sockoptName(Number(f.lv), Number(f.on));
        // setsockopt runs in the caller's context: that process is the owner.
        hold({ ...base, sk: null, local: null, peer: null, type: 'sockopt_changed', option, fd: Number(f.fd) }, true);
        return;
      }
    }
  }

  /** Emits held events older than the hold time (all of them with `all`). */
  flush(all = false): void {
    const now = this.now();
    while (this.held.length > 0 && (all || now - this.held[0]!.at >= this.holdMs)) {
      const h = this.held[0]!;
      // Keeps order: later events wait too.
      if (!all && h.ev.type !== 'sockopt_changed' && !this.known(h) && this.opts.onUnknownSocket?.(h.at)) break;
      this.held.shift();
      this.finish(h);
      this.emit(h.ev);
    }
    this.recentRst = this.recentRst.filter((r) => now - r.at < 5000);
  }

  private known(h: Held): boolean {
    const ev = h.ev;
    return this.index.find({ netns: ev.netns, cookie: h.cookie, local: ev.local, peer: ev.peer }) !== null;
  }

  private finish(h: Held): void {
    const ev = h.ev;
    if (ev.type === 'close') {
      // Socket memory is reused quickly: same address and same 4-tuple.
      const rst = this.recentRst.find((r) => r.sk !== null && r.sk === ev.sk && sameEp(r.local, ev.local) && sameEp(r.peer, ev.peer));
      if (ev.how === 'fin' && rst) ev.how = rst.cause === 'keepalive_timeout' ? 'timeout' : 'rst_sent';
      else if (rst?.cause === 'keepalive_timeout') ev.how = 'timeout';
      // Only a close() that reset the connection ran in the owner's context.
      if (!rst || (rst.cause !== 'linger' && rst.cause !== 'unread_data')) h.ctx = null;
    }
    if (ev.type === 'rst_received') {
      // The sender is visible when both ends live on this host (another netns, loopback).
      const sender = this.recentRst.find((r) => sameEp(r.local, ev.peer) && sameEp(r.peer, ev.local));
      ev.inferredCause = sender ? sender.cause : 'peer_reset (sender not observed)';
    }
    const conn = this.index.find({ netns: ev.netns, cookie: h.cookie, local: ev.local, peer: ev.peer });
    let owner: { process: EventProcess; connection: string; via: OwnerVia } | null = null;
    const asOwner = (c: Connection): EventProcess | null =>
      c.process ? { pid: c.process.pid, comm: c.process.comm, cmdline: c.process.cmdline } : null;
    if (conn) {
      ev.connection = conn.id;
      const p = asOwner(conn);
      if (p) owner = { process: p, connection: conn.id, via: 'inventory' };
    }
    // Kernel socket memory is reused: the cache key includes the 4-tuple and namespace.
    const key = ev.sk && ev.local && ev.peer ? `${ev.sk}/${tupleKey(ev.netns ?? 0, ev.local, ev.peer)}` : null;
    if (ev.type === 'sockopt_changed' && h.ctx) {
      const c = this.index.findByFd(h.ctx.pid, ev.fd);
      if (c) {
        ev.connection = c.id;
        ev.local = c.local;
        ev.peer = c.peer;
        ev.netns = c.netns.inode;
      }
    }
    if (!owner && key) owner = this.owners.get(key) ?? null;
    if (!owner && h.ctx) owner = { process: h.ctx, connection: conn?.id ?? '', via: 'context' };
    // A socket accepted and gone between two inventories (a health check's connection at the backend): the
    // process listening on its port accepted it. Never for resets sent without a socket (closed ports).
    if (!owner && ev.sk !== null && ev.local && ev.netns !== null) {
      const listener = this.index.findListener(ev.netns, ev.local);
      const p = listener && asOwner(listener);
      if (p) owner = { process: p, connection: '', via: 'listener' };
    }
    if (owner) {
      ev.process = owner.process;
      ev.pid = owner.process.pid;
      ev.comm = owner.process.comm;
      ev.ownerVia = owner.via;
      if (!ev.connection && owner.connection) ev.connection = owner.connection;
      if (key && ev.type !== 'close') this.owners.set(key, owner);
    }
    if (ev.type === 'close' && key) this.owners.delete(key);
  }

  private pushMap(name: string, data: Record<string, number> | number): void {
    if (name === '@ka_timeouts' && typeof data === 'number') this.counts.keepaliveTimeouts = data;
    else if (name === '@rst_received' && typeof data === 'number') this.counts.rstReceived = data;
    else if (name === '@ka_probes' && typeof data === 'object') {
      this.counts.probesBySocket = Object.fromEntries(Object.entries(data).map(([k, v]) => [BigInt(k).toString(16), v]));
    } else if (name === '@rst_sent' && typeof data === 'object') {
      const by: Record<string, number> = {};
      for (const [k, v] of Object.entries(data)) {
        const rs = Number(k.split(',')[0]);
        const key = rs >= 0 ? (this.opts.reasons[rs] ?? `reason ${rs}`) : 'unknown';
        by[key] = (by[key] ?? 0) + v;
      }
      this.counts.rstSentByReason = by;
    }
  }
}
