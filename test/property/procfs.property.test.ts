// Property tests of src/parse/procfs.ts (the properties follow in the next commit); counter-examples they found.
import { describe, expect, it } from 'vitest';
import { parseStartTime } from '../../src/parse/procfs.js';

describe('parseStartTime', () => {
  it('gives null for a stat line cut right after field 21 (found by the property above)', () => {
    expect(parseStartTime(`1 (a) S${' 0'.repeat(18)} `)).toBeNull();
  });
});
