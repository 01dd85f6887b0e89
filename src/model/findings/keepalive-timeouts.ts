// Rule keepalive-timeouts: connections the kernel declared dead in the window watched (a capture, or the live view's last minutes).
import type { KaEvent } from '../../domain/event.js';
import type { Finding } from '../../domain/finding.js';
import { eventSubjects, finding, type FindingsInput } from './rule-kit.js';

/** Connections the kernel ended because keepalive probes went unanswered. */
export function ruleKeepaliveTimeouts(input: FindingsInput): Finding[] {
  const ev = input.events.filter((e): e is Extract<KaEvent, { type: 'keepalive_timeout' }> => e.type === 'keepalive_timeout');
  if (!ev.length) return [];
  const { connections, processes, peers } = eventSubjects(ev);
  return [finding({
    rule: 'keepalive-timeouts',
    severity: 'critical',
    summary: `${ev.length} connection(s) were declared dead by keepalive while ka-top watched (the application got ETIMEDOUT); peers: ${peers.slice(0, 5).join(', ')}.`,
    fix: 'the peers stopped answering: check their hosts and the network path. The applications must reconnect on ETIMEDOUT.',
    evidence: { timeouts: ev.length, peers },
  }, connections, processes)];
}
