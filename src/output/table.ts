// The readable form of a snapshot: a header (host, sysctls, what ka-top cannot see) and one row per connection.
import type { Connection, NetnsSysctl } from '../domain/connection.js';
import { formatDuration, formatEndpoint, formatKeepalive, formatOwner } from './format.js';
import type { SnapshotDocument } from '../domain/snapshot.js';

interface Column {
  title: string;
  value: (c: Connection) => string;
  right?: boolean;
}

function timerText(c: Connection): string {
  if (!c.timer) return '-';
  return `${c.timer.kind} ${formatDuration(c.timer.remainingMs)}`;
}

export const TABLE_COLUMNS: Column[] = [
  { title: 'STATE', value: (c) => c.state },
  { title: 'LOCAL', value: (c) => formatEndpoint(c.local) },
  { title: 'PEER', value: (c) => formatEndpoint(c.peer) },
  { title: 'PID/COMM', value: formatOwner },
  { title: 'KEEPALIVE', value: formatKeepalive },
  { title: 'TIMER', value: timerText },
  { title: 'PROBES', value: (c) => (c.keepalive.timer ? `${c.keepalive.timer.probesOutstanding}/${c.keepalive.probes ?? '?'}` : '-'), right: true },
  { title: 'IDLE-RCV', value: (c) => formatDuration(c.idleMs.recv), right: true },
  { title: 'IDLE-SND', value: (c) => formatDuration(c.idleMs.send), right: true },
  { title: 'DEAD-IN', value: (c) => (c.keepalive.deadInMs === null ? '-' : `${c.keepalive.estimated ? '~' : ''}${formatDuration(c.keepalive.deadInMs)}`), right: true },
  { title: 'USER-TO', value: (c) => (c.userTimeoutMs ? formatDuration(c.userTimeoutMs) : '-'), right: true },
  { title: 'LINGER', value: (c) => (c.linger?.enabled ? `${c.linger.seconds}s` : '-'), right: true },
  { title: 'NETNS', value: (c) => c.netns.name ?? c.netns.container?.id ?? String(c.netns.inode) },
];

export function renderRows(connections: readonly Connection[], columns: Column[] = TABLE_COLUMNS): string[] {
  const cells = connections.map((c) => columns.map((col) => col.value(c)));
  const widths = columns.map((col, i) => Math.max(col.title.length, ...cells.map((r) => r[i]!.length)));
  const line = (vals: string[]): string =>
    vals.map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.title)), ...cells.map(line)];
}

export function formatSysctl(s: NetnsSysctl | null): string {
  return s
    ? `tcp_keepalive_time=${s.tcp_keepalive_time}s intvl=${s.tcp_keepalive_intvl}s probes=${s.tcp_keepalive_probes} tcp_retries2=${s.tcp_retries2} tcp_fin_timeout=${s.tcp_fin_timeout}s`
    : 'unreadable';
}

export function renderTable(doc: SnapshotDocument): string {
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
  return [...head, ...renderRows(doc.connections)].join('\n') + '\n';
}
