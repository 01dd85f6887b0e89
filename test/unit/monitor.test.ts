// The Monitor's rows of the last refreshes: new ids (highlighted) and closed connections (listed a while).
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/domain/connection.js';
import { CLOSED_KEEP_MS, FreshIds, HIGHLIGHT_MS, MAX_CLOSED, closedAfter } from '../../src/engine/monitor.js';

const conn = (i: number, state: Connection['state'] = 'TIME-WAIT') => ({ id: `c${i}`, state }) as Connection;
const range = (from: number, n: number, state?: Connection['state']) => Array.from({ length: n }, (_, k) => conn(from + k, state));

describe('FreshIds', () => {
  it('holds each refresh\'s new ids for HIGHLIGHT_MS, and nothing of the first inventory', () => {
    let f = new FreshIds().next(0, HIGHLIGHT_MS, []);
    expect(f.has('c0')).toBe(false);
    f = f.next(2000, HIGHLIGHT_MS, range(0, 3));
    f = f.next(4000, HIGHLIGHT_MS, range(3, 3));
    expect(['c0', 'c2', 'c3', 'c5'].map((id) => f.has(id))).toEqual([true, true, true, true]);
    f = f.next(2000 + HIGHLIGHT_MS, HIGHLIGHT_MS, []);
    expect(['c0', 'c3'].map((id) => f.has(id))).toEqual([false, true]);
    expect(f.next(2000 + HIGHLIGHT_MS + 1, HIGHLIGHT_MS, [])).toBe(f); // nothing expired, nothing new: the same
  });
});

describe('closedAfter', () => {
  it('a churn of 12k closes: the newest MAX_CLOSED that the filter keeps, in the order they went', () => {
    const gone = range(0, 12_000);
    const closed = closedAfter([], gone, (c) => Number(c.id.slice(1)) % 2 === 0, 1000, 500);
    expect(closed).toHaveLength(MAX_CLOSED);
    expect(closed[0]!.connection.id).toBe(`c${12_000 - 2 * MAX_CLOSED}`);
    expect(closed.at(-1)).toEqual({ connection: conn(11_998), closedAt: 1000, lastSeenAt: 500 });
    expect(closed.every((c, i) => i === 0 || Number(c.connection.id.slice(1)) > Number(closed[i - 1]!.connection.id.slice(1)))).toBe(true);
  });

  it('keeps a closed connection CLOSED_KEEP_MS (TIME-WAIT and the like HIGHLIGHT_MS), the oldest dropped first when full', () => {
    const listed = closedAfter([], [conn(1, 'ESTAB'), conn(2)], () => true, 0, 0);
    const later = closedAfter(listed, [], () => true, HIGHLIGHT_MS, 0);
    expect(later.map((c) => c.connection.id)).toEqual(['c1']);
    expect(closedAfter(later, [], () => true, CLOSED_KEEP_MS, 0)).toEqual([]);
    const full = closedAfter(listed, range(10, MAX_CLOSED), () => true, 1, 0);
    expect(full).toHaveLength(MAX_CLOSED);
    expect(full[0]!.connection.id).toBe('c10');
  });

  it('the same list when nothing expired and nothing closed (the view keys its order on it)', () => {
    const listed = closedAfter([], [conn(1, 'ESTAB')], () => true, 0, 0);
    expect(closedAfter(listed, [], () => true, 1000, 0)).toBe(listed);
    expect(closedAfter(listed, [conn(2, 'ESTAB')], () => false, 1000, 0)).toBe(listed);
    expect(closedAfter(listed, [conn(2, 'ESTAB')], () => true, 1000, 0)).not.toBe(listed);
  });
});
