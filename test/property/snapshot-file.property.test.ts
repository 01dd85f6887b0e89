// Property tests of src/sources/snapshot-file.ts: loadSnapshot rejects with nothing but SnapshotFileError, whose
// message is one short line naming the file, and what it accepts has the envelope every reader walks.
// Generated inputs per run of this file: 2 x 1k runs x 50 files = 100k files: 50k documents (intact real snapshots,
// plain and gzipped, in three layouts; envelope fields replaced by arbitrary JSON; schema versions) and 50k damaged files (edited JSON
// text, edited gzip streams, random bytes). Each run loads its 50 files concurrently: file I/O is the cost here.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { toJson } from '../../src/output/snapshot-json.js';
import { SnapshotFileError, loadSnapshot } from '../../src/sources/snapshot-file.js';
import { fixture, hugeNumber, mutated, randomText } from './arbitraries.js';

const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'kat-props-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REAL = ['tui/snapshot-ka-peer.json', 'capture/lab-capture-12s.json'].map(
  (f) => JSON.parse(fixture(f)) as SnapshotDocument & Record<string, unknown>,
);
const ENVELOPE = ['schema', 'takenAt', 'host', 'capabilities', 'connections', 'namespaces', 'warnings', 'events', 'summary'];

/** Real snapshots with their lists (connections, events, findings…) cut to 0, 1 or 2 entries: small files keep the
 *  test about the loader rather than about file I/O. Texts and gzip streams are made once. */
const DOCS = REAL.flatMap((d) =>
  [0, 1, 2].map((n) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Array.isArray(v) ? v.slice(0, n) : v]))),
);
const gzipped = (text: string): Buffer => gzipSync(text, { level: 1 });
const INTACT = DOCS.flatMap((d) =>
  ['', '.3', '.99'].flatMap((minor) => {
    const doc = { ...d, schema: `ka-top/snapshot/v1${minor}` };
    // One line, indented by another tool, and as `snapshot` writes it (row lists one item a line, read row by row).
    return [JSON.stringify(doc), JSON.stringify(doc, null, 2), toJson(doc)].map((text) => ({ text, gz: gzipped(text), doc }));
  }),
);
const TEXTS = DOCS.flatMap((d) => [JSON.stringify(d), toJson(d)]);
/** Each document's JSON without one envelope key, so a changed field costs a small stringify, not the whole doc. */
const WITHOUT = DOCS.map((d) =>
  Object.fromEntries(ENVELOPE.map((key) => {
    const rest: Record<string, unknown> = { ...d };
    delete rest[key];
    return [key, JSON.stringify(rest)];
  })),
);
/** `doc` with `key` set to `value` (first, as key order does not matter) or removed (value undefined). */
const withField = (doc: number, key: string, value: unknown): string => {
  const rest = WITHOUT[doc]![key]!;
  if (value === undefined) return rest;
  return `{${JSON.stringify(key)}:${JSON.stringify(value)}${rest === '{}' ? '}' : `,${rest.slice(1)}`}`;
};
const GZIPS = TEXTS.map((t) => gzipped(t).toString('latin1'));

interface Input {
  data: Buffer | string;
  /** The document loadSnapshot must return unchanged, when the input is an intact snapshot. */
  intact: unknown;
}

/** Well-formed JSON documents: intact snapshots and snapshots with one envelope field or the schema changed. */
const documents: fc.Arbitrary<Input> = fc.oneof(
  // Intact, plain or gzipped (gzip is told by its magic bytes, not by the name), of this and newer minor versions.
  fc.tuple(fc.constantFrom(...INTACT), fc.boolean()).map(([i, gz]) => ({ data: gz ? i.gz : i.text, intact: i.doc })),
  // An envelope field replaced by any JSON value, or removed.
  fc.tuple(fc.nat(DOCS.length - 1), fc.constantFrom(...ENVELOPE), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }), fc.constantFrom(false, false, false, true))
    .map(([d, key, value, gz]) => {
      const text = withField(d, key, value);
      return { data: gz ? gzipped(text) : text, intact: undefined };
    }),
  // Schema names: other majors, other documents, huge version numbers, a very long name.
  fc.tuple(fc.nat(DOCS.length - 1), fc.oneof(fc.constantFrom('ka-top/snapshot/v2', 'ka-top/snapshot/v01', 'ka-top/snapshot/v1.', 'ka-top/recording/v1', 'ka-top/snapshot/V1', 'x'.repeat(5000)), hugeNumber.map((n) => `ka-top/snapshot/v${n}`), fc.string({ maxLength: 30 }).map((s) => `ka-top/snapshot/v1${s}`)))
    .map(([d, schema]) => ({ data: withField(d, 'schema', schema), intact: undefined })),
);

/** Damaged files: edited JSON text, edited gzip streams, and files that are no snapshot at all. */
const damaged: fc.Arbitrary<Input> = fc.oneof(
  // Text edits of the JSON: cuts, inserted characters, huge numbers, repeats.
  fc.constantFrom(...TEXTS).chain(mutated).map((text) => ({ data: text, intact: undefined })),
  // A gzip stream with edited bytes, or cut short.
  fc.constantFrom(...GZIPS).chain(mutated).map((bin) => ({ data: Buffer.from(bin, 'latin1'), intact: undefined })),
  // Not a snapshot at all.
  fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from([0x1f, 0x8b]), b])),
    randomText(64),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc.constantFrom('', '\ufeff{}', 'null', '[]', '{}', '{"schema":"ka-top/snapshot/v1"}'),
  ).map((data) => ({ data, intact: undefined })),
);

/** loadSnapshot's error for `data` written to a file. */
async function loadError(name: string, data: string): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, data);
  return loadSnapshot(path).then(() => 'loaded', (e: Error) => e.message);
}

const BATCH = 50;

/** Loads a batch of inputs concurrently and checks each outcome (node:assert rather than expect(): 100k files, each
 *  with several checks). */
async function checkBatch(inputs: Input[]): Promise<void> {
  const paths = inputs.map((inp, i) => {
    const p = join(dir, `${i}.json`);
    writeFileSync(p, inp.data);
    return p;
  });
  const results = await Promise.all(paths.map((p) => loadSnapshot(p).then((doc) => ({ doc }), (error: unknown) => ({ error }))));
  results.forEach((r, i) => {
    const path = paths[i]!;
    if ('error' in r) {
      if (!(r.error instanceof SnapshotFileError)) throw r.error;
      const message = r.error.message;
      assert.equal(inputs[i]!.intact, undefined, message);
      assert.ok(message.startsWith(`${path}: `) && !/[\n\r]/.test(message), message);
      assert.ok(message.length <= path.length + 200, `${message.length} characters: ${message.slice(0, 300)}`);
      return;
    }
    const doc = r.doc as unknown as Record<string, unknown>;
    if (inputs[i]!.intact !== undefined) assert.deepEqual(doc, inputs[i]!.intact);
    assert.match(String(doc.schema), /^ka-top\/snapshot\/v0*1(\.\d+)?$/); // v01 is version 1 too
    for (const key of ['connections', 'namespaces', 'warnings']) assert.ok(Array.isArray(doc[key]), key);
    assert.ok(doc.events === undefined || Array.isArray(doc.events), 'events');
    assert.equal(typeof doc.takenAt, 'string');
    for (const key of ['host', 'capabilities']) assert.ok(typeof doc[key] === 'object' && doc[key] !== null, `${key}: ${JSON.stringify(doc[key])}`);
  });
}

// File I/O makes these the slowest properties of the suite: a timeout of their own, so a loaded machine does not
// fail them.
const SLOW = { timeout: 300_000 };

describe('loadSnapshot', () => {
  it('accepts intact snapshots unchanged, and rejects any other document with one short SnapshotFileError line', SLOW, async () => {
    await fc.assert(fc.asyncProperty(fc.array(documents, { minLength: BATCH, maxLength: BATCH }), checkBatch), { numRuns: 1_000 });
  });

  it('rejects damaged files (edited JSON, edited gzip, random bytes) with one short SnapshotFileError line', SLOW, async () => {
    await fc.assert(fc.asyncProperty(fc.array(damaged, { minLength: BATCH, maxLength: BATCH }), checkBatch), { numRuns: 1_000 });
  });

  it('rejects null capabilities and keeps the error short for a huge schema name (found by the property above)', async () => {
    const doc = { ...DOCS[0]!, capabilities: null };
    expect(await loadError('null-capabilities.json', JSON.stringify(doc))).toMatch(/takenAt, host or capabilities missing$/);
    const long = await loadError('long-schema.json', JSON.stringify({ ...DOCS[0]!, schema: 'x'.repeat(5000) }));
    expect(long.length).toBeLessThan(300);
  });
});
