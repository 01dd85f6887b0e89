// What the TUI reads from the event stream, and the words it shows when there is none.
import type { Capabilities } from '../domain/capabilities.js';
import { heldBackTotal } from '../domain/counts.js';
import type { KaEvent } from '../domain/event.js';
import { activityByConnection } from '../model/event-activity.js';
import { resetRecordOf, summarizeResets, type CountedResets, type ResetSummary } from '../model/reset-stats.js';
import { captureWindow } from '../engine/snapshot-feed.js';
import { countedResetCauses, countedResetRate } from '../output/event-text.js';
import type { SnapshotDocument } from '../domain/snapshot.js';
import type { ActivityLookup } from './view-model.js';

export interface TracerView {
  activity: ActivityLookup;
  /** Events of one connection, oldest first. */
  timeline: (id: string) => readonly KaEvent[];
  resets: ResetSummary;
  lostEvents: number;
  /** Records the tracer held back beyond the records a second of each kind (a flood): no event, counted. */
  heldBackEvents: number;
  /** The kernel's reset rate over its last counts interval (the --netns namespaces, else the whole host); null in a
   *  recording or before two. */
  countedResets: CountedResets | null;
  /** Events received so far: the rows' activity can have changed when this did. */
  eventsSeen: number;
}

/** Events the view misses: lost, and held back in a flood (the rates shown are of the events delivered). */
export function lossText(v: Pick<TracerView, 'lostEvents' | 'heldBackEvents'>): string {
  return `lost events ${v.lostEvents}${v.heldBackEvents ? ` · held back ${v.heldBackEvents} (flood)` : ''}`;
}

/** The real reset rate while reset records are held back (the recorded rates fall short of it), else null. */
export function countedResetsText(v: Pick<TracerView, 'countedResets'>): string | null {
  const k = v.countedResets;
  return k?.heldBack ? countedResetRate(k) : null;
}

/** That rate by cause (sent, as a record's cause is classified) and received, while reset records are held back. */
export function countedResetsByCause(v: Pick<TracerView, 'countedResets'>): string | null {
  const k = v.countedResets;
  return k?.heldBack ? `In the kernel, a second: ${countedResetCauses(k)}` : null;
}

/** On with its view, or off with why; `starting` while it attaches (off for now, not for good). */
export type TracerStatus = { on: true; view: TracerView } | { on: false; reason: string; starting?: boolean };

/** Why there are no events when nobody wired a tracer: the first missing capability, in words. */
export function tracerOffReason(caps: Capabilities | null): string {
  if (!caps) return 'checking what this host can trace…';
  if (!caps.root.available) return 'needs root';
  if (!caps.bpftrace.available) return `bpftrace: ${caps.bpftrace.detail}`;
  if (!caps.tracefs.available) return `tracefs: ${caps.tracefs.detail}`;
  if (!caps.tracepoints.available) return `tracepoints: ${caps.tracepoints.detail}`;
  return 'not started';
}

/** The event view of a recorded snapshot: its events by connection; reset rates are averages over the capture. */
export function recordedTracer(doc: SnapshotDocument): TracerStatus {
  if (doc.capture && !doc.capture.tracing.on) return { on: false, reason: `no events: the capture ran without tracing (${doc.capture.tracing.reason ?? 'unknown reason'})` };
  if (!doc.events) return { on: false, reason: 'no events in this snapshot (record them with `ka-top snapshot --capture`)' };
  const byConnection = activityByConnection(doc.events);
  const window = captureWindow(doc);
  const resets = summarizeResets(
    doc.events.flatMap((e) => resetRecordOf(e) ?? []),
    window?.end ?? Date.parse(doc.takenAt),
    Math.max(1000, window ? window.end - window.start + 1 : 1000),
  );
  const lostEvents = doc.capture?.lostEvents ?? doc.events.reduce((n, e) => n + (e.type === 'lost' ? e.events : 0), 0);
  const view: TracerView = {
    activity: (id) => byConnection.get(id),
    timeline: (id) => byConnection.get(id)?.timeline ?? [],
    resets,
    lostEvents,
    heldBackEvents: heldBackTotal(doc.capture?.counts?.cappedEvents),
    countedResets: null,
    eventsSeen: doc.events.length,
  };
  return { on: true, view };
}
