// Property tests of src/parse/bpftrace-json.ts (it never throws: unreadable lines are null). Generated inputs per
// run of this file (numRuns below):
//   parseBpftraceLine: 15k round trips of every record type + 15k mutated real lines + 10k arbitrary JSON
//     objects + 5k random lines = 45k
//   decodeKaRecord: 20k round trips of every record kind (odd process names) + 10k mutated real records = 30k
//   LineSplitter: 10k chunkings; decodeHexBuf: 10k; isBenignStderr: 5k
//   total 100k inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/domain/lines.js';
import { decodeHexBuf, isBenignStderr, parseBpftraceLine } from '../../src/parse/bpftrace-json.js';
import { KA_RECORDS as RECORD_TABLE, decodeKaRecord, type KaRecordKind } from '../../src/parse/ka-records.js';
import { awkwardString, captureLines, charsOf, chunked, fixture, hugeNumber, mutated, mutatedLine, randomText } from './arbitraries.js';

const RUN = captureLines(fixture('tracing/bpftrace-0.17-run.ndjson'));
const STDERR = captureLines(fixture('tracing/bpftrace-0.17-run.stderr.txt'));
const KA_RECORDS = RUN.map((l) => JSON.parse(l) as { type: string; data: unknown })
  .filter((r) => r.type === 'printf')
  .map((r) => r.data as string);

/** Object keys that are special to JavaScript, next to ordinary ones. */
const key = fc.oneof(
  fc.constantFrom('type', 'data', 'events', 'probes', '@m', '', 'valueOf', 'toString', '__proto__', 'constructor'),
  fc.string({ maxLength: 6 }),
);
const json = fc.jsonValue({ maxDepth: 3 });
const jsonObject = fc.dictionary(key, fc.oneof(json, fc.dictionary(key, json, { maxKeys: 3 })), { maxKeys: 4 });
const record = fc.oneof(
  fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.oneof(fc.integer(), fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 4 })))
    .map(([name, data]) => ({ line: { type: 'map', data: { [name]: data } }, expected: { type: 'map', name, data } })),
  fc.nat().map((events) => ({ line: { type: 'lost_events', data: { events } }, expected: { type: 'lost_events', events } })),
  fc.nat().map((probes) => ({ line: { type: 'attached_probes', data: { probes } }, expected: { type: 'attached_probes', probes } })),
);

describe('parseBpftraceLine', () => {
  it('reads back every record type bpftrace writes, whatever the spacing', () => {
    fc.assert(
      fc.property(record, fc.boolean(), fc.constantFrom('', ' ', '\t', '\r'), (r, spaced, pad) => {
        const text = JSON.stringify(r.line, null, spaced ? 1 : undefined).replace(/\n/g, ' ');
        expect(parseBpftraceLine(pad + text + pad)).toEqual(r.expected);
      }),
      { numRuns: 15_000 },
    );
  });

  it('never throws: mutated real lines, arbitrary JSON objects of each type, random text', () => {
    const typed = fc
      .tuple(fc.constantFrom('printf', 'map', 'lost_events', 'attached_probes', 'x'), fc.oneof(json, jsonObject), jsonObject)
      .map(([type, data, rest]) => JSON.stringify({ ...rest, type, data }));
    const lines = [
      [mutatedLine(RUN), 15_000],
      [typed, 10_000],
      [fc.oneof(randomText(60), hugeNumber.map((n) => `{"type":"lost_events","data":{"events":${n}}}`)), 5_000],
    ] as const;
    for (const [arb, numRuns] of lines) {
      fc.assert(
        fc.property(arb, (line) => {
          const r = parseBpftraceLine(line);
          if (r?.type === 'ka') expect(Object.hasOwn(RECORD_TABLE, r.rec.kind)).toBe(true);
          if (r?.type === 'map') expect(r.name).not.toBe('');
        }),
        { numRuns },
      );
    }
  });

  it('takes a counter that is an object with its own toString as NaN (found by the property above)', () => {
    expect(parseBpftraceLine('{"type":"attached_probes","data":{"probes":{"toString":{}}}}')).toEqual({
      type: 'attached_probes',
      probes: NaN,
    });
  });
});

describe('decodeKaRecord', () => {
  const KINDS = Object.keys(RECORD_TABLE) as KaRecordKind[];
  const valueOf = (kind: string) =>
    kind === 'int' ? fc.oneof(fc.nat(), fc.integer({ min: -1, max: 0 }), fc.constant(2 ** 53 - 1))
      : kind === 'hex' ? fc.oneof(charsOf('0123456789abcdef', 1, 16), fc.constant('0'))
        : kind === 'word' ? charsOf('0123456789abcdefx.:\\', 1, 24)
          : awkwardString(16).map((t) => t.replace(/\n/g, ' '));
  const recordLine = fc.constantFrom(...KINDS).chain((kind) =>
    fc.tuple(fc.constant(kind), fc.tuple(...RECORD_TABLE[kind].map((f) => valueOf(f.kind)))));

  it('reads back every record kind of the field table, with any task name', () => {
    fc.assert(
      fc.property(recordLine, ([kind, values]) => {
        const fields = RECORD_TABLE[kind];
        const text = ['KA', kind, ...values].join(' ') + '\n';
        const expected: Record<string, unknown> = { kind };
        fields.forEach((f, i) => {
          const v = values[i] as string | number;
          expected[f.name] = f.kind === 'hex' ? (/^0+$/.test(String(v)) ? null : v) : f.kind === 'int' ? Number(v) : v;
        });
        expect(decodeKaRecord(text)).toEqual(expected);
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on mutated real records; a record is null or one of the table\'s kinds', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedLine(KA_RECORDS), randomText(40)), (text) => {
        const r = decodeKaRecord(text);
        if (r) expect(KINDS).toContain(r.kind);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('LineSplitter, decodeHexBuf, isBenignStderr', () => {
  it('LineSplitter gives the same lines whatever the chunk boundaries', () => {
    const text = fc.oneof(mutated(RUN.slice(0, 8).join('\n')), randomText(80));
    fc.assert(
      fc.property(text.chain((t) => fc.tuple(fc.constant(t), chunked(t))), ([t, chunks]) => {
        const s = new LineSplitter();
        const lines = chunks.flatMap((c) => s.push(c));
        const all = t.split('\n');
        const tail = all.pop()!;
        expect(lines).toEqual(all);
        expect(s.end()).toEqual(/^[ \t\r]*$/.test(tail) ? [] : [tail]); // only spaces, tabs, CR: no line
      }),
      { numRuns: 10_000 },
    );
  });

  it('decodeHexBuf reads back any bytes as bpftrace %rx prints them, and never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), randomText(20), (bytes, noise) => {
        const text = [...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
        expect([...decodeHexBuf(text)]).toEqual([...bytes]);
        decodeHexBuf(noise);
      }),
      { numRuns: 10_000 },
    );
  });

  it('isBenignStderr never throws; real warnings stay benign with padding', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedLine(STDERR), randomText(60)), fc.constantFrom(...STDERR), (line, warning) => {
        expect(typeof isBenignStderr(line)).toBe('boolean');
        expect(isBenignStderr(`  ${warning}  `)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});
