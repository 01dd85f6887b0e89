// The column model shared by the TUI and `snapshot --format table`/markdown (title, text, sort key, width and priority
// of each column), and the readable form of a snapshot: a header and one row per connection.
import type { Connection, NetnsSysctl, TimerKind } from '../domain/connection.js';
import { endpointSortKey, formatDuration, formatEndpoint, formatKeepalive, formatOwner, hasFlow, idleOf, shortenEndpoint } from './format.js';
import type { SnapshotDocument } from '../domain/snapshot.js';

/** What the event stream adds to a row (absent without a tracer: those columns then show `-`). */
export interface RowActivity {
  /** Keepalive probes sent while observed (ss only shows the outstanding ones). */
  probesSent: number;
  resets: number;
}

export type ColumnId =
  | 'state' | 'local' | 'peer' | 'owner' | 'keepalive' | 'timer' | 'probes' | 'sent' | 'resets' | 'idleRecv'
  | 'idleSend' | 'deadIn' | 'userTimeout' | 'linger' | 'netns';

/** One column, the same for the TUI and `snapshot --format table`/markdown. */
export interface ColumnDef {
  id: ColumnId;
  title: string;
  /** Narrowest useful width (the title and a sort arrow always fit: see `minWidth`). */
  width: number;
  right?: boolean;
  /** Grows up to this width when the content is wider and there is room. */
  flex?: { maxWidth: number };
  /** Lower keeps the column on narrow terminals (the TUI drops the highest first). */
  priority: number;
  /** What the column shows, for the help screen. */
  help: string;
  text: (c: Connection, a?: RowActivity) => string;
  /** Shortens an over-wide value better than cutting its end (addresses keep their port). */
  shorten?: (text: string, width: number) => string;
  /** Sort key: numbers sort numerically, strings lexically; null sorts last. */
  sortKey: (c: Connection, a?: RowActivity) => number | string | null;
}

/** Timers other than keepalive: the prefix the TIMER column gives each kind, and what it means. */
const OTHER_TIMERS: Readonly<Record<TimerKind, { prefix: string; meaning: string }>> = {
  on: { prefix: 'rto', meaning: 'retransmit timer pending (ss: on)' },
  timewait: { prefix: 'tw', meaning: 'TIME-WAIT timer' },
  persist: { prefix: 'pe', meaning: 'persist (zero-window probe) timer' },
  keepalive: { prefix: 'ka', meaning: 'the keepalive slot used as FIN-WAIT-2 timer (orphaned socket)' },
  unknown: { prefix: '?', meaning: 'a timer ss could not name' },
};
/** The prefixes in words, for the help. */
export const TIMER_PREFIXES: readonly string[] = Object.values(OTHER_TIMERS).map((t) => `${t.prefix}: ${t.meaning}`);

function timerText(c: Connection): string {
  const t = c.keepalive.timer;
  if (t) return `${c.keepalive.estimated ? '~' : ''}${formatDuration(t.remainingMs)}`;
  // Another timer is pending: its kind explains why there is no keepalive figure.
  return c.timer ? `${OTHER_TIMERS[c.timer.kind].prefix} ${formatDuration(c.timer.remainingMs)}` : '-';
}

/** Outstanding probes now / the probe limit, as the kernel has them (ss's count drops to 0 on every ACK). */
function probesText(c: Connection): string {
  if (!c.keepalive.enabled || !hasFlow(c)) return '-';
  return `${c.keepalive.timer?.probesOutstanding ?? 0}/${c.keepalive.probes ?? '?'}`;
}

export function netnsLabel(c: Connection): string {
  return c.netns.name ?? c.netns.container?.id ?? String(c.netns.inode);
}

const ownerText = (c: Connection): string => formatOwner(c) + (c.process?.container ? ` [${c.process.container.id.slice(0, 6)}]` : '');

export const COLUMNS: readonly ColumnDef[] = [
  { id: 'state', title: 'STATE', width: 6, flex: { maxWidth: 10 }, priority: 0, help: 'TCP state as ss names it; CLOSED = gone (kept dimmed for a while)', text: (c) => c.state, sortKey: (c) => c.state },
  {
    id: 'local', title: 'LOCAL', width: 14, flex: { maxWidth: 47 }, priority: 2, help: 'local address:port (a long host part loses its middle, never the port)',
    text: (c) => formatEndpoint(c.local), shorten: shortenEndpoint, sortKey: (c) => endpointSortKey(c.local),
  },
  {
    id: 'peer', title: 'PEER', width: 14, flex: { maxWidth: 47 }, priority: 1, help: 'peer address:port; * = any (listeners)',
    text: (c) => formatEndpoint(c.peer), shorten: shortenEndpoint, sortKey: (c) => endpointSortKey(c.peer),
  },
  {
    id: 'owner', title: 'PID/COMM', width: 12, flex: { maxWidth: 28 }, priority: 3, help: 'owning process; +N more processes share it; [id] its container',
    text: ownerText, sortKey: (c) => (c.process ? c.process.pid : null),
  },
  {
    id: 'keepalive', title: 'KEEPALIVE', width: 10, flex: { maxWidth: 16 }, priority: 4, help: 'idle/interval/probes; * = set on the socket, no mark = namespace sysctl; off; ? = unreadable',
    text: formatKeepalive, sortKey: (c) => (c.keepalive.enabled ? c.keepalive.idleSec : null),
  },
  {
    id: 'timer', title: 'TIMER', width: 9, right: true, priority: 6, help: 'keepalive timer fires in; ~ = estimated (hidden by another timer); other timers by prefix',
    text: timerText, sortKey: (c) => c.keepalive.timer?.remainingMs ?? c.timer?.remainingMs ?? null,
  },
  {
    id: 'probes', title: 'PROBES', width: 6, right: true, priority: 5, help: 'keepalive probes unanswered now / the limit (TCP_KEEPCNT); - without keepalive or a flow',
    text: probesText, sortKey: (c) => (c.keepalive.enabled && hasFlow(c) ? c.keepalive.timer?.probesOutstanding ?? 0 : null),
  },
  {
    id: 'sent', title: 'SENT', width: 5, right: true, priority: 11, help: 'keepalive probes sent while ka-top watched, answered or not (tracer)',
    text: (_c, a) => (a ? String(a.probesSent) : '-'), sortKey: (_c, a) => a?.probesSent ?? null,
  },
  {
    id: 'resets', title: 'RST', width: 4, right: true, priority: 9, help: 'resets sent or received while ka-top watched (tracer)',
    text: (_c, a) => (a ? String(a.resets) : '-'), sortKey: (_c, a) => a?.resets ?? null,
  },
  {
    id: 'idleRecv', title: 'IDLE-RCV', width: 8, right: true, priority: 8, help: 'time since data was last received (- where the state has no flow: SYN-SENT, LISTEN, TIME-WAIT…)',
    text: (c) => formatDuration(idleOf(c, 'recv')), sortKey: (c) => idleOf(c, 'recv'),
  },
  {
    id: 'idleSend', title: 'IDLE-SND', width: 8, right: true, priority: 12, help: 'time since data was last sent (- as for IDLE-RCV)',
    text: (c) => formatDuration(idleOf(c, 'send')), sortKey: (c) => idleOf(c, 'send'),
  },
  {
    id: 'deadIn', title: 'DEAD-IN', width: 7, right: true, priority: 7, help: 'worst case until the kernel declares a silent peer dead; - = keepalive cannot end it (off, no flow); on a closed row how it ended: timeout, rto, no conn (connect failed), rst out, rst in, fin',
    text: (c) => (c.keepalive.deadInMs === null || !hasFlow(c) ? '-' : `${c.keepalive.estimated ? '~' : ''}${formatDuration(c.keepalive.deadInMs)}`),
    sortKey: (c) => (hasFlow(c) ? c.keepalive.deadInMs : null),
  },
  {
    id: 'userTimeout', title: 'USER-TO', width: 7, right: true, priority: 13, help: 'TCP_USER_TIMEOUT; 0 = unset; - = unreadable',
    text: (c) => (c.userTimeoutMs === null ? '-' : c.userTimeoutMs === 0 ? '0' : formatDuration(c.userTimeoutMs)), sortKey: (c) => c.userTimeoutMs,
  },
  {
    id: 'linger', title: 'LINGER', width: 6, right: true, priority: 14, help: 'SO_LINGER seconds; 0s = close sends a reset; off; - = unreadable',
    text: (c) => (c.linger === null ? '-' : c.linger.enabled ? `${c.linger.seconds}s` : 'off'), sortKey: (c) => (c.linger?.enabled ? c.linger.seconds : null),
  },
  {
    id: 'netns', title: 'NETNS', width: 10, flex: { maxWidth: 20 }, priority: 10, help: 'network namespace: ip netns name, else container id, else inode',
    text: netnsLabel, sortKey: netnsLabel,
  },
];

/** The columns of `snapshot --format table` and markdown (no tracer columns: a snapshot has no running counts). */
const TABLE_IDS: readonly ColumnId[] = [
  'state', 'local', 'peer', 'owner', 'keepalive', 'timer', 'probes', 'idleRecv', 'idleSend', 'deadIn', 'userTimeout', 'linger', 'netns',
];

export interface Column {
  title: string;
  value: (c: Connection) => string;
  right?: boolean;
}

export const TABLE_COLUMNS: Column[] = TABLE_IDS.map((id) => {
  const def = COLUMNS.find((c) => c.id === id)!;
  return { title: def.title, value: (c: Connection) => def.text(c), right: def.right };
});

/** Lines joined per batch: the text of 100k rows is not held whole. */
const ROWS_PER_BATCH = 1000;

/** The title line and one line per connection, aligned, in batches of lines (each ends with a newline). */
export function* renderRows(connections: readonly Connection[], columns: Column[] = TABLE_COLUMNS): Generator<string> {
  // The widths need every cell first: held in one flat list, not an array per row.
  const n = columns.length;
  const cells = new Array<string>(connections.length * n);
  // A loop, not Math.max(...column): more than ~125k arguments overflow the stack, and hosts have that many sockets.
  const widths = columns.map((col) => col.title.length);
  for (let r = 0; r < connections.length; r++) {
    for (let i = 0; i < n; i++) {
      const v = columns[i]!.value(connections[r]!);
      cells[r * n + i] = v;
      if (v.length > widths[i]!) widths[i] = v.length;
    }
  }
  const line = (cell: (i: number) => string): string =>
    columns.map((col, i) => (col.right ? cell(i).padStart(widths[i]!) : cell(i).padEnd(widths[i]!))).join('  ').trimEnd();
  yield `${line((i) => columns[i]!.title)}\n`;
  for (let from = 0; from < connections.length; from += ROWS_PER_BATCH) {
    let batch = '';
    for (let r = from; r < Math.min(from + ROWS_PER_BATCH, connections.length); r++) batch += `${line((i) => cells[r * n + i]!)}\n`;
    yield batch;
  }
}

export function formatSysctl(s: NetnsSysctl | null): string {
  return s
    ? `tcp_keepalive_time=${s.tcp_keepalive_time}s intvl=${s.tcp_keepalive_intvl}s probes=${s.tcp_keepalive_probes} tcp_retries2=${s.tcp_retries2} tcp_fin_timeout=${s.tcp_fin_timeout}s`
    : 'unreadable';
}

export function* renderTable(doc: SnapshotDocument): Generator<string> {
  const own = formatSysctl(doc.sysctl);
  const k = doc.summary.keepalive;
  const head = [
    `ka-top ${doc.kaTopVersion} — ${doc.host.hostname} (kernel ${doc.host.kernel}) — ${doc.takenAt}`,
    `sysctl: ${own}`,
    // namespaces whose defaults differ from ka-top's own
    ...doc.namespaces
      .filter((n) => !n.self && n.sysctl && formatSysctl(n.sysctl) !== own)
      .map((n) => `sysctl of netns ${n.name ?? n.container?.id ?? n.inode}: ${formatSysctl(n.sysctl)}`),
    `${doc.summary.connections} connections in ${doc.namespaces.length} namespace(s); keepalive on ${k.on}, off ${k.off}, unknown ${k.unknown}; probing now ${k.probing}`,
    ...doc.warnings.map((w) => `warning: ${w}`),
    ...(doc.findings ?? []).flatMap((f) => [`${f.severity.toUpperCase()} ${f.rule}: ${f.summary}`, `  fix: ${f.fix}`]),
    'KEEPALIVE is idle/interval/probes; * marks a value set on the socket (else the namespace sysctl).',
    '',
  ];
  yield `${head.join('\n')}\n`;
  yield* renderRows(doc.connections);
}
