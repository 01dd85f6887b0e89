// Rule default-keepalive-sysctl-behind-middlebox: a namespace left on 7200/75/9 whose flows cross a middlebox.
import type { Finding } from '../../domain/finding.js';
import { netnsLabel } from '../../domain/netns.js';
import { isLoopback } from '../flow.js';
import { reclaimedFlows } from './idle-reclaimed.js';
import type { Connection } from '../../domain/connection.js';
import { LINUX_DEFAULTS, finding, hostAddresses, minIdleTimeout, type FindingsInput } from './rule-kit.js';

/** Keepalive from the namespace sysctl, or no keepalive at all. */
const reliesOnDefaults = (c: Connection): boolean =>
  c.keepalive.enabled === false || (c.keepalive.enabled === true && c.keepalive.sources.idle === 'sysctl');

/** Namespaces on the 7200/75/9 defaults whose connections cross a middlebox (heuristic, see the README, Findings). */
export function ruleDefaultSysctlBehindMiddlebox(input: FindingsInput): Finding[] {
  const local = hostAddresses(input);
  const reclaimedConns = reclaimedFlows(input).map((r) => r.conn);
  const minT = minIdleTimeout(input);
  const out: Finding[] = [];
  for (const ns of input.namespaces) {
    const s = ns.sysctl;
    if (!s || s.tcp_keepalive_time !== LINUX_DEFAULTS.tcp_keepalive_time || s.tcp_keepalive_intvl !== LINUX_DEFAULTS.tcp_keepalive_intvl || s.tcp_keepalive_probes !== LINUX_DEFAULTS.tcp_keepalive_probes) continue;
    const conns = input.connections.filter((c) => c.netns.inode === ns.inode && c.state === 'ESTAB');
    const relying = conns.filter(reliesOnDefaults);
    const remote = relying.filter((c) => !isLoopback(c.peer.address) && !local.has(c.peer.address));
    // A middlebox's reset blames the sysctl only on a flow that relied on it (not one with keepalive set on the socket).
    const reclaimedHere = reclaimedConns.filter((c) => c.netns.inode === ns.inode && reliesOnDefaults(c));
    const sign = reclaimedHere.length > 0;
    if (!sign && !remote.length) continue;
    const concerned = sign ? [...new Set([...reclaimedHere, ...relying])] : remote;
    out.push(finding({
      rule: 'default-keepalive-sysctl-behind-middlebox',
      severity: sign ? 'warning' : 'info',
      summary: `netns ${netnsLabel(ns)} still uses the Linux keepalive defaults (7200 s idle / 75 s / 9 probes) while ${sign ? 'a middlebox reset an idle flow there during the capture' : `${remote.length} connection(s) relying on them go to peers outside this host`}: a flow idle for 2 hours is far beyond any load-balancer/NAT idle timeout (${input.idleTimeouts.map((t) => `${t.name} ${t.seconds} s`).join(', ')}).`,
      fix: `in netns ${netnsLabel(ns)}: \`sysctl -w net.ipv4.tcp_keepalive_time=${Math.max(1, Math.floor(minT * 0.8))} net.ipv4.tcp_keepalive_intvl=${Math.max(1, Math.min(30, Math.floor(minT / 4)))} net.ipv4.tcp_keepalive_probes=5\` (persist it in /etc/sysctl.d or the pod's \`securityContext.sysctls\`); applications still need SO_KEEPALIVE on their sockets.`,
      evidence: { netns: netnsLabel(ns), sysctl: s, middleboxSign: sign ? 'reset received on an idle flow' : 'peers outside this host', connectionsRelying: sign ? concerned.length : relying.length },
    }, concerned));
  }
  return out;
}
