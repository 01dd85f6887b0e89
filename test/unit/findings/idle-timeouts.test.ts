import { describe, expect, it } from 'vitest';
import { parseIdleTimeouts } from '../../../src/cli/args.js';
import { DEFAULT_IDLE_TIMEOUTS } from '../../../src/model/findings/index.js';

describe('idle timeouts', () => {
  it('parses name=seconds lists with unit suffixes and rejects junk', () => {
    expect(parseIdleTimeouts('aws-nlb=350, lab=8,corp=5m')).toEqual([
      { name: 'aws-nlb', seconds: 350 }, { name: 'lab', seconds: 8 }, { name: 'corp', seconds: 300 },
    ]);
    for (const bad of ['', 'x', 'x=', 'x=-1', 'x=0', 'a b=3']) expect(() => parseIdleTimeouts(bad), bad).toThrow();
  });
  it('defaults are the documented vendor values', () => {
    expect(Object.fromEntries(DEFAULT_IDLE_TIMEOUTS.map((t) => [t.name, t.seconds]))).toEqual({ 'azure-lb': 240, 'aws-nlb': 350, 'aws-nat': 350, 'gcp-nat': 1200 });
  });
});
