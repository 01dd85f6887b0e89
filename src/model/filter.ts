// Connection filters shared by snapshot, watch and the TUI's command-line options.
import type { KaEvent } from '../domain/event.js';
import type { ConnectionFilter } from '../domain/filter.js';
import { TCP_STATES, type Connection, type NetnsInfo, type TcpState } from '../domain/connection.js';

/** Whether a namespace (inode, name) is one of `--netns` values (inodes or names); true when none were given. */
export function netnsSelected(f: ConnectionFilter, inode: number | null, name: string | null | undefined): boolean {
  return !f.netns?.length || f.netns.some((n) => n === String(inode) || (!!name && n === name));
}

// The last namespace answer: a namespace's connections share one netns object, and a table of 100k rows is filtered
// one namespace after another.
let lastFilter: ConnectionFilter | null = null;
let lastNetns: Connection['netns'] | null = null;
let lastSelected = false;

function connectionNetnsSelected(c: Connection, f: ConnectionFilter): boolean {
  if (!f.netns?.length) return true;
  if (lastFilter !== f || lastNetns !== c.netns) {
    lastFilter = f;
    lastNetns = c.netns;
    lastSelected = netnsSelected(f, c.netns.inode, c.netns.name);
  }
  return lastSelected;
}

export function matchesFilter(c: Connection, f: ConnectionFilter): boolean {
  if (f.ports?.length && !f.ports.includes(c.local.port) && !f.ports.includes(c.peer.port)) return false;
  if (f.pids?.length && !c.processes.some((p) => f.pids!.includes(p.pid))) return false;
  if (f.comms?.length && !c.processes.some((p) => f.comms!.includes(p.comm))) return false;
  if (f.states?.length && !f.states.includes(c.state)) return false;
  if (f.keepalive && (c.keepalive.enabled === true) !== (f.keepalive === 'on')) return false;
  return connectionNetnsSelected(c, f);
}

/**
 * The connections `f` keeps, in order: `conns` itself when it keeps every one (no copy of 100k references for a
 * filter the inventory already met, such as --netns, whose namespaces alone were read).
 */
export function filterConnections(conns: readonly Connection[], f: ConnectionFilter): readonly Connection[] {
  let i = 0;
  while (i < conns.length && matchesFilter(conns[i]!, f)) i++;
  if (i === conns.length) return conns;
  const kept = conns.slice(0, i);
  for (i++; i < conns.length; i++) if (matchesFilter(conns[i]!, f)) kept.push(conns[i]!);
  return kept;
}

/** Namespace names by inode, for eventMatchesFilter (events carry the inode, `--netns` may give the name). */
export function netnsNames(namespaces: readonly NetnsInfo[]): Map<number, string> {
  return new Map(namespaces.flatMap((n) => (n.name ? [[n.inode, n.name] as const] : [])));
}

/** The same filter applied to an event, through the owner and endpoints it was attributed to. */
export function eventMatchesFilter(e: KaEvent, f: ConnectionFilter, netnsNames: ReadonlyMap<number, string>): boolean {
  if (e.type === 'lost') return true;
  if (f.ports?.length && !f.ports.some((p) => p === e.local?.port || p === e.peer?.port)) return false;
  if (f.pids?.length && (e.pid === null || !f.pids.includes(e.pid))) return false;
  if (f.comms?.length && (e.comm === null || !f.comms.includes(e.comm))) return false;
  if (!netnsSelected(f, e.netns, e.netns === null ? null : netnsNames.get(e.netns))) return false;
  return true;
}

/** Accepts ss's names and the kernel's (ESTABLISHED, TIME_WAIT…), case-insensitive. */
export function parseState(text: string): TcpState | null {
  const t = text.toUpperCase().replace(/_/g, '-');
  const alias: Record<string, TcpState> = { ESTABLISHED: 'ESTAB', CLOSE: 'UNCONN', 'SYN-RECEIVED': 'SYN-RECV' };
  const s = alias[t] ?? t;
  return (TCP_STATES as readonly string[]).includes(s) ? (s as TcpState) : null;
}
