// One inventory: every TCP socket of every network namespace, joined with owners, options and sysctls.
import type { Connection, NetnsInfo } from './connection.js';

export interface Inventory {
  takenAt: string;
  namespaces: NetnsInfo[];
  connections: Connection[];
  /** Why some owners are missing (other users' processes unreadable without root, or the owner scan failed);
   *  null when every process was scanned. */
  ownersMissing: string | null;
  /** How the socket-option reads went (for the pidfd_getfd capability). */
  sockoptReads: { ok: number; errors: string[] };
  /** Lines ss printed that could not be parsed (never silently dropped). */
  parseErrors: string[];
  /** Where the sockets came from: the native helper (sock_diag) or ss, and why ss was used when the native
   *  source exists but could not (fully) be used. Absent for an inventory rebuilt from a snapshot document. */
  socketSource?: { via: 'sock_diag' | 'ss'; fallback: string | null };
  timings: { totalMs: number; dumpMs: number; scanMs: number; joinMs: number };
}

/** How one inventory differs from the one before it. */
export interface InventoryChanges {
  /** Connections not in the previous inventory. */
  added: Connection[];
  /** Connections of the previous inventory not in this one. */
  gone: Connection[];
  /** Connections of both whose object was built anew (the others are the same objects); null when every one was
   *  (a full inventory). */
  replaced: Connection[] | null;
}

/** The changes between two full inventories, by connection id (every object new). */
export function changesBetween(before: readonly Connection[], after: readonly Connection[]): InventoryChanges {
  const was = new Set(before.map((c) => c.id));
  const is = new Set(after.map((c) => c.id));
  return { added: after.filter((c) => !was.has(c.id)), gone: before.filter((c) => !is.has(c.id)), replaced: null };
}
