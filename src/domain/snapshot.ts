// The snapshot document (schema/snapshot.schema.json): what `snapshot` writes, `view` and `diff` read, and the
// TUI's `e` key saves.
import type { Capabilities } from './capabilities.js';
import type { Connection, NetnsInfo, NetnsSysctl, TcpState } from './connection.js';
import type { CaptureTotals } from './counts.js';
import type { KaEvent } from './event.js';
import type { ConnectionFilter } from './filter.js';
import type { Finding, IdleTimeout } from './finding.js';

export const SNAPSHOT_SCHEMA = 'ka-top/snapshot/v1';

/** The lists a snapshot's JSON text writes one compact item per line (readable with grep, and read back row by
 *  row: see output/snapshot-json.ts and sources/snapshot-file.ts). */
export const ROW_LISTS: ReadonlySet<string> = new Set(['connections', 'closedConnections', 'events']);

export interface SnapshotSummary {
  connections: number;
  byState: Partial<Record<TcpState, number>>;
  keepalive: { on: number; off: number; unknown: number; probing: number };
}

export interface SnapshotDocument {
  schema: typeof SNAPSHOT_SCHEMA;
  takenAt: string;
  kaTopVersion: string;
  /** os, uptimeSec and addresses when ka-top could read them (not in documents the TUI's `e` key writes). */
  host: { hostname: string; kernel: string; os?: string | null; uptimeSec?: number | null; addresses?: string[] };
  sysctl: NetnsSysctl | null;
  capabilities: Capabilities;
  namespaces: NetnsInfo[];
  summary: SnapshotSummary;
  filters?: ConnectionFilter;
  warnings: string[];
  /** What looks wrong, most severe first. */
  findings?: Finding[];
  /** The middlebox idle timeouts the findings were checked against. */
  idleTimeouts?: IdleTimeout[];
  /** Present for `snapshot --capture`. */
  capture?: CaptureInfo;
  /** True when command lines were cut to argv[0] and secrets masked (--redact). */
  redacted?: boolean;
  /** The end-of-window inventory for a capture. */
  connections: Connection[];
  /** Capture only: connections of the start inventory that were gone at the end. */
  closedConnections?: Connection[];
  /** Capture only: every event of the window, oldest first; `connection` links it to a connection id. */
  events?: KaEvent[];
}

export interface CaptureInfo {
  startedAt: string;
  endedAt: string;
  durationMs: number;
  requestedMs: number;
  /** True when a signal ended the window early. */
  interrupted: boolean;
  inventories: {
    start: { takenAt: string; summary: SnapshotSummary };
    end: { takenAt: string; summary: SnapshotSummary };
  };
  tracing: { on: boolean; reason: string | null; missing: string[] };
  lostEvents: number;
  /** Events seen but not kept in `events` (a storm beyond the bound); the counts stay exact. */
  eventsDropped: number;
  /** Events in the document by type. */
  eventsByType: Record<string, number>;
  /** The tracer's exact totals for the window (null without tracing). */
  counts: CaptureTotals | null;
}
