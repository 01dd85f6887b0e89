// Property tests of src/parse/ss.ts (the properties follow in the next commit); counter-examples they found.
import { describe, expect, it } from 'vitest';
import { parseSsOutput } from '../../src/parse/ss.js';

describe('SsStreamParser', () => {
  it('reports a continuation line with no record to continue (found by the property above)', () => {
    const r = parseSsOutput('\t ts sack bbr cwnd:10\n\nESTAB 0 0 1.2.3.4:1 5.6.7.8:2\n\n\t rto:200');
    expect(r.sockets).toHaveLength(1);
    expect(r.errors.map((e) => e.line)).toEqual([1, 5]);
  });
});
