// Attribution: each event to its connection and owner. The inventory index first (cookie, then 4-tuple in the
// namespace); the owner remembered for that socket; the task the event ran in when that is the owner (close,
// setsockopt); last, for a socket accepted and gone between two inventories, the process listening on its port.
// Resets we sent are remembered a few seconds: they decide how a close ended and what caused a received reset.
// Connections that left the inventory are remembered a while by cookie: a connection's last events (keepalive
// timeout, reset, close) routinely leave the hold after the refresh that no longer lists it.
import { cookieKey, tupleKey } from '../domain/keys.js';
import { ConnectionIndex, type IndexChanges } from '../model/connection-index.js';
import { closeHowOfReset, type EventProcess, type OwnerVia, type RstCause } from '../domain/event.js';
import type { Connection, Endpoint } from '../domain/connection.js';
import { changesBetween, type InventoryChanges } from '../domain/inventory.js';
import type { Held } from './event-order.js';

interface SentReset {
  at: number;
  sk: string | null;
  local: Endpoint | null;
  peer: Endpoint | null;
  cause: RstCause;
}

type Owner = { process: EventProcess; connection: string; via: OwnerVia };

/** How long a sent reset explains later events of its connection. */
const RESET_MEMORY_MS = 5000;
/** How long, and for how many refreshes, a connection that left the inventory still names its late events. Events
 *  wait in the hold for a refresh when an unknown socket's probe is ahead of them, and the tracer's output lags on
 *  a busy host: seconds, several refreshes. */
const GONE_MEMORY_MS = 30_000;
const GONE_GENERATIONS = 10;
/** Most connections remembered that way beyond the last refresh's: a churning host replaces tens of thousands at
 *  every refresh (ten refreshes of nginx's 14k TIME-WAIT sockets under wrk: ~65 MiB of the TUI's RSS). */
export const MAX_GONE = 20_000;

/** Sockets whose owner is remembered for their later events. */
export const MAX_OWNERS = 20_000;

const endsKey = (local: Endpoint | null, peer: Endpoint | null): string | null =>
  local && peer ? `${local.address}:${local.port}>${peer.address}:${peer.port}` : null;

/** Resets we sent, recent first to expire, found by their ends (a reset storm keeps thousands: no linear search). */
class SentResets {
  private readonly all: SentReset[] = [];
  private head = 0;
  private readonly ends = new Map<string, SentReset[]>();

  add(r: SentReset): void {
    this.all.push(r);
    const k = endsKey(r.local, r.peer);
    if (k) this.ends.set(k, [...(this.ends.get(k) ?? []), r]);
  }

  /** Drops the resets sent before `before` (ms); they arrive in time order. */
  forget(before: number): void {
    while (this.head < this.all.length && this.all[this.head]!.at < before) {
      const r = this.all[this.head++]!;
      const k = endsKey(r.local, r.peer);
      const list = k ? this.ends.get(k) : undefined;
      if (list && k) {
        const rest = list.filter((x) => x !== r);
        if (rest.length) this.ends.set(k, rest);
        else this.ends.delete(k);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.all.length) {
      this.all.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The first reset sent from `local` to `peer`. */
  byEnds(local: Endpoint | null, peer: Endpoint | null): SentReset | undefined {
    const k = endsKey(local, peer);
    return k ? this.ends.get(k)?.[0] : undefined;
  }

  /** The first reset this socket sent on these ends (socket memory is reused quickly: same address, new ends). */
  bySocket(sk: string | null, local: Endpoint | null, peer: Endpoint | null): SentReset | undefined {
    const k = endsKey(local, peer);
    return sk === null || !k ? undefined : this.ends.get(k)?.find((r) => r.sk === sk);
  }
}

/** Connections that left the inventory at one refresh; indexed by `<netns>:<cookie>` once an event looks. */
interface Gone {
  at: number;
  left: readonly Connection[];
  byCookie: Map<string, Connection> | null;
}

export class Attribution {
  /**
   * The index of `listed`, brought up to date only when an event needs it: a churning host replaces thousands of
   * connections at every refresh and most refreshes bring no event to attribute. `unindexed`: the changes since,
   * oldest first; a null index is built anew from `listed` (cheaper than replaying more changes than it holds).
   */
  private index: ConnectionIndex | null = new ConnectionIndex();
  private unindexed: IndexChanges[] = [];
  private unindexedSize = 0;
  private listed: readonly Connection[] = [];
  /** Connections gone from the inventory, newest refresh first. */
  private gone: Gone[] = [];
  private sent = new SentResets();
  /** Owners remembered per socket, for events after the inventory lost the connection. */
  private owners = new Map<string, Owner>();
  /** Listed connections the tracer saw close, and when: until a refresh drops them, their fd may already hold a new
   *  socket (a client reconnecting), and a setsockopt on that fd is the new socket's. */
  private closedListed = new Map<string, number>();

  /** Remembers a socket's owner, most recent last; the oldest go past MAX_OWNERS: most sockets' closes are never
   *  printed (only those of connections with a probe or reset), so entries would otherwise pile up for good (48k
   *  after a few minutes of a health checker's storm). */
  private remember(key: string, owner: Owner): void {
    this.owners.delete(key);
    this.owners.set(key, owner);
    if (this.owners.size > MAX_OWNERS) this.owners.delete(this.owners.keys().next().value!);
  }

  constructor(private readonly now: () => number = Date.now) {}

  /** The next inventory; `changes` relative to the previous one when known (the index is then updated by them when
   *  next needed, not built again: at 100k connections a rebuild took 0.5–0.8 s). */
  setInventory(connections: readonly Connection[], changes: InventoryChanges = changesBetween(this.listed, connections)): void {
    const now = this.now();
    // TIME-WAIT entries name only a reset of their own (inventoried), and are most of what a churning host drops.
    const left = changes.gone.filter((c) => c.state !== 'TIME-WAIT');
    if (this.closedListed.size) for (const c of changes.gone) this.closedListed.delete(c.id);
    const kept: Gone[] = [];
    let held = 0;
    for (const g of [{ at: now, left, byCookie: null }, ...this.gone]) {
      if (kept.length === GONE_GENERATIONS || now - g.at >= GONE_MEMORY_MS || (kept.length > 0 && held + g.left.length > MAX_GONE)) break;
      if (g.left.length === 0) continue;
      kept.push(g);
      held += g.left.length;
    }
    this.gone = kept;
    this.listed = connections;
    const { added, gone, replaced } = changes;
    if (this.index && replaced) {
      this.unindexed.push({ added, gone, replaced });
      this.unindexedSize += added.length + gone.length + replaced.length;
      if (this.unindexedSize <= connections.length) return;
    }
    this.index = null;
    this.unindexed = [];
    this.unindexedSize = 0;
  }

  private indexed(): ConnectionIndex {
    if (!this.index) this.index = new ConnectionIndex(this.listed);
    for (const changes of this.unindexed) this.index.update(changes);
    this.unindexed = [];
    this.unindexedSize = 0;
    return this.index;
  }

  /** The connection of a traced socket: in the inventory, else one that left it recently (same socket cookie). */
  private find(netns: number | null, cookie: string | null, local: Endpoint | null, peer: Endpoint | null): Connection | null {
    const c = this.indexed().find({ netns, cookie, local, peer });
    if (c || netns === null || !cookie) return c;
    const key = cookieKey(netns, cookie);
    for (const g of this.gone) {
      // Only by cookie: exact, whereas a 4-tuple is soon reused by a new socket on a churning host. A connection an
      // inventory listed has a cookie (dumping a socket gives it one).
      g.byCookie ??= new Map(g.left.flatMap((x) => (x.cookie ? [[cookieKey(x.netns.inode, x.cookie), x] as const] : [])));
      const x = g.byCookie.get(key);
      if (x) return x;
    }
    return null;
  }

  /** A reset we sent, seen when it was received (before its effects leave the hold). */
  noteSent(h: Held): void {
    if (h.ev.type === 'rst_sent' && h.rstCause) this.sent.add({ at: h.at, sk: h.ev.sk, local: h.ev.local, peer: h.ev.peer, cause: h.rstCause });
  }

  forget(now: number): void {
    this.sent.forget(now - RESET_MEMORY_MS);
    for (const [id, at] of this.closedListed) {
      if (at > now - GONE_MEMORY_MS) break; // in the order they closed
      this.closedListed.delete(id);
    }
  }

  /** Is the event's connection in the inventory, or did it just leave it? (setsockopt events are found by pid and
   *  fd instead: unknown only while that fd's listed connection is one the tracer saw close, for the new socket
   *  there is listed at the next refresh.) */
  known(h: Held): boolean {
    const ev = h.ev;
    if (ev.type === 'sockopt_changed') {
      const c = h.ctx ? this.indexed().findByFd(h.ctx.pid, ev.fd) : null;
      return !c || !this.closedListed.has(c.id);
    }
    return this.inventoried(h) !== null;
  }

  /** The connection of the event's socket (see find). A TIME-WAIT entry only for a reset it sent: any other event
   *  on its 4-tuple is a new socket that reused the port (a new socket has no cookie until sock_diag dumps it). */
  private inventoried(h: Held): Connection | null {
    const ev = h.ev;
    const c = this.find(ev.netns, h.cookie, ev.local, ev.peer);
    return c?.state === 'TIME-WAIT' && !(ev.type === 'rst_sent' && ev.cause === 'timewait') ? null : c;
  }

  /** Completes the event in place: close outcome, received reset's cause, connection and owner. */
  attribute(h: Held): void {
    const ev = h.ev;
    let ctx = h.ctx;
    if (ev.type === 'close') {
      // Socket memory is reused quickly: same address and same 4-tuple.
      const rst = this.sent.bySocket(ev.sk, ev.local, ev.peer);
      if (ev.how === 'fin' && rst) ev.how = closeHowOfReset(rst.cause);
      else if (rst?.cause === 'keepalive_timeout') ev.how = 'timeout';
      // Only a close() that reset the connection ran in the owner's context.
      if (!rst || (rst.cause !== 'linger' && rst.cause !== 'unread_data')) ctx = null;
    }
    if (ev.type === 'rst_received') {
      // The sender is visible when both ends live on this host (another netns, loopback).
      const sender = this.sent.byEnds(ev.peer, ev.local);
      ev.inferredCause = sender ? sender.cause : 'peer_reset (sender not observed)';
    }
    const conn = this.inventoried(h);
    let owner: Owner | null = null;
    const asOwner = (c: Connection): EventProcess | null =>
      c.process ? { pid: c.process.pid, comm: c.process.comm, cmdline: c.process.cmdline } : null;
    if (conn) {
      ev.connection = conn.id;
      const p = asOwner(conn);
      if (p) owner = { process: p, connection: conn.id, via: 'inventory' };
    }
    // Kernel socket memory is reused: the cache key includes the 4-tuple and namespace.
    const key = ev.sk && ev.local && ev.peer ? `${ev.sk}/${tupleKey(ev.netns ?? 0, ev.local, ev.peer)}` : null;
    if (ev.type === 'sockopt_changed' && ctx) {
      const c = this.indexed().findByFd(ctx.pid, ev.fd);
      if (c && !this.closedListed.has(c.id)) {
        ev.connection = c.id;
        ev.local = c.local;
        ev.peer = c.peer;
        ev.netns = c.netns.inode;
      }
    }
    if (!owner && key) owner = this.owners.get(key) ?? null;
    if (!owner && ctx) owner = { process: ctx, connection: conn?.id ?? '', via: 'context' };
    // A client socket's reset or close in softirq: the process that connected it.
    if (!owner && h.connector) owner = { process: h.connector, connection: conn?.id ?? '', via: 'connect' };
    // A socket accepted and gone between two inventories (a health check's connection at the backend): the
    // process listening on its port accepted it. Never for resets sent without a socket (closed ports).
    if (!owner && ev.sk !== null && ev.local && ev.netns !== null) {
      const listener = this.indexed().findListener(ev.netns, ev.local);
      const p = listener && asOwner(listener);
      if (p) owner = { process: p, connection: '', via: 'listener' };
    }
    if (owner) {
      ev.process = owner.process;
      ev.pid = owner.process.pid;
      ev.comm = owner.process.comm;
      ev.ownerVia = owner.via;
      if (!ev.connection && owner.connection) ev.connection = owner.connection;
      if (key && ev.type !== 'close') this.remember(key, owner);
    } else if (h.connector === null && h.connectPid) {
      // The connecting process exited before its /proc could be read (a client often exits at once on the reset
      // it receives): the kernel's pid, without a name.
      ev.pid = h.connectPid;
      ev.ownerVia = 'connect';
    }
    if (ev.type === 'close' && key) this.owners.delete(key);
    if (ev.type === 'close' && conn && this.closedListed.size < MAX_GONE) this.closedListed.set(conn.id, h.at);
  }
}
