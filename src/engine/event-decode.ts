// Decoding: one typed tracer record -> a draft event of one socket, with what ordering and attribution need (the
// socket cookie, the on-CPU task where it is the owner, the cause of a reset we sent). Host facts (reason and
// state names, HZ) come from the program; nothing here is attributed yet.
import type { Endpoint } from '../domain/connection.js';
import { errnoName, sockoptName } from '../domain/kernel.js';
import { CLOSE_HOW, isMarker, type KaRecord, type KaRecordOf } from '../parse/ka-records.js';
import { classifyRst, endpointFromSockaddr, endpointsFromSock, endpointsFromTp, giveUpInMs } from '../model/events.js';
import type { CloseHow, EventProcess, KaEvent, RstCause } from '../domain/event.js';

export type Draft = Extract<KaEvent, { sk: string | null }>;

export interface Decoded {
  ev: Draft;
  cookie: string | null;
  /** The on-CPU task: the owner only when the event ran in the owner's syscall (close, setsockopt, a close()
   *  that reset). Attribution drops it otherwise. */
  ctx: EventProcess | null;
  /** A reset we sent: its cause. */
  rstCause?: RstCause;
  /** The process that called connect() on the socket (received resets and closes), when the tracer saw it. */
  connectPid?: number | null;
}

export interface DecodeContext {
  /** enum sk_rst_reason (number -> name). */
  reasons: Record<number, string>;
  /** TCP states (number -> TCP_* name). */
  tcpStates: Record<number, string>;
  /** Kernel HZ, to turn keepalive jiffies into ms. */
  hz: number | null;
}

const HOW_NAMES = new Map<number, CloseHow>(
  (Object.entries(CLOSE_HOW) as [string, number][]).filter(([k]) => k !== 'reset_after_close').map(([k, n]) => [n, k as CloseHow]),
);

export const reasonName = (reasons: Record<number, string>, rs: number): string | null =>
  rs >= 0 ? (reasons[rs] ?? `reason ${rs}`) : null;

const taskOf = (t: { pid: number; comm: string }): EventProcess => ({ pid: t.pid, comm: t.comm, cmdline: null });

/** The fields every socket event starts with, in their order, then its own: one literal and Object.assign, not
 *  spreads (V8 builds `{ ...a, ...b, x }` through a slow path: 3–15 µs an object here, most of the event path's
 *  decoding under churn). */
const draft = <T extends object>(r: { netns: number; sk: string | null }, ts: string, ends: { local: Endpoint | null; peer: Endpoint | null }, own: T) =>
  Object.assign({ ts, netns: r.netns || null, pid: null, comm: null, process: null, connection: null, ownerVia: null, sk: r.sk, local: ends.local, peer: ends.peer }, own);

/** A received reset: from its own record, or from the close that stands for it too (resetClose, whose fields hold
 *  rrst's). Decoded ahead of that close, as the kernel ran them. */
export function decodeReceivedReset(r: KaRecordOf<'rrst'> | KaRecordOf<'resetClose'>, ts: string): Decoded {
  return { ev: draft(r, ts, endpointsFromTp(r), { type: 'rst_received' as const, inferredCause: '' }), cookie: r.cookie, ctx: null, connectPid: r.connectPid || null };
}

/** The event of a record (of a resetClose: its close; decodeReceivedReset gives its reset); null for records that
 *  are not events (markers). */
export function decodeEvent(r: KaRecord, ts: string, c: DecodeContext): Decoded | null {
  if (isMarker(r)) return null;
  if (r.kind === 'sockopt') {
    const ev: Draft = {
      ts, netns: null, pid: null, comm: null, process: null, connection: null, ownerVia: null, sk: null, local: null,
      peer: null, type: 'sockopt_changed', option: sockoptName(r.level, r.optname), fd: r.fd,
    };
    // setsockopt runs in the caller's context: that process is the owner.
    return { ev, cookie: null, ctx: taskOf(r) };
  }
  switch (r.kind) {
    case 'probe':
    case 'katimeout': {
      const hz = c.hz ?? 250;
      const intervalMs = Math.round((r.intvlJiffies * 1000) / hz);
      const ends = endpointsFromSock(r);
      const ev: Draft = r.kind === 'probe'
        ? draft(r, ts, ends, {
            type: 'keepalive_probe' as const, probesSent: r.total, probesOutstanding: r.outstanding,
            maxProbes: r.maxProbes, intervalMs, userTimeoutMs: r.userTimeoutMs,
            giveUpInMs: giveUpInMs(r.outstanding, r.maxProbes, intervalMs, r.userTimeoutMs, Math.round((r.idleJiffies * 1000) / hz)),
          })
        : draft(r, ts, ends, {
            type: 'keepalive_timeout' as const, probesSent: r.total, maxProbes: r.maxProbes, probesOutstanding: r.outstanding,
            userTimeoutMs: r.userTimeoutMs,
          });
      // The timer runs in softirq: a client connection's owner is the process that connected it.
      return { ev, cookie: r.cookie, ctx: null, connectPid: r.connectPid || null };
    }
    case 'rst':
    case 'rstLegacy': {
      const reason = reasonName(c.reasons, r.reason);
      const state = r.state ? (c.tcpStates[r.state] ?? null) : null;
      // For a listener (or no socket) the tracepoint has the listener's wildcard address: the segment's is better.
      const ends = r.segFamily
        ? endpointsFromSock({
            family: r.segFamily, la: r.segLa, ra: r.segRa, l6a: r.segL6a, l6b: r.segL6b, r6a: r.segR6a, r6b: r.segR6b,
            lport: r.segLport, rportBe: r.segRportBe,
          })
        : r.kind === 'rst'
          ? { local: endpointFromSockaddr(r.saddr), peer: endpointFromSockaddr(r.daddr) }
          : endpointsFromTp(r);
      const { cause, inferred } = classifyRst({
        reason, state, hasSocket: r.sk !== null, inKeepaliveTimer: r.inKeepaliveTimer === 1, lingerZero: r.lingerZero === 1,
      });
      // Only a close() (linger, unread data) runs in the owner's context; the rest run in softirq or timers.
      const ctx = cause === 'linger' || cause === 'unread_data' ? taskOf(r) : null;
      return { ev: draft(r, ts, ends, { type: 'rst_sent' as const, reason, cause, causeInferred: inferred, state }), cookie: r.cookie, ctx, rstCause: cause };
    }
    case 'rrst':
      return decodeReceivedReset(r, ts);
    case 'close':
    case 'resetClose':
      return {
        ev: draft(r, ts, endpointsFromTp(r), {
          type: 'close' as const, how: HOW_NAMES.get(r.how) ?? 'fin', lifetimeMs: r.lifeKnown === 1 ? r.lifeMs : null, probesSent: r.probes,
          error: r.error ? errnoName(r.error) : null,
        }),
        cookie: r.cookie,
        // Kept only if attribution finds that a close() reset it (then the closing task is the owner).
        ctx: taskOf(r),
        connectPid: r.connectPid || null,
      };
  }
}
