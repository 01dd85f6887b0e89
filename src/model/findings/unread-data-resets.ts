// Rule unread-data-resets: a close() with data still unread in the receive queue is an abort (RFC 2525 2.17): the
// kernel sends a reset instead of a FIN, and the peer gets "connection reset by peer". A classic source of sporadic
// ECONNRESET that looks like a network fault.
import type { KaEvent } from '../../domain/event.js';
import type { Finding } from '../../domain/finding.js';
import { finding, groupBy, type FindingsInput } from './rule-kit.js';

const FIX = 'have the application read what the peer sends before it closes, or end the connection gracefully: shutdown(SHUT_WR), read until the peer closes (EOF) or a short timeout, then close() — a "lingering close" (nginx: `lingering_close`). A peer still sending when the answer is final (pipelined requests, a refused upload) should be told so by the protocol, not cut off mid-stream.';

/** Local ports named in the summary at most: a client's ephemeral ports say nothing. */
const MAX_PORTS = 3;

/** Processes that closed connections with unread data, each close a reset their peers saw. */
export function ruleUnreadDataResets(input: FindingsInput): Finding[] {
  const ev = input.events.filter((e): e is Extract<KaEvent, { type: 'rst_sent' }> => e.type === 'rst_sent' && e.cause === 'unread_data');
  const secs = input.window ? Math.max(input.window.durationMs / 1000, 0.001) : null;
  return [...groupBy(ev, (e) => `${e.pid ?? '?'}/${e.comm ?? '?'}`).values()].map((g) => {
    const e0 = g[0]!;
    const rate = secs ? g.length / secs : null;
    const who = e0.pid !== null ? `${e0.comm}[${e0.pid}]` : 'an unidentified process';
    const peers = [...new Set(g.map((e) => e.peer?.address ?? '?'))];
    const ports = [...new Set(g.map((e) => e.local?.port).filter((p): p is number => p !== undefined))];
    const on = ports.length && ports.length <= MAX_PORTS ? ` on port ${ports.join(', ')}` : '';
    return finding({
      rule: 'unread-data-resets',
      severity: 'warning',
      summary: `${who} closed ${g.length} connection(s)${on} with data still unread${rate !== null ? ` (${rate.toFixed(2)}/s)` : ''}: the kernel reset each one instead of sending a FIN (${e0.reason ?? 'abort on close'}), so ${peers.slice(0, 3).join(', ')}${peers.length > 3 ? ', …' : ''} got "connection reset by peer"; what this side had sent that had not reached them yet is dropped with it.`,
      fix: FIX,
      evidence: { resets: g.length, ratePerSec: rate === null ? null : Math.round(rate * 100) / 100, peers, localPorts: ports, reason: e0.reason },
    }, [...new Set(g.map((e) => e.connection).filter((c): c is string => !!c))], e0.pid !== null ? [{ pid: e0.pid, comm: e0.comm ?? '?' }] : []);
  });
}
