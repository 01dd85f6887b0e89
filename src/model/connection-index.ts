// Finds the inventory connection a traced socket belongs to: by cookie, by inode, or by netns + 4-tuple.
import type { Connection, Endpoint } from './types.js';

const ep = (e: Endpoint) => `${e.address}|${e.port}`;

export class ConnectionIndex {
  private byCookie = new Map<string, Connection>();
  private byInode = new Map<number, Connection>();
  private byTuple = new Map<string, Connection>();
  private byFd = new Map<string, Connection>();

  constructor(connections: readonly Connection[] = []) {
    for (const c of connections) {
      if (c.cookie) this.byCookie.set(`${c.netns.inode}:${c.cookie}`, c);
      if (c.inode) this.byInode.set(c.inode, c);
      for (const p of c.processes) this.byFd.set(`${p.pid}:${p.fd}`, c);
      // LISTEN sockets share their local endpoint with accepted ones and have no peer: never a tuple match.
      if (c.state !== 'LISTEN') this.byTuple.set(ConnectionIndex.tupleKey(c.netns.inode, c.local, c.peer), c);
    }
  }

  static tupleKey(netns: number, local: Endpoint, peer: Endpoint): string {
    return `${netns}/${ep(local)}/${ep(peer)}`;
  }

  /** The connection a process holds on a file descriptor (setsockopt events give pid + fd). */
  findByFd(pid: number, fd: number): Connection | null {
    return this.byFd.get(`${pid}:${fd}`) ?? null;
  }

  get size(): number {
    return this.byTuple.size;
  }

  /** Cookie first (exact), then the 4-tuple in that namespace; a v4-mapped v6 socket is also tried as IPv4. */
  find(q: { netns: number | null; cookie?: string | null; inode?: number | null; local?: Endpoint | null; peer?: Endpoint | null }): Connection | null {
    if (q.cookie && q.cookie !== '0' && q.netns !== null) {
      const c = this.byCookie.get(`${q.netns}:${q.cookie}`);
      if (c) return c;
    }
    if (q.inode) {
      const c = this.byInode.get(q.inode);
      if (c) return c;
    }
    if (q.local && q.peer && q.netns !== null) {
      const c = this.byTuple.get(ConnectionIndex.tupleKey(q.netns, q.local, q.peer));
      if (c) return c;
      const unmap = (e: Endpoint) => ({ ...e, address: e.address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1') });
      return this.byTuple.get(ConnectionIndex.tupleKey(q.netns, unmap(q.local), unmap(q.peer))) ?? null;
    }
    return null;
  }
}
