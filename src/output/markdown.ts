// `snapshot --format md`: an incident report readable without ka-top. Findings first (with fixes), then the host,
// sysctls per namespace, resets by cause and process, how connections ended, probing connections, and a bounded
// connections table.
import { CAPABILITY_LABELS, type Capabilities } from '../domain/capabilities.js';
import { heldBackByType, heldBackTotal } from '../domain/counts.js';
import type { CloseHow, KaEvent } from '../domain/event.js';
import type { Finding } from '../domain/finding.js';
import { groupCauses, resetRecordOf, resetsByNetns, summarizeResets, type ResetBucket } from '../model/reset-stats.js';
import type { Connection } from '../domain/connection.js';
import { formatDuration, formatEndpoint } from './format.js';
import { causeCounts } from './event-text.js';
import type { SnapshotDocument } from '../domain/snapshot.js';
import { netnsLabel } from '../domain/netns.js';
import { TABLE_COLUMNS, formatSysctl } from './table.js';

/** Connections listed in the report; the rest are counted. */
export const MD_MAX_CONNECTIONS = 200;

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string): string => '`' + s.replace(/`/g, "'") + '`';

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function findingLines(f: Finding, i: number): string[] {
  const procs = f.processes.map((p) => `${p.comm}[${p.pid}]`).join(', ');
  const total = (f.evidence.connectionCount as number | undefined) ?? f.connections.length;
  return [
    `### ${i + 1}. ${f.severity.toUpperCase()}: ${f.rule}`,
    '',
    f.summary,
    '',
    `**Fix:** ${f.fix}`,
    '',
    ...(procs ? [`- Processes: ${procs}`] : []),
    ...(f.connections.length ? [`- Connections (${total}): ${f.connections.slice(0, 10).map(code).join(', ')}${total > 10 ? ', …' : ''}`] : []),
    `- Evidence: ${code(JSON.stringify(f.evidence))}`,
    '',
  ];
}

function capabilityRows(caps: Capabilities): string[][] {
  return (Object.keys(CAPABILITY_LABELS) as (keyof Capabilities)[]).map((k) => [CAPABILITY_LABELS[k], caps[k].available ? 'yes' : 'no', caps[k].detail]);
}

/** Findings' connections first, then probing ones, then the longest idle. */
function byInterest(doc: SnapshotDocument): Connection[] {
  const flagged = new Set((doc.findings ?? []).flatMap((f) => f.connections));
  const withEvents = new Set((doc.events ?? []).map((e) => (e.type === 'lost' ? null : e.connection)).filter(Boolean));
  const score = (c: Connection) =>
    (flagged.has(c.id) ? 4 : 0) + ((c.keepalive.timer?.probesOutstanding ?? 0) > 0 ? 2 : 0) + (withEvents.has(c.id) ? 1 : 0);
  const idle = (c: Connection) => Math.min(c.idleMs.recv ?? 0, c.idleMs.send ?? 0);
  return doc.connections
    .map((c) => ({ c, s: score(c), i: idle(c) }))
    .sort((a, b) => b.s - a.s || b.i - a.i)
    .map((x) => x.c);
}

function bucketRows(b: readonly ResetBucket[], secs: number): string[][] {
  return b.slice(0, 20).map((x) => [x.key, String(x.count), (x.count / secs).toFixed(2)]);
}

/** Sent causes first (ka-top's, then bare kernel reasons), then received ones with the cause inferred for the sender. */
function causeRows(b: readonly ResetBucket[], secs: number): string[][] {
  const g = groupCauses(b);
  return [
    ...bucketRows([...g.causes, ...g.reasons], secs).map((r) => ['sent', ...r]),
    ...bucketRows(g.received, secs).map((r) => ['received', ...r]),
  ];
}

/** The capture's exact per-namespace reset counts (sent by cause, received), most first; none in older documents. */
function kernelResetsByNetns(doc: SnapshotDocument, secs: number): string[][] {
  const c = doc.capture!.counts!;
  const label = (inode: string) => {
    const ns = doc.namespaces.find((n) => String(n.inode) === inode);
    return ns ? netnsLabel(ns) : inode === '0' ? 'not known' : inode;
  };
  return resetsByNetns(c.rstSentByNetnsCause ?? {}, c.rstReceivedByNetns).slice(0, 20).map((r) => [
    label(r.inode), String(r.sentTotal), causeCounts(r.sent) || '-', String(r.received), ((r.sentTotal + r.received) / secs).toFixed(2),
  ]);
}

function resetSection(doc: SnapshotDocument, events: readonly KaEvent[]): string[] {
  const cap = doc.capture!;
  const secs = Math.max(cap.durationMs / 1000, 0.001);
  const records = events.map(resetRecordOf).filter((r) => r !== null);
  const s = summarizeResets(records, Date.parse(cap.endedAt), cap.durationMs);
  const out = ['## Resets', ''];
  if (cap.counts) {
    const byReason = Object.entries(cap.counts.rstSentByReason).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    out.push(`Exact kernel totals for the window (whole host, before filters): resets sent by reason: ${byReason}; resets received: ${cap.counts.rstReceived}; keepalive timeouts: ${cap.counts.keepaliveTimeouts}; lost events: ${cap.counts.lostEvents}${heldBackTotal(cap.counts.cappedEvents) ? `; held back beyond the events a second: ${heldBackByType(cap.counts.cappedEvents)}` : ''}.`, '');
    const perNetns = kernelResetsByNetns(doc, secs);
    if (perNetns.length) out.push('### Per namespace, as the kernel counted them', '', ...table(['namespace', 'sent', 'sent by cause', 'received', 'per second'], perNetns), '');
  }
  if (!s.total) return [...out, 'No resets were seen during the window.', ''];
  return [
    ...out,
    `${s.sent} sent, ${s.received} received.`, '',
    '### By cause', '', ...table(['direction', 'cause', 'count', 'per second'], causeRows(s.byCause, secs)), '',
    '### By process', '', ...table(['process (pid/comm)', 'count', 'per second'], bucketRows(s.byProcess, secs)), '',
    '### By peer', '', ...table(['peer', 'count', 'per second'], bucketRows(s.byPeer, secs)), '',
  ];
}

/** Columns of the closes table: how a connection ended, in the report's words. */
const CLOSE_COLUMNS: readonly [CloseHow, string][] = [
  ['fin', 'FIN'], ['rst_sent', 'reset sent'], ['rst_received', 'reset received'], ['timeout', 'keepalive timeout'],
  ['retransmit_timeout', 'retransmission timeout'], ['connect_failed', 'failed connect'],
];

/** How the window's connections ended, per namespace, as the kernel counted them (every close, also in a flood);
 *  the namespaces with the most closes that were not a FIN first. Empty for a document without those counts. */
function closesSection(doc: SnapshotDocument): string[] {
  const by = doc.capture?.counts?.closesByNetns;
  if (!by) return [];
  const label = (inode: string) => {
    const ns = doc.namespaces.find((n) => String(n.inode) === inode);
    return ns ? netnsLabel(ns) : inode === '0' ? 'not known' : inode;
  };
  const rows = Object.entries(by)
    .map(([inode, n]) => ({ inode, n, abnormal: CLOSE_COLUMNS.reduce((a, [how]) => a + (how === 'fin' ? 0 : n[how] ?? 0), 0) }))
    .filter((r) => r.abnormal + (r.n.fin ?? 0) > 0)
    .sort((a, b) => b.abnormal - a.abnormal || (b.n.fin ?? 0) - (a.n.fin ?? 0));
  const out = ['## How connections ended', ''];
  if (!rows.length) return [...out, 'No connection closed during the window.', ''];
  return [
    ...out,
    `Exact kernel counts for the window, per namespace (whole host, before filters)${rows.length > 20 ? `; the 20 with the most closes that were not a FIN of ${rows.length}` : ''}.`, '',
    ...table(['namespace', ...CLOSE_COLUMNS.map(([, title]) => title)], rows.slice(0, 20).map((r) => [label(r.inode), ...CLOSE_COLUMNS.map(([how]) => String(r.n[how] ?? 0))])),
    '',
  ];
}

function probingSection(doc: SnapshotDocument, events: readonly KaEvent[]): string[] {
  const probes = new Map<string, { sent: number; maxOut: number; e: KaEvent }>();
  for (const e of events) {
    if (e.type !== 'keepalive_probe' || !e.connection) continue;
    const p = probes.get(e.connection) ?? { sent: 0, maxOut: 0, e };
    p.sent++;
    p.maxOut = Math.max(p.maxOut, e.probesOutstanding);
    probes.set(e.connection, p);
  }
  const now = doc.connections.filter((c) => (c.keepalive.timer?.probesOutstanding ?? 0) > 0);
  const timeouts = events.filter((e) => e.type === 'keepalive_timeout');
  const out = ['## Keepalive probing', ''];
  if (!now.length && !probes.size && !timeouts.length) return [...out, 'No connection has keepalive probes outstanding, and none were sent during the window.', ''];
  if (now.length) {
    out.push('Probes outstanding now (the peer has not answered the last probe):', '',
      ...table(['connection', 'local', 'peer', 'owner', 'outstanding'], now.slice(0, 50).map((c) => [
        c.id, formatEndpoint(c.local), formatEndpoint(c.peer), c.process ? `${c.process.comm}[${c.process.pid}]` : '-',
        `${c.keepalive.timer!.probesOutstanding}/${c.keepalive.probes ?? '?'}`,
      ])), '');
  }
  if (probes.size) {
    out.push('Probes sent during the window (max outstanding ≥ 2 means probes went unanswered):', '',
      ...table(['connection', 'local', 'peer', 'owner', 'probes sent', 'max outstanding'], [...probes].slice(0, 50).map(([id, p]) => {
        const e = p.e as Extract<KaEvent, { type: 'keepalive_probe' }>;
        return [id, e.local ? formatEndpoint(e.local) : '?', e.peer ? formatEndpoint(e.peer) : '?', e.pid !== null ? `${e.comm}[${e.pid}]` : '-', String(p.sent), String(p.maxOut)];
      })), '');
  }
  if (timeouts.length) out.push(`${timeouts.length} connection(s) were declared dead by keepalive during the window.`, '');
  return out;
}

export function renderMarkdown(doc: SnapshotDocument): string {
  const findings = doc.findings ?? [];
  const events = doc.events ?? [];
  const cap = doc.capture;
  const out: string[] = [
    `# ka-top report: ${doc.host.hostname}`,
    '',
    `- Taken: ${doc.takenAt} by ka-top ${doc.kaTopVersion}${doc.redacted ? ' (redacted: command lines cut to the program name, secrets masked)' : ''}`,
    `- Kernel: ${doc.host.kernel}`,
    cap
      ? `- Capture: ${cap.startedAt} → ${cap.endedAt} (${formatDuration(cap.durationMs)}${cap.interrupted ? ', ended early' : ''}); ${events.length} events${cap.tracing.on ? '' : ` — no events: ${cap.tracing.reason}`}; lost events: ${cap.lostEvents}`
      : '- No capture window (plain snapshot: findings rest on the inventory alone)',
    `- Connections: ${doc.summary.connections} in ${doc.namespaces.length} namespace(s); keepalive on ${doc.summary.keepalive.on}, off ${doc.summary.keepalive.off}, unknown ${doc.summary.keepalive.unknown}; probing now ${doc.summary.keepalive.probing}`,
    ...(doc.filters ? [`- Filters: ${code(JSON.stringify(doc.filters))}`] : []),
    '',
    '## Findings',
    '',
    ...(findings.length ? findings.flatMap(findingLines) : ['Nothing looks wrong by ka-top\'s rules (see the ka-top README, Findings, for what they check).', '']),
    ...(doc.idleTimeouts ? [`Middlebox idle timeouts checked: ${doc.idleTimeouts.map((t) => `${t.name} ${t.seconds} s`).join(', ')}.`, ''] : []),
  ];
  if (doc.warnings.length) out.push('## What ka-top could not see', '', ...doc.warnings.map((w) => `- ${w}`), '');
  out.push('## Host capabilities', '', ...table(['capability', 'available', 'detail'], capabilityRows(doc.capabilities)), '');
  out.push('## Keepalive sysctls per network namespace', '',
    ...table(['namespace', 'inode', 'sysctls'], doc.namespaces.map((n) => [
      `${n.name ?? n.container?.id ?? '-'}${n.self ? ' (ka-top\'s own)' : ''}`, String(n.inode), n.error ? `unreadable: ${n.error}` : formatSysctl(n.sysctl),
    ])), '');
  if (cap) out.push(...resetSection(doc, events), ...closesSection(doc));
  out.push(...probingSection(doc, events));
  const rows = byInterest(doc);
  const shown = rows.slice(0, MD_MAX_CONNECTIONS);
  out.push('## Connections', '',
    `${shown.length} of ${rows.length} connections, those named by findings and probing first, then the longest idle${rows.length > shown.length ? `; ${rows.length - shown.length} left out (the JSON output has them all)` : ''}. KEEPALIVE is idle/interval/probes; * marks a value set on the socket.`,
    '',
    ...table(['ID', ...TABLE_COLUMNS.map((c) => c.title)], shown.map((c) => [c.id, ...TABLE_COLUMNS.map((col) => col.value(c))])),
    '');
  return out.join('\n');
}
