// The records `watch` writes besides events: a periodic `sample` of the connections and the final `counts` with the
// tracer's exact totals, each as an NDJSON object and as a human line.
import type { Connection } from '../domain/connection.js';
import type { TracerCounts } from '../domain/counts.js';
import type { CloseHow } from '../domain/event.js';
import type { SnapshotSummary } from '../domain/snapshot.js';
import { resetsByNetns } from '../model/reset-stats.js';
import { summarize } from '../model/snapshot-summary.js';
import { causeCounts } from './event-text.js';

export interface SampleRecord {
  type: 'sample';
  ts: string;
  summary: SnapshotSummary;
  connections: readonly Connection[];
}

/** Host-wide: the kernel counts every socket, whatever the options selected for the event lines. */
export type CountsRecord = { type: 'counts'; ts: string; scope: 'host' } & TracerCounts;

export function sampleRecord(connections: readonly Connection[], at = new Date()): SampleRecord {
  return { type: 'sample', ts: at.toISOString(), summary: summarize(connections), connections };
}

export function sampleLine(s: SampleRecord): string {
  return `${s.ts.slice(11, 23)} sample            ${s.connections.length} connections`;
}

export function countsRecord(c: TracerCounts, at = new Date()): CountsRecord {
  const { rstSentByReason, rstSentByNetns, rstSentByNetnsCause, rstReceived, rstReceivedByNetns, keepaliveTimeouts, closesByNetns, lostEvents, cappedEvents, mapFull } = c;
  return { type: 'counts', ts: at.toISOString(), scope: 'host', rstSentByReason, rstSentByNetns, rstSentByNetnsCause, rstReceived, rstReceivedByNetns, keepaliveTimeouts, closesByNetns, lostEvents, cappedEvents, mapFull };
}

/** The namespaces that sent the most resets, by cause: `kat-a: no_socket 795, linger 2; 4026531840: linger 3`. */
function sentByNetns(c: CountsRecord, label: (inode: string) => string, most = 5): string {
  return resetsByNetns(c.rstSentByNetnsCause ?? {})
    .sort((a, b) => b.sentTotal - a.sentTotal)
    .slice(0, most)
    .map((r) => `${label(r.inode)}: ${causeCounts(r.sent)}`)
    .join('; ');
}

/** The counts in words; `label` names a namespace by its inode (a name, a container). */
export function countsLine(c: CountsRecord, label: (inode: string) => string = (inode) => inode): string {
  const full = Object.values(c.mapFull).reduce((a, b) => a + b, 0);
  const capped = Object.keys(c.cappedEvents).length ? `, held back beyond the events a second ${JSON.stringify(c.cappedEvents)}` : '';
  const byNetns = sentByNetns(c, label);
  const closes = (how: CloseHow) => Object.values(c.closesByNetns).reduce((n, byHow) => n + (byHow[how] ?? 0), 0);
  return `counts (whole host): resets sent ${JSON.stringify(c.rstSentByReason)}${byNetns ? ` (by namespace ${byNetns})` : ''}, received ${c.rstReceived}, keepalive timeouts ${c.keepaliveTimeouts}, retransmission timeouts ${closes('retransmit_timeout')}, failed connects ${closes('connect_failed')}, lost events ${c.lostEvents}${capped}${full ? `, connection states not kept (full maps) ${full}` : ''}`;
}
