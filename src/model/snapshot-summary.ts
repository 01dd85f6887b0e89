// The summary and warnings at the top of every snapshot, the TUI header and watch samples.
import type { Capabilities } from '../domain/capabilities.js';
import type { Connection, NetnsInfo, TcpState } from '../domain/connection.js';
import { netnsLabel } from '../domain/netns.js';
import type { SnapshotSummary } from '../domain/snapshot.js';

export function summarize(connections: readonly Connection[]): SnapshotSummary {
  const byState: Partial<Record<TcpState, number>> = {};
  const keepalive = { on: 0, off: 0, unknown: 0, probing: 0 };
  // Indexed, as in joinConnections (model/join.ts).
  for (let i = 0; i < connections.length; i++) {
    const c = connections[i]!;
    byState[c.state] = (byState[c.state] ?? 0) + 1;
    if (c.keepalive.enabled === true) keepalive.on++;
    else if (c.keepalive.enabled === false) keepalive.off++;
    else keepalive.unknown++;
    if ((c.keepalive.timer?.probesOutstanding ?? 0) > 0) keepalive.probing++;
  }
  return { connections: connections.length, byState, keepalive };
}

/** What ka-top could not see, in words, for the top of every output. */
export function warningsFor(caps: Capabilities, namespaces: readonly NetnsInfo[], ownersMissing: string | null, parseErrors: readonly string[]): string[] {
  const w: string[] = [];
  if (!caps.root.available) w.push(`not root: ${caps.root.detail}`);
  if (ownersMissing) w.push(`owners of some sockets are missing: ${ownersMissing}`);
  for (const ns of namespaces) if (ns.error) w.push(`netns ${netnsLabel(ns)}: ${ns.error}`);
  for (const e of parseErrors.slice(0, 20)) w.push(`unparsed ss line: ${e}`);
  if (parseErrors.length > 20) w.push(`… and ${parseErrors.length - 20} more unparsed ss lines`);
  return w;
}
