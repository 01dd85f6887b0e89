// Rule zero-linger-resets: SO_LINGER {1,0} closes, each one a reset (health-checker style).
import type { Finding } from '../../domain/finding.js';
import type { SocketOwner } from '../../domain/connection.js';
import { checkerOf } from '../apps/recognise.js';
import { eachConnection, evidenceRate, finding, groupBy, resetSenders, type FindingsInput } from './rule-kit.js';

const GENERIC_FIX = 'if it is a health checker, exclude its source from reset alerts, or make it close gracefully (no SO_LINGER {1,0}) or check at the application layer (an HTTP health check on the load balancer).';

/** Processes closing with SO_LINGER {1,0}: every close is a reset (typical of load-balancer health checkers). */
export function ruleZeroLingerResets(input: FindingsInput): Finding[] {
  const senders = resetSenders(input, 'linger');
  const out: Finding[] = [];
  // The closing processes as the inventories saw them (exe, cmdline), to recognise a known checker; only those, not
  // every owner of a busy host's 100k connections.
  const closers = new Set(senders.flatMap((s) => s.processes.map((p) => p.pid)));
  const owners = new Map<number, SocketOwner>();
  if (closers.size) eachConnection(input, (c) => {
    for (const p of c.processes) if (closers.has(p.pid)) owners.set(p.pid, p);
  });
  for (const s of senders) {
    const e0 = s.events[0]!;
    const peers = [...new Set(s.events.map((e) => e.peer ? `${e.peer.address}:${e.peer.port}` : '?'))];
    const checker = e0.pid !== null || e0.comm ? checkerOf(owners.get(e0.pid ?? -1) ?? { comm: e0.comm ?? '', cmdline: '' }) : null;
    out.push(finding({
      rule: 'zero-linger-resets',
      severity: s.rate !== null && s.rate >= 1 ? 'warning' : 'info',
      summary: `${s.who} closed ${s.events.length} connection(s) with SO_LINGER {1,0}${s.rate !== null ? ` (${s.rate.toFixed(2)}/s)` : ''}, so each close sent a reset to ${peers.slice(0, 3).join(', ')}${peers.length > 3 ? ', …' : ''}. ${checker ? `These are ${checker.entry.checker!.what} (recognised by ${checker.by}): reset counters rise on a healthy backend` : 'This is the pattern of TCP health checkers: reset counters rise on a healthy backend'}; it is not an outage by itself.`,
      fix: checker ? `${checker.entry.checker!.remedy}.` : GENERIC_FIX,
      evidence: { resets: s.events.length, ratePerSec: evidenceRate(s.rate), peers, reason: e0.reason, checker: checker ? { application: checker.entry.id, recognisedBy: checker.by } : null },
    }, s.connections, s.processes));
  }
  // Without events (plain snapshot or no tracer): the sockets that will do it.
  if (!senders.length) {
    const armed = input.connections.filter((c) => c.linger?.enabled && c.linger.seconds === 0 && c.state === 'ESTAB');
    for (const [, g] of groupBy(armed, (c) => `${c.process?.pid ?? '?'}`)) {
      const c0 = g[0]!;
      const checker = c0.process ? checkerOf(c0.process) : null;
      out.push(finding({
        rule: 'zero-linger-resets',
        severity: 'info',
        summary: `${g.length} connection(s) of ${c0.process ? `${c0.process.comm}[${c0.process.pid}]` : 'an unknown owner'} have SO_LINGER {1,0}: closing them sends a reset instead of a FIN (health-checker style).`,
        fix: checker ? `${checker.entry.checker!.remedy}.` : 'expected for health checkers; otherwise remove SO_LINGER {1,0} so closes are graceful.',
        evidence: { armedSockets: g.length, checker: checker ? { application: checker.entry.id, recognisedBy: checker.by } : null },
      }, g));
    }
  }
  return out;
}
