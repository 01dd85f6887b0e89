// `ka-top` (no command): the interactive view. Owns the terminal (alternate screen), the refresh loop and the
// sockinfo daemon; every exit path restores the terminal and ends the helpers.
import type { Connection } from '../domain/connection.js';
import { heldBackTotal } from '../domain/counts.js';
import type { ConnectionFilter } from '../domain/filter.js';
import { LiveSession } from '../engine/session.js';
import type { MonitorState } from '../engine/monitor.js';
import { snapshotDocument } from '../engine/snapshot-document.js';
import { matchesFilter } from '../model/filter.js';
import { packageVersion } from '../sources/exec.js';
import { liveHost } from '../sources/live.js';
import { showTui } from '../ui/screen.js';
import type { TracerStatus } from '../ui/tracer-view.js';
import { LiveFindings } from '../ui/live-findings.js';
import { LiveResets } from '../ui/live-resets.js';
import { FILTER_HELP, FILTER_OPTIONS, TRACER_HELP, TRACER_OPTIONS, durationArg, eventRateArg, resolveNetns, filterFromArgs, parse } from './args.js';
import { boundHeapGrowth } from './heap.js';
import { writeTimestampedSnapshot } from './snapshot-files.js';

export const TOP_HELP = [
  'Usage: ka-top [options]          (sudo ka-top to see every process and namespace)',
  '',
  'Interactive view of every TCP connection: effective keepalive settings (* = set on the socket), keepalive',
  'timer, probes, idle times and resets, with the owning process. Press ? inside for the keys.',
  '',
  'Options:',
  '  --lab                start the scenario lab first and tear it down on exit (root; `ka-top lab --help`)',
  '  --interval S         base refresh interval in seconds (default 2; slowed down when a refresh is costly). A',
  '                       namespace whose TCP counters did not move is read again at most every 10 s; the one',
  '                       of the connection open in the detail view, at every refresh',
  ...FILTER_HELP,
  ...TRACER_HELP,
  '  -h, --help           this help',
  '',
  'For pipes and files use `ka-top snapshot` (one dump) or `ka-top watch` (event stream).',
].join('\n');

/** `e`: the rows on screen as a snapshot document in snapshotDir(), named by the time it was asked for; written in
 *  chunks between which the view stays live (one string of 160k rows held ~650 MB more). Returns the path. */
async function writeScreenSnapshot(rows: readonly Connection[], state: MonitorState, filter: ConnectionFilter): Promise<string> {
  if (!state.inventory || !state.capabilities) throw new Error('no data yet');
  return writeTimestampedSnapshot(snapshotDocument(state.inventory, state.capabilities, filter, [...rows]));
}

export async function topCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...FILTER_OPTIONS, ...TRACER_OPTIONS, interval: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(TOP_HELP + '\n');
    return 0;
  }
  const intervalMs = values.interval === undefined ? 2000 : durationArg(values.interval, '--interval', 200, 3_600_000);
  const filter = filterFromArgs(values);
  const recordsPerSecond = eventRateArg(values['event-rate']);
  const netns = resolveNetns(filter);
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    process.stderr.write('ka-top: the interactive view needs a terminal; use `ka-top snapshot` (one dump) or `ka-top watch` (event stream) for pipes and files\n');
    return 2;
  }

  // --netns: only those namespaces are inventoried (each one dumped costs a walk of every socket on the host).
  const session = await LiveSession.open({ intervalMs, capabilities: true, keepClosed: (c) => matchesFilter(c, filter), netns, program: { recordsPerSecond } });
  const { monitor, tracing } = session;
  boundHeapGrowth();
  let tracerOff = session.tracingOff;
  const findings = new LiveFindings({ filter });
  let pendingSnapshot: Promise<unknown> = Promise.resolve();
  const resets = new LiveResets(filter, () => monitor.state.inventory?.namespaces);
  tracing?.subscribe((e) => {
    findings.push(e);
    resets.push(e);
  });
  // Stable lookups: the table re-sorts when `activity` changes identity, so it must not change per frame.
  const activity = (id: string) => tracing?.activityOf(id);
  const timeline = (id: string) => tracing?.activityOf(id)?.timeline ?? [];
  const tracer = (): TracerStatus => {
    if (!tracing || tracing.state === 'failed') return { on: false, reason: tracerOff ?? tracing?.detail ?? 'tracer failed' };
    if (tracing.state === 'off' || tracing.state === 'starting') return { on: false, starting: true, reason: 'attaching the tracepoints…' };
    return { on: true, view: { activity, timeline, resets: resets.summary(), lostEvents: tracing.counts.lostEvents, heldBackEvents: heldBackTotal(tracing.counts.cappedEvents), countedResets: tracing.countedResets(netns), eventsSeen: tracing.eventsSeen } };
  };

  try {
    await showTui(
      {
        feed: monitor,
        version: packageVersion(),
        host: liveHost.facts(),
        filter,
        tracer,
        findings: (state) => findings.findings(state),
        onSnapshot: (rows, state) => {
          const written = writeScreenSnapshot(rows, state, filter);
          pendingSnapshot = written.catch(() => {}); // the view said why
          return written;
        },
        onNetnsInView: (inode) => monitor.setNetnsInView(inode),
      },
      () => {
        void monitor.start();
        // The tracer attaches in the background (a few seconds); the table is usable meanwhile.
        tracing?.start().catch((e: Error) => (tracerOff = `tracer failed to start: ${e.message.split('\n')[0]}`));
      },
    );
  } finally {
    // A snapshot asked for just before quitting is finished, not left as a temporary file.
    await pendingSnapshot;
    await session.close();
  }
  return 0;
}
