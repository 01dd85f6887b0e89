// `ka-top snapshot`: one complete, truthful dump of every TCP connection (table or JSON).
import { runCapture, type CaptureResult } from '../engine/capture.js';
import { collectInventory, type Inventory } from '../engine/inventory.js';
import type { Capabilities } from '../model/capabilities.js';
import type { KaEvent } from '../model/events.js';
import { eventMatchesFilter, matchesFilter, netnsSelected, type ConnectionFilter } from '../model/filter.js';
import { DEFAULT_IDLE_TIMEOUTS, evaluateFindings, parseIdleTimeouts, type IdleTimeout } from '../model/findings.js';
import { redactDocument } from '../model/redact.js';
import type { Connection } from '../model/types.js';
import { gzipChunks, writeFileAtomic, writeStream } from '../output/atomic-write.js';
import { renderMarkdown } from '../output/markdown.js';
import { renderTable } from '../output/table.js';
import {
  SNAPSHOT_SCHEMA, jsonChunks, summarize, warningsFor, type CaptureInfo, type SnapshotDocument,
} from '../output/snapshot-json.js';
import { capabilitiesFrom } from '../sources/capabilities.js';
import { probeTracingHost } from '../sources/tracing-host.js';
import { liveSources } from '../sources/live.js';
import { SockinfoDaemon } from '../sources/sockinfo.js';
import { hostFacts, readOwnSysctls } from '../sources/procfs.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFromArgs, parse } from './args.js';
import { CliError, UsageError, version } from './commands.js';
import { onStopSignals } from './stop-signals.js';

export const SNAPSHOT_HELP = [
  'Usage: ka-top snapshot [options]',
  '',
  'Dumps every TCP connection of every network namespace with its owner, effective keepalive settings',
  '(socket option or namespace sysctl), keepalive timer, outstanding probes and idle times, and findings: what',
  'looks wrong, in words, with the fix. With --capture it also records every keepalive probe/timeout, reset',
  '(with its cause) and close during a window, linked to its connection: one file to hand over in an incident.',
  '',
  'Options:',
  '  --capture DURATION   record events for DURATION (10s, 2m, or plain seconds) between two inventories;',
  '                       Ctrl-C ends the window early and still writes the result. Events need root and',
  '                       bpftrace; without them both inventories are still taken (with a warning)',
  '  --format table|json|md  output form (default: table on a terminal, json otherwise); md is a Markdown',
  '                       report readable without ka-top',
  '  --output FILE        write to FILE atomically, mode 0600 (default: stdout); a name ending in .gz is gzipped',
  '  --gzip               gzip the output (for large hosts)',
  '  --redact             cut command lines to the program name and mask secret-looking strings (password=…,',
  '                       --token X, user:pass@ in URLs, long hex/base64 keys)',
  '  --idle-timeouts LIST middlebox idle timeouts the findings check keepalive against, name=SECONDS,…',
  `                       (default ${DEFAULT_IDLE_TIMEOUTS.map((t) => `${t.name}=${t.seconds}`).join(',')})`,
  ...FILTER_HELP,
  '  -h, --help           this help',
  '',
  'JSON follows schema/snapshot.schema.json (`schema` field: ' + SNAPSHOT_SCHEMA + '). The README explains',
  'the findings. Run as root to see every process, socket option and namespace; without root ka-top says what it',
  'cannot see.',
  '',
  'Exit codes: 0 done (also when Ctrl-C ended a capture early), 1 error, 2 bad arguments, 143/129 when SIGTERM/',
  'SIGHUP ended a capture (the result is still written).',
].join('\n');

const netnsMatcher = (filter: ConnectionFilter) => filter.netns?.length
  ? (ns: { inode: number; name: string | null }) => netnsSelected(filter, ns.inode, ns.name)
  : undefined;

export async function buildSnapshot(filter: ConnectionFilter, idleTimeouts: readonly IdleTimeout[] = DEFAULT_IDLE_TIMEOUTS): Promise<SnapshotDocument> {
  // Only the capabilities are needed here (no program to build); the probe runs alongside the inventory.
  const host = probeTracingHost({ programDetails: false });
  const inv = await collectInventory(liveSources(), { netns: netnsMatcher(filter) });
  const capabilities = capabilitiesFrom(await host, inv.sockoptReads);
  return snapshotDocument(inv, capabilities, filter, undefined, { idleTimeouts });
}

export interface DocumentExtras {
  idleTimeouts?: readonly IdleTimeout[];
  /** A capture window; `inv` is then its end inventory. */
  capture?: { result: CaptureResult; requestedMs: number };
}

function countByType(events: readonly KaEvent[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const e of events) by[e.type] = (by[e.type] ?? 0) + 1;
  return by;
}

/** The document for one collected inventory: `snapshot`, `snapshot --capture`, and the TUI's `e` key with the
 *  rows it shows. */
export function snapshotDocument(
  inv: Inventory,
  capabilities: Capabilities,
  filter: ConnectionFilter,
  connections: Connection[] = inv.connections.filter((c) => matchesFilter(c, filter)),
  extras: DocumentExtras = {},
): SnapshotDocument {
  const ownSysctl = readOwnSysctls();
  const idleTimeouts = [...(extras.idleTimeouts ?? DEFAULT_IDLE_TIMEOUTS)];
  const inNs = netnsMatcher(filter);
  const namespaces = inNs ? inv.namespaces.filter(inNs) : inv.namespaces;
  const warnings = warningsFor(capabilities, namespaces, inv.ownersMissing, inv.parseErrors);
  const cap = extras.capture?.result;
  let capture: CaptureInfo | undefined;
  let events: KaEvent[] | undefined;
  let startConnections: Connection[] | undefined;
  let closedConnections: Connection[] | undefined;
  if (cap) {
    const names = new Map(cap.end.namespaces.concat(cap.start.namespaces).filter((n) => n.name).map((n) => [n.inode, n.name!]));
    events = cap.events.filter((e) => eventMatchesFilter(e, filter, names));
    startConnections = cap.start.connections.filter((c) => matchesFilter(c, filter));
    const now = new Set(connections.map((c) => c.id));
    // Every connection some inventory of the window saw that is gone at the end (events link to them).
    closedConnections = [...cap.lastSeen.values()].map((s) => s.connection).filter((c) => !now.has(c.id) && matchesFilter(c, filter));
    if (!cap.tracing.on) warnings.push(`no events were captured: ${cap.tracing.reason ?? 'tracing unavailable'}; both inventories were still taken`);
    for (const m of cap.tracing.missing) warnings.push(`not traced: ${m}`);
    if (cap.counts?.lostEvents) warnings.push(`the tracer lost ${cap.counts.lostEvents} events (its counts stay exact)`);
    if (cap.eventsDropped) warnings.push(`${cap.eventsDropped} events beyond the first ${cap.events.length} were not kept (counts stay exact)`);
    capture = {
      startedAt: new Date(cap.startedAt).toISOString(),
      endedAt: new Date(cap.endedAt).toISOString(),
      durationMs: cap.endedAt - cap.startedAt,
      requestedMs: extras.capture!.requestedMs,
      interrupted: cap.interrupted,
      inventories: {
        start: { takenAt: cap.start.takenAt, summary: summarize(startConnections) },
        end: { takenAt: inv.takenAt, summary: summarize(connections) },
      },
      tracing: cap.tracing,
      lostEvents: cap.counts?.lostEvents ?? 0,
      eventsDropped: cap.eventsDropped,
      eventsByType: countByType(events),
      counts: cap.counts,
    };
  }
  const findings = evaluateFindings({
    connections,
    startConnections,
    namespaces,
    events: events ?? [],
    window: cap ? { startMs: cap.startedAt, durationMs: cap.endedAt - cap.startedAt, startInventoryMs: Date.parse(cap.start.takenAt) } : null,
    idleTimeouts,
    observedIdleMs: cap?.observedIdleMs,
    lastSeen: cap?.lastSeen,
  });
  return {
    schema: SNAPSHOT_SCHEMA,
    takenAt: inv.takenAt,
    kaTopVersion: version(),
    host: hostFacts(),
    sysctl: typeof ownSysctl === 'string' ? null : ownSysctl,
    capabilities,
    namespaces,
    summary: summarize(connections),
    ...(Object.keys(filter).length ? { filters: filter } : {}),
    warnings,
    findings,
    idleTimeouts,
    ...(capture ? { capture } : {}),
    connections,
    ...(closedConnections ? { closedConnections } : {}),
    ...(events ? { events } : {}),
  };
}

/** `10s`, `2m`, `1h`, `90` (seconds) -> ms. */
export function parseDuration(text: string, what = '--capture'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000) : NaN;
  if (!m || !(ms >= 1000) || ms > 24 * 3_600_000) {
    throw new UsageError(`invalid ${what} '${text}': expected a duration from 1s to 24h such as 10s, 2m or 30`);
  }
  return ms;
}

type Format = 'table' | 'json' | 'md';

function render(doc: SnapshotDocument, format: Format): Iterable<string> {
  if (format === 'json') return jsonChunks(doc);
  return [format === 'md' ? renderMarkdown(doc) : renderTable(doc)];
}

/** A one-line countdown on a terminal's stderr; cleared at the end. */
function progressLine(): { update: (remainingMs: number, events: number) => void; clear: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, clear: () => {} };
  let shown = false;
  return {
    update: (ms, n) => {
      shown = true;
      process.stderr.write(`\rka-top: capturing, ${Math.ceil(ms / 1000)}s left, ${n} events (Ctrl-C ends early)\x1b[K`);
    },
    clear: () => {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

async function captureSnapshot(filter: ConnectionFilter, idleTimeouts: readonly IdleTimeout[], durationMs: number): Promise<{ doc: SnapshotDocument; exitCode: number }> {
  let exitCode = 0;
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const progress = progressLine();
  const removeSignalHandlers = onStopSignals((_sig, code) => {
    progress.clear();
    exitCode = code;
    stop();
  });
  const daemon = new SockinfoDaemon();
  daemon.start();
  try {
    const host = await probeTracingHost();
    const result = await runCapture({
      durationMs,
      sources: liveSources({ daemon }),
      daemon,
      host,
      stop: stopped,
      onProgress: progress.update,
      onNotice: (t) => {
        progress.clear();
        process.stderr.write(`ka-top: ${t}\n`);
      },
    });
    progress.clear();
    const capabilities = capabilitiesFrom(host, result.end.sockoptReads);
    const connections = result.end.connections.filter((c) => matchesFilter(c, filter));
    return { doc: snapshotDocument(result.end, capabilities, filter, connections, { idleTimeouts, capture: { result, requestedMs: durationMs } }), exitCode };
  } finally {
    progress.clear();
    removeSignalHandlers();
    await daemon.close();
  }
}

export async function snapshotCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    ...FILTER_OPTIONS,
    format: { type: 'string' },
    output: { type: 'string', short: 'o' },
    capture: { type: 'string' },
    'idle-timeouts': { type: 'string' },
    redact: { type: 'boolean' },
    gzip: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(SNAPSHOT_HELP + '\n');
    return 0;
  }
  const format = (values.format ?? (process.stdout.isTTY && !values.output ? 'table' : 'json')) as Format;
  if (!['table', 'json', 'md'].includes(format)) throw new UsageError(`invalid --format '${format}': expected table, json or md`);
  const filter = filterFromArgs(values);
  let idleTimeouts: readonly IdleTimeout[] = DEFAULT_IDLE_TIMEOUTS;
  if (values['idle-timeouts'] !== undefined) {
    try {
      idleTimeouts = parseIdleTimeouts(values['idle-timeouts']);
    } catch (e) {
      throw new UsageError(`invalid --idle-timeouts: ${(e as Error).message}`);
    }
  }
  const durationMs = values.capture !== undefined ? parseDuration(values.capture) : null;
  const gzip = values.gzip === true || (values.output?.endsWith('.gz') ?? false);

  let exitCode = 0;
  let doc: SnapshotDocument;
  if (durationMs !== null) ({ doc, exitCode } = await captureSnapshot(filter, idleTimeouts, durationMs));
  else doc = await buildSnapshot(filter, idleTimeouts);
  if (values.redact) doc = { ...redactDocument(doc), redacted: true };

  const text = render(doc, format);
  const data = gzip ? gzipChunks(text) : text;
  if (values.output) {
    try {
      writeFileAtomic(values.output, data);
    } catch (e) {
      throw new CliError(`cannot write ${values.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const evs = doc.events ? `, ${doc.events.length} events` : '';
    process.stderr.write(`ka-top: wrote ${doc.connections.length} connections${evs}, ${doc.findings?.length ?? 0} findings to ${values.output}\n`);
  } else {
    await writeStream(process.stdout, data);
  }
  for (const w of doc.warnings) if (format !== 'table' || values.output) process.stderr.write(`ka-top: warning: ${w}\n`);
  return exitCode;
}
