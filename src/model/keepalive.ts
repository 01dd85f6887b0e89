// Keepalive arithmetic, mirroring tcp_keepalive_timer() in net/ipv4/tcp_timer.c:
//   idle = min(now - lrcvtime, now - rcv_tstamp)            (ss: min(lastrcv, lastack))
//   if idle >= keepalive_time:
//     die if (user_timeout && idle >= user_timeout && probes_out > 0) || (!user_timeout && probes_out >= probes)
//     else send a probe, probes_out++, re-arm in keepalive_intvl
//   else re-arm in keepalive_time - idle
// Every derived figure assumes the worst case: the peer stays silent from now on.
import type { KeepaliveSource, KeepaliveView, NetnsSysctl, SockOpts, SsTimer, TcpState } from '../domain/connection.js';

export interface KeepaliveInput {
  state: TcpState;
  opts: SockOpts | null;
  /** Why `opts` is null, in words. */
  optsReason: string | null;
  sysctl: NetnsSysctl | null;
  timer: SsTimer | null;
  /** No file refers to the socket any more (ss ino 0): an orphaned FIN-WAIT-2 shows its FIN-WAIT-2 timer as
   *  `keepalive`, which is no keepalive at all. */
  orphan: boolean;
  lastrcvMs: number | null;
  lastackMs: number | null;
}

/** States in which the keepalive timer can probe: tcp_keepalive_timer() skips LISTEN, CLOSE and SYN-SENT, and
 *  an orphaned FIN-WAIT-2 (its sk_timer is the FIN-WAIT-2 timer then; orphans have no options to read here). */
const PROBING_STATES: ReadonlySet<TcpState> = new Set(['ESTAB', 'CLOSE-WAIT', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSING', 'LAST-ACK']);

// One shared, frozen object per combination (27 at most): views are held per connection, by the hundred thousand.
const SOURCE_INDEX: Readonly<Record<KeepaliveSource, number>> = { socket: 0, sysctl: 1, unknown: 2 };
const sourceSets: KeepaliveView['sources'][] = [];
const sourcesKey = (idle: KeepaliveSource, interval: KeepaliveSource, probes: KeepaliveSource): number =>
  SOURCE_INDEX[idle] * 9 + SOURCE_INDEX[interval] * 3 + SOURCE_INDEX[probes];
function sourcesOf(idle: KeepaliveSource, interval: KeepaliveSource, probes: KeepaliveSource): KeepaliveView['sources'] {
  return (sourceSets[sourcesKey(idle, interval, probes)] ??= Object.freeze({ idle, interval, probes }));
}

function fieldSource(value: number, sysctlValue: number | undefined): KeepaliveSource {
  if (sysctlValue === undefined) return 'unknown';
  return value === sysctlValue ? 'sysctl' : 'socket';
}

/** Time the receive side has been idle as the kernel counts it, or null when ss gave neither figure. */
export function keepaliveIdleMs(lastrcvMs: number | null, lastackMs: number | null): number | null {
  if (lastrcvMs === null) return lastackMs;
  if (lastackMs === null) return lastrcvMs;
  return Math.min(lastrcvMs, lastackMs);
}

export interface GiveUpInput {
  idleSec: number;
  intervalSec: number;
  probes: number;
  userTimeoutMs: number;
  /** Receive-side idle time now. */
  idleMs: number;
  /** The armed keepalive timer, if visible. */
  timer: { remainingMs: number; probesOutstanding: number } | null;
}

export interface GiveUp {
  nextProbeInMs: number;
  deadInMs: number;
  rule: 'probes' | 'user_timeout';
}

/**
 * When the next probe goes out and when the kernel gives up, if nothing more is received.
 * With TCP_USER_TIMEOUT set, the probe count is ignored: the connection dies at the first timer fire where
 * idle >= user timeout and at least one probe is outstanding.
 */
export function giveUp(k: GiveUpInput): GiveUp {
  const idleTimeMs = k.idleSec * 1000;
  const intvlMs = k.intervalSec * 1000;
  const outstanding = k.timer?.probesOutstanding ?? 0;
  // With probes out, the armed timer's expiry is the next probe (or the kill). Before the first probe the
  // timer may fire early (re-check of idleness) and re-arm for the rest of keepalive_time.
  const untilIdle = Math.max(0, idleTimeMs - k.idleMs);
  const nextProbeInMs = outstanding > 0 ? (k.timer?.remainingMs ?? 0) : Math.max(k.timer?.remainingMs ?? 0, untilIdle);

  if (k.userTimeoutMs > 0) {
    // Fires happen at nextProbeInMs + j*intvl. A fire can kill only once a probe is out (j >= 1 when none is yet).
    const firstKillable = outstanding > 0 ? 0 : 1;
    const needed = k.userTimeoutMs - (k.idleMs + nextProbeInMs);
    const j = Math.max(firstKillable, intvlMs > 0 ? Math.ceil(Math.max(0, needed) / intvlMs) : firstKillable);
    return { nextProbeInMs, deadInMs: nextProbeInMs + j * intvlMs, rule: 'user_timeout' };
  }
  const remainingProbes = Math.max(0, k.probes - outstanding);
  return { nextProbeInMs, deadInMs: nextProbeInMs + remainingProbes * intvlMs, rule: 'probes' };
}

function unknownOpts(reason: string, timer: KeepaliveView['timer']): KeepaliveView {
  return {
    enabled: null,
    idleSec: null,
    intervalSec: null,
    probes: null,
    source: 'unknown',
    sources: sourcesOf('unknown', 'unknown', 'unknown'),
    reason,
    timer,
    nextProbeInMs: null,
    deadInMs: null,
    giveUpRule: null,
    estimated: false,
  };
}

// Options unknown and no keepalive timer: nothing in the view moves with time (ageConnection leaves it alone), so
// the sockets that share a reason (every TIME-WAIT one of a churning host) share one frozen view.
const unknownViews = new Map<string, KeepaliveView>();
function unknownView(reason: string): KeepaliveView {
  let v = unknownViews.get(reason);
  if (!v) {
    v = Object.freeze(unknownOpts(reason, null));
    if (unknownViews.size < 64) unknownViews.set(reason, v);
  }
  return v;
}

// Options read, no keepalive timer and no forecast (keepalive off, or a socket that cannot probe): nothing in the
// view moves with time either, and its sockets (often most of a host's) share one frozen view per set of options.
const stillViews = new Map<number, KeepaliveView>();
const inRange = (v: number | null, max: number): v is number => Number.isInteger(v) && v! >= 0 && v! <= max;
/** Keepalive on or off, its values and where each comes from as one exact number (TCP_KEEPIDLE and TCP_KEEPINTVL
 *  are at most 32767, TCP_KEEPCNT 127: include/net/tcp.h), or null for values outside those ranges (a key for
 *  none). */
export function keepaliveKey(enabled: boolean, idleSec: number | null, intervalSec: number | null, probes: number | null,
  sources: KeepaliveView['sources']): number | null {
  if (!inRange(idleSec, 32767) || !inRange(intervalSec, 32767) || !inRange(probes, 127)) return null;
  return ((((enabled ? 1 : 0) * 32768 + idleSec) * 32768 + intervalSec) * 128 + probes) * 27 +
    sourcesKey(sources.idle, sources.interval, sources.probes);
}
const stillKey = (opts: SockOpts, sources: KeepaliveView['sources']): number | null =>
  keepaliveKey(opts.keepalive, opts.keepIdleSec, opts.keepIntvlSec, opts.keepCnt, sources);

export function keepaliveView(input: KeepaliveInput): KeepaliveView {
  const { opts, sysctl } = input;
  const timer =
    input.timer?.kind === 'keepalive' && !(input.orphan && input.state === 'FIN-WAIT-2')
      ? { remainingMs: input.timer.remainingMs, probesOutstanding: input.timer.count }
      : null;

  if (!opts) {
    const reason = input.optsReason ?? 'socket options not readable';
    return timer === null ? unknownView(reason) : unknownOpts(reason, timer);
  }

  const sources = sourcesOf(
    fieldSource(opts.keepIdleSec, sysctl?.tcp_keepalive_time),
    fieldSource(opts.keepIntvlSec, sysctl?.tcp_keepalive_intvl),
    fieldSource(opts.keepCnt, sysctl?.tcp_keepalive_probes),
  );
  const all = [sources.idle, sources.interval, sources.probes];
  const source: KeepaliveSource = all.includes('socket') ? 'socket' : all.includes('unknown') ? 'unknown' : 'sysctl';

  let nextProbeInMs: number | null = null;
  let deadInMs: number | null = null;
  let giveUpRule: KeepaliveView['giveUpRule'] = null;
  let estimated = false;
  const idleMs = keepaliveIdleMs(input.lastrcvMs, input.lastackMs);
  if (opts.keepalive && PROBING_STATES.has(input.state) && idleMs !== null) {
    // ss hides the keepalive timer while a retransmit or zero-window-probe timer is pending: estimate then.
    estimated = timer === null;
    const g = giveUp({
      idleSec: opts.keepIdleSec,
      intervalSec: opts.keepIntvlSec,
      probes: opts.keepCnt,
      userTimeoutMs: opts.userTimeoutMs,
      idleMs,
      timer,
    });
    nextProbeInMs = g.nextProbeInMs;
    deadInMs = g.deadInMs;
    giveUpRule = g.rule;
  }

  const key = timer === null && giveUpRule === null ? stillKey(opts, sources) : null;
  const shared = key === null ? undefined : stillViews.get(key);
  if (shared) return shared;
  const view: KeepaliveView = {
    enabled: opts.keepalive,
    idleSec: opts.keepIdleSec,
    intervalSec: opts.keepIntvlSec,
    probes: opts.keepCnt,
    source,
    sources,
    reason: source === 'unknown' ? 'namespace sysctl not readable' : null,
    timer,
    nextProbeInMs,
    deadInMs,
    giveUpRule,
    estimated,
  };
  if (key === null) return view;
  Object.freeze(view);
  if (stillViews.size < 1024) stillViews.set(key, view);
  return view;
}
