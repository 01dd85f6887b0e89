// Property tests of src/parse/bpftrace-json.ts (the properties follow in the next commit); counter-examples they found.
import { describe, expect, it } from 'vitest';
import { parseBpftraceLine } from '../../src/parse/bpftrace-json.js';

describe('parseBpftraceLine', () => {
  it('takes a counter that is an object with its own toString as NaN (found by the property above)', () => {
    expect(parseBpftraceLine('{"type":"attached_probes","data":{"probes":{"toString":{}}}}')).toEqual({
      type: 'attached_probes',
      probes: NaN,
    });
  });
});
