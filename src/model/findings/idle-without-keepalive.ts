// Rule idle-without-keepalive: long-idle flows that nothing keeps fresh and no dead peer would be noticed on.
import type { Connection } from '../../domain/connection.js';
import type { Finding } from '../../domain/finding.js';
import { netnsLabel } from '../../domain/netns.js';
import { flowIdleMs } from '../flow.js';
import { crossing, finding, groupBy, keepaliveFix, keptAliveByPeer, maxOf, minIdleTimeout, type FindingsInput } from './rule-kit.js';

/** Long-idle connections without keepalive: nothing detects a dead peer or keeps a middlebox's entry fresh. */
export function ruleIdleWithoutKeepalive(input: FindingsInput): Finding[] {
  const minT = minIdleTimeout(input);
  const keptAlive = keptAliveByPeer(input, minT);
  const idleOf = (c: Connection) => Math.max(flowIdleMs(c) ?? 0, input.observedIdleMs?.get(c.id) ?? 0);
  const hit = crossing(input.connections, (c) => c.keepalive.enabled === false && idleOf(c) >= minT * 1000).filter((c) => !keptAlive(c));
  return [...groupBy(hit, (c) => `${c.netns.inode}/${c.process?.comm ?? '?'}`).values()].map((g) => {
    const c0 = g[0]!;
    const maxIdle = maxOf(g, idleOf);
    const { fix, applications } = keepaliveFix(g, Math.max(1, Math.floor(minT * 0.8)));
    const exceeded = input.idleTimeouts.filter((t) => t.seconds * 1000 <= maxIdle).sort((a, b) => a.seconds - b.seconds);
    return finding({
      rule: 'idle-without-keepalive',
      severity: 'warning',
      summary: `${g.length} connection(s) of ${c0.process?.comm ?? 'unknown owner'} in netns ${netnsLabel(c0.netns)} were idle up to ${Math.round(maxIdle / 1000)} s with keepalive off, longer than ${exceeded.map((t) => `${t.name} ${t.seconds} s`).join(', ')}: a middlebox with such an idle timeout silently forgets the flow (the next send hangs or is reset), and a peer that vanished is never noticed.`,
      fix,
      evidence: { maxIdleMs: maxIdle, exceeds: exceeded, applications },
    }, g);
  });
}
