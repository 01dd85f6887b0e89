// Rule user-timeout-overrides-keepalive: TCP_USER_TIMEOUT decides instead of TCP_KEEPCNT.
import type { Finding } from '../../domain/finding.js';
import { appEntry, applicationOf } from '../apps/recognise.js';
import { finding, groupBy, latestWhere, type FindingsInput } from './rule-kit.js';

/** TCP_USER_TIMEOUT decides instead of TCP_KEEPCNT, or is shorter than the keepalive idle. */
export function ruleUserTimeout(input: FindingsInput): Finding[] {
  // Both inventories: a connection that died in the window (its user timeout fired) still counts.
  const hit = latestWhere(input, (c) => (c.userTimeoutMs ?? 0) > 0 && c.keepalive.enabled === true && c.keepalive.idleSec !== null);
  return [...groupBy(hit, (c) => `${c.process?.pid ?? '?'}/${c.userTimeoutMs}/${c.keepalive.idleSec}/${c.keepalive.intervalSec}/${c.keepalive.probes}`).values()].map((g) => {
    const c0 = g[0]!;
    const k = c0.keepalive;
    const ut = c0.userTimeoutMs!;
    const byProbes = (k.idleSec! + (k.intervalSec ?? 0) * (k.probes ?? 0)) * 1000;
    const shorter = ut < k.idleSec! * 1000;
    // The owner's own setting first: a recognised application's, or the library whose default the value matches.
    const app = applicationOf(c0);
    const owner = appEntry(app?.id ?? null)?.userTimeoutFix ? appEntry(app!.id)! : appEntry(app?.keepaliveRule ?? null);
    const own = owner?.userTimeoutFix ? `${owner.userTimeoutFix}${app?.recognisedBy ? ` (${app.name}, recognised by ${app.recognisedBy})` : app?.keepalive ? ` (${app.keepalive})` : ''}; ` : '';
    return finding({
      rule: 'user-timeout-overrides-keepalive',
      severity: shorter ? 'warning' : 'info',
      summary: shorter
        ? `${g.length} connection(s) of ${c0.process?.comm ?? '?'} have TCP_USER_TIMEOUT ${ut} ms, shorter than the keepalive idle of ${k.idleSec} s: once idle that long, the first keepalive timer run kills the connection at the first unanswered probe; TCP_KEEPINTVL/TCP_KEEPCNT do not matter.`
        : `${g.length} connection(s) of ${c0.process?.comm ?? '?'} have TCP_USER_TIMEOUT ${ut} ms: it, not TCP_KEEPCNT, decides when a silent peer is declared dead (~${Math.round(ut / 1000)} s of silence instead of ${Math.round(byProbes / 1000)} s by ${k.probes} probes). Usually set by gRPC (its keepalive timeout).`,
      fix: `keep it longer than TCP_KEEPIDLE + one TCP_KEEPINTVL${own ? `, most specific first: ${own}or ` : ': '}setsockopt(TCP_USER_TIMEOUT) on the socket (gRPC sets it from \`GRPC_ARG_KEEPALIVE_TIMEOUT_MS\` / \`keepalive_timeout\`).`,
      evidence: { userTimeoutMs: ut, keepaliveIdleSec: k.idleSec, intervalSec: k.intervalSec, probes: k.probes, giveUpByProbesMs: byProbes, application: app ?? null },
    }, g);
  });
}
