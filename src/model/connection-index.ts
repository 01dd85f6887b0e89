// Finds the inventory connection a traced socket belongs to: by cookie, by inode, or by netns + 4-tuple.
import type { Connection, Endpoint } from '../domain/connection.js';
import type { InventoryChanges } from '../domain/inventory.js';
import { cookieKey, tupleKey } from '../domain/keys.js';

/** What changed from one inventory to the next (InventoryChanges), as the index takes it: `replaced` known. */
export type IndexChanges = { readonly [K in keyof InventoryChanges]: readonly Connection[] };

export class ConnectionIndex {
  private byCookie = new Map<string, Connection>();
  private byInode = new Map<number, Connection>();
  private byTuple = new Map<string, Connection>();
  private byFd = new Map<string, Connection>();
  private listeners = new Map<string, Connection[]>();

  constructor(connections: readonly Connection[] = []) {
    for (const c of connections) this.add(c);
  }

  /** Brings the index from one inventory to the next, given what changed (`replaced`: connections rejoined as new
   *  objects under an id they had). Where two sockets share a 4-tuple (a port reused while the old socket lingers)
   *  the one added last is found by it; removing either leaves the other to its cookie. */
  update(changes: IndexChanges): void {
    for (const c of changes.gone) this.remove(c);
    for (const c of changes.replaced) {
      const old = c.cookie ? this.byCookie.get(cookieKey(c.netns.inode, c.cookie)) : undefined;
      if (old) this.remove(old);
      this.add(c);
    }
    for (const c of changes.added) this.add(c);
  }

  private add(c: Connection): void {
    if (c.cookie) {
      // A connection with a cookie has this key as its id: the map keeps that string rather than a copy.
      const key = cookieKey(c.netns.inode, c.cookie);
      this.byCookie.set(key === c.id ? c.id : key, c);
    }
    if (c.inode) this.byInode.set(c.inode, c);
    for (const p of c.processes) this.byFd.set(`${p.pid}:${p.fd}`, c);
    // LISTEN sockets share their local endpoint with accepted ones and have no peer: never a tuple match.
    if (c.state !== 'LISTEN') this.byTuple.set(tupleKey(c.netns.inode, c.local, c.peer), c);
    else {
      const key = `${c.netns.inode}/${c.local.port}`;
      this.listeners.set(key, [...(this.listeners.get(key) ?? []), c]);
    }
  }

  private remove(c: Connection): void {
    const drop = <K>(m: Map<K, Connection>, k: K) => m.get(k) === c && m.delete(k);
    if (c.cookie) drop(this.byCookie, cookieKey(c.netns.inode, c.cookie));
    if (c.inode) drop(this.byInode, c.inode);
    for (const p of c.processes) drop(this.byFd, `${p.pid}:${p.fd}`);
    if (c.state !== 'LISTEN') drop(this.byTuple, tupleKey(c.netns.inode, c.local, c.peer));
    else {
      const key = `${c.netns.inode}/${c.local.port}`;
      const rest = (this.listeners.get(key) ?? []).filter((l) => l !== c);
      if (rest.length) this.listeners.set(key, rest);
      else this.listeners.delete(key);
    }
  }

  /** The connection a process holds on a file descriptor (setsockopt events give pid + fd). */
  findByFd(pid: number, fd: number): Connection | null {
    return this.byFd.get(`${pid}:${fd}`) ?? null;
  }

  /**
   * The listener an accepted socket came from: same namespace and port, and the same address or a wildcard
   * (`0.0.0.0`; `::` also takes IPv4 on a dual-stack listener). Exact address first.
   */
  findListener(netns: number, local: Endpoint): Connection | null {
    const all = this.listeners.get(`${netns}/${local.port}`);
    if (!all) return null;
    const v4 = local.address.replace(/^::ffff:/, '');
    return (
      all.find((l) => l.local.address === local.address || l.local.address === v4) ??
      all.find((l) => l.local.address === (v4.includes(':') ? '::' : '0.0.0.0')) ??
      all.find((l) => l.local.address === '::') ??
      null
    );
  }

  get size(): number {
    return this.byTuple.size;
  }

  /** Cookie first (exact), then the 4-tuple in that namespace (not across sockets whose cookies differ); a v4-mapped
   *  v6 socket is also tried as IPv4. */
  find(q: { netns: number | null; cookie?: string | null; inode?: number | null; local?: Endpoint | null; peer?: Endpoint | null }): Connection | null {
    if (q.cookie && q.cookie !== '0' && q.netns !== null) {
      const c = this.byCookie.get(cookieKey(q.netns, q.cookie));
      if (c) return c;
    }
    if (q.inode) {
      const c = this.byInode.get(q.inode);
      if (c) return c;
    }
    if (q.local && q.peer && q.netns !== null) {
      const unmap = (e: Endpoint) => ({ ...e, address: e.address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1') });
      const c = this.byTuple.get(tupleKey(q.netns, q.local, q.peer)) ?? this.byTuple.get(tupleKey(q.netns, unmap(q.local), unmap(q.peer)));
      // The same 4-tuple on another socket: a port reused while the old connection sits in TIME-WAIT (a busy
      // client cycles through its ephemeral ports in a minute). A socket never dumped has cookie 0 (sock_diag
      // gives one to every socket it dumps), so differing cookies are two sockets.
      if (c && q.cookie && c.cookie && q.cookie !== c.cookie) return null;
      return c ?? null;
    }
    return null;
  }
}
