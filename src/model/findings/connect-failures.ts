// Rule connect-failures: connections that never got established. Their SYNs went unanswered until the kernel gave
// up (ETIMEDOUT), an ICMP error ended them (the host or network unreachable), or the application closed them while
// connecting (its own connect timeout, usually shorter than the kernel's ~127 s, or a soft error it read). A
// service that cannot reach its upstream: a peer down or not listening, a firewall dropping SYNs, a full backlog.
import type { KaEvent } from '../../domain/event.js';
import type { Finding } from '../../domain/finding.js';
import { endpointKey } from '../../domain/keys.js';
import { eventSubjects, finding, type FindingsInput } from './rule-kit.js';

const FIX = 'nothing answered their SYNs in time: check that the peer is up and listening on that port, and the path for a firewall or security group that drops SYNs; a peer whose listen backlog overflows drops them too (`nstat -az TcpExtListenOverflows` there). EHOSTUNREACH or ENETUNREACH come from an ICMP error: the route to the peer, or the peer host, is gone. "Closed while connecting" is the application giving up first, for the same causes: its own connect timeout, or an error it read while the kernel still retried. The kernel\'s limit is net.ipv4.tcp_syn_retries (6: ~127 s) or TCP_USER_TIMEOUT on the socket.';

/** Destinations named in the summary at most. */
const MAX_PEERS = 3;

/** Connections that never connected, by destination and by how the attempt ended. */
export function ruleConnectFailures(input: FindingsInput): Finding[] {
  const ev = input.events.filter((e): e is Extract<KaEvent, { type: 'close' }> => e.type === 'close' && e.how === 'connect_failed');
  if (!ev.length) return [];
  const { connections, processes } = eventSubjects(ev);
  const count = (keys: string[]) => [...keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>())].sort((a, b) => b[1] - a[1]);
  const peers = count(ev.map((e) => (e.peer ? endpointKey(e.peer) : '?')));
  const byError = count(ev.map((e) => e.error ?? 'none'));
  const how = byError.map(([err, n]) => (err === 'none' ? `closed by the application while connecting ${n}` : err === 'ETIMEDOUT' ? `timed out ${n} (ETIMEDOUT)` : `${err} ${n}`));
  return [finding({
    rule: 'connect-failures',
    severity: 'warning',
    summary: `${ev.length} connection attempt(s) never completed while ka-top watched, to ${peers.slice(0, MAX_PEERS).map(([p, n]) => `${p} ×${n}`).join(', ')}${peers.length > MAX_PEERS ? ', …' : ''}: ${how.join(', ')}.`,
    fix: FIX,
    evidence: { failures: ev.length, byError: Object.fromEntries(byError), peers: peers.map(([p]) => p) },
  }, connections, processes)];
}
