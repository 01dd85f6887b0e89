// The join: ss records (per namespace) + owners from /proc/<pid>/fd + socket options + namespace sysctls
// -> one Connection per socket. Pure: every input is passed in, so recorded inputs replay exactly.
import { connectionId } from '../domain/keys.js';
import { giveUp, keepaliveIdleMs, keepaliveView } from './keepalive.js';
import type { Connection, ContainerRef, NetnsSysctl, SockOpts, SocketOwner, SsSocket, TcpState } from '../domain/connection.js';

export interface NetnsSockets {
  inode: number;
  name: string | null;
  container: ContainerRef | null;
  sysctl: NetnsSysctl | null;
  sockets: SsSocket[];
}

export interface OwnedSocket {
  owners: SocketOwner[];
  opts: SockOpts | null;
  /** Why `opts` is null (EPERM, process gone…), from the first owner tried. */
  optsError: string | null;
}

export interface JoinInput {
  namespaces: NetnsSockets[];
  /** By socket inode. */
  owned: ReadonlyMap<number, OwnedSocket>;
  /** Why some owners are missing (not root, the owner scan failed), or null when every fd was read. */
  ownersMissing: string | null;
}

/** States whose sockets have no options, each with one reason string (a churning host has tens of thousands of
 *  TIME-WAIT sockets; their views share it). */
const NO_OPTIONS_IN: Partial<Record<TcpState, string>> = Object.fromEntries(
  (['TIME-WAIT', 'SYN-RECV'] as const).map((state) => [state, `${state} has no socket options`]),
);

function optsReason(s: SsSocket, owned: OwnedSocket | undefined, ownersMissing: string | null): string | null {
  if (owned?.opts) return null;
  if (owned?.optsError) {
    return owned.optsError === 'EPERM' || owned.optsError === 'EACCES'
      ? 'not permitted to read socket options (needs root)'
      : owned.optsError === 'ESRCH' || owned.optsError === 'EBADF'
        ? 'owner exited while being read'
        : `socket options not readable (${owned.optsError})`;
  }
  const noOptions = NO_OPTIONS_IN[s.state];
  if (noOptions) return noOptions;
  if (s.inode === 0) return 'no socket inode (orphaned)';
  return ownersMissing ?? 'no owning process (orphaned or closing)';
}

// Connections are held by the hundred thousand: parts that repeat are one shared, frozen object each (the view
// only reads them), and arrays are allocated at their exact size.
const NO_OWNERS: SocketOwner[] = Object.freeze([]) as unknown as SocketOwner[];
const EMPTY_QUEUES = Object.freeze({ recv: 0, send: 0 });
const NO_IDLE = Object.freeze({ send: null, recv: null, ack: null });
const NO_FLOW_YET: ReadonlySet<TcpState> = new Set<TcpState>(['LISTEN', 'SYN-SENT']);
const lingers = new Map<number, { enabled: boolean; seconds: number }>();
function lingerOf(opts: SockOpts): { enabled: boolean; seconds: number } {
  const key = opts.lingerSec * 2 + (opts.lingerOn ? 1 : 0);
  let l = lingers.get(key);
  if (!l) {
    l = Object.freeze({ enabled: opts.lingerOn, seconds: opts.lingerSec });
    if (lingers.size < 1024) lingers.set(key, l);
  }
  return l;
}

export function joinConnections(input: JoinInput): Connection[] {
  const out: Connection[] = [];
  for (const ns of input.namespaces) {
    const netns = netnsOf(ns);
    const sockets = ns.sockets;
    // Indexed, not for…of: run once per inventory over up to 100k items, the loop stays unoptimized (an iterator result each).
    for (let i = 0; i < sockets.length; i++) {
      const s = sockets[i]!;
      out.push(joinSocket(netns, ns.sysctl, s, s.inode ? input.owned.get(s.inode) : undefined, input.ownersMissing));
    }
  }
  return out;
}

/** The namespace as its connections carry it (one frozen object shared by all of them). */
export const netnsOf = (ns: Pick<NetnsSockets, 'inode' | 'name' | 'container'>): Connection['netns'] =>
  Object.freeze({ inode: ns.inode, name: ns.name, container: ns.container });

/** One socket of a namespace as a Connection. */
export function joinSocket(netns: Connection['netns'], sysctl: NetnsSysctl | null, s: SsSocket, owned: OwnedSocket | undefined,
  ownersMissing: string | null): Connection {
  // One owner: its list as it is (built once per inventory, never changed after), not a copy per join.
  const owners = !owned || owned.owners.length === 0 ? NO_OWNERS
    : owned.owners.length === 1 ? owned.owners : [...owned.owners].sort((a, b) => a.pid - b.pid);
  const primary = owners[0];
  const opts = owned?.opts ?? null;
  return {
    id: connectionId(netns.inode, s),
    state: s.state,
    local: s.local,
    peer: s.peer,
    netns,
    inode: s.inode,
    cookie: s.cookie,
    uid: s.uid,
    cgroup: s.cgroup,
    process: primary ?? null,
    processes: owners,
    keepalive: keepaliveView({
      state: s.state,
      opts,
      optsReason: optsReason(s, owned, ownersMissing),
      sysctl,
      timer: s.timer,
      orphan: s.inode === 0,
      lastrcvMs: s.info.lastrcvMs,
      lastackMs: s.info.lastackMs,
    }),
    userTimeoutMs: opts ? opts.userTimeoutMs : null,
    linger: opts ? lingerOf(opts) : null,
    // A listener's tcp_info idle figures are meaningless (no data flows on it), and so are those of a connect in
    // progress: the kernel counts them from a zero time stamp (a SYN-SENT socket looked idle since boot)
    idleMs: NO_FLOW_YET.has(s.state) || (s.info.lastsndMs === null && s.info.lastrcvMs === null && s.info.lastackMs === null) ? NO_IDLE
      : { send: s.info.lastsndMs, recv: s.info.lastrcvMs, ack: s.info.lastackMs },
    timer: s.timer,
    queues: s.recvQ === 0 && s.sendQ === 0 ? EMPTY_QUEUES : { recv: s.recvQ, send: s.sendQ },
    tcp: s.info,
    // Set by withApplications; a slot from the start, not a property added later (a property array per connection)
    application: undefined,
  };
}

/**
 * Ages a connection in place by `dtMs`, as if it were joined again from its socket read `dtMs` later with nothing
 * else changed (the helper's `changes` answer says which sockets that holds for): idle times grow, timers run down,
 * the keepalive forecast follows. A listener's ages stay as read: the kernel fills none for it.
 */
export function ageConnection(c: Connection, dtMs: number): void {
  const t = c.tcp;
  if (c.state !== 'LISTEN') { // a listener's ages are not times
    // An age of 0 is a time too: the socket was read within a jiffy of its last segment.
    if (t.lastsndMs !== null) t.lastsndMs += dtMs;
    if (t.lastrcvMs !== null) t.lastrcvMs += dtMs;
    if (t.lastackMs !== null) t.lastackMs += dtMs;
  }
  if (c.idleMs !== NO_IDLE) { // shared by sockets whose idle means nothing (above): nothing to age there
    c.idleMs.send = t.lastsndMs;
    c.idleMs.recv = t.lastrcvMs;
    c.idleMs.ack = t.lastackMs;
  }
  if (c.timer) c.timer.remainingMs = Math.max(0, c.timer.remainingMs - dtMs);
  const k = c.keepalive;
  if (k.timer) k.timer.remainingMs = Math.max(0, k.timer.remainingMs - dtMs);
  if (k.giveUpRule !== null) {
    const g = giveUp({
      idleSec: k.idleSec!, intervalSec: k.intervalSec!, probes: k.probes!, userTimeoutMs: c.userTimeoutMs ?? 0,
      idleMs: keepaliveIdleMs(t.lastrcvMs, t.lastackMs)!, timer: k.timer,
    });
    k.nextProbeInMs = g.nextProbeInMs;
    k.deadInMs = g.deadInMs;
  }
}
