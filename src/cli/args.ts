// Argument parsing shared by the commands: node's parseArgs, with every mistake turned into a one-line UsageError.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';
import { DEFAULT_RECORDS_PER_SECOND } from '../model/bpf-program.js';
import { parseState } from '../model/filter.js';
import type { ConnectionFilter } from '../domain/filter.js';
import type { TcpState } from '../domain/connection.js';
import { parseDuration } from '../domain/duration.js';
import type { IdleTimeout } from '../domain/finding.js';
import { formatDuration } from '../output/format.js';
import { listNetns, netnsOfContainer } from '../sources/procfs.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const FILTER_OPTIONS = {
  port: { type: 'string', multiple: true },
  pid: { type: 'string', multiple: true },
  comm: { type: 'string', multiple: true },
  state: { type: 'string', multiple: true },
  keepalive: { type: 'string' },
  netns: { type: 'string', multiple: true },
} as const satisfies Options;

export const FILTER_HELP = [
  '  --port N[,N…]        connections with this local or peer port (repeatable)',
  '  --pid N[,N…]         connections owned by this process',
  '  --comm NAME[,…]      connections owned by a process with this name',
  '  --state S[,S…]       ESTAB, LISTEN, TIME-WAIT… (ss names; ESTABLISHED, TIME_WAIT also accepted)',
  '  --keepalive on|off   keepalive enabled or not',
  '  --netns NS           only this network namespace: ip netns name, inode or container id (repeatable)',
];

/** A value that looks like an option (`--duration -1`): parseArgs would call it ambiguous; glue it to its option
 *  (`--duration=-1`) so the option's own check says what is wrong with it. */
function glueDashValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2) : null;
    const next = argv[i + 1];
    if (name !== null && options[name]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: glueDashValues(argv, options), options, strict: true, allowPositionals });
  } catch (e) {
    // parseArgs messages are already one line; drop its hint about '--' which does not apply here
    throw new UsageError((e as Error).message.split('\n')[0]!.replace(/ To specify a positional.*$/, ''));
  }
}

function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** The tracer's budget, for every command that traces (watch, top, exporter, snapshot --capture). */
export const TRACER_OPTIONS = { 'event-rate': { type: 'string' } } as const satisfies Options;

export const TRACER_HELP = [
  `  --event-rate N       events of each type the tracer hands over a second, host-wide (default ${DEFAULT_RECORDS_PER_SECOND}; 0: no`,
  '                       limit); in a flood the rest are counted as held back, the totals stay exact',
];

/** --event-rate as ProgramOptions.recordsPerSecond (undefined: the default). */
export function eventRateArg(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 1_000_000) throw new UsageError(`invalid --event-rate '${text}': expected events a second from 0 (no limit) to 1000000`);
  return Number(text);
}

export function positiveInt(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`invalid ${what} '${text}': expected an integer from 1 to ${max}`);
  }
  return Number(text);
}

export function filterFromArgs(values: {
  port?: string[]; pid?: string[]; comm?: string[]; state?: string[]; keepalive?: string; netns?: string[];
}): ConnectionFilter {
  const f: ConnectionFilter = {};
  const ports = list(values.port).map((p) => positiveInt(p, '--port', 65535));
  if (ports.length) f.ports = ports;
  const pids = list(values.pid).map((p) => positiveInt(p, '--pid'));
  if (pids.length) f.pids = pids;
  const comms = list(values.comm);
  if (comms.length) f.comms = comms;
  const states = list(values.state).map((s) => {
    const st = parseState(s);
    if (!st) throw new UsageError(`invalid --state '${s}': expected an ss state such as ESTAB, LISTEN, TIME-WAIT`);
    return st;
  });
  if (states.length) f.states = states as TcpState[];
  if (values.keepalive !== undefined) {
    if (values.keepalive !== 'on' && values.keepalive !== 'off') {
      throw new UsageError(`invalid --keepalive '${values.keepalive}': expected on or off`);
    }
    f.keepalive = values.keepalive;
  }
  const netns = list(values.netns);
  if (netns.length) f.netns = netns;
  return f;
}

/** A duration option (`10s`, `2m`, `500ms`, or plain seconds) from `minMs` to `maxMs`, in ms. */
export function durationArg(text: string, what: string, minMs: number, maxMs: number): number {
  const ms = parseDuration(text);
  if (ms === null || ms < minMs || ms > maxMs) {
    throw new UsageError(`invalid ${what} '${text}': expected a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)} such as 10s, 2m or 30`);
  }
  return ms;
}

/** `--idle-timeouts name=S,name=S` (S in seconds, or with a unit: 5m). */
export function parseIdleTimeouts(text: string): IdleTimeout[] {
  const out: IdleTimeout[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(part);
    const ms = m ? parseDuration(m[2]!) : null;
    if (!m || ms === null) throw new UsageError(`invalid --idle-timeouts '${part}': expected name=SECONDS (e.g. aws-nlb=350)`);
    if (ms <= 0) throw new UsageError(`invalid --idle-timeouts '${part}': must be positive`);
    out.push({ name: m[1]!, seconds: ms / 1000 });
  }
  if (!out.length) throw new UsageError('empty --idle-timeouts list');
  return out;
}

/** `--netns` values as namespace inodes (null without --netns). A value must name a namespace of this host: a typo
 *  must not silently match nothing. A container id (short or full: how ka-top labels a namespace without a name, in
 *  the exporter's `netns` label and the TUI's column, or any container in it) is replaced in `filter` by that
 *  namespace's inode, the form every matcher knows. */
export function resolveNetns(filter: ConnectionFilter): number[] | null {
  if (!filter.netns?.length) return null;
  const known = listNetns();
  const named = (v: string) => known.find((n) => String(n.inode) === v || n.name === v);
  filter.netns = filter.netns.map((v) => {
    if (named(v)) return v;
    const inode = netnsOfContainer(v);
    if (inode === null) throw new UsageError(`no network namespace '${v}' on this host (--netns takes a name from \`ip netns list\`, an inode as ka-top snapshot shows it, or a container id)`);
    return String(inode);
  });
  // A container's namespace appeared after the list was read: it is one of this host's all the same.
  return filter.netns.map((v) => named(v)?.inode ?? Number(v));
}
