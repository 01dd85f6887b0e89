// A busy host holds more than 125k connections: V8 takes at most ~125k arguments in one call, so no path over all of
// them may spread them into one (Math.max(...all) threw RangeError there). 150k connections made from a real captured
// one (test/helpers/findings-fixture.ts), through the findings and the table.
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/domain/connection.js';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { evaluateFindings } from '../../src/model/findings/index.js';
import { renderTable } from '../../src/output/table.js';
import { CAPTURE, conn, event, input } from '../helpers/findings-fixture.js';

const N = 150_000;
const IDLE_MS = 600_000;

/** N idle connections without keepalive, of one process in one namespace, to a database through a middlebox. */
function idleConnections(): Connection[] {
  const base = conn({ keepalive: { enabled: false }, idleMs: { send: IDLE_MS, recv: IDLE_MS, ack: IDLE_MS } });
  return Array.from({ length: N }, (_, i) => ({
    ...base,
    id: `4026532000:${(0x100000 + i).toString(16)}`,
    local: { address: `198.18.${1 + Math.floor(i / 60_000)}.1`, port: 1024 + (i % 60_000) },
  }));
}

describe(`${N} connections`, () => {
  const connections = idleConnections();

  it('idle without keepalive: one finding naming all of them and their longest idle', () => {
    const f = evaluateFindings(input({ connections })).find((x) => x.rule === 'idle-without-keepalive');
    expect(f?.evidence).toMatchObject({ connectionCount: N, maxIdleMs: IDLE_MS });
  });

  it('a reset after a middlebox reclaim on each of them: one critical finding', () => {
    const w = { startMs: Date.parse('2026-01-01T00:00:00.000Z'), durationMs: 12_000, startInventoryMs: Date.parse('2026-01-01T00:00:00.000Z') };
    const events = connections.map((c) => event('rst_received', c, { inferredCause: 'peer_reset (sender not observed)' }, '2026-01-01T00:00:10.000Z'));
    const f = evaluateFindings(input({ connections: [], startConnections: connections, events, window: w }))
      .find((x) => x.rule === 'idle-flow-reset-by-middlebox');
    expect(f?.evidence).toMatchObject({ connectionCount: N });
  });

  it('snapshot --format table: a line for each', () => {
    const text = [...renderTable({ ...CAPTURE, capture: undefined, findings: [], connections } as SnapshotDocument)].join('');
    expect(text.split('\n').filter((l) => l.startsWith('ESTAB')).length).toBe(N);
  });
});
