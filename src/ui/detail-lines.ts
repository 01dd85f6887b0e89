// Every field of one connection as `label: value` lines, then its event timeline (the detail view's content).
import { describeContainer } from '../domain/workload.js';
import type { KaEvent } from '../domain/event.js';
import type { Connection, KeepaliveSource } from '../domain/connection.js';
import { formatDuration, formatEndpoint, formatKeepalive } from '../output/format.js';
import { formatEventLine } from '../output/event-text.js';

export interface DetailLine {
  label: string;
  value: string;
  /** Section titles are drawn bold. */
  section?: boolean;
}

const src = (s: KeepaliveSource): string => (s === 'socket' ? 'set on the socket' : s === 'sysctl' ? 'namespace default' : 'unknown');
const num = (n: number | null | undefined, unit = ''): string => (n === null || n === undefined ? '-' : `${n}${unit}`);

/** `recorded`: the connection comes from a snapshot file, whose events are all there is. */
export function detailLines(c: Connection, timeline: readonly KaEvent[] | null, closed: boolean, recorded = false): DetailLine[] {
  const k = c.keepalive;
  const t = c.tcp;
  const out: DetailLine[] = [];
  const sec = (label: string) => out.push({ label, value: '', section: true });
  const add = (label: string, value: string) => out.push({ label, value });

  sec('Connection');
  add('state', closed ? `${c.state} (closed since the last refresh)` : c.state);
  add('local', formatEndpoint(c.local));
  add('peer', formatEndpoint(c.peer));
  add('netns', `${c.netns.inode}${c.netns.name ? ` (${c.netns.name})` : ''}${c.netns.container ? ` container ${describeContainer(c.netns.container)}` : ''}`);
  add('inode / cookie', `${c.inode} / ${c.cookie ?? '-'}`);
  add('uid / cgroup', `${num(c.uid)} / ${c.cgroup ?? '-'}`);
  add('id', c.id);

  sec('Owners');
  if (!c.processes.length) add('process', 'none visible (TIME-WAIT, orphaned, or not readable without root)');
  for (const p of c.processes) {
    add(`${p.pid}/${p.comm}`, `fd ${p.fd}, user ${p.user ?? p.uid ?? '?'}${p.container ? `, container ${describeContainer(p.container)}` : ''}`);
    add('  cmdline', p.cmdline || '-');
  }

  sec('Keepalive');
  add('keepalive', formatKeepalive(c) + (k.reason ? `  (${k.reason})` : ''));
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

  sec('Timeline');
  if (timeline === null) add('events', recorded ? 'none: the snapshot was taken without --capture' : 'none: the tracer is off');
  else if (!timeline.length) add('events', recorded ? 'none recorded for this connection' : 'none seen since ka-top started');
  else for (const e of timeline) add('', formatEventLine(e));
  return out;
}
