// `ka-top exporter`: serves the live session as Prometheus metrics until SIGTERM/SIGINT, then stops the tracer and
// the helpers as watch does.
import { createWriteStream, type WriteStream } from 'node:fs';
import { ExporterState, superviseTracer } from '../engine/exporter.js';
import { LiveSession } from '../engine/session.js';
import { eventMatchesFilter } from '../model/filter.js';
import { DEFAULT_IDLE_TIMEOUTS } from '../model/findings/index.js';
import { serveMetrics } from '../output/metrics-server.js';
import { packageVersion } from '../sources/exec.js';
import { pidContainers } from '../sources/workloads.js';
import { FILTER_HELP, FILTER_OPTIONS, TRACER_HELP, TRACER_OPTIONS, durationArg, eventRateArg, resolveNetns, filterFromArgs, parse, parseIdleTimeouts, positiveInt } from './args.js';
import { CliError, UsageError } from './errors.js';
import { onStopSignals } from './stop-signals.js';
import { boundHeapGrowth } from './heap.js';

/** In the exporters' 9xxx range, clear of the well-known exporters' defaults (README, Exporter). */
export const DEFAULT_PORT = 9977;
export const DEFAULT_MAX_OWNERS = 100;
/** A tracer that failed to start or gave up is started again after this long (KA_TOP_TRACER_RETRY_MS in tests). */
const TRACER_RETRY_MS = Number(process.env.KA_TOP_TRACER_RETRY_MS) || 30_000;

export const EXPORTER_HELP = [
  'Usage: ka-top exporter [options]',
  '',
  'Serves Prometheus metrics of this host\'s TCP connections: resets by cause, keepalive probes and timeouts,',
  'closes, connections by state and keepalive source, keepalive against middlebox idle timeouts, findings and the',
  'namespace keepalive sysctls, labelled by network namespace, Kubernetes namespace, pod and container. Needs',
  'root; without bpftrace it serves the inventory gauges only. Runs until SIGTERM or SIGINT.',
  '',
  'Options:',
  `  --listen HOST:PORT   where to serve (default 127.0.0.1:${DEFAULT_PORT}); 0.0.0.0:${DEFAULT_PORT} or [::]:${DEFAULT_PORT} to expose it`,
  '                       GET /metrics (OpenMetrics when the Accept header asks for it), GET /healthz',
  '  --interval S         inventory refresh (default 15s; slower when a refresh is costly)',
  '  --idle-timeouts LIST middlebox idle timeouts to check keepalive against, name=SECONDS,… (default',
  `                       ${DEFAULT_IDLE_TIMEOUTS.map((t) => `${t.name}=${t.seconds}`).join(',')})`,
  '  --process-labels     add the owning process name as a `process` label (more series)',
  `  --max-owners N       owner label sets with their own series (default ${DEFAULT_MAX_OWNERS}); the rest are folded`,
  '                       into netns/namespace/pod/container="other" and counted in katop_owners_folded_total',
  '  --events-log FILE    append every event as NDJSON (the records of `watch --json`): the per-connection',
  '                       detail (addresses, ports, pids) metrics never carry',
  ...FILTER_HELP,
  ...TRACER_HELP,
  '  -h, --help           this help',
  '',
  'Environment: KA_TOP_POD_LOGS (default /var/log/pods) and KA_TOP_CONTAINER_LOGS (default /var/log/containers),',
  'where pod and container names are read from.',
  '',
  'Exit codes: 0 stopped by SIGINT, 1 error (cannot listen, not root), 2 bad arguments, 143 stopped by SIGTERM.',
].join('\n');

export interface ExporterArgs {
  host: string;
  port: number;
  intervalMs: number;
  idleTimeouts: ReturnType<typeof parseIdleTimeouts>;
  processLabels: boolean;
  maxOwners: number;
  eventsLog: string | null;
  filter: ReturnType<typeof filterFromArgs>;
  eventRate: number | undefined;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`invalid --listen '${text}': expected HOST:PORT, e.g. 127.0.0.1:${DEFAULT_PORT} or [::1]:${DEFAULT_PORT}`);
  return { host: m[1] ?? m[2]!, port };
}

export function parseExporterArgs(argv: string[]): ExporterArgs | 'help' {
  const { values } = parse(argv, {
    ...FILTER_OPTIONS,
    listen: { type: 'string' },
    interval: { type: 'string' },
    'idle-timeouts': { type: 'string' },
    'process-labels': { type: 'boolean' },
    'max-owners': { type: 'string' },
    'events-log': { type: 'string' },
    ...TRACER_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  return {
    ...parseListen(values.listen ?? `127.0.0.1:${DEFAULT_PORT}`),
    intervalMs: values.interval === undefined ? 15_000 : durationArg(values.interval, '--interval', 500, 3_600_000),
    idleTimeouts: values['idle-timeouts'] === undefined ? [...DEFAULT_IDLE_TIMEOUTS] : parseIdleTimeouts(values['idle-timeouts']),
    processLabels: values['process-labels'] ?? false,
    maxOwners: values['max-owners'] === undefined ? DEFAULT_MAX_OWNERS : positiveInt(values['max-owners'], '--max-owners', 100_000),
    eventsLog: values['events-log'] ?? null,
    filter: filterFromArgs(values),
    eventRate: eventRateArg(values['event-rate']),
  };
}

export async function exporterCommand(argv: string[]): Promise<number> {
  const a = parseExporterArgs(argv);
  if (a === 'help') {
    process.stdout.write(EXPORTER_HELP + '\n');
    return 0;
  }
  const netns = resolveNetns(a.filter);
  let log: WriteStream | null = null;
  if (a.eventsLog) {
    log = createWriteStream(a.eventsLog, { flags: 'a', mode: 0o600 });
    await new Promise<void>((resolve, reject) => log!.once('open', () => resolve()).once('error', (e) => reject(new CliError(`cannot open --events-log ${a.eventsLog}: ${e.message}`))));
  }
  let resolveStop!: (code: number) => void;
  const stopped = new Promise<number>((r) => (resolveStop = r));
  const removeSignalHandlers = onStopSignals((_sig, code) => resolveStop(code));
  let state: ExporterState | null = null;
  const session = await LiveSession.open({
    intervalMs: a.intervalMs,
    timelineSize: 0, // no detail view: per-connection timelines would only hold memory
    netns, // --netns: only those namespaces are inventoried
    program: { recordsPerSecond: a.eventRate },
    onTracerState: (s, d) => {
      state?.tracerState(s);
      if (s === 'restarting' || s === 'failed') process.stderr.write(`ka-top: tracer ${s}: ${d}\n`);
    },
  }).catch((e: unknown) => {
    // Nothing runs yet: a stop signal must end the process again, and the log is closed.
    removeSignalHandlers();
    log?.end();
    throw e;
  });
  try {
    state = new ExporterState({ monitor: session.monitor, tracing: session.tracing, containerOfPid: pidContainers() }, { ...a, version: packageVersion() });
    boundHeapGrowth();
    if (log) {
      const names = new Map<number, string>();
      session.monitor.subscribe((s) => {
        for (const n of s.inventory?.namespaces ?? []) if (n.name) names.set(n.inode, n.name);
      });
      session.tracing?.subscribe((e) => {
        if (e.type === 'lost' || eventMatchesFilter(e, a.filter, names)) log!.write(JSON.stringify(e) + '\n');
      });
    }
    const server = await serveMetrics(state, a.host, a.port, a.processLabels).catch((e: Error) => {
      throw new CliError(`cannot listen on ${a.host}:${a.port}: ${e.message}`);
    });
    try {
      process.stderr.write(`ka-top: exporter on http://${server.address}/metrics\n`);
      const first = session.monitor.start();
      // The exporter outlives a tracer that cannot start or dies for good: katop_tracer_up says so, and it is
      // started again.
      const stopSupervising = session.tracing
        ? superviseTracer(session.tracing, (why) => {
          process.stderr.write(`ka-top: ${why}; starting it again in ${TRACER_RETRY_MS / 1000} s\n`);
          state?.tracerState('restarting');
        }, TRACER_RETRY_MS)
        : null;
      if (!session.tracing) process.stderr.write(`ka-top: cannot trace (${session.tracingOff}); serving inventory metrics only\n`);
      try {
        await first;
        return await stopped;
      } finally {
        stopSupervising?.();
      }
    } finally {
      await server.close();
    }
  } finally {
    state?.close();
    await session.close();
    if (log) await new Promise<void>((r) => log!.end(() => r()));
    removeSignalHandlers();
  }
}
