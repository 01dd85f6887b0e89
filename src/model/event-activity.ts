// Per-connection activity from the event stream: the live tracer, a recorded snapshot's events and `diff` all
// count probes and resets the same way here.
import type { KaEvent } from '../domain/event.js';

/** What the event stream knows about one connection. */
export interface ConnectionActivity {
  /** Keepalive probes sent while observed (a running count: ss only shows the outstanding ones). */
  probesSent: number;
  resets: number;
  /** Its events, oldest first (bounded live, complete for a recording). */
  timeline: KaEvent[];
}

export const newActivity = (): ConnectionActivity => ({ probesSent: 0, resets: 0, timeline: [] });

/** Adds one event of this connection; keeps at most `timelineSize` events. */
export function addEvent(a: ConnectionActivity, e: KaEvent, timelineSize = Infinity): void {
  if (e.type === 'keepalive_probe') a.probesSent = Math.max(a.probesSent, e.probesSent);
  if (e.type === 'rst_sent' || e.type === 'rst_received') a.resets++;
  a.timeline.push(e);
  if (a.timeline.length > timelineSize) a.timeline.shift();
}

/** Activity of every connection named by a list of events (events without a connection are skipped). */
export function activityByConnection(events: readonly KaEvent[]): Map<string, ConnectionActivity> {
  const out = new Map<string, ConnectionActivity>();
  for (const e of events) {
    if (e.type === 'lost' || !e.connection) continue;
    let a = out.get(e.connection);
    if (!a) out.set(e.connection, (a = newActivity()));
    addEvent(a, e);
  }
  return out;
}
