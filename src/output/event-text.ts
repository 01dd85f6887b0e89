// The human-readable form of an event, shared by `watch` and the TUI's timelines, and of the kernel's reset rate.
import type { CloseHow, KaEvent } from '../domain/event.js';
import { groupCauses, type CountedResets, type ResetBucket } from '../model/reset-stats.js';
import { formatEndpoint } from './format.js';

/** The kernel's reset rate: `70536/s in the kernel (--netns)`. */
export function countedResetRate(k: CountedResets): string {
  return `${Math.round(k.perSecond)}/s in the kernel (${k.scope === 'netns' ? '--netns' : 'whole host'})`;
}

/** Counts by cause in words, in the order given: `no_socket 795, linger 2` ('' for none). */
export function causeCounts(counts: readonly { cause: string; count: number }[]): string {
  return counts.map((c) => `${c.cause} ${c.count}`).join(', ');
}

/** What those resets were, a second: `sent no_socket 70536 · received 0` (sent by cause, as an event's is classified). */
export function countedResetCauses(k: CountedResets): string {
  const sent = causeCounts(k.sentByCause.map((c) => ({ cause: c.cause, count: Math.round(c.perSecond) })));
  return `sent ${sent || '0'} · received ${Math.round(k.receivedPerSecond)}`;
}

/** Cause buckets in words, sent apart from received: `sent linger 1.7 · received linger 1.7, unread_data 0.2`. */
export function resetCausesText(buckets: readonly ResetBucket[], value: (b: ResetBucket) => string): string {
  const g = groupCauses(buckets);
  const sent = buckets.filter((b) => g.causes.includes(b) || g.reasons.includes(b));
  const words = (label: string, bs: readonly ResetBucket[]) => (bs.length ? [`${label} ${bs.map((b) => `${b.key} ${value(b)}`).join(', ')}`] : []);
  return [...words('sent', sent), ...words('received', g.received)].join(' · ');
}

const CLOSE_HOW_TEXT: Readonly<Record<CloseHow, string>> = {
  timeout: 'keepalive timeout', retransmit_timeout: 'retransmission timeout', connect_failed: 'connect failed',
  rst_sent: 'reset sent', rst_received: 'reset received', fin: 'FIN',
};

/** How a connection ended, in words: `retransmission timeout, EHOSTUNREACH`, `connect timed out`, `closed while
 *  connecting` (a connect the application gave up on). */
export function closeHowText(e: Extract<KaEvent, { type: 'close' }>): string {
  if (e.how === 'connect_failed') {
    if (e.error === undefined) return CLOSE_HOW_TEXT.connect_failed; // recorded before the error was kept
    if (e.error === null) return 'closed while connecting';
    return e.error === 'ETIMEDOUT' ? 'connect timed out' : `connect failed, ${e.error}`;
  }
  return CLOSE_HOW_TEXT[e.how] + (e.error && e.how === 'retransmit_timeout' && e.error !== 'ETIMEDOUT' ? `, ${e.error}` : '');
}

/** What happened, without time, tuple or owner (the TUI's timeline has those on its own lines). */
export function eventDetail(e: Exclude<KaEvent, { type: 'lost' }>): string {
  switch (e.type) {
    case 'keepalive_probe':
      return `probe ${e.probesOutstanding}/${e.maxProbes} (total ${e.probesSent})` + (e.giveUpInMs !== null ? `, gives up in ${(e.giveUpInMs / 1000).toFixed(1)}s` : '');
    case 'keepalive_timeout':
      // TCP_USER_TIMEOUT ends it at the first timer run past the timeout with a probe out, before the probe count.
      return e.userTimeoutMs && e.probesOutstanding !== undefined && e.probesOutstanding < e.maxProbes
        ? `peer declared dead by TCP_USER_TIMEOUT ${e.userTimeoutMs} ms, ${e.probesOutstanding} of ${e.maxProbes} probes unanswered`
        : `peer declared dead after ${e.maxProbes} unanswered probes`;
    case 'rst_sent':
      return `cause=${e.cause}${e.causeInferred ? ' (inferred)' : ''} reason=${e.reason ?? 'n/a'}`;
    case 'rst_received':
      return `inferred cause=${e.inferredCause}`;
    case 'close':
      return `how=${e.how}` + (e.error ? ` error=${e.error}` : '') + (e.lifetimeMs !== null ? ` after ${(e.lifetimeMs / 1000).toFixed(3)}s` : '');
    case 'sockopt_changed':
      return e.option;
  }
}

/** One human-readable line per event; `netnsName` names the namespace (its `ip netns` name, the container or pod
 *  living there) where it is known. */
export function formatEventLine(e: KaEvent, netnsName: (inode: number) => string | undefined = () => undefined): string {
  const time = e.ts.slice(11, 23);
  if (e.type === 'lost') return `${time} lost              ${e.events} events dropped by the tracer (counts stay exact)`;
  const who = e.pid !== null ? `${e.comm}[${e.pid}]` : 'owner unknown';
  const conn = e.type === 'sockopt_changed' ? `fd ${e.fd}` : `${(e.local ? formatEndpoint(e.local) : '?')} -> ${(e.peer ? formatEndpoint(e.peer) : '?')}`;
  const ns = e.netns === null ? '?' : netnsName(e.netns) ?? String(e.netns);
  return `${time} ${e.type.padEnd(17)} ${conn}  ${eventDetail(e)}  ${who} netns=${ns}`;
}
