// Property tests of src/parse/pahole.ts: parsePahole never throws (unreadable lines are skipped); offsetOf and
// kernelOffsets throw nothing but ParseError. Generated inputs per run of this file (numRuns below):
//   parsePahole + offsetOf: 8k printed layouts (round trip, 1-3 structs with nested aggregates) + 75k mutated
//     fixture excerpts + 500 mutated whole captures (kernelOffsets) = 83.5k
//   offsetOf on the real layouts: 20k member paths
//   total 103.5k inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/parse/parse-error.js';
import { kernelOffsets, offsetOf, parsePahole, type BtfMember, type StructLayouts } from '../../src/parse/pahole.js';
import { awkwardString, fixture, hugeNumber, mutated, rejectsOnlyWith } from './arbitraries.js';

const CAPTURE = fixture('tracing/pahole-6.18.txt');
const CAPTURE_LINES = CAPTURE.split('\n');
const REAL = parsePahole(CAPTURE);

/** C identifiers, including ones that are special as JavaScript property names. */
const LETTERS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'];
const ident = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...LETTERS), fc.string({ unit: fc.constantFrom(...LETTERS, ...'0123456789'), maxLength: 10 }))
      .map(([a, b]) => a + b),
  },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'sk') },
);
const type = fc.oneof(
  fc.constantFrom('int', 'unsigned int', 'long unsigned int', 'u8', '__u32', 'atomic_t', 'possible_net_t', 'struct sock_common'),
  ident.map((n) => `struct ${n} *`),
  ident.map((n) => `struct ${n}`),
);

type GenMember =
  | { kind: 'member'; name: string; type: string; offset: number; size: number; array: string; bits: number | null }
  | { kind: 'fnptr'; name: string; offset: number }
  | { kind: 'nested'; agg: 'struct' | 'union'; name: string | null; members: GenMember[]; offset: number; size: number };

const u31 = fc.oneof(fc.nat(4096), fc.nat(2 ** 31 - 1));
const member: fc.Arbitrary<GenMember> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('member' as const), name: ident, type, offset: u31, size: u31, array: fc.constantFrom('', '[0]', '[2]', '[2][16]', '[]'), bits: fc.option(fc.integer({ min: 1, max: 31 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fnptr' as const), name: ident, offset: u31 }) },
);
const members: fc.Arbitrary<GenMember[]> = fc.letrec<{ list: GenMember[]; item: GenMember }>((tie) => ({
  list: fc.array(tie('item'), { maxLength: 5, depthIdentifier: 'pahole' }),
  item: fc.oneof(
    { maxDepth: 2, depthIdentifier: 'pahole', withCrossShrink: true },
    member,
    fc.record({
      kind: fc.constant('nested' as const),
      agg: fc.constantFrom('struct' as const, 'union' as const),
      name: fc.option(ident),
      members: tie('list'),
      offset: u31,
      size: u31,
    }),
  ),
})).list;

const pad = (n: number): string => ' '.repeat(n);
const comment = (offset: number, size: number, bits: number | null = null): string =>
  bits === null ? `/* ${pad(4)}${offset} ${pad(3)}${size} */` : `/* ${offset}: ${bits}  ${size} */`;

function printMembers(list: GenMember[], depth: number): string[] {
  const tabs = '\t'.repeat(depth);
  const out: string[] = [];
  for (const m of list) {
    if (m.kind === 'member') {
      const bits = m.bits === null ? '' : `:${m.bits}`;
      out.push(`${tabs}${m.type}${pad(3)}${m.name}${m.array}${bits};${pad(5)}${comment(m.offset, m.size, m.bits === null ? null : 0)}`);
    } else if (m.kind === 'fnptr') {
      out.push(`${tabs}void${pad(3)}(*${m.name})(struct sock *); ${comment(m.offset, 8)}`);
    } else {
      out.push(`${tabs}${m.agg} {`, ...printMembers(m.members, depth + 1));
      out.push(`${tabs}}${m.name === null ? '' : ` ${m.name}`};${pad(9)}${comment(m.offset, m.size)}`);
    }
    out.push(`${tabs}/* --- cacheline 1 boundary (64 bytes) --- */`);
  }
  return out;
}

/** What the parser must give back: members of inline aggregates flattened, named ones prefixed `name.`. */
function flatten(list: GenMember[]): Array<[string, BtfMember]> {
  return list.flatMap((m): Array<[string, BtfMember]> => {
    if (m.kind === 'member') return [[m.name, { type: m.type, offset: m.offset, size: m.size }]];
    if (m.kind === 'fnptr') return [];
    const inner = flatten(m.members);
    return m.name === null ? inner : inner.map(([n, v]) => [`${m.name}.${n}`, v]);
  });
}

const layouts = fc.array(
  fc.record({ name: fc.option(ident, { freq: 5 }), members, aligned: fc.boolean() }),
  { minLength: 1, maxLength: 3 },
);

describe('parsePahole', () => {
  it('reads back every printed member, through anonymous and named inline aggregates; offsetOf finds each', () => {
    fc.assert(
      fc.property(layouts, (structs) => {
        const text = structs.flatMap((s) => [
          s.name === null ? 'typedef struct {' : `struct ${s.name} {`,
          ...printMembers(s.members, 1),
          `\t/* size: 64, cachelines: 1, members: ${s.members.length} */`,
          s.name === null ? `} ${'t_' + 'anon'};` : s.aligned ? '} __attribute__((__aligned__(64)));' : '};',
        ]).join('\n');
        const expected: Array<[string, Array<[string, BtfMember]>]> = structs.map((s) => [s.name ?? 't_anon', flatten(s.members)]);
        const got = parsePahole(text);
        const want = Object.fromEntries(expected.map(([n, ms]) => [n, Object.fromEntries(ms)]));
        expect(got).toEqual(want);
        for (const [name, ms] of Object.entries(want)) {
          for (const [path, m] of Object.entries(ms)) expect(offsetOf(got, name, path)).toBe(m.offset);
        }
      }),
      { numRuns: 8_000 },
    );
  });

  it('keeps a member named __proto__ (found by the property above)', () => {
    const l = parsePahole('struct a {\n\tint   __proto__;   /*     8    4 */\n};');
    expect(Object.keys(l.a!)).toEqual(['__proto__']);
    expect(offsetOf(l, 'a', '__proto__')).toBe(8);
  });

  it('never throws on mutated excerpts of a real capture; offsetOf rejects only with ParseError', () => {
    const excerpt = fc
      .tuple(fc.nat(CAPTURE_LINES.length - 1), fc.integer({ min: 1, max: 40 }))
      .chain(([from, n]) => mutated(CAPTURE_LINES.slice(from, from + n).join('\n')));
    fc.assert(
      fc.property(excerpt, fc.constantFrom('sock', 'net', 'sock_common', 'possible_net_t'), fc.constantFrom('sk_timer', 'ns.inum', 'skc_net.net', 'sk_backlog.len'), (text, struct, path) => {
        const l = parsePahole(text);
        const got = rejectsOnlyWith(ParseError, () => offsetOf(l, struct, path));
        if (got !== undefined) expect(Number.isFinite(got) || got === Infinity).toBe(true);
      }),
      { numRuns: 75_000 },
    );
  });

  it('kernelOffsets on a mutated whole capture gives numbers or a ParseError', () => {
    fc.assert(
      fc.property(mutated(CAPTURE), (text) => {
        const offsets = rejectsOnlyWith(ParseError, () => kernelOffsets(parsePahole(text)));
        if (offsets) for (const v of Object.values(offsets)) expect(typeof v).toBe('number');
      }),
      { numRuns: 500 },
    );
  });
});

describe('offsetOf', () => {
  it('gives a real member path its offset and rejects any other path with ParseError, never a NaN', () => {
    const structs = Object.keys(REAL);
    const path = fc.array(fc.oneof(ident, fc.constantFrom(...new Set(structs.flatMap((s) => Object.keys(REAL[s]!)))), awkwardString(6), hugeNumber), { minLength: 1, maxLength: 3 }).map((p) => p.join('.'));
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...structs), ident), path, (struct, p) => {
        const got = rejectsOnlyWith(ParseError, () => offsetOf(REAL as StructLayouts, struct, p));
        if (got !== undefined) expect(Number.isInteger(got) && got >= 0).toBe(true);
        const direct = Object.hasOwn(REAL, struct) ? REAL[struct]! : {};
        if (Object.hasOwn(direct, p)) expect(got).toBe(direct[p]!.offset);
      }),
      { numRuns: 20_000 },
    );
  });

  it('rejects a path through Object.prototype instead of returning NaN (found by the property above)', () => {
    expect(() => offsetOf(REAL, 'sock', '__proto__')).toThrow(ParseError);
    expect(() => offsetOf(REAL, 'constructor', 'name')).toThrow(ParseError);
  });
});
