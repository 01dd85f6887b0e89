// `--fail-on` thresholds: `TYPE[:QUALIFIER]>N[/s|/min|/h]`, e.g. `rst_sent:linger>10/min`, `keepalive_timeout>0`.
// The qualifier matches rst_sent's cause, rst_received's inferred cause (its sender's cause, or `peer_reset` when
// the sender was not observed) or close's `how`.
import { DURATION_UNITS_MS } from '../domain/duration.js';
import { CLOSE_HOWS, EVENT_TYPES, RST_CAUSES, type EventType, type KaEvent } from '../domain/event.js';

/** The qualifiers each event type can be matched on; a type not listed takes none. */
const QUALIFIERS: Partial<Record<EventType, readonly string[]>> = {
  rst_sent: RST_CAUSES,
  rst_received: [...RST_CAUSES, 'peer_reset'],
  close: CLOSE_HOWS,
};

export interface Threshold {
  spec: string;
  type: EventType;
  qualifier: string | null;
  limit: number;
  /** Sliding window in ms; null = over the whole run. */
  windowMs: number | null;
}

/** Throws an Error with a one-line message on a bad spec. */
export function parseThreshold(spec: string): Threshold {
  const m = /^([a-z_]+)(?::([A-Za-z_]+))?\s*>\s*(\d+)(?:\/(s|sec|m|min|h))?$/.exec(spec.trim());
  if (!m) throw new Error(`invalid --fail-on '${spec}': expected TYPE[:CAUSE]>N[/s|/min|/h], e.g. rst_sent:linger>10/min`);
  if (!(EVENT_TYPES as readonly string[]).includes(m[1]!)) {
    throw new Error(`invalid --fail-on '${spec}': unknown event type '${m[1]}' (${EVENT_TYPES.join(', ')})`);
  }
  const allowed = QUALIFIERS[m[1] as EventType];
  if (m[2] !== undefined && !allowed?.includes(m[2])) {
    throw new Error(`invalid --fail-on '${spec}': ${allowed ? `unknown ${m[1]} qualifier '${m[2]}' (${allowed.join(', ')})` : `${m[1]} takes no qualifier`}`);
  }
  return { spec, type: m[1] as EventType, qualifier: m[2] ?? null, limit: Number(m[3]), windowMs: m[4] ? DURATION_UNITS_MS[m[4]]! : null };
}

function qualifierOf(e: KaEvent): string | null {
  if (e.type === 'rst_sent') return e.cause;
  // 'peer_reset (sender not observed)' and the like: matched by their word
  if (e.type === 'rst_received') return e.inferredCause.split(' ')[0]!;
  if (e.type === 'close') return e.how;
  return null;
}

/** Counts matching events and reports the first threshold exceeded. */
export class ThresholdTracker {
  private hits: number[][];
  constructor(readonly thresholds: readonly Threshold[]) {
    this.hits = thresholds.map(() => []);
  }

  /** Returns the threshold this event pushed over its limit, if any. */
  observe(e: KaEvent, nowMs: number): Threshold | null {
    for (let i = 0; i < this.thresholds.length; i++) {
      const t = this.thresholds[i]!;
      if (e.type !== t.type || (t.qualifier !== null && qualifierOf(e) !== t.qualifier)) continue;
      const n = e.type === 'lost' ? e.events : 1;
      const list = this.hits[i]!;
      for (let k = 0; k < n; k++) list.push(nowMs);
      if (t.windowMs !== null) while (list.length > 0 && list[0]! <= nowMs - t.windowMs) list.shift();
      if (list.length > t.limit) return t;
    }
    return null;
  }
}
