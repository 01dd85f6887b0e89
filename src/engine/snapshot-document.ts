// The snapshot document of one inventory (and, for a capture, its window): filtered connections, summary,
// warnings, findings and the capture's events. Built here for `snapshot`, `snapshot --capture` and the TUI's `e`.
import type { Capabilities } from '../domain/capabilities.js';
import type { Connection } from '../domain/connection.js';
import { heldBackByType, heldBackTotal } from '../domain/counts.js';
import type { KaEvent } from '../domain/event.js';
import type { ConnectionFilter } from '../domain/filter.js';
import type { IdleTimeout } from '../domain/finding.js';
import type { Inventory } from '../domain/inventory.js';
import { SNAPSHOT_SCHEMA, type CaptureInfo, type SnapshotDocument } from '../domain/snapshot.js';
import { eventMatchesFilter, matchesFilter, netnsNames, netnsSelected } from '../model/filter.js';
import { DEFAULT_IDLE_TIMEOUTS, evaluateFindings } from '../model/findings/index.js';
import { summarize, warningsFor } from '../model/snapshot-summary.js';
import { capabilitiesFrom } from './capabilities.js';
import { packageVersion } from '../sources/exec.js';
import { liveHost, liveInventory } from '../sources/live.js';
import type { HostDetails } from '../sources/host-details.js';
import type { HostPort } from '../sources/ports.js';
import { probeTracingHost } from '../sources/tracing-host.js';
import type { CaptureResult } from './capture.js';
import { collectInventory } from './inventory.js';

const netnsMatcher = (filter: ConnectionFilter) => filter.netns?.length
  ? (ns: { inode: number; name: string | null }) => netnsSelected(filter, ns.inode, ns.name)
  : undefined;

export async function buildSnapshot(filter: ConnectionFilter, idleTimeouts: readonly IdleTimeout[] = DEFAULT_IDLE_TIMEOUTS): Promise<SnapshotDocument> {
  // Only the capabilities are needed here (no program to build); the probe runs alongside the inventory.
  const host = probeTracingHost({ programDetails: false });
  const details = liveHost.details();
  const inv = await collectInventory(liveInventory(), { netns: netnsMatcher(filter) });
  const capabilities = capabilitiesFrom(await host, inv.sockoptReads);
  return snapshotDocument(inv, capabilities, filter, undefined, { idleTimeouts, hostDetails: await details });
}

export interface DocumentExtras {
  idleTimeouts?: readonly IdleTimeout[];
  /** Distribution, uptime and interface addresses, read alongside the inventory (HostPort.details). */
  hostDetails?: HostDetails;
  /** A capture window; `inv` is then its end inventory. */
  capture?: { result: CaptureResult; requestedMs: number };
}

function countByType(events: readonly KaEvent[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const e of events) by[e.type] = (by[e.type] ?? 0) + 1;
  return by;
}

/** The document for one collected inventory: `snapshot`, `snapshot --capture`, and the TUI's `e` key with the
 *  rows it shows. */
export function snapshotDocument(
  inv: Inventory,
  capabilities: Capabilities,
  filter: ConnectionFilter,
  connections: Connection[] = inv.connections.filter((c) => matchesFilter(c, filter)),
  extras: DocumentExtras = {},
  host: HostPort = liveHost,
): SnapshotDocument {
  const ownSysctl = host.ownSysctls();
  const idleTimeouts = [...(extras.idleTimeouts ?? DEFAULT_IDLE_TIMEOUTS)];
  const inNs = netnsMatcher(filter);
  const namespaces = inNs ? inv.namespaces.filter(inNs) : inv.namespaces;
  const warnings = warningsFor(capabilities, namespaces, inv.ownersMissing, inv.parseErrors);
  const cap = extras.capture?.result;
  let capture: CaptureInfo | undefined;
  let events: KaEvent[] | undefined;
  let startConnections: Connection[] | undefined;
  let closedConnections: Connection[] | undefined;
  if (cap) {
    const names = netnsNames(cap.end.namespaces.concat(cap.start.namespaces));
    events = cap.events.filter((e) => eventMatchesFilter(e, filter, names));
    startConnections = cap.start.connections.filter((c) => matchesFilter(c, filter));
    const now = new Set(connections.map((c) => c.id));
    // Every connection some inventory of the window saw that is gone at the end (events link to them).
    closedConnections = [...cap.lastSeen.values()].map((s) => s.connection).filter((c) => !now.has(c.id) && matchesFilter(c, filter));
    if (!cap.tracing.on) warnings.push(`no events were captured: ${cap.tracing.reason ?? 'tracing unavailable'}; both inventories were still taken`);
    for (const m of cap.tracing.missing) warnings.push(`not traced: ${m}`);
    if (cap.counts?.lostEvents) warnings.push(`the tracer lost ${cap.counts.lostEvents} events (its counts stay exact)`);
    const heldBack = heldBackTotal(cap.counts?.cappedEvents);
    if (heldBack) warnings.push(`the tracer held back ${heldBack} events beyond the events a second each type may hand over (${heldBackByType(cap.counts?.cappedEvents)}; --event-rate raises it; its counts stay exact)`);
    if (cap.eventsDropped) warnings.push(`${cap.eventsDropped} events beyond the first ${cap.events.length} were not kept (counts stay exact)`);
    capture = {
      startedAt: new Date(cap.startedAt).toISOString(),
      endedAt: new Date(cap.endedAt).toISOString(),
      durationMs: cap.endedAt - cap.startedAt,
      requestedMs: extras.capture!.requestedMs,
      interrupted: cap.interrupted,
      inventories: {
        start: { takenAt: cap.start.takenAt, summary: summarize(startConnections) },
        end: { takenAt: inv.takenAt, summary: summarize(connections) },
      },
      tracing: cap.tracing,
      lostEvents: cap.counts?.lostEvents ?? 0,
      eventsDropped: cap.eventsDropped,
      eventsByType: countByType(events),
      counts: cap.counts,
    };
  }
  const findings = evaluateFindings({
    connections,
    startConnections,
    namespaces,
    events: events ?? [],
    window: cap ? { startMs: cap.startedAt, durationMs: cap.endedAt - cap.startedAt, startInventoryMs: Date.parse(cap.start.takenAt) } : null,
    idleTimeouts,
    observedIdleMs: cap?.observedIdleMs,
    lastSeen: cap?.lastSeen,
    // From the whole inventory, whatever rows were selected: the same data gives the same answer everywhere.
    hostAddresses: new Set([
      ...[...inv.connections, ...(cap?.start.connections ?? [])].map((c) => c.local.address),
      ...(extras.hostDetails?.addresses ?? []),
    ]),
  });
  return {
    schema: SNAPSHOT_SCHEMA,
    takenAt: inv.takenAt,
    kaTopVersion: packageVersion(),
    host: { ...host.facts(), ...extras.hostDetails },
    sysctl: typeof ownSysctl === 'string' ? null : ownSysctl,
    capabilities,
    namespaces,
    summary: summarize(connections),
    ...(Object.keys(filter).length ? { filters: filter } : {}),
    warnings,
    findings,
    idleTimeouts,
    ...(capture ? { capture } : {}),
    connections,
    ...(closedConnections ? { closedConnections } : {}),
    ...(events ? { events } : {}),
  };
}
