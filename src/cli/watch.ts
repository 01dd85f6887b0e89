// `ka-top watch`: a stream of keepalive probes, keepalive timeouts, resets (with causes) and closes, each
// attributed to the socket's owner. Human lines by default, NDJSON with --json (schema/events.schema.json).
import { EVENT_TYPES, type EventType, type KaEvent } from '../domain/event.js';
import type { Inventory } from '../domain/inventory.js';
import { describeContainer } from '../domain/workload.js';
import { programOptionsFor } from '../engine/live-tracing.js';
import { heldBackByType, heldBackTotal } from '../domain/counts.js';
import { DEFAULT_RECORDS_PER_SECOND } from '../model/bpf-program.js';
import { LiveSession } from '../engine/session.js';
import { eventMatchesFilter, filterConnections } from '../model/filter.js';
import { ThresholdTracker, parseThreshold, type Threshold } from '../model/thresholds.js';
import { countedResetCauses, countedResetRate, formatEventLine } from '../output/event-text.js';
import { countsLine, countsRecord, sampleLine, sampleRecord } from '../output/watch-records.js';
import { FILTER_OPTIONS, TRACER_HELP, TRACER_OPTIONS, durationArg, eventRateArg, resolveNetns, filterFromArgs, parse, positiveInt } from './args.js';
import { boundHeapGrowth } from './heap.js';
import { CliError, UsageError } from './errors.js';
import { onStopSignals } from './stop-signals.js';

export const EXIT_THRESHOLD = 3;
/** Seconds between inventories of a watch without --interval. */
const WATCH_INVENTORY_S = 30;
/** How often a flood's held-back events are told on stderr (the tracer prints its counts every 5 s). */
const HELD_BACK_NOTICE_MS = 5000;

export const WATCH_HELP = [
  'Usage: ka-top watch [options]',
  '',
  'Streams TCP keepalive probes and timeouts, resets sent (with the kernel\'s reason and a cause) and received,',
  'connection closes and keepalive-related setsockopt calls, each attributed to the owning process. Needs root',
  'and bpftrace; tracepoints only (no kprobes needed).',
  '',
  'Options:',
  '  --json               one JSON object per line (schema/events.schema.json); the last line is a `counts`',
  '                       record with the tracer\'s exact totals for the whole host (resets by kernel reason,',
  '                       timeouts, lost events), whatever the options below selected',
  '  --interval S         also emit a `sample` record with the connections every S seconds',
  '  --events a,b         only these event types: ' + EVENT_TYPES.join(', '),
  '  --port N  --pid N  --comm NAME  --netns NS   only events of matching connections',
  '  --duration S         stop after S seconds',
  '  --count N            stop after N events',
  '  --until TYPE         stop after the first event of TYPE',
  '  --fail-on SPEC       exit 3 when TYPE[:CAUSE]>N[/s|/min|/h] is exceeded, e.g. rst_sent:linger>10/min,',
  '                       close:connect_failed>5/min, keepalive_timeout>0 (repeatable); CAUSE is rst_sent\'s',
  '                       cause, rst_received\'s (peer_reset: sender not seen) or close\'s how; a rate must stay',
  '                       below --event-rate',
  ...TRACER_HELP,
  '  -h, --help           this help',
  '',
  'Exit codes: 0 stopped normally (end of --duration/--count/--until, SIGINT), 1 error (no root, no bpftrace,',
  'tracer failed), 2 bad arguments, 3 a --fail-on threshold was exceeded, 128+N killed by signal N (TERM, HUP).',
].join('\n');

export interface WatchOptions {
  json: boolean;
  intervalSec: number | null;
  events: Set<EventType> | null;
  filter: ReturnType<typeof filterFromArgs>;
  durationSec: number | null;
  count: number | null;
  until: EventType | null;
  failOn: Threshold[];
  /** --event-rate (undefined: the program's default). */
  eventRate: number | undefined;
}

function eventType(t: string, what: string): EventType {
  if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new UsageError(`invalid ${what} '${t}': expected one of ${EVENT_TYPES.join(', ')}`);
  return t as EventType;
}

export function parseWatchArgs(argv: string[]): WatchOptions | 'help' {
  const { values } = parse(argv, {
    port: FILTER_OPTIONS.port, pid: FILTER_OPTIONS.pid, comm: FILTER_OPTIONS.comm, netns: FILTER_OPTIONS.netns,
    json: { type: 'boolean' },
    interval: { type: 'string' },
    events: { type: 'string', multiple: true },
    duration: { type: 'string' },
    count: { type: 'string' },
    until: { type: 'string' },
    'fail-on': { type: 'string', multiple: true },
    ...TRACER_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  const duration = (v: string | undefined, what: string, minMs: number) => (v === undefined ? null : durationArg(v, what, minMs, 366 * 86_400_000) / 1000);
  const eventRate = eventRateArg(values['event-rate']);
  const failOn = (values['fail-on'] ?? []).map((s) => {
    try {
      return parseThreshold(s);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  // Beyond the events a second the tracer hands over, a flood is counted, not seen: a rate above it never trips.
  const rate = eventRate ?? DEFAULT_RECORDS_PER_SECOND;
  const unreachable = failOn.find((t) => rate > 0 && t.windowMs !== null && t.limit >= (rate * t.windowMs) / 1000);
  if (unreachable) throw new UsageError(`--fail-on '${unreachable.spec}' cannot be reached: the tracer hands over at most ${rate} ${unreachable.type} events a second (raise --event-rate)`);
  const events = (values.events ?? []).flatMap((e) => e.split(',')).map((e) => e.trim()).filter(Boolean);
  return {
    json: values.json ?? false,
    intervalSec: values.interval === undefined ? null : durationArg(values.interval, '--interval', 200, 3_600_000) / 1000,
    events: events.length ? new Set(events.map((e) => eventType(e, '--events'))) : null,
    filter: filterFromArgs(values),
    durationSec: duration(values.duration, '--duration', 100),
    count: values.count !== undefined ? positiveInt(values.count, '--count') : null,
    until: values.until !== undefined ? eventType(values.until, '--until') : null,
    failOn,
    eventRate,
  };
}

export function eventMatches(e: KaEvent, o: WatchOptions, netnsNames: Map<number, string>): boolean {
  if (o.events && !o.events.has(e.type)) return false;
  return eventMatchesFilter(e, o.filter, netnsNames);
}

export async function watchCommand(argv: string[]): Promise<number> {
  const opts = parseWatchArgs(argv);
  if (opts === 'help') {
    process.stdout.write(WATCH_HELP + '\n');
    return 0;
  }
  const netnsInodes = resolveNetns(opts.filter);
  let exitCode = 0;
  let resolveFinished!: (code: number) => void;
  const finished = new Promise<number>((r) => (resolveFinished = r));
  /** Once a --count/--until/--fail-on condition ended the run, nothing more is printed. */
  let closed = false;
  const finish = (code: number, drain = true) => {
    if (!drain) closed = true;
    resolveFinished(code);
  };
  // The inventory only names owners here: events of long-lived connections find theirs in it, short-lived ones
  // through the close/accept context or the listener, and a keepalive probe of a socket it does not know asks for
  // an early refresh. So it is refreshed at --interval, or every WATCH_INVENTORY_S: on a busy host one refresh
  // costs far more than the rare events.
  const session = await LiveSession.open({
    intervalMs: (opts.intervalSec ?? WATCH_INVENTORY_S) * 1000,
    timelineSize: 0, // records are printed, not kept
    program: { ...programOptionsFor(opts.events, opts.filter, netnsInodes), recordsPerSecond: opts.eventRate },
    netns: netnsInodes,
    onTracerState: (s, d) => {
      if (s === 'restarting') process.stderr.write(`ka-top: tracer ${d}\n`);
      if (s === 'failed' && session.tracing?.stream.ready) {
        process.stderr.write(`ka-top: tracer failed: ${d}\n`);
        exitCode = 1;
        finish(1);
      }
    },
  });
  const { monitor, tracing } = session;
  boundHeapGrowth();
  if (!tracing && opts.intervalSec === null) {
    await session.close();
    throw new CliError(`cannot trace: ${session.tracingOff}`);
  }
  if (!tracing) process.stderr.write(`ka-top: cannot trace (${session.tracingOff}); streaming samples only\n`);

  // Lines wait for the end of the current task and leave in one write: the tracer's events come in batches (one
  // flush of the hold queue), and a write per event was a syscall and a wake-up of the reader per event.
  let pending = '';
  const writePending = () => {
    if (pending) process.stdout.write(pending);
    pending = '';
  };
  const write = (obj: object, line: string) => {
    if (!pending) queueMicrotask(writePending);
    pending += opts.json ? JSON.stringify(obj) + '\n' : line + '\n';
  };
  // Namespace names (for --netns) and labels (for the text lines: name or inode, and the container or pod living
  // there) of the newest inventory, rebuilt only when a new inventory arrives (not per event).
  let namedFrom: Inventory | null = null;
  let named = new Map<number, string>();
  let labels = new Map<number, string>();
  const refreshNames = (): void => {
    const inv = monitor.state.inventory;
    if (inv === namedFrom) return;
    const namespaces = (namedFrom = inv)?.namespaces ?? [];
    named = new Map(namespaces.filter((n) => n.name).map((n) => [n.inode, n.name!]));
    labels = new Map(namespaces.filter((n) => n.name || n.container)
      .map((n) => [n.inode, `${n.name ?? n.inode}${n.container ? ` (${describeContainer(n.container)})` : ''}`]));
  };

  let emitted = 0;
  const thresholds = new ThresholdTracker(opts.failOn);
  tracing?.subscribe((e) => {
    refreshNames();
    if (closed || !eventMatches(e, opts, named)) return;
    write(e, formatEventLine(e, (inode) => labels.get(inode)));
    emitted++;
    const hit = thresholds.observe(e, Date.now());
    if (hit) {
      process.stderr.write(`ka-top: threshold exceeded: ${hit.spec}\n`);
      finish(EXIT_THRESHOLD, false);
    } else if ((opts.count !== null && emitted >= opts.count) || opts.until === e.type) finish(0, false);
  });

  const timers: NodeJS.Timeout[] = [];
  const removeSignalHandlers = onStopSignals((_sig, code) => finish(code));

  let stopping = false;
  try {
    const first = monitor.start();
    if (tracing) {
      for (const m of tracing.missing) process.stderr.write(`ka-top: not traced: ${m}\n`);
      await tracing.start().catch((e: Error) => {
        throw new CliError(`tracer failed to start: ${e.message}`);
      });
      process.stderr.write(`ka-top: watching (bpftrace pid ${tracing.pid}, keepalive via ${tracing.keepaliveVia ?? 'nothing'}, state changes via ${tracing.stateVia ?? 'nothing'}, perf sampling off on ${tracing.samplingOff ?? 'no'} tracepoints)\n`);
      // A flood shows as it happens, not only in the last line: the kernel's count of what it held back comes with
      // each print of its maps, and its count of the resets themselves (of the --netns namespaces, else the host's).
      let heldBack = 0;
      timers.push(setInterval(() => {
        const now = heldBackTotal(tracing.counts.cappedEvents);
        const k = tracing.countedResets(netnsInodes);
        const rate = k?.heldBack ? `; resets ${countedResetRate(k)}: ${countedResetCauses(k)}` : '';
        if (now > heldBack) process.stderr.write(`ka-top: held back ${now - heldBack} events beyond --event-rate (so far ${heldBackByType(tracing.counts.cappedEvents)}); the totals stay exact${rate}\n`);
        heldBack = now;
      }, HELD_BACK_NOTICE_MS));
    }
    await first;
    if (opts.intervalSec !== null) {
      const sample = (inventory: Inventory | null) => {
        if (!inventory || stopping) return;
        const s = sampleRecord(filterConnections(inventory.connections, opts.filter));
        write(s, sampleLine(s));
      };
      sample(monitor.state.inventory);
      let last = monitor.state.inventory;
      monitor.subscribe((st) => {
        if (st.inventory !== last) sample((last = st.inventory));
      });
    }
    if (opts.durationSec !== null) timers.push(setTimeout(() => finish(0), opts.durationSec * 1000));
    exitCode = await finished;
  } finally {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    await session.close(); // SIGINT to bpftrace: it prints its maps, the exact counts, on the way out
    writePending();
    if (tracing) {
      const c = countsRecord(tracing.counts);
      if (opts.json) process.stdout.write(JSON.stringify(c) + '\n');
      else {
        refreshNames();
        process.stderr.write(`ka-top: ${countsLine(c, (inode) => labels.get(Number(inode)) ?? inode)}\n`);
      }
    }
    removeSignalHandlers();
  }
  return exitCode;
}
