// Rule idle-flow-reset-by-middlebox: a reset from an unseen sender on a flow idle longer than a middlebox timeout.
import type { Connection } from '../../domain/connection.js';
import type { Finding, IdleTimeout } from '../../domain/finding.js';
import { netnsLabel } from '../../domain/netns.js';
import { flowIdleMs } from '../flow.js';
import { finding, groupBy, keepaliveFix, maxOf, minIdleTimeout, perConnection, type FindingsInput } from './rule-kit.js';

interface Reclaimed { id: string; idleAtResetMs: number; timeout: IdleTimeout | null; conn: Connection; inferredCause: string }

/** Resets received on flows idle for at least a middlebox timeout, from a sender not seen on this host. */
export function reclaimedFlows(input: FindingsInput): Reclaimed[] {
  const minT = minIdleTimeout(input);
  const seen = input.lastSeen ?? new Map((input.startConnections ?? []).map((c) => [c.id, { connection: c, atMs: input.window?.startInventoryMs ?? 0 }]));
  const out: Reclaimed[] = [];
  if (!input.window) return out;
  for (const e of input.events) {
    if (e.type !== 'rst_received' || !e.connection || !e.inferredCause.startsWith('peer_reset')) continue;
    const obs = seen.get(e.connection);
    const idle = obs ? flowIdleMs(obs.connection) : null;
    if (!obs || idle === null) continue;
    // Idle when last seen, plus the time from that inventory to the reset.
    const idleAtReset = idle + Math.max(0, Date.parse(e.ts) - obs.atMs);
    if (idleAtReset < minT * 1000) continue;
    const fitting = input.idleTimeouts.filter((t) => t.seconds * 1000 <= idleAtReset).sort((a, b) => b.seconds - a.seconds);
    out.push({ id: obs.connection.id, idleAtResetMs: idleAtReset, timeout: fitting[0] ?? null, conn: obs.connection, inferredCause: e.inferredCause });
  }
  return out;
}

/** A reset arriving on a flow that had been idle longer than a middlebox timeout: the middlebox forgot it. */
export function ruleIdleReclaimed(input: FindingsInput): Finding[] {
  const r = reclaimedFlows(input);
  if (!r.length) return [];
  return [...groupBy(r, (x) => String(x.conn.netns.inode)).values()].map((g) => {
    const c0 = g[0]!.conn;
    const maxIdle = maxOf(g, (x) => x.idleAtResetMs);
    const t = g[0]!.timeout!;
    const { fix, applications } = keepaliveFix(g.map((x) => x.conn), Math.max(1, Math.floor(t.seconds * 0.8)));
    return finding({
      rule: 'idle-flow-reset-by-middlebox',
      severity: 'critical',
      summary: `${g.length} connection(s) in netns ${netnsLabel(c0.netns)} received a reset after ${Math.round(maxIdle / 1000)} s of idleness, from a sender not seen on this host: a middlebox with an idle timeout (matches ${t.name} ${t.seconds} s) dropped the flow and rejected the next packet.`,
      fix: `keep such flows busier than the timeout: ${fix}`,
      evidence: { idleAtResetMs: perConnection(g.map((x) => [x.id, x.idleAtResetMs] as const)), matchedTimeout: t, applications },
    }, g.map((x) => x.conn));
  });
}
