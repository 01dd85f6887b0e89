// Rule default-keepalive-sysctl-behind-middlebox: a namespace left on 7200/75/9 whose flows cross a middlebox.
import type { Finding } from '../../domain/finding.js';
import { netnsLabel } from '../../domain/netns.js';
import { isLoopback } from '../flow.js';
import { reclaimedFlows } from './idle-reclaimed.js';
import type { Connection } from '../../domain/connection.js';
import { fixValues, ownerAdvice } from '../apps/recognise.js';
import { LINUX_DEFAULTS, finding, hostAddresses, minIdleTimeout, type FindingsInput } from './rule-kit.js';

/** Keepalive from the namespace sysctl, or no keepalive at all. */
const reliesOnDefaults = (c: Connection): boolean =>
  c.keepalive.enabled === false || (c.keepalive.enabled === true && c.keepalive.sources.idle === 'sysctl');

/** Namespaces on the 7200/75/9 defaults whose connections cross a middlebox (heuristic, see the README, Findings). */
export function ruleDefaultSysctlBehindMiddlebox(input: FindingsInput): Finding[] {
  const onDefaults = input.namespaces.filter((ns) => {
    const s = ns.sysctl;
    return !!s && s.tcp_keepalive_time === LINUX_DEFAULTS.tcp_keepalive_time && s.tcp_keepalive_intvl === LINUX_DEFAULTS.tcp_keepalive_intvl && s.tcp_keepalive_probes === LINUX_DEFAULTS.tcp_keepalive_probes;
  });
  if (!onDefaults.length) return [];
  // The ESTAB connections relying on the defaults, by namespace: one pass over the inventory, not one per namespace.
  const relyingByNs = new Map(onDefaults.map((ns) => [ns.inode, [] as Connection[]]));
  const conns = input.connections;
  for (let i = 0; i < conns.length; i++) {
    const c = conns[i]!;
    if (c.state === 'ESTAB' && reliesOnDefaults(c)) relyingByNs.get(c.netns.inode)?.push(c);
  }
  let local: ReadonlySet<string> | null = null;
  const reclaimedConns = reclaimedFlows(input).map((r) => r.conn);
  const minT = minIdleTimeout(input);
  const out: Finding[] = [];
  for (const ns of onDefaults) {
    const s = ns.sysctl!;
    const relying = relyingByNs.get(ns.inode)!;
    const remote = relying.filter((c) => !isLoopback(c.peer.address) && !(local ??= hostAddresses(input)).has(c.peer.address));
    // A middlebox's reset blames the sysctl only on a flow that relied on it (not one with keepalive set on the socket).
    const reclaimedHere = reclaimedConns.filter((c) => c.netns.inode === ns.inode && reliesOnDefaults(c));
    const sign = reclaimedHere.length > 0;
    if (!sign && !remote.length) continue;
    const concerned = sign ? [...new Set([...reclaimedHere, ...relying])] : remote;
    const idle = Math.max(1, Math.floor(minT * 0.8));
    const intvl = Math.max(1, Math.min(30, Math.floor(minT / 4)));
    // Most specific first: the owners' own settings, then the namespace sysctl for every socket.
    const owners = ownerAdvice(concerned, { ...fixValues(idle), intervalSec: intvl });
    const own = owners.settings.length ? `per application: ${owners.settings.join('; ')}; for every socket ` : '';
    out.push(finding({
      rule: 'default-keepalive-sysctl-behind-middlebox',
      severity: sign ? 'warning' : 'info',
      summary: `netns ${netnsLabel(ns)} still uses the Linux keepalive defaults (7200 s idle / 75 s / 9 probes) while ${sign ? 'a middlebox reset an idle flow there as ka-top watched' : `${remote.length} connection(s) relying on them go to peers outside this host`}: a flow idle for 2 hours is far beyond any load-balancer/NAT idle timeout (${input.idleTimeouts.map((t) => `${t.name} ${t.seconds} s`).join(', ')}).`,
      fix: `${own}in netns ${netnsLabel(ns)}: \`sysctl -w net.ipv4.tcp_keepalive_time=${idle} net.ipv4.tcp_keepalive_intvl=${intvl} net.ipv4.tcp_keepalive_probes=5\` (persist it in /etc/sysctl.d or the pod's \`securityContext.sysctls\`); applications still need SO_KEEPALIVE on their sockets.`,
      evidence: { netns: netnsLabel(ns), sysctl: s, middleboxSign: sign ? 'reset received on an idle flow' : 'peers outside this host', connectionsRelying: sign ? concerned.length : relying.length, applications: owners.evidence },
    }, concerned));
  }
  return out;
}
