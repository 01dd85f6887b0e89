// Synthetic connections and events for the findings rule tests, built on real captured records.
import { readFileSync } from 'node:fs';
import type { KaEvent } from '../../src/domain/event.js';
import { DEFAULT_IDLE_TIMEOUTS } from '../../src/model/findings/index.js';
import type { FindingsInput } from '../../src/model/findings/rule-kit.js';
import type { Connection, NetnsInfo } from '../../src/domain/connection.js';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';

// A real capture of the scenario lab (see test/fixtures/capture/README.md).
export const CAPTURE = JSON.parse(readFileSync(new URL('../fixtures/capture/lab-capture-12s.json', import.meta.url), 'utf8')) as SnapshotDocument;
/** Rules added after CAPTURE was taken: the findings it recorded lack them. */
export const RULES_SINCE_CAPTURE: ReadonlySet<string> = new Set(['unread-data-resets', 'retransmit-timeouts', 'connect-failures']);
// A real connection as the template of the synthetic ones.
export const BASE = (JSON.parse(readFileSync(new URL('../fixtures/tui/snapshot-ka-peer.json', import.meta.url), 'utf8')) as SnapshotDocument)
  .connections.find((c) => c.state === 'ESTAB')!;

let port = 40000;
type Over = Partial<Omit<Connection, 'keepalive'>> & { keepalive?: Partial<Connection['keepalive']> };
export function conn(over: Over = {}): Connection {
  const p = port++;
  const c = structuredClone(BASE);
  return {
    ...c,
    id: `4026532000:${p.toString(16)}`,
    local: { address: '198.18.0.1', port: p },
    peer: { address: '198.18.100.7', port: 5432 },
    netns: { inode: 4026532000, name: 'kat-app', container: null },
    ...over,
    keepalive: { ...c.keepalive, ...over.keepalive },
  } as Connection;
}

export const ns = (over: Partial<NetnsInfo> = {}): NetnsInfo => ({
  inode: 4026532000, name: 'kat-app', container: null, self: false, error: null,
  sysctl: { tcp_keepalive_time: 7200, tcp_keepalive_intvl: 75, tcp_keepalive_probes: 9, tcp_retries2: 15, tcp_fin_timeout: 60 },
  ...over,
});

export const input = (over: Partial<FindingsInput> = {}): FindingsInput => ({
  connections: [], namespaces: [ns()], events: [], window: null, idleTimeouts: DEFAULT_IDLE_TIMEOUTS, ...over,
});

export const kaOn = (idleSec: number, source: 'socket' | 'sysctl' = 'socket') => ({
  enabled: true, idleSec, intervalSec: 75, probes: 9, sources: { idle: source, interval: source, probes: source },
});

export function event<T extends KaEvent['type']>(type: T, c: Connection | null, fields: Record<string, unknown>, ts = '2026-01-01T00:00:05.000Z'): KaEvent {
  return {
    type, ts, local: c?.local ?? null, peer: c?.peer ?? null, netns: c?.netns.inode ?? null, pid: c?.process?.pid ?? null,
    comm: c?.process?.comm ?? null, process: null, connection: c?.id ?? null, sk: 'ffff1', ...fields,
  } as KaEvent;
}

