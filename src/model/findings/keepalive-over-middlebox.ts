// Rule keepalive-idle-over-middlebox-timeout: the first probe comes after a middlebox has already forgotten the flow.
import type { Finding } from '../../domain/finding.js';
import { netnsLabel } from '../../domain/netns.js';
import { finding, groupBy, keepaliveFix, keptAliveByPeer, longLived, minIdleTimeout, type FindingsInput } from './rule-kit.js';

/** Keepalive idle longer than a middlebox idle timeout: the flow is dropped before the first probe. */
export function ruleKeepaliveOverMiddlebox(input: FindingsInput): Finding[] {
  const minT = minIdleTimeout(input);
  const keptAlive = keptAliveByPeer(input, minT);
  const hit = longLived(input, (c) => c.keepalive.enabled === true && c.keepalive.idleSec !== null && c.keepalive.idleSec > minT).filter((c) => !keptAlive(c));
  return [...groupBy(hit, (c) => `${c.netns.inode}/${c.keepalive.idleSec}/${c.keepalive.sources.idle}`).values()].map((g) => {
    const c0 = g[0]!;
    const idle = c0.keepalive.idleSec!;
    const exceeded = input.idleTimeouts.filter((t) => idle > t.seconds).sort((a, b) => a.seconds - b.seconds);
    const target = Math.max(1, Math.floor(exceeded[0]!.seconds * 0.8));
    const { fix, applications } = keepaliveFix(g, target);
    return finding({
      rule: 'keepalive-idle-over-middlebox-timeout',
      severity: 'warning',
      summary: `${g.length} long-lived connection(s) in netns ${netnsLabel(c0.netns)} wait ${idle} s of idleness before the first keepalive probe (${c0.keepalive.sources.idle === 'socket' ? 'set on the socket' : 'namespace sysctl'}), longer than ${exceeded.map((t) => `${t.name} ${t.seconds} s`).join(', ')}: a load balancer or NAT on the path silently drops such a flow once it idles, and the next send hangs or gets a reset.`,
      fix,
      evidence: { keepaliveIdleSec: idle, source: c0.keepalive.sources.idle, netns: netnsLabel(c0.netns), exceeds: exceeded, applications },
    }, g);
  });
}
