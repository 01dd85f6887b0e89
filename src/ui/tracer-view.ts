// What the TUI reads from the event stream, and the words it shows when there is none.
import type { Capabilities } from '../model/capabilities.js';
import type { KaEvent } from '../model/events.js';
import type { ResetSummary } from '../model/reset-stats.js';
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
