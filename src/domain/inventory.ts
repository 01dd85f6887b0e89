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
  timings: { totalMs: number; dumpMs: number; scanMs: number; joinMs: number };
}
