// The rules' lean lookups over two inventories give what indexing every connection by id gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/domain/connection.js';
import { latestWhere, type FindingsInput } from '../../../src/model/findings/rule-kit.js';

/** A connection reduced to what the lookup reads: its id, and a mark the predicate tests. */
const conn = (id: string, mark: boolean) => ({ id, mark }) as unknown as Connection;
const marked = (c: Connection) => (c as unknown as { mark: boolean }).mark;

describe('latestWhere', () => {
  it('is the latest version of each id (end over start, first-seen order) that passes the test', () => {
    const version = fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.boolean()).map(([id, mark]) => conn(id, mark));
    fc.assert(fc.property(fc.option(fc.array(version, { maxLength: 8 }), { nil: undefined }), fc.array(version, { maxLength: 8 }), (start, end) => {
      const input: FindingsInput = { connections: end, startConnections: start, namespaces: [], events: [], window: null, idleTimeouts: [] };
      const everything = new Map([...(start ?? []), ...end].map((c) => [c.id, c]));
      expect(latestWhere(input, marked)).toEqual([...everything.values()].filter(marked));
    }), { numRuns: 300 });
  });
});
