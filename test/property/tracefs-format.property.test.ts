// Property tests of src/parse/tracefs-format.ts (the properties follow in the next commit); counter-examples found.
import { describe, expect, it } from 'vitest';
import { printSymbolic } from '../../src/parse/tracefs-format.js';

describe('printSymbolic', () => {
  it('reads 0X hex and negative hex values, and a name holding a parenthesis (found by the property above)', () => {
    expect(printSymbolic('__print_symbolic(REC->a, { 0X0, "" })', 'a')).toEqual(new Map([[0, '']]));
    expect(printSymbolic('__print_symbolic(REC->a, { -0x10, "n" })', 'a')).toEqual(new Map([[-16, 'n']]));
    expect(printSymbolic('__print_symbolic(REC->a, { 0, ")" }, { 1, "b" })', 'a')).toEqual(new Map([[0, ')'], [1, 'b']]));
  });
});
