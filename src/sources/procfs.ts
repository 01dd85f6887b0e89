// Reads /proc (and /run/netns): processes, their network namespaces, and facts about owners of sockets.
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { containerFromCgroup, parseCgroupPath, parseCmdline, parsePasswd, parsePreload, parseStartTime, parseStatusUid } from '../parse/procfs.js';
import { WorkloadDirectory } from './workloads.js';
import type { NetnsRef } from './ports.js';
import { SYSCTL_NAMES, type NetnsSysctl, type ProcessInfo } from '../domain/connection.js';
import type { EventProcess } from '../domain/event.js';

function readOr(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process exited, or we may not read it: both are normal here
  }
}

function linkOr(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null; // kernel threads have no exe; other users' processes need root
  }
}

function netnsInode(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

/** The network namespace a process lives in (its inode), or null when it is gone or unreadable. */
export function netnsOfPid(pid: number): number | null {
  return netnsInode(`/proc/${pid}/ns/net`);
}

/** The network namespace (inode) of the container `id` names: its id as ka-top shows it (12 characters for docker
 *  and its kin, an lxc container's name) or docker's full 64-character id; any of the container's processes counts
 *  (in a pod, the app's as well as the pause container's). Null when no process runs in such a container. */
export function netnsOfContainer(id: string): number | null {
  const full = /^[0-9a-f]{64}$/.test(id);
  for (const pid of listPids()) {
    const c = containerFromCgroup(parseCgroupPath(readOr(`/proc/${pid}/cgroup`) ?? ''));
    if (c && (c.id === id || (full && id.startsWith(c.id)))) {
      const inode = netnsOfPid(pid);
      if (inode !== null) return inode;
    }
  }
  return null;
}

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids;
}

/** Every network namespace on the host: those of running processes plus named ones under /run/netns. */
export function listNetns(): NetnsRef[] {
  const selfInode = netnsInode('/proc/self/ns/net');
  const byInode = new Map<number, NetnsRef>();
  for (const pid of listPids()) {
    const path = `/proc/${pid}/ns/net`;
    const inode = netnsInode(path);
    if (inode === null || byInode.has(inode)) continue;
    byInode.set(inode, { inode, path, name: null, self: inode === selfInode, samplePid: pid });
  }
  let named: string[] = [];
  try {
    named = readdirSync('/run/netns');
  } catch {
    // no named namespaces
  }
  for (const name of named) {
    const path = `/run/netns/${name}`;
    const inode = netnsInode(path);
    if (inode === null) continue;
    const known = byInode.get(inode);
    if (known) {
      known.name = name;
      known.path = path; // a named path outlives any single process
    } else {
      byInode.set(inode, { inode, path, name, self: inode === selfInode, samplePid: null });
    }
  }
  if (selfInode !== null && !byInode.has(selfInode)) {
    byInode.set(selfInode, { inode: selfInode, path: '/proc/self/ns/net', name: null, self: true, samplePid: process.pid });
  }
  return [...byInode.values()].sort((a, b) => Number(b.self) - Number(a.self) || a.inode - b.inode);
}

/**
 * Process facts, cached by (pid, start time) so a refresh re-reads only processes it has not seen; a reused pid
 * has another start time and is read afresh.
 */
export class ProcessReader {
  private cache = new Map<number, { start: number; info: ProcessInfo }>();
  private users: Map<number, string> | null = null;

  constructor(private readonly workloads = new WorkloadDirectory()) {}

  read(pid: number): ProcessInfo | null {
    const stat = readOr(`/proc/${pid}/stat`);
    const start = stat === null ? null : parseStartTime(stat);
    if (start === null) {
      this.cache.delete(pid);
      return null;
    }
    const hit = this.cache.get(pid);
    if (hit && hit.start === start) return hit.info;
    const comm = (readOr(`/proc/${pid}/comm`) ?? '').replace(/\n$/, '');
    const status = readOr(`/proc/${pid}/status`);
    const uid = status === null ? null : parseStatusUid(status);
    const cgroup = parseCgroupPath(readOr(`/proc/${pid}/cgroup`) ?? '');
    const info: ProcessInfo = {
      pid,
      comm,
      cmdline: parseCmdline(readOr(`/proc/${pid}/cmdline`) ?? ''),
      // exe and LD_PRELOAD tell which application owns the sockets (model/apps)
      exe: linkOr(`/proc/${pid}/exe`),
      preload: parsePreload(readOr(`/proc/${pid}/environ`) ?? ''),
      uid,
      user: uid === null ? null : this.userName(uid),
      cgroup,
      container: this.workloads.containerOf(cgroup),
      netns: netnsInode(`/proc/${pid}/ns/net`),
    };
    this.cache.set(pid, { start, info });
    return info;
  }

  /** Drops cached processes that are not in `alive`. */
  prune(alive: ReadonlySet<number>): void {
    for (const pid of this.cache.keys()) if (!alive.has(pid)) this.cache.delete(pid);
  }

  private userName(uid: number): string | null {
    this.users ??= parsePasswd(readOr('/etc/passwd') ?? '');
    return this.users.get(uid) ?? null;
  }
}

/** A process's name and command line as events carry them, or null when it is gone. */
export function eventProcessOf(pid: number): EventProcess | null {
  const comm = readOr(`/proc/${pid}/comm`);
  if (comm === null) return null;
  return { pid, comm: comm.replace(/\n$/, ''), cmdline: parseCmdline(readOr(`/proc/${pid}/cmdline`) ?? '') };
}

/** The socket inode behind a process's fd, or null (not a socket, or gone). */
export function socketInodeOf(pid: number, fd: number): number | null {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Host-level facts for the snapshot header. */
export function hostFacts(): { hostname: string; kernel: string } {
  return {
    hostname: (readOr('/proc/sys/kernel/hostname') ?? '').trim(),
    kernel: (readOr('/proc/sys/kernel/osrelease') ?? '').trim(),
  };
}

/** Keepalive sysctls of ka-top's own namespace (readable without root). */
export function readOwnSysctls(): NetnsSysctl | string {
  const out: Partial<NetnsSysctl> = {};
  for (const name of SYSCTL_NAMES) {
    const text = readOr(`/proc/sys/net/ipv4/${name}`);
    if (text === null) return `cannot read /proc/sys/net/ipv4/${name}`;
    out[name] = Number(text.trim());
  }
  return out as NetnsSysctl;
}
