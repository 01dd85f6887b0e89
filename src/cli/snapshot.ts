// `ka-top snapshot`: one complete, truthful dump of every TCP connection (table, JSON or Markdown); with
// --capture, the events of a window too.
import { basename } from 'node:path';
import type { ConnectionFilter } from '../domain/filter.js';
import type { IdleTimeout } from '../domain/finding.js';
import type { SnapshotDocument } from '../domain/snapshot.js';
import { SNAPSHOT_SCHEMA } from '../domain/snapshot.js';
import { runCapture } from '../engine/capture.js';
import { LiveSession } from '../engine/session.js';
import { buildSnapshot, snapshotDocument } from '../engine/snapshot-document.js';
import { matchesFilter } from '../model/filter.js';
import { DEFAULT_IDLE_TIMEOUTS } from '../model/findings/index.js';
import { redactDocument } from '../model/redact.js';
import { checkWritable, gzipChunks, isRegularFile, writeAllSync, writeFileAtomic, writeNewFileAsync, writeStream } from '../output/atomic-write.js';
import { counted } from '../output/format.js';
import { renderMarkdown } from '../output/markdown.js';
import { progressLine } from '../output/progress-line.js';
import { jsonChunks } from '../output/snapshot-json.js';
import { renderTable } from '../output/table.js';
import { liveHost } from '../sources/live.js';
import { capabilitiesFrom } from '../engine/capabilities.js';
import { FILTER_HELP, FILTER_OPTIONS, TRACER_HELP, TRACER_OPTIONS, durationArg, eventRateArg, resolveNetns, filterFromArgs, parse, parseIdleTimeouts } from './args.js';
import { CliError, UsageError, writeErrorText } from './errors.js';
import { numberedIn, rescueDir, timestampedName, writeTimestampedSnapshot } from './snapshot-files.js';
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
  '  --json               the same as --format json',
  '  --format table|json|md  output form (default: table on a terminal, json otherwise); md is a Markdown',
  '                       report readable without ka-top',
  '  --output FILE        write to FILE atomically, mode 0600 (default: stdout; checked before anything is',
  '                       collected; when the write fails all the same, to /dev/shm instead, and the error',
  '                       says where); a name ending in .gz is gzipped',
  '  --gzip               gzip the output (for large hosts)',
  '  --redact             cut command lines to the program name and mask secret-looking strings (password=…,',
  '                       --token X, user:pass@ in URLs, long hex/base64 keys)',
  '  --idle-timeouts LIST middlebox idle timeouts the findings check keepalive against, name=SECONDS,…',
  `                       (default ${DEFAULT_IDLE_TIMEOUTS.map((t) => `${t.name}=${t.seconds}`).join(',')})`,
  ...FILTER_HELP,
  ...TRACER_HELP,
  '  -h, --help           this help',
  '',
  'JSON follows schema/snapshot.schema.json (`schema` field: ' + SNAPSHOT_SCHEMA + '). The README explains',
  'the findings. Run as root to see every process, socket option and namespace; without root ka-top says what it',
  'cannot see.',
  '',
  'Exit codes: 0 done (also when Ctrl-C ended a capture early), 1 error, 2 bad arguments, 143/129 when SIGTERM/',
  'SIGHUP ended a capture (the result is still written; when the terminal it was going to hung up, to',
  '/var/tmp/ka-top-snapshot-TIME.json, or $XDG_STATE_HOME/ka-top/ when that is set).',
].join('\n');

type Format = 'table' | 'json' | 'md';

function render(doc: SnapshotDocument, format: Format): Iterable<string | Uint8Array> {
  if (format === 'json') return jsonChunks(doc);
  return format === 'md' ? [renderMarkdown(doc)] : renderTable(doc);
}

async function captureSnapshot(filter: ConnectionFilter, netns: number[] | null, idleTimeouts: readonly IdleTimeout[], durationMs: number, recordsPerSecond: number | undefined): Promise<{ doc: SnapshotDocument; exitCode: number; stoppedBy: NodeJS.Signals | null }> {
  let exitCode = 0;
  let stoppedBy: NodeJS.Signals | null = null;
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const progress = progressLine(process.stderr);
  const notice = (text: string) => {
    progress.clear();
    process.stderr.write(`ka-top: ${text}\n`);
  };
  const removeSignalHandlers = onStopSignals((sig, code) => {
    progress.clear();
    exitCode = code;
    stoppedBy = sig;
    stop();
  });
  const session = await LiveSession.open({
    intervalMs: 2000,
    timelineSize: 0, // the capture keeps its own list of events
    // A capture links every close to its connection: all of them are printed.
    program: { allCloses: true, recordsPerSecond },
    netns, // --netns: only those namespaces are inventoried
    onTracerState: (s, d) => {
      if (s === 'restarting' || (s === 'failed' && session.tracing?.stream.ready)) notice(`tracer ${s}: ${d ?? ''}`);
    },
  }).catch((e: unknown) => {
    removeSignalHandlers(); // nothing runs yet: a stop signal must end the process again
    throw e;
  });
  try {
    const details = liveHost.details();
    const result = await runCapture(session, { durationMs, stop: stopped, onProgress: progress.update });
    progress.clear();
    const capabilities = capabilitiesFrom(session.host, result.end.sockoptReads);
    const connections = result.end.connections.filter((c) => matchesFilter(c, filter));
    return { doc: snapshotDocument(result.end, capabilities, filter, connections, { idleTimeouts, capture: { result, requestedMs: durationMs }, hostDetails: await details }), exitCode, stoppedBy };
  } finally {
    progress.clear();
    removeSignalHandlers();
    await session.close();
  }
}

const cannotWrite = (e: unknown, path: string | null) => new CliError(`cannot write ${path ?? 'to standard output'}: ${writeErrorText(e as NodeJS.ErrnoException, path)}`);

/**
 * A write of the document failed: it is written to rescueDir() as `name` (never over a file there: `x-2.json`, …),
 * since an incident's inventory and capture window cannot be taken again, and the error line says where.
 */
async function writeFailed(e: unknown, path: string | null, name: string, chunks: Iterable<string | Uint8Array>): Promise<never> {
  const failed = cannotWrite(e, path);
  const dir = rescueDir();
  let rescued: string;
  try {
    rescued = await writeNewFileAsync(numberedIn(dir, name), chunks);
  } catch {
    throw failed;
  }
  throw new CliError(`${failed.message}; wrote it to ${rescued} instead${dir === '/dev/shm' ? ' (memory-backed: move it somewhere safe)' : ''}`);
}

export async function snapshotCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    ...FILTER_OPTIONS,
    format: { type: 'string' },
    json: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
    capture: { type: 'string' },
    'idle-timeouts': { type: 'string' },
    redact: { type: 'boolean' },
    gzip: { type: 'boolean' },
    ...TRACER_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(SNAPSHOT_HELP + '\n');
    return 0;
  }
  if (values.json && values.format !== undefined && values.format !== 'json') throw new UsageError(`--json and --format ${values.format} contradict each other`);
  const format = (values.format ?? (values.json ? 'json' : process.stdout.isTTY && !values.output ? 'table' : 'json')) as Format;
  if (!['table', 'json', 'md'].includes(format)) throw new UsageError(`invalid --format '${format}': expected table, json or md`);
  const filter = filterFromArgs(values);
  const netns = resolveNetns(filter);
  const idleTimeouts = values['idle-timeouts'] === undefined ? DEFAULT_IDLE_TIMEOUTS : parseIdleTimeouts(values['idle-timeouts']);
  const durationMs = values.capture === undefined ? null : durationArg(values.capture, '--capture', 1000, 24 * 3_600_000);
  const gzip = values.gzip === true || (values.output?.endsWith('.gz') ?? false);
  const recordsPerSecond = eventRateArg(values['event-rate']);
  if (recordsPerSecond !== undefined && durationMs === null) throw new UsageError('--event-rate needs --capture (only a capture records events)');
  if (values.output) {
    // Before the inventory and the capture window, not after them.
    try {
      checkWritable(values.output);
    } catch (e) {
      throw cannotWrite(e, values.output);
    }
  }

  let exitCode = 0;
  let stoppedBy: NodeJS.Signals | null = null;
  let doc: SnapshotDocument;
  if (durationMs !== null) ({ doc, exitCode, stoppedBy } = await captureSnapshot(filter, netns, idleTimeouts, durationMs, recordsPerSecond));
  else doc = await buildSnapshot(filter, idleTimeouts);
  if (values.redact) doc = { ...redactDocument(doc), redacted: true };

  const output = () => {
    const text = render(doc, format);
    return gzip ? gzipChunks(text) : text;
  };
  if (values.output) {
    try {
      writeFileAtomic(values.output, output());
    } catch (e) {
      await writeFailed(e, values.output, basename(values.output), output());
    }
    const evs = doc.events ? `, ${counted(doc.events.length, 'event')}` : '';
    process.stderr.write(`ka-top: wrote ${counted(doc.connections.length, 'connection')}${evs}, ${counted(doc.findings?.length ?? 0, 'finding')} to ${values.output}\n`);
  } else if (stoppedBy === 'SIGHUP' && process.stdout.isTTY) {
    // The terminal hung up during the capture (an ssh session dropped): the document goes to a file, not to a
    // screen that is gone. Said on stderr too, in case it is redirected.
    process.stderr.write(`ka-top: the terminal hung up; wrote the capture to ${await writeTimestampedSnapshot(doc)}\n`);
  } else if (isRegularFile(1)) {
    // `> file`: a full disk fails here, with the document kept, instead of leaving a cut file and exit code 0.
    try {
      writeAllSync(1, output());
    } catch (e) {
      await writeFailed(e, null, timestampedName(doc.takenAt, `${format === 'table' ? 'txt' : format}${gzip ? '.gz' : ''}`), output());
    }
  } else {
    await writeStream(process.stdout, output());
  }
  for (const w of doc.warnings) if (format !== 'table' || values.output) process.stderr.write(`ka-top: warning: ${w}\n`);
  return exitCode;
}
