// A recorded snapshot as the TUI's state source: the same MonitorState a live Monitor gives, rebuilt once from the
// document and never refreshed (`ka-top view`).
import type { KaEvent } from '../model/events.js';
import type { SnapshotDocument } from '../output/snapshot-json.js';
import type { Inventory } from './inventory.js';
import type { MonitorState } from './monitor.js';

/** A snapshot document with the optional parts `snapshot --capture` adds (events seen while it ran). */
export type RecordedSnapshot = SnapshotDocument & {
  events?: KaEvent[];
  capture?: { startedAt?: string; endedAt?: string; durationMs?: number };
};

/** The inventory a snapshot was written from, as far as the document keeps it. */
export function inventoryOf(doc: SnapshotDocument): Inventory {
  return {
    takenAt: doc.takenAt,
    namespaces: doc.namespaces,
    connections: doc.connections,
    // The document's own warnings already say what was missing; the view shows those instead of re-deriving them.
    ownersComplete: true,
    sockoptReads: { ok: 0, errors: [] },
    parseErrors: [],
    timings: { totalMs: 0, dumpMs: 0, scanMs: 0, joinMs: 0 },
  };
}

/** The time the events cover (ms epoch): the capture's own bounds, else the first to the last event. */
export function captureWindow(doc: RecordedSnapshot): { start: number; end: number } | null {
  let first = Infinity;
  let last = -Infinity;
  for (const e of doc.events ?? []) {
    const t = Date.parse(e.ts);
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const start = Date.parse(doc.capture?.startedAt ?? '') || first;
  const end = Date.parse(doc.capture?.endedAt ?? '') || (doc.capture?.durationMs ? start + doc.capture.durationMs : last);
  return Number.isFinite(start) && Number.isFinite(end) ? { start, end } : null;
}

export class StaticSource {
  readonly state: MonitorState;

  constructor(doc: SnapshotDocument) {
    this.state = {
      inventory: inventoryOf(doc),
      capabilities: doc.capabilities,
      fresh: new Map(),
      closed: [],
      refresh: { intervalMs: 0, lastCostMs: 0, count: 1, error: null },
    };
  }

  /** Nothing ever changes. */
  subscribe(): () => void {
    return () => {};
  }
}
