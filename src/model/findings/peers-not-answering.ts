// Rule peers-not-answering-probes: keepalive probes going unanswered, now or during the window.
import type { Connection } from '../../domain/connection.js';
import type { Finding } from '../../domain/finding.js';
import { appEntry, applicationOf } from '../apps/recognise.js';
import { eachConnection, finding, latestOf, perConnection, type FindingsInput } from './rule-kit.js';

/** Peers not answering keepalive probes: probes outstanding now, or probes sent while earlier ones were unanswered. */
export function rulePeersNotAnswering(input: FindingsInput): Finding[] {
  const outstanding = new Map<string, number>();
  eachConnection(input, (c) => {
    const po = c.keepalive.timer?.probesOutstanding ?? 0;
    if (po > 0) outstanding.set(c.id, Math.max(po, outstanding.get(c.id) ?? 0));
  });
  const unanswered = new Map<string, { n: number; pid: number | null; comm: string | null; peer: string | null }>();
  for (const e of input.events) {
    // probesOutstanding counts this probe: 2 or more means the previous one got no answer.
    if (e.type === 'keepalive_probe' && e.probesOutstanding >= 2 && e.connection) {
      const u = unanswered.get(e.connection);
      unanswered.set(e.connection, { n: Math.max(u?.n ?? 0, e.probesOutstanding), pid: e.pid, comm: e.comm, peer: e.peer?.address ?? null });
    }
  }
  const ids = [...new Set([...outstanding.keys(), ...unanswered.keys()])];
  if (!ids.length) return [];
  const byId = latestOf(input, new Set(ids));
  const conns = ids.map((id) => byId.get(id)).filter((c): c is Connection => !!c);
  const procs = new Map<number, string>();
  for (const c of conns) if (c.process) procs.set(c.process.pid, c.process.comm);
  for (const u of unanswered.values()) if (u.pid !== null) procs.set(u.pid, u.comm ?? '?');
  // A connection the probes have already killed is in no inventory any more: its probes name its peer.
  const peers = [...new Set(ids.map((id) => byId.get(id)?.peer.address ?? unanswered.get(id)?.peer).filter((p): p is string => !!p))];
  const named = peers.length ? ` (peer${peers.length === 1 ? '' : 's'} ${peers.slice(0, 5).join(', ')}${peers.length > 5 ? ', …' : ''})` : '';
  // The owners' own settings for the probe interval and count, from the applications table.
  const own = [...new Set(conns.map((c) => appEntry(applicationOf(c)?.id ?? null)).filter((e) => !!e))]
    .map((e) => `${e.name} ${e.settings.filter((s) => /TCP_KEEPINTVL|TCP_KEEPCNT/.test(s.maps)).map((s) => `\`${s.setting}\``).join(', ')}`)
    .filter((t) => t.includes('`'));
  return [finding({
    rule: 'peers-not-answering-probes',
    severity: 'warning',
    summary: `${ids.length} connection(s) have keepalive probes going unanswered${named}: the peer host is down, partitioned, or a firewall/middlebox drops the flow. The kernel will reset them when the probes run out.`,
    fix: `check the peers' reachability (ping, the peer service's health); if the peer is gone for good nothing is needed: keepalive will end these connections. If probes are answered too late, raise the interval and count, most specific first: ${own.length ? `${own.join('; ')}; or ` : ''}TCP_KEEPINTVL/TCP_KEEPCNT on the socket; or net.ipv4.tcp_keepalive_intvl/_probes in the namespace.`,
    evidence: {
      // cut to MAX_IDS entries like the id list; connectionCount has the total
      probesOutstandingNow: perConnection(outstanding),
      unansweredProbesSeen: perConnection([...unanswered].map(([id, u]) => [id, u.n] as const)),
      peers,
    },
  }, ids, [...procs].map(([pid, comm]) => ({ pid, comm })))];
}
