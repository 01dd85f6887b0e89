// The snapshot document (schema/snapshot.schema.json). Kept apart from the UI: watch, the TUI's `e` key and
// `snapshot` all build it here.
import type { Capabilities } from '../model/capabilities.js';
import type { KaEvent } from '../model/events.js';
import type { ConnectionFilter } from '../model/filter.js';
import type { Finding, IdleTimeout } from '../model/findings.js';
import type { Connection, NetnsInfo, NetnsSysctl, TcpState } from '../model/types.js';

export const SNAPSHOT_SCHEMA = 'ka-top/snapshot/v1';

export interface SnapshotSummary {
  connections: number;
  byState: Partial<Record<TcpState, number>>;
  keepalive: { on: number; off: number; unknown: number; probing: number };
}

export interface SnapshotDocument {
  schema: typeof SNAPSHOT_SCHEMA;
  takenAt: string;
  kaTopVersion: string;
  host: { hostname: string; kernel: string };
  sysctl: NetnsSysctl | null;
  capabilities: Capabilities;
  namespaces: NetnsInfo[];
  summary: SnapshotSummary;
  filters?: ConnectionFilter;
  warnings: string[];
  /** What looks wrong, most severe first (model/findings.ts). */
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
  counts: { rstSentByReason: Record<string, number>; rstReceived: number; keepaliveTimeouts: number; lostEvents: number } | null;
}

export function summarize(connections: readonly Connection[]): SnapshotSummary {
  const byState: Partial<Record<TcpState, number>> = {};
  const keepalive = { on: 0, off: 0, unknown: 0, probing: 0 };
  for (const c of connections) {
    byState[c.state] = (byState[c.state] ?? 0) + 1;
    if (c.keepalive.enabled === true) keepalive.on++;
    else if (c.keepalive.enabled === false) keepalive.off++;
    else keepalive.unknown++;
    if ((c.keepalive.timer?.probesOutstanding ?? 0) > 0) keepalive.probing++;
  }
  return { connections: connections.length, byState, keepalive };
}

/** What ka-top could not see, in words, for the top of every output. */
export function warningsFor(caps: Capabilities, namespaces: readonly NetnsInfo[], ownersMissing: string | null, parseErrors: readonly string[]): string[] {
  const w: string[] = [];
  if (!caps.root.available) w.push(`not root: ${caps.root.detail}`);
  if (ownersMissing) w.push(`owners of some sockets are missing: ${ownersMissing}`);
  for (const ns of namespaces) if (ns.error) w.push(`netns ${ns.name ?? ns.inode}: ${ns.error}`);
  for (const e of parseErrors.slice(0, 20)) w.push(`unparsed ss line: ${e}`);
  if (parseErrors.length > 20) w.push(`… and ${parseErrors.length - 20} more unparsed ss lines`);
  return w;
}

/** Keys whose array items are written one compact item per line: readable with grep, and several times faster
 *  than indenting tens of thousands of nested objects. */
const ROW_ARRAYS = new Set(['connections', 'closedConnections', 'events']);

/** The JSON text in pieces (header indented, one row per line), so large documents stream without one huge string. */
export function* jsonChunks(doc: object): Generator<string> {
  const CHUNK_ROWS = 500;
  let first = true;
  yield '{\n';
  for (const [key, value] of Object.entries(doc)) {
    if (value === undefined) continue;
    const head = `${first ? '' : ',\n'}  ${JSON.stringify(key)}: `;
    first = false;
    if (ROW_ARRAYS.has(key) && Array.isArray(value) && value.length) {
      yield head + '[\n';
      for (let i = 0; i < value.length; i += CHUNK_ROWS) {
        const rows = value.slice(i, i + CHUNK_ROWS).map((v) => '    ' + JSON.stringify(v));
        yield rows.join(',\n') + (i + CHUNK_ROWS < value.length ? ',\n' : '\n');
      }
      yield '  ]';
    } else {
      yield head + JSON.stringify(value, null, 2).replace(/\n/g, '\n  ');
    }
  }
  yield '\n}\n';
}

export function toJson(doc: object): string {
  return [...jsonChunks(doc)].join('');
}
