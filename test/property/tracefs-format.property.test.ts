// Property tests of src/parse/tracefs-format.ts: parseTraceFormat throws nothing but ParseError, printSymbolic and
// field never throw. Generated inputs per run of this file (numRuns below):
//   parseTraceFormat (+ field): 12k printed format files (round trip) + 38k mutated real ones = 50k
//   printSymbolic: 30k printed tables (round trip) + 20k mutated real print fmts = 50k
//   total 100k inputs.
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/parse/parse-error.js';
import { field, parseTraceFormat, printSymbolic, type TraceField } from '../../src/parse/tracefs-format.js';
import { awkwardString, fixture, hugeNumber, mutated, randomText, rejectsOnlyWith } from './arbitraries.js';

const FORMATS = readdirSync(new URL('../fixtures/tracing/', import.meta.url))
  .filter((f) => f.startsWith('format-'))
  .map((f) => fixture(`tracing/${f}`));
const PRINT_FMTS = FORMATS.map((f) => parseTraceFormat(f).printFmt);

const LETTERS = [...'abcdefghijklmnopqrstuvwxyz_'];
const ident = fc
  .tuple(fc.constantFrom(...LETTERS), fc.string({ unit: fc.constantFrom(...LETTERS, ...'0123456789'), maxLength: 10 }))
  .map(([a, b]) => a + b)
  .filter((n) => !n.startsWith('common_'));
const type = fc.constantFrom('int', 'unsigned short', 'const void *', '__u8', '__u16', 'struct sock *', 'u64', '__data_loc char[]', 'char');

const COMMON = [
  '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;',
  '\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;',
  '\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;',
  '\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;',
];

/** A format file as tracefs prints it (kernel/trace/trace_events.c f_show), and the fields it must give back. */
const formatFile = fc
  .record({
    name: ident,
    id: fc.nat(),
    fields: fc.array(
      fc.record({ type, name: ident, array: fc.option(fc.option(fc.nat(4096))), offset: fc.nat(65535), size: fc.nat(65535), signed: fc.boolean() }),
      { maxLength: 12 },
    ),
    printFmt: awkwardString(60).map((s) => s.replace(/[\n\r\u2028\u2029]/g, ' ')), // one line
  })
  .map((g) => {
    const fields: TraceField[] = g.fields.map((f) => ({
      name: f.name,
      type: f.type,
      offset: f.offset,
      size: f.size,
      signed: f.signed,
      arrayLen: f.array === null ? null : (f.array ?? 0),
    }));
    const lines = g.fields.map((f) => {
      const arr = f.array === null ? '' : `[${f.array ?? ''}]`;
      return `\tfield:${f.type} ${f.name}${arr};\toffset:${f.offset};\tsize:${f.size};\tsigned:${+f.signed};`;
    });
    const text = [`name: ${g.name}`, `ID: ${g.id}`, 'format:', ...COMMON, '', ...lines, '', `print fmt: ${g.printFmt}`, ''].join('\n');
    return { text, want: { name: g.name, id: g.id, fields, printFmt: g.printFmt.trimStart() } };
  });

describe('parseTraceFormat', () => {
  it('reads back name, id, every field (arrays included, common_* left out) and the print fmt', () => {
    fc.assert(
      fc.property(formatFile, (f) => {
        const got = parseTraceFormat(f.text);
        expect(got).toEqual(f.want);
        for (const x of f.want.fields) expect(field(got, x.name)).toEqual(f.want.fields.find((y) => y.name === x.name));
      }),
      { numRuns: 12_000 },
    );
  });

  it('throws nothing but ParseError on mutated real format files', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...FORMATS).chain(mutated), randomText(80)), (text) => {
        const got = rejectsOnlyWith(ParseError, () => parseTraceFormat(text));
        if (got) {
          expect(got.name).not.toBe('');
          expect(Number.isInteger(got.id) || got.id === Infinity).toBe(true);
          field(got, 'saddr');
        }
      }),
      { numRuns: 38_000 },
    );
  });
});

describe('printSymbolic', () => {
  /** A value as C source writes it: decimal or hex, negative ones too. */
  const value = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.integer()).chain((v) =>
    fc.constantFrom(
      { text: String(v), v },
      { text: `${v < 0 ? '-' : ''}0x${Math.abs(v).toString(16)}`, v },
      { text: `${v < 0 ? '-' : ''}0X${Math.abs(v).toString(16).toUpperCase()}`, v },
    ),
  );
  const symbolName = awkwardString(16).map((s) => s.replace(/["\\]/g, ''));
  const entry = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(value, symbolName).map(([v, n]) => ({ text: `{ ${v.text}, "${n}" }`, v: v.v, n })) },
    { weight: 1, arbitrary: fc.tuple(ident, symbolName).map(([s, n]) => ({ text: `{ ${s.toUpperCase()}, "${n}" }`, v: null, n })) },
  );

  it('reads back every numeric entry of the table of the field asked for, and only that table', () => {
    fc.assert(
      fc.property(ident, fc.array(entry, { maxLength: 8 }), fc.array(entry, { maxLength: 3 }), (name, table, other) => {
        const fmt = `"reason=%s state=%s", __print_symbolic(REC->${name}, ${table.map((e) => e.text).join(', ')}), ` +
          `__print_symbolic(REC->${name}_x, ${other.map((e) => e.text).join(', ')})`;
        const want = new Map<number, string>();
        for (const e of table) if (e.v !== null) want.set(e.v, e.n);
        expect(printSymbolic(fmt, name)).toEqual(want);
      }),
      { numRuns: 30_000 },
    );
  });

  it('reads 0X hex and negative hex values, and a name holding a parenthesis (found by the property above)', () => {
    expect(printSymbolic('__print_symbolic(REC->a, { 0X0, "" })', 'a')).toEqual(new Map([[0, '']]));
    expect(printSymbolic('__print_symbolic(REC->a, { -0x10, "n" })', 'a')).toEqual(new Map([[-16, 'n']]));
    expect(printSymbolic('__print_symbolic(REC->a, { 0, ")" }, { 1, "b" })', 'a')).toEqual(new Map([[0, ')'], [1, 'b']]));
  });

  it('never throws on mutated real print fmts', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...PRINT_FMTS).chain(mutated), randomText(80)),
        fc.oneof(fc.constantFrom('reason', 'state', 'newstate', 'family'), awkwardString(8), hugeNumber),
        (fmt, name) => {
          for (const [k, v] of printSymbolic(fmt, name)) expect(typeof k === 'number' && typeof v === 'string').toBe(true);
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
