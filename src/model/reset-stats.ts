// Aggregation behind the resets view: counts of resets by cause, by process and by peer since start, plus rates
// over a sliding window, so a health checker's RST storm stands out. Incremental: O(1) per reset, and a summary
// costs O(keys), not O(resets). In a flood the tracer holds records back: CountedResetRate has the kernel's rate.
import type { TracerCounts } from '../domain/counts.js';
import type { KaEvent, RstCause } from '../domain/event.js';

/** One reset, already attributed to its connection's owner and peer by the event stream. */
export interface ResetRecord {
  /** ms epoch */
  at: number;
  direction: 'sent' | 'received';
  /** Kernel reason (sent) or inferred cause (received). */
  cause: string;
  pid: number | null;
  comm: string | null;
  /** Peer address without port (a storm from one checker shows as one peer). */
  peer: string | null;
}

export interface ResetBucket {
  key: string;
  count: number;
  /** Resets per second over the window. */
  rate: number;
}

export interface ResetSummary {
  total: number;
  sent: number;
  received: number;
  rate: number;
  windowMs: number;
  byCause: ResetBucket[];
  byProcess: ResetBucket[];
  byPeer: ResetBucket[];
}

type Dim = 'cause' | 'process' | 'peer';
const DIMS: readonly Dim[] = ['cause', 'process', 'peer'];

const RECEIVED = 'received: ';

export function resetKeys(r: ResetRecord): Record<Dim, string> {
  return {
    // A received reset's cause is the peer's: keep the two apart.
    cause: r.direction === 'received' ? `${RECEIVED}${r.cause}` : r.cause,
    process: r.pid === null ? (r.comm ?? 'unknown') : `${r.pid}/${r.comm ?? '?'}`,
    peer: r.peer ?? 'unknown',
  };
}

export interface ResetGroups {
  causes: ResetBucket[];
  reasons: ResetBucket[];
  received: ResetBucket[];
}

/** Splits cause buckets: ka-top causes and bare kernel reason names (sent), and received resets (their bare cause). */
export function groupCauses(byCause: readonly ResetBucket[]): ResetGroups {
  const g: ResetGroups = { causes: [], reasons: [], received: [] };
  for (const b of byCause) {
    if (b.key.startsWith(RECEIVED)) g.received.push({ ...b, key: b.key.slice(RECEIVED.length) });
    // Kernel names are upper case (enum sk_rst_reason); unknown numbers come as `reason N`.
    else if (/^[A-Z0-9_]+$/.test(b.key) || b.key.startsWith('reason ')) g.reasons.push(b);
    else g.causes.push(b);
  }
  return g;
}

/** Keys kept per dimension: SYNs from a whole internet's scanners (no_socket resets) or churning pids would grow
 *  the maps without end; the rest is counted under OTHER_KEY. */
export const MAX_KEYS = 1000;
export const OTHER_KEY = 'other';

function bump(m: Map<string, number>, k: string, by: number): void {
  const n = (m.get(k) ?? 0) + by;
  if (n === 0) m.delete(k);
  else m.set(k, n);
}

export class ResetStats {
  private readonly totals: Record<Dim, Map<string, number>> = { cause: new Map(), process: new Map(), peer: new Map() };
  private readonly inWindow: Record<Dim, Map<string, number>> = { cause: new Map(), process: new Map(), peer: new Map() };
  private window: { at: number; keys: Record<Dim, string> }[] = [];
  private head = 0;
  private sent = 0;
  private received = 0;

  constructor(readonly windowMs = 10_000) {}

  add(r: ResetRecord): void {
    const keys = resetKeys(r);
    for (const d of DIMS) {
      if (this.totals[d].size >= MAX_KEYS && !this.totals[d].has(keys[d])) keys[d] = OTHER_KEY;
      bump(this.totals[d], keys[d], 1);
      bump(this.inWindow[d], keys[d], 1);
    }
    if (r.direction === 'sent') this.sent++;
    else this.received++;
    this.window.push({ at: r.at, keys });
    // Pruned here too, not only when summarised: watch and the exporter never ask, and a health checker's resets
    // would pile up for as long as ka-top runs.
    this.prune(r.at);
  }

  /** Drops resets older than the window (events arrive in time order). */
  private prune(now: number): void {
    const w = this.window;
    while (this.head < w.length && w[this.head]!.at <= now - this.windowMs) {
      const { keys } = w[this.head++]!;
      for (const d of DIMS) bump(this.inWindow[d], keys[d], -1);
    }
    if (this.head > 1024 && this.head * 2 > w.length) {
      this.window = w.slice(this.head);
      this.head = 0;
    }
  }

  summary(now: number): ResetSummary {
    this.prune(now);
    const secs = this.windowMs / 1000;
    const buckets = (d: Dim): ResetBucket[] =>
      [...this.totals[d]]
        .map(([key, count]) => ({ key, count, rate: (this.inWindow[d].get(key) ?? 0) / secs }))
        .sort((a, b) => b.rate - a.rate || b.count - a.count || (a.key < b.key ? -1 : 1));
    return {
      total: this.sent + this.received,
      sent: this.sent,
      received: this.received,
      rate: (this.window.length - this.head) / secs,
      windowMs: this.windowMs,
      byCause: buckets('cause'),
      byProcess: buckets('process'),
      byPeer: buckets('peer'),
    };
  }
}

/** One-shot form: the summary of a list of resets at `now`. */
export function summarizeResets(records: Iterable<ResetRecord>, now: number, windowMs = 10_000): ResetSummary {
  const s = new ResetStats(windowMs);
  for (const r of records) s.add(r);
  return s.summary(now);
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

/** Resets a second as the kernel counted them (sent and received) over its last counts interval, on the whole host
 *  or in the namespaces asked for, and whether reset records were held back in that interval: then the rates of the
 *  recorded resets fall short of it (a flood beyond the records a second), and only this one is the real rate. */
export interface CountedResets {
  perSecond: number;
  /** Of them, the resets sent a second by cause (classified as a record's is), largest first; then those received. */
  sentByCause: readonly { cause: RstCause; perSecond: number }[];
  receivedPerSecond: number;
  heldBack: boolean;
  scope: 'host' | 'netns';
}

interface ResetSample {
  at: number;
  counts: Pick<TracerCounts, 'rstSentByNetnsCause' | 'rstReceived' | 'rstReceivedByNetns' | 'cappedEvents'>;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
/** Resets sent by cause and received, in these namespaces or on the whole host. */
function resetsIn(c: ResetSample['counts'], netns: readonly number[] | null): { sent: Map<RstCause, number>; received: number } {
  const sent = new Map<RstCause, number>();
  for (const ns of netns ?? Object.keys(c.rstSentByNetnsCause)) {
    for (const [cause, n] of Object.entries(c.rstSentByNetnsCause[ns] ?? {})) sent.set(cause as RstCause, (sent.get(cause as RstCause) ?? 0) + n);
  }
  return { sent, received: netns ? sum(netns.map((n) => c.rstReceivedByNetns[n] ?? 0)) : c.rstReceived };
}
const totalOf = (r: ReturnType<typeof resetsIn>) => sum([...r.sent.values()]) + r.received;
const heldBackResets = (c: ResetSample['counts']) => (c.cappedEvents.rst_sent ?? 0) + (c.cappedEvents.rst_received ?? 0);

/** One namespace's resets as the kernel counted them: sent by cause (most first) and received. */
export interface NetnsResets {
  inode: string;
  sent: { cause: RstCause; count: number }[];
  sentTotal: number;
  received: number;
}

/** The kernel's per-namespace reset counts, the namespaces that sent or received any, most first. */
export function resetsByNetns(sent: TracerCounts['rstSentByNetnsCause'], received: TracerCounts['rstReceivedByNetns'] = {}): NetnsResets[] {
  return [...new Set([...Object.keys(sent), ...Object.keys(received)])]
    .map((inode) => {
      const byCause = Object.entries(sent[inode] ?? {}).map(([cause, count]) => ({ cause: cause as RstCause, count: count ?? 0 }))
        .sort((a, b) => b.count - a.count);
      return { inode, sent: byCause, sentTotal: sum(byCause.map((c) => c.count)), received: received[inode] ?? 0 };
    })
    .filter((r) => r.sentTotal + r.received > 0)
    .sort((a, b) => b.sentTotal + b.received - (a.sentTotal + a.received));
}

/** The tracer's exact totals sampled at the end of each counts interval (the program marks it): CountedResets. */
export class CountedResetRate {
  private prev: ResetSample | null = null;
  private last: ResetSample | null = null;

  sample(at: number, counts: ResetSample['counts']): void {
    // A restarted tracer counts from zero again: no rate across the restart.
    const restarted = this.last !== null && totalOf(resetsIn(counts, null)) < totalOf(resetsIn(this.last.counts, null));
    this.prev = restarted ? null : this.last;
    // The maps' objects are replaced at each print, never changed: a shallow copy keeps this sample.
    const { rstSentByNetnsCause, rstReceived, rstReceivedByNetns, cappedEvents } = counts;
    this.last = { at, counts: { rstSentByNetnsCause, rstReceived, rstReceivedByNetns, cappedEvents } };
  }

  /** Between the last two samples, of these namespaces (inodes) or the whole host; null before two. */
  rate(netns: readonly number[] | null): CountedResets | null {
    const { prev, last } = this;
    if (!prev || !last || last.at <= prev.at) return null;
    const perSecond = (n: number) => (n * 1000) / (last.at - prev.at);
    const now = resetsIn(last.counts, netns);
    const before = resetsIn(prev.counts, netns);
    const sentByCause = [...now.sent]
      .map(([cause, n]) => ({ cause, perSecond: perSecond(n - (before.sent.get(cause) ?? 0)) }))
      .filter((x) => x.perSecond > 0)
      .sort((a, b) => b.perSecond - a.perSecond);
    return {
      perSecond: perSecond(totalOf(now) - totalOf(before)),
      sentByCause,
      receivedPerSecond: perSecond(now.received - before.received),
      heldBack: heldBackResets(last.counts) > heldBackResets(prev.counts),
      scope: netns ? 'netns' : 'host',
    };
  }
}
