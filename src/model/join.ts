// The join: ss records (per namespace) + owners from /proc/<pid>/fd + socket options + namespace sysctls
// -> one Connection per socket. Pure: every input is passed in, so recorded inputs replay exactly.
import { connectionId } from '../domain/keys.js';
import { keepaliveView } from './keepalive.js';
import type { Connection, ContainerRef, NetnsSysctl, SockOpts, SocketOwner, SsSocket } from '../domain/connection.js';

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

function optsReason(s: SsSocket, owned: OwnedSocket | undefined, ownersMissing: string | null): string | null {
  if (owned?.opts) return null;
  if (owned?.optsError) {
    return owned.optsError === 'EPERM' || owned.optsError === 'EACCES'
      ? 'not permitted to read socket options (needs root)'
      : owned.optsError === 'ESRCH' || owned.optsError === 'EBADF'
        ? 'owner exited while being read'
        : `socket options not readable (${owned.optsError})`;
  }
  if (s.state === 'TIME-WAIT' || s.state === 'SYN-RECV') return `${s.state} has no socket options`;
  if (s.inode === 0) return 'no socket inode (orphaned)';
  return ownersMissing ?? 'no owning process (orphaned or closing)';
}

export function joinConnections(input: JoinInput): Connection[] {
  const out: Connection[] = [];
  for (const ns of input.namespaces) {
    for (const s of ns.sockets) {
      const owned = s.inode ? input.owned.get(s.inode) : undefined;
      const owners = !owned ? [] : owned.owners.length > 1 ? [...owned.owners].sort((a, b) => a.pid - b.pid) : owned.owners;
      const primary = owners[0];
      const opts = owned?.opts ?? null;
      out.push({
        id: connectionId(ns.inode, s),
        state: s.state,
        local: s.local,
        peer: s.peer,
        netns: { inode: ns.inode, name: ns.name, container: ns.container },
        inode: s.inode,
        cookie: s.cookie,
        uid: s.uid,
        cgroup: s.cgroup,
        process: primary ?? null,
        processes: owners,
        keepalive: keepaliveView({
          state: s.state,
          opts,
          optsReason: optsReason(s, owned, input.ownersMissing),
          sysctl: ns.sysctl,
          timer: s.timer,
          orphan: s.inode === 0,
          lastrcvMs: s.info.lastrcvMs,
          lastackMs: s.info.lastackMs,
        }),
        userTimeoutMs: opts ? opts.userTimeoutMs : null,
        linger: opts ? { enabled: opts.lingerOn, seconds: opts.lingerSec } : null,
        // A listener's tcp_info idle figures are meaningless (no data flows on it)
        idleMs: s.state === 'LISTEN'
          ? { send: null, recv: null, ack: null }
          : { send: s.info.lastsndMs, recv: s.info.lastrcvMs, ack: s.info.lastackMs },
        timer: s.timer,
        queues: { recv: s.recvQ, send: s.sendQ },
        tcp: s.info,
      });
    }
  }
  return out;
}
