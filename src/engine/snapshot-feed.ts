// A recorded snapshot as the TUI's state feed: the same MonitorState a live Monitor gives, rebuilt once from the
// document and never refreshed (`ka-top view`).
import type { SnapshotDocument } from '../domain/snapshot.js';
import type { Inventory } from '../domain/inventory.js';
import { FreshIds, type MonitorState } from './monitor.js';

/** The inventory a snapshot was written from, as far as the document keeps it. */
export function inventoryFromDocument(doc: SnapshotDocument): Inventory {
  return {
    takenAt: doc.takenAt,
    namespaces: doc.namespaces,
    connections: doc.connections,
    // The document's own warnings already say what was missing; the view shows those instead of re-deriving them.
    ownersMissing: null,
    sockoptReads: { ok: 0, errors: [] },
    parseErrors: [],
    timings: { totalMs: 0, dumpMs: 0, scanMs: 0, joinMs: 0 },
  };
}

/** The time the events cover (ms epoch): the capture window, else the first to the last event. */
export function captureWindow(doc: SnapshotDocument): { start: number; end: number } | null {
  if (doc.capture) return { start: Date.parse(doc.capture.startedAt), end: Date.parse(doc.capture.endedAt) };
  let start = Infinity;
  let end = -Infinity;
  for (const e of doc.events ?? []) {
    const t = Date.parse(e.ts);
    if (t < start) start = t;
    if (t > end) end = t;
  }
  return Number.isFinite(start) ? { start, end } : null;
}

export class SnapshotFeed {
  readonly state: MonitorState;

  constructor(doc: SnapshotDocument) {
    this.state = {
      inventory: inventoryFromDocument(doc),
      capabilities: doc.capabilities,
      fresh: new FreshIds(),
      // A capture's connections that closed during its window stay visible (struck through), with their events.
      closed: (doc.closedConnections ?? []).map((connection) => ({ connection, closedAt: Date.parse(doc.capture?.endedAt ?? doc.takenAt) })),
      changes: null,
      refresh: { intervalMs: 0, lastCostMs: 0, count: 1, error: null },
    };
  }

  /** Nothing ever changes. */
  subscribe(): () => void {
    return () => {};
  }
}
