// Shared generators of the property tests: mutated real captures, awkward characters, huge numbers, chunkings.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';

export const fixture = (path: string): string =>
  readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

/** The non-empty lines of a capture, without trailing padding (ss pads its columns with spaces). */
export const captureLines = (text: string): string[] =>
  text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');

/** Characters that separate or quote fields somewhere in the parsed formats, printable ASCII, control, non-ASCII and
 *  astral characters, a lone surrogate and U+2028. */
const AWKWARD = [
  '"', "'", '(', ')', ',', ' ', '  ', '\t', '\n', '\r', '\0', ':', '=', '%', '[', ']', '*', '.', '/', '\\', '{', '}',
  '<', '>', '-', '#', '0', '9', 'x', 'é', '名', '😀', '\u2028', '\ud800', '\u00a0', '\x1b',
];
const CHAR_TABLE = [...AWKWARD, ...AWKWARD, ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))];
/** One awkward character: two thirds from the table above, one third any UTF-16 code unit. A single integer per
 *  character keeps generation cheap (an fc.oneof per character made it the main cost of the suite). */
export const awkwardChar: fc.Arbitrary<string> = fc
  .nat(0x2ffff)
  .map((n) => (n < 0x20000 ? CHAR_TABLE[n % CHAR_TABLE.length]! : String.fromCharCode(n - 0x20000)));
export const awkwardString = (maxLength: number, minLength = 0): fc.Arbitrary<string> =>
  fc.string({ unit: awkwardChar, minLength, maxLength });

/** Number-like text no parser should trust: beyond 2^53 and 2^64, exponents, signs, hex, NaN/Infinity. */
export const hugeNumber: fc.Arbitrary<string> = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }).map(String),
  fc.constantFrom(
    '18446744073709551615', '18446744073709551616', '9'.repeat(400), '1e309', '1e+06', '-1', '-0', '+1', '0x10',
    '0b1', '1_000', 'NaN', 'Infinity', '4294967296', '00000000000000000001', '.5', '5.', '1.2.3', '',
  ),
);

/** One edit of a text: cut a range, insert awkward text or a huge number, replace a digit run, truncate, or repeat
 *  a slice. Positions are taken modulo the text's length, so any text can be edited. */
type Edit = (text: string) => string;
const at = (n: number, text: string): number => (text.length === 0 ? 0 : n % (text.length + 1));
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 12 })).map(([p, n]): Edit => (t) => t.slice(0, at(p, t)) + t.slice(at(p, t) + n)),
  fc.tuple(fc.nat(), awkwardString(6, 1)).map(([p, s]): Edit => (t) => t.slice(0, at(p, t)) + s + t.slice(at(p, t))),
  fc.tuple(fc.nat(), hugeNumber).map(([p, s]): Edit => (t) => {
    // Replace the digit run at or after p (real counters, ports and ids sit in digit runs).
    const re = /\d+/g;
    re.lastIndex = at(p, t);
    const m = re.exec(t);
    return m ? t.slice(0, m.index) + s + t.slice(m.index + m[0].length) : t + s;
  }),
  fc.nat().map((p): Edit => (t) => t.slice(0, at(p, t))),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })).map(([p, n]): Edit => (t) => {
    const i = at(p, t);
    return t.slice(0, i + n) + t.slice(i, i + n) + t.slice(i + n);
  }),
);

/** text with 1-4 random edits. */
export const mutated = (text: string): fc.Arbitrary<string> =>
  fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => edits.reduce((t, e) => e(t), text));

/** One line of a capture, with 1-4 random edits. */
export const mutatedLine = (lines: readonly string[]): fc.Arbitrary<string> =>
  fc.constantFrom(...lines).chain(mutated);

/** Strings of the given characters (much cheaper to generate than fc.stringMatching). */
export const charsOf = (chars: string, minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength });

export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const ALNUM = `${LOWER}${LOWER.toUpperCase()}0123456789`;

/** Random text: awkward characters, or arbitrary UTF-16 code units. */
export const randomText = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(awkwardString(maxLength), fc.string({ unit: 'binary', maxLength }));

/** The text cut into consecutive chunks at random points (chunks may be empty). */
export const chunked = (text: string): fc.Arbitrary<string[]> =>
  fc.array(fc.nat({ max: text.length }), { maxLength: 12 }).map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), text.length];
    return points.slice(1).map((end, i) => text.slice(points[i], end));
  });

/** f's result, or undefined when it threw an instance of `allowed`; any other exception is rethrown. */
export function rejectsOnlyWith<T>(allowed: new (...args: never[]) => Error, f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof allowed) return undefined;
    throw e;
  }
}
