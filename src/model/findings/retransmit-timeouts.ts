// Rule retransmit-timeouts: established connections whose data (or FIN) nobody acknowledged until the retransmission
// timer gave up. Unlike a keepalive timeout this hits a connection that was sending: a peer that vanished
// mid-transfer, or a path that black-holes the flow (a firewall's dropped state, an MTU black hole). A connect that
// never completed is connect-failures'.
import type { KaEvent } from '../../domain/event.js';
import type { Finding } from '../../domain/finding.js';
import { eventSubjects, finding, type FindingsInput } from './rule-kit.js';

/** Connections the kernel gave up on because what they sent went unacknowledged. */
export function ruleRetransmitTimeouts(input: FindingsInput): Finding[] {
  const ev = input.events.filter((e): e is Extract<KaEvent, { type: 'close' }> => e.type === 'close' && e.how === 'retransmit_timeout');
  if (!ev.length) return [];
  const { connections, processes, peers } = eventSubjects(ev);
  // ETIMEDOUT, or the ICMP error that arrived while it retried (EHOSTUNREACH: the peer host or its route is gone).
  const errors = [...new Set(ev.map((e) => e.error ?? 'ETIMEDOUT'))];
  const icmp = errors.filter((e) => e !== 'ETIMEDOUT');
  return [finding({
    rule: 'retransmit-timeouts',
    severity: 'critical',
    summary: `${ev.length} connection(s) were given up by the retransmission timer while ka-top watched: what they sent went unacknowledged (the application got ${errors.join(' or ')}); peers: ${peers.slice(0, 5).join(', ')}${peers.length > 5 ? ', …' : ''}.`,
    fix: `the peers or the path stopped acknowledging: check the peers' hosts${icmp.length ? ` (${icmp.join(', ')}: an ICMP error said the host or the route to it is gone)` : ''}, and the path for a firewall or NAT that dropped the flow's state or an MTU black hole (large segments lost, small ones pass). The time it takes is net.ipv4.tcp_retries2 (15: ~15 min) or TCP_USER_TIMEOUT on the socket; the applications must reconnect on the error.`,
    evidence: { timeouts: ev.length, peers, errors },
  }, connections, processes)];
}
