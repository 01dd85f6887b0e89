// The command-line filter over an inventory's connections, on the captured fixture.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TCP_STATES, type TcpState } from '../../src/domain/connection.js';
import type { ConnectionFilter } from '../../src/domain/filter.js';
import { filterConnections, matchesFilter } from '../../src/model/filter.js';
import { loadSnapshot, manyConnections } from '../helpers/tui-fixture.js';

const doc = loadSnapshot();
const conns = manyConnections(400, doc);
const ports = [...new Set(conns.map((c) => c.peer.port))];
const pids = [...new Set(conns.flatMap((c) => c.processes.map((p) => p.pid)))];
const netns = [...new Set(conns.map((c) => String(c.netns.inode)))];

const filters: fc.Arbitrary<ConnectionFilter> = fc.record({
  ports: fc.subarray(ports, { maxLength: 3 }),
  pids: fc.subarray(pids, { maxLength: 2 }),
  states: fc.subarray([...TCP_STATES] as TcpState[], { maxLength: 3 }),
  keepalive: fc.constantFrom(undefined, 'on', 'off'),
  netns: fc.subarray([...netns, '1'], { maxLength: 2 }),
}, { requiredKeys: [] }) as fc.Arbitrary<ConnectionFilter>;

describe('filterConnections', () => {
  it('keeps what matchesFilter keeps, in order, for any filter and any part of the inventory', () => {
    fc.assert(fc.property(filters, fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 400 }), (f, from, to) => {
      const part = conns.slice(Math.min(from, to), Math.max(from, to));
      expect(filterConnections(part, f)).toEqual(part.filter((c) => matchesFilter(c, f)));
    }), { numRuns: 300 });
  });

  it('is the inventory itself when the filter keeps all of it (--netns of the only namespace read): no copy', () => {
    expect(filterConnections(conns, {})).toBe(conns);
    expect(filterConnections(conns, { netns })).toBe(conns);
    const some = filterConnections(conns, { states: ['ESTAB'] });
    expect(some).not.toBe(conns);
    expect(some.length).toBeGreaterThan(0);
    expect(some.length).toBeLessThan(conns.length);
  });
});
