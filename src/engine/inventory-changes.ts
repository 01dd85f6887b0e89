// The refresh loop's inventory, kept up to date from the helper's `changes` answers: only new, changed and gone
// sockets (and owners that changed) cross the pipe and are parsed and joined; every other connection is the same
// object as before, aged in place by the time between two answers (model/join.ts ageConnection). At 100k idle
// sockets a refresh then parses a few lines instead of 100k. Anything unexpected (a namespace the helper could not
// dump, a format error, an answer that does not follow the one held) falls back to a full inventory and starts over.
import type { Connection, NetnsInfo, NetnsSysctl, SsSocket } from '../domain/connection.js';
import type { Inventory, InventoryChanges } from '../domain/inventory.js';
import { withApplications, listenPortsByPid } from '../model/apps/recognise.js';
import { ageConnection, joinSocket, netnsOf, type OwnedSocket } from '../model/join.js';
import { NativeInventoryParser, type NativeInventory } from '../parse/native-inventory.js';
import type { InventoryPort, NetnsRef } from '../sources/ports.js';
import { collectInventory, ownedSockets, ownersMissingOf, type CollectOptions } from './inventory.js';
import { parseStreamed } from './socket-dumps.js';

/** One inventory and how it differs from the previous one of the same collector. */
export interface CollectedInventory {
  inventory: Inventory;
  /** null = not known (a full inventory: the caller compares the two inventories itself). */
  changes: InventoryChanges | null;
}

interface Held {
  /** Its namespace's inode. */
  netns: number;
  sock: SsSocket;
  conn: Connection;
  owned: OwnedSocket | undefined;
  /** The round it was last put on the list to join in (a mark on the socket: cheaper than a set of 20k each refresh). */
  joinAt: number;
}

interface HeldNetns {
  info: NetnsInfo;
  netns: Connection['netns'];
  /** The helper's clock for the figures held. */
  atMs: number;
  /** By cookie (cookieSlot), in the order first seen. */
  sockets: Map<number | string, Held>;
}

class ChangesMismatch extends Error {}

export class InventoryCollector {
  private held = new Map<number, HeldNetns>();
  private byInode = new Map<number, Held>();
  private ownersMissing: string | null = null;
  private inView: number | null = null;
  private listenPorts = '';
  /** Answers applied so far: the round a socket was last marked to join in (Held.joinAt). */
  private rounds = 0;
  /** The last answer's connections, with the namespaces' order they were listed in and what their options said. */
  private last: { order: string; connections: Connection[]; sockoptReads: Inventory['sockoptReads'] } | null = null;

  constructor(private readonly src: InventoryPort, private readonly opts: CollectOptions = {}) {}

  async collect(): Promise<CollectedInventory> {
    const { src } = this;
    if (!src.dumpChanges) return { inventory: await collectInventory(src, this.opts), changes: null };
    const t0 = performance.now();
    const refs = (await src.listNetns()).filter(this.opts.netns ?? (() => true));
    const sysctlsRead = src.readSysctls(refs);
    sysctlsRead.catch(() => {}); // awaited below
    let answer: NativeInventory | null = null;
    try {
      answer = refs.length > 0 ? await this.readChanges(refs) : null;
    } catch {
      answer = null;
    }
    const dumpMs = performance.now() - t0;
    const sysctls = await sysctlsRead;
    if (!answer || answer.namespaces.some((n) => n.error || !n.change) || answer.namespaces.length !== refs.length) {
      return this.startOver();
    }
    try {
      return await this.apply(refs, answer, sysctls, t0, dumpMs);
    } catch (e) {
      if (e instanceof ChangesMismatch) return this.startOver();
      await this.forgetAll(); // what is held may be half updated
      throw e;
    }
  }

  private readChanges(refs: NetnsRef[]): Promise<NativeInventory> {
    const always = this.inView === null ? undefined : new Set([this.inView]);
    return parseStreamed(new NativeInventoryParser(true), (sink) => this.src.dumpChanges!(refs, sink, always));
  }

  /** The namespace (inode) of the connection the user is looking at: dumped at every refresh, even while its TCP
   *  counters stand (a queue drained without a segment shows at once, not at its namespace's next dump). */
  setNetnsInView(inode: number | null): void {
    this.inView = inode;
  }

  /** Takes a full inventory, after forgetting everything on both sides. */
  private async startOver(): Promise<CollectedInventory> {
    await this.forgetAll();
    return { inventory: await collectInventory(this.src, this.opts), changes: null };
  }

  /** Drops what is held and has the helper forget what it sent: its next answer is complete. */
  private async forgetAll(): Promise<void> {
    this.held.clear();
    this.byInode.clear();
    this.last = null;
    await this.src.forgetChanges?.().catch(() => {});
  }

  private async apply(refs: NetnsRef[], answer: NativeInventory, sysctls: Map<number, NetnsSysctl | string>, t0: number, dumpMs: number): Promise<CollectedInventory> {
    const { src } = this;
    const added: Connection[] = [];
    const gone: Connection[] = [];
    const round = ++this.rounds;
    const dirty: Held[] = [];
    const markDirty = (h: Held) => {
      if (h.joinAt === round) return;
      h.joinAt = round;
      dirty.push(h);
    };
    const ownersMissing = ownersMissingOf(null, answer.scan);
    const everything = ownersMissing !== this.ownersMissing; // it is in every unowned socket's reason
    this.ownersMissing = ownersMissing;
    const t1 = performance.now();
    let complete = false; // a section sent whole: the added/gone lists would not be what changed since the last inventory

    const nextHeld = new Map<number, HeldNetns>();
    const namespaces: NetnsInfo[] = [];
    for (const d of answer.namespaces) {
      const ref = refs[d.index]!;
      const change = d.change!;
      const sysctl = sysctls.get(ref.inode);
      const sample = ref.samplePid === null ? null : await src.processInfo(ref.samplePid);
      const info: NetnsInfo = {
        inode: ref.inode, name: ref.name, container: sample?.container ?? null, self: ref.self,
        sysctl: typeof sysctl === 'object' ? sysctl : null,
        error: typeof sysctl === 'string' ? `sysctl: ${sysctl}` : null,
      };
      namespaces.push(info);
      complete ||= change.complete;
      let ns = this.held.get(ref.inode);
      this.held.delete(ref.inode);
      if (change.complete && ns) {
        for (const h of ns.sockets.values()) this.forget(h, gone);
        ns = undefined;
      }
      if (!ns && !change.complete) throw new ChangesMismatch();
      const netns = ns && sameNetns(ns.info, info) ? ns.netns : netnsOf(info);
      const rejoinAll = everything || !ns || netns !== ns.netns || JSON.stringify(ns.info.sysctl) !== JSON.stringify(info.sysctl);
      const held: HeldNetns = ns ?? { info, netns, atMs: change.atMs, sockets: new Map() };
      const dt = change.atMs - held.atMs;
      held.info = info;
      held.netns = netns;
      held.atMs = change.atMs;
      for (const cookie of change.gone) {
        const slot = cookieSlot(cookie);
        const h = held.sockets.get(slot);
        if (!h) throw new ChangesMismatch();
        held.sockets.delete(slot);
        this.forget(h, gone);
      }
      for (const s of d.sockets) {
        if (s.cookie === null) throw new ChangesMismatch(); // the helper always gives one
        const slot = cookieSlot(s.cookie);
        let h = held.sockets.get(slot);
        if (h) {
          if (h.sock.inode !== s.inode) this.unindex(h);
          h.sock = s;
        } else {
          h = { netns: ref.inode, sock: s, conn: null as unknown as Connection, owned: undefined, joinAt: 0 };
          held.sockets.set(slot, h);
        }
        if (s.inode) this.byInode.set(s.inode, h);
        markDirty(h);
      }
      if (rejoinAll) for (const h of held.sockets.values()) markDirty(h);
      else if (dt !== 0) ageUnchanged(held.sockets, dt, round);
      nextHeld.set(ref.inode, held);
    }
    // Namespaces not listed any more: their connections are gone.
    for (const ns of this.held.values()) for (const h of ns.sockets.values()) this.forget(h, gone);
    this.held = nextHeld;

    // Owners that changed: the O lines of this answer, and sockets whose last owner let go.
    const owned = await ownedSockets(src, answer.scan.sockets);
    for (const inode of new Set(answer.scan.sockets.map((s) => s.inode))) {
      const h = this.byInode.get(inode);
      if (!h) throw new ChangesMismatch();
      h.owned = owned.get(inode); // undefined when every owner exited since the scan
      markDirty(h);
    }
    for (const inode of answer.ownersGone) {
      const h = this.byInode.get(inode);
      if (!h) throw new ChangesMismatch();
      h.owned = undefined;
      markDirty(h);
    }

    const replaced: Connection[] = [];
    for (const h of dirty) {
      const ns = this.held.get(h.netns)!;
      const isNew = h.conn === null;
      h.conn = joinSocket(ns.netns, ns.info.sysctl, h.sock, h.owned, ownersMissing);
      (isNew ? added : replaced).push(h.conn);
    }
    const order = [...this.held.keys()].join();
    // Nothing new, changed or gone, the namespaces in the same order: the last connections, aged in place. The same
    // array is handed on, so what is keyed on it (the view's order, the header's summary, the findings) knows that
    // only time moved, and a host's 100k idle sockets are not listed, counted and matched to applications again.
    if (!this.last || dirty.length > 0 || gone.length > 0 || order !== this.last.order) {
      let total = 0;
      for (const ns of this.held.values()) total += ns.sockets.size;
      const connections: Connection[] = new Array(total); // filled by index: push grew it in steps, each a copy
      let n = 0;
      let optsOk = 0;
      const optsErrors = new Set<string>();
      for (const ns of this.held.values()) {
        for (const h of ns.sockets.values()) {
          connections[n++] = h.conn;
          if (h.owned?.opts) optsOk++;
          else if (h.owned?.optsError) optsErrors.add(h.owned.optsError);
        }
      }
      // Applications are recognised by owner and listening ports: only rejoined connections, unless a port moved.
      const ports = listenPortsByPid(connections);
      const portsKey = JSON.stringify([...ports]);
      withApplications(portsKey === this.listenPorts ? [...added, ...replaced] : connections, ports);
      this.listenPorts = portsKey;
      this.last = { order, connections, sockoptReads: { ok: optsOk, errors: [...optsErrors] } };
    }
    const t2 = performance.now();
    return {
      inventory: {
        takenAt: new Date().toISOString(),
        namespaces,
        connections: this.last.connections,
        ownersMissing,
        sockoptReads: this.last.sockoptReads,
        parseErrors: answer.namespaces.flatMap((n) => n.errors.map((e) => `netns ${refs[n.index]!.inode} line ${e.line}: ${e.message}`)),
        socketSource: { via: 'sock_diag', fallback: null },
        timings: { totalMs: t2 - t0, dumpMs, scanMs: dumpMs, joinMs: t2 - t1 },
      },
      changes: complete ? null : { added, gone, replaced },
    };
  }

  private forget(h: Held, gone: Connection[]): void {
    this.unindex(h);
    if (h.conn) gone.push(h.conn);
  }

  private unindex(h: Held): void {
    if (h.sock.inode && this.byInode.get(h.sock.inode) === h) this.byInode.delete(h.sock.inode);
  }
}

/**
 * Ages every held connection not rejoined in `round`. By forEach: a for…of over the Map, run once a refresh and so
 * never optimized, allocated an iterator result per socket (at 100k idle sockets 8.7 MB of garbage a refresh).
 */
function ageUnchanged(sockets: ReadonlyMap<number | string, Held>, dtMs: number, round: number): void {
  sockets.forEach((h) => {
    if (h.joinAt !== round) ageConnection(h.conn, dtMs);
  });
}

/**
 * A cookie as a Map key: its number while that is exact (the kernel counts cookies up from 1, so always, in practice),
 * which the Map hashes and compares without reading a string; at each refresh of a churning host 10-20k sockets come
 * and go. The hex text itself past 2^52.
 */
const cookieSlot = (cookie: string): number | string => (cookie.length <= 13 ? parseInt(cookie, 16) : cookie);

const sameNetns = (a: NetnsInfo, b: NetnsInfo): boolean => a.name === b.name && JSON.stringify(a.container) === JSON.stringify(b.container);
