// What the TUI reads from the event stream, and the words it shows when there is none.
import type { Capabilities } from '../model/capabilities.js';
import type { KaEvent } from '../model/events.js';
import type { ResetRecord, ResetSummary } from '../model/reset-stats.js';
import type { ActivityLookup } from './view-model.js';

export interface TracerView {
  activity: ActivityLookup;
  /** Events of one connection, oldest first. */
  timeline: (id: string) => readonly KaEvent[];
  resets: ResetSummary;
  lostEvents: number;
}

export type TracerStatus = { on: true; view: TracerView } | { on: false; reason: string };

/** Why there are no events when nobody wired a tracer: the first missing capability, in words. */
export function tracerOffReason(caps: Capabilities | null): string {
  if (!caps) return 'checking what this host can trace…';
  if (!caps.root.available) return 'needs root';
  if (!caps.bpftrace.available) return `bpftrace: ${caps.bpftrace.detail}`;
  if (!caps.tracefs.available) return `tracefs: ${caps.tracefs.detail}`;
  if (!caps.tracepoints.available) return `tracepoints: ${caps.tracepoints.detail}`;
  return 'not started';
}

/** A reset event as the resets view counts it; null for other events. */
export function resetRecordOf(e: KaEvent): ResetRecord | null {
  if (e.type !== 'rst_sent' && e.type !== 'rst_received') return null;
  return {
    at: Date.parse(e.ts),
    direction: e.type === 'rst_sent' ? 'sent' : 'received',
    cause: e.type === 'rst_sent' ? (e.reason && e.cause === 'other' ? e.reason : e.cause) : e.inferredCause,
    pid: e.pid,
    comm: e.comm,
    peer: e.peer?.address ?? null,
  };
}
