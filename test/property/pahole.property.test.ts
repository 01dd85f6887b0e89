// Property tests of src/parse/pahole.ts (the properties follow in the next commit); counter-examples they found.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/parse/parse-error.js';
import { offsetOf, parsePahole } from '../../src/parse/pahole.js';

const REAL = parsePahole(readFileSync(new URL('../fixtures/tracing/pahole-6.18.txt', import.meta.url), 'utf8'));

describe('parsePahole', () => {
  it('keeps a member named __proto__ (found by the property above)', () => {
    const l = parsePahole('struct a {\n\tint   __proto__;   /*     8    4 */\n};');
    expect(Object.keys(l.a!)).toEqual(['__proto__']);
    expect(offsetOf(l, 'a', '__proto__')).toBe(8);
  });
});

describe('offsetOf', () => {
  it('rejects a path through Object.prototype instead of returning NaN (found by the property above)', () => {
    expect(() => offsetOf(REAL, 'sock', '__proto__')).toThrow(ParseError);
    expect(() => offsetOf(REAL, 'constructor', 'name')).toThrow(ParseError);
  });
});
