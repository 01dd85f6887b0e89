// `ka-top` (no command): the interactive view. Owns the terminal (alternate screen), the refresh loop and the
// sockinfo daemon; every exit path restores the terminal and ends the helpers.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LiveTracing } from '../engine/live-tracing.js';
import { Monitor, type MonitorState } from '../engine/monitor.js';
import { matchesFilter, type ConnectionFilter } from '../model/filter.js';
import type { Connection } from '../model/types.js';
import { writeFileAtomic } from '../output/atomic-write.js';
import { toJson } from '../output/snapshot-json.js';
import { capabilitiesFrom } from '../sources/capabilities.js';
import { liveSources } from '../sources/live.js';
import { hostFacts } from '../sources/procfs.js';
import { SockinfoDaemon } from '../sources/sockinfo.js';
import { probeTracingHost } from '../sources/tracing-host.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFromArgs, parse } from './args.js';
import { UsageError, version } from './commands.js';
import { snapshotDocument } from './snapshot.js';
import type { AppProps } from '../ui/App.js';
import type { TracerStatus } from '../ui/tracer-view.js';
import { LiveFindings } from '../ui/live-findings.js';

export const TOP_HELP = [
  'Usage: ka-top [options]          (sudo ka-top to see every process and namespace)',
  '',
  'Interactive view of every TCP connection: effective keepalive settings (* = set on the socket), keepalive',
  'timer, probes, idle times and resets, with the owning process. Press ? inside for the keys.',
  '',
  'Options:',
  '  --lab                start the scenario lab first and tear it down on exit (root; `ka-top lab --help`)',
  '  --interval S         base refresh interval in seconds (default 2; slowed down when a refresh is costly)',
  ...FILTER_HELP,
  '  -h, --help           this help',
  '',
  'For pipes and files use `ka-top snapshot` (one dump) or `ka-top watch` (event stream).',
].join('\n');

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

export function parseInterval(text: string): number {
  const s = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || s < 0.2 || s > 3600) {
    throw new UsageError(`invalid --interval '${text}': expected seconds from 0.2 to 3600`);
  }
  return Math.round(s * 1000);
}

/** Where `e` writes: $XDG_STATE_HOME/ka-top when set, else /var/tmp (never the current directory of a root shell). */
export function snapshotDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_STATE_HOME ? join(env.XDG_STATE_HOME, 'ka-top') : '/var/tmp';
}

/** `e`: the rows on screen as a snapshot document with a timestamped name; returns the path. */
function writeScreenSnapshot(rows: readonly Connection[], state: MonitorState, filter: ConnectionFilter): string {
  if (!state.inventory || !state.capabilities) throw new Error('no data yet');
  const doc = snapshotDocument(state.inventory, state.capabilities, filter, [...rows]);
  const dir = snapshotDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `ka-top-snapshot-${doc.takenAt.replace(/[:.]/g, '-')}.json`);
  writeFileAtomic(path, toJson(doc));
  return path;
}

/** Runs the App full screen (alternate screen) until the user quits; every exit path restores the terminal.
 *  `started` runs once the App is mounted. Shared by `top` and `view`. */
export async function showTui(props: AppProps, started: () => void = () => {}): Promise<void> {
  // Loaded here so `snapshot` and `watch` never pay for React.
  const [{ render }, { createElement }, { App }] = await Promise.all([import('ink'), import('react'), import('../ui/App.js')]);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.stdout.write(SHOW_CURSOR + ALT_SCREEN_OFF);
  };
  process.stdout.write(ALT_SCREEN_ON);
  process.once('exit', restore);
  const app = render(createElement(App, props), { exitOnCtrlC: false, maxFps: 20, patchConsole: true });
  const stop = () => app.unmount();
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  try {
    started();
    await app.waitUntilExit();
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGHUP', stop);
    restore();
  }
}

export async function topCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...FILTER_OPTIONS, interval: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(TOP_HELP + '\n');
    return 0;
  }
  const intervalMs = values.interval === undefined ? 2000 : parseInterval(values.interval);
  const filter = filterFromArgs(values);
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    process.stderr.write('ka-top: the interactive view needs a terminal; use `ka-top snapshot` (one dump) or `ka-top watch` (event stream) for pipes and files\n');
    return 2;
  }

  const daemon = new SockinfoDaemon();
  daemon.start();
  const tracingHost = probeTracingHost();
  const monitor = new Monitor({
    sources: liveSources({ daemon }),
    intervalMs,
    keepClosed: (c) => matchesFilter(c, filter),
    capabilities: async (inv) => capabilitiesFrom(await tracingHost, inv.sockoptReads),
  });
  const host = await tracingHost;
  const tracing = host.usable.ok ? new LiveTracing({ host, monitor, daemon }) : null;
  let tracerOff: string | null = host.usable.ok ? null : host.usable.reason;
  const findings = new LiveFindings({ filter });
  tracing?.subscribe((e) => findings.push(e));
  // Stable lookups: the table re-sorts when `activity` changes identity, so it must not change per frame.
  const activity = (id: string) => tracing?.activityOf(id);
  const timeline = (id: string) => tracing?.activityOf(id)?.timeline ?? [];
  const tracer = (): TracerStatus => {
    if (!tracing || tracing.state === 'failed') return { on: false, reason: tracerOff ?? tracing?.detail ?? 'tracer failed' };
    if (tracing.state === 'off' || tracing.state === 'starting') return { on: false, reason: 'starting: attaching the tracepoints…' };
    return { on: true, view: { activity, timeline, resets: tracing.resetSummary(), lostEvents: tracing.counts.lostEvents } };
  };

  try {
    await showTui(
      {
        source: monitor,
        version: version(),
        host: hostFacts(),
        filter,
        tracer,
        findings: (state) => findings.findings(state),
        onSnapshot: (rows, state) => writeScreenSnapshot(rows, state, filter),
      },
      () => {
        void monitor.start();
        // The tracer attaches in the background (a few seconds); the table is usable meanwhile.
        tracing?.start().catch((e: Error) => (tracerOff = `tracer failed to start: ${e.message.split('\n')[0]}`));
      },
    );
  } finally {
    monitor.stop();
    await tracing?.stop();
    await daemon.close();
  }
  return 0;
}
