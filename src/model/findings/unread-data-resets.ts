// Rule unread-data-resets: a close() with data still unread in the receive queue is an abort (RFC 2525 2.17): the
// kernel sends a reset instead of a FIN, and the peer gets "connection reset by peer". A classic source of sporadic
// ECONNRESET that looks like a network fault.
import type { Finding } from '../../domain/finding.js';
import { evidenceRate, finding, resetSenders, type FindingsInput } from './rule-kit.js';

const FIX = 'have the application read what the peer sends before it closes, or end the connection gracefully: shutdown(SHUT_WR), read until the peer closes (EOF) or a short timeout, then close() — a "lingering close" (nginx: `lingering_close`). A peer still sending when the answer is final (pipelined requests, a refused upload) should be told so by the protocol, not cut off mid-stream.';

/** Local ports named in the summary at most: a client's ephemeral ports say nothing. */
const MAX_PORTS = 3;

/** Processes that closed connections with unread data, each close a reset their peers saw. */
export function ruleUnreadDataResets(input: FindingsInput): Finding[] {
  return resetSenders(input, 'unread_data').map((s) => {
    const peers = [...new Set(s.events.map((e) => e.peer?.address ?? '?'))];
    const ports = [...new Set(s.events.map((e) => e.local?.port).filter((p): p is number => p !== undefined))];
    const on = ports.length && ports.length <= MAX_PORTS ? ` on port ${ports.join(', ')}` : '';
    const reason = s.events[0]!.reason;
    return finding({
      rule: 'unread-data-resets',
      severity: 'warning',
      summary: `${s.who} closed ${s.events.length} connection(s)${on} with data still unread${s.rate !== null ? ` (${s.rate.toFixed(2)}/s)` : ''}: the kernel reset each one instead of sending a FIN (${reason ?? 'abort on close'}), so ${peers.slice(0, 3).join(', ')}${peers.length > 3 ? ', …' : ''} got "connection reset by peer"; what this side had sent that had not reached them yet is dropped with it.`,
      fix: FIX,
      evidence: { resets: s.events.length, ratePerSec: evidenceRate(s.rate), peers, localPorts: ports, reason },
    }, s.connections, s.processes);
  });
}
