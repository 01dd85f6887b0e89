// Every field of one connection as `label: value` lines, its event timeline second (the death of a connection is what
// the SRE waits for: it must show without scrolling).
import { describeContainer } from '../domain/workload.js';
import type { KaEvent } from '../domain/event.js';
import type { Connection, KeepaliveSource } from '../domain/connection.js';
import { formatDuration, formatEndpoint, formatKeepalive } from '../output/format.js';
import { closeHowText, eventDetail } from '../output/event-text.js';

export interface DetailLine {
  label: string;
  value: string;
  /** Section titles are drawn bold. */
  section?: boolean;
}

const src = (s: KeepaliveSource): string => (s === 'socket' ? 'set on the socket' : s === 'sysctl' ? 'namespace default' : 'unknown');
const num = (n: number | null | undefined, unit = ''): string => (n === null || n === undefined ? '-' : `${n}${unit}`);

/** One event of this connection: what happened first (the tuple is the connection's), then who. */
function timelineText(e: KaEvent): string {
  if (e.type === 'lost') return `lost ${e.events} events (the tracer's counts stay exact)`;
  return `${e.type.padEnd(17)} ${eventDetail(e)}${e.pid !== null ? `  ${e.comm}[${e.pid}]` : ''}`;
}

/** `CLOSED 12s ago (keepalive timeout)`, from the close event when the tracer saw it. */
export function closedText(closedAt: number, timeline: readonly KaEvent[] | null, now: number): string {
  let close: KaEvent | undefined;
  for (const e of timeline ?? []) if (e.type === 'close') close = e;
  const how = close?.type === 'close' ? closeHowText(close) : null;
  return `CLOSED ${formatDuration(now - closedAt)} ago${how ? ` (${how})` : ''}`;
}

/**
 * `closedAt`: when the connection went (ms epoch), null while it lives; its other figures are then the last ss saw.
 * `recorded`: the connection comes from a snapshot file, whose events are all there is.
 */
export function detailLines(c: Connection, timeline: readonly KaEvent[] | null, closedAt: number | null, recorded = false, now = Date.now()): DetailLine[] {
  const k = c.keepalive;
  const t = c.tcp;
  const out: DetailLine[] = [];
  const sec = (label: string) => out.push({ label, value: '', section: true });
  const add = (label: string, value: string) => out.push({ label, value });

  sec('Connection');
  add('state', closedAt !== null ? `${closedText(closedAt, timeline, now)} — was ${c.state}; the figures below are the last seen` : c.state);
  add('local', formatEndpoint(c.local));
  add('peer', formatEndpoint(c.peer));
  add('netns', `${c.netns.inode}${c.netns.name ? ` (${c.netns.name})` : ''}${c.netns.container ? ` container ${describeContainer(c.netns.container)}` : ''}`);
  add('inode / cookie', `${c.inode} / ${c.cookie ?? '-'}`);
  add('uid / cgroup', `${num(c.uid)} / ${c.cgroup ?? '-'}`);
  add('id', c.id);

  // Newest first: the end of a connection is what the SRE is waiting for, on any terminal height.
  sec('Timeline (newest first)');
  if (timeline === null) add('events', recorded ? 'none: the snapshot was taken without --capture' : 'none: the tracer is off');
  else if (!timeline.length) add('events', recorded ? 'none recorded for this connection' : 'none seen since ka-top started');
  else for (let i = timeline.length - 1; i >= 0; i--) add(timeline[i]!.ts.slice(11, 23), timelineText(timeline[i]!));

  sec('Owners');
  if (!c.processes.length) add('process', 'none visible (TIME-WAIT, orphaned, or not readable without root)');
  for (const p of c.processes) {
    add(`${p.pid}/${p.comm}`, `fd ${p.fd}, user ${p.user ?? p.uid ?? '?'}${p.container ? `, container ${describeContainer(p.container)}` : ''}`);
    add('  cmdline', p.cmdline || '-');
  }
  if (c.application) add('application', c.application.id ? `${c.application.name} (recognised by ${c.application.recognisedBy})` : 'not recognised (generic fixes)');

  sec('Keepalive');
  add('keepalive', formatKeepalive(c) + (k.reason ? `  (${k.reason})` : ''));
  if (c.application?.keepalive) add('keepalive from', c.application.keepalive);
  if (k.enabled) {
    add('idle (TCP_KEEPIDLE)', `${num(k.idleSec, 's')}  ${src(k.sources.idle)}`);
    add('interval (TCP_KEEPINTVL)', `${num(k.intervalSec, 's')}  ${src(k.sources.interval)}`);
    add('probes (TCP_KEEPCNT)', `${num(k.probes)}  ${src(k.sources.probes)}${k.giveUpRule === 'user_timeout' ? ' (ignored: TCP_USER_TIMEOUT decides)' : ''}`);
  }
  add('timer', k.timer ? `fires in ${formatDuration(k.timer.remainingMs)}, ${k.timer.probesOutstanding} probe(s) outstanding` : 'not armed or hidden');
  add('next probe in', `${k.estimated ? '~' : ''}${formatDuration(k.nextProbeInMs)}`);
  add('dead in (peer silent)', `${k.estimated ? '~' : ''}${formatDuration(k.deadInMs)}${k.giveUpRule ? `  by ${k.giveUpRule === 'probes' ? 'probe count' : 'TCP_USER_TIMEOUT'}` : ''}`);
  add('TCP_USER_TIMEOUT', c.userTimeoutMs ? formatDuration(c.userTimeoutMs) : 'unset');
  add('SO_LINGER', c.linger ? (c.linger.enabled ? `on, ${c.linger.seconds}s${c.linger.seconds === 0 ? ' (close sends RST)' : ''}` : 'off') : '-');

  sec('Activity');
  add('idle recv / send / ack', `${formatDuration(c.idleMs.recv)} / ${formatDuration(c.idleMs.send)} / ${formatDuration(c.idleMs.ack)}`);
  add('timer (ss)', c.timer ? `${c.timer.kind} ${formatDuration(c.timer.remainingMs)} count ${c.timer.count}` : '-');
  add('queues recv / send', `${c.queues.recv} / ${c.queues.send}`);
  add('rtt / rttvar / rto', `${num(t.rttMs, 'ms')} / ${num(t.rttVarMs, 'ms')} / ${num(t.rtoMs, 'ms')}`);
  add('mss / cwnd', `${num(t.mss)} / ${num(t.cwnd)}`);
  add('bytes sent / acked / received', `${num(t.bytesSent)} / ${num(t.bytesAcked)} / ${num(t.bytesReceived)}`);
  add('segs out / in, retrans', `${num(t.segsOut)} / ${num(t.segsIn)}, ${num(t.retransCurrent)}/${num(t.retransTotal)}`);

  return out;
}
