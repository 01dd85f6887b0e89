// loadSnapshot on the committed real snapshot, plain and gzipped, and on every kind of bad file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { toJson } from '../../src/output/snapshot-json.js';
import { loadSnapshot } from '../../src/sources/snapshot-file.js';
import { FIXTURE } from '../helpers/tui-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'kat-snapfile-'));
const text = readFileSync(FIXTURE, 'utf8');
/** The fixture as `snapshot` writes it: one row a line. */
const written = toJson(JSON.parse(text) as object);
const file = (name: string, data: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadSnapshot', () => {
  it('reads plain and gzipped snapshots (gzip by its magic bytes, not its name)', async () => {
    const plain = await loadSnapshot(FIXTURE.pathname);
    expect(plain.connections).toHaveLength(13);
    const gz = await loadSnapshot(file('no-gz-suffix.json', gzipSync(text)));
    expect(gz).toEqual(plain);
  });

  it('reads rows one by one as ka-top writes them, and any other layout of the same JSON whole, to the same document', async () => {
    const doc = JSON.parse(text) as SnapshotDocument;
    expect(written).toContain(`\n    ${JSON.stringify(doc.connections[0])},\n`);
    expect(await loadSnapshot(file('written.json', written))).toEqual(doc);
    expect(await loadSnapshot(file('indented.json', JSON.stringify(doc, null, 2)))).toEqual(doc); // items over lines
    expect(await loadSnapshot(file('one-line.json', JSON.stringify(doc)))).toEqual(doc);
    // A capture: events and closed connections as rows too, and findings whose own `connections` lists are not.
    const capture = JSON.parse(readFileSync(new URL('../fixtures/capture/lab-capture-12s.json', import.meta.url), 'utf8')) as SnapshotDocument;
    expect(capture.findings?.some((f) => f.connections.length > 1)).toBe(true);
    expect(await loadSnapshot(file('capture.json', toJson(capture)))).toEqual(capture);
    // Written before snapshots were ASCII: UTF-8 in a row.
    const utf8 = written.replace('"comm":"ka-peer"', '"comm":"ka-peer—é"');
    expect((await loadSnapshot(file('utf8.json', utf8))).connections.filter((c) => c.process?.comm === 'ka-peer—é')).toHaveLength(1);
  });

  it('rows share what repeats, frozen, as the live inventory\'s do, row by row or read whole: equal to the file all the same', async () => {
    // As ka-top writes an owner now (the fixture's `processes` entries still carry cgroup and netns): `process` again.
    const doc = JSON.parse(text) as SnapshotDocument;
    for (const c of doc.connections) if (c.process && c.processes.length === 1) c.processes = [{ ...c.process }];
    for (const [name, data] of [['rows.json', toJson(doc)], ['whole.json', JSON.stringify(doc)]] as const) {
      const read = await loadSnapshot(file(name, data));
      expect(read).toEqual(doc);
      const [a, b] = read.connections.filter((c) => c.netns.inode === read.connections[0]!.netns.inode);
      expect(b!.netns).toBe(a!.netns);
      expect(Object.isFrozen(a!.netns)).toBe(true);
      const bySources = new Map<string, object>();
      for (const c of read.connections) {
        const key = JSON.stringify(c.keepalive.sources);
        expect(c.keepalive.sources).toBe(bySources.get(key) ?? c.keepalive.sources);
        bySources.set(key, c.keepalive.sources);
      }
      const owned = read.connections.filter((c) => c.process);
      expect(owned.length).toBeGreaterThan(0);
      for (const c of owned) expect(c.processes[0]).toBe(c.process);
    }
    // A newer minor version's field on one row's namespace: that one is left alone, not merged with the others.
    const [x, y] = doc.connections.filter((c) => c.netns.inode === doc.connections[0]!.netns.inode);
    (x!.netns as Record<string, unknown>).pod = 'web-0';
    const newer = await loadSnapshot(file('newer.json', toJson(doc)));
    expect(newer).toEqual(doc);
    const [nx, ny] = newer.connections.filter((c) => c.netns.inode === x!.netns.inode);
    expect(nx!.netns).not.toBe(ny!.netns);
    expect(ny!.netns).toEqual(y!.netns);
  });

  it('accepts a newer minor version of the same major', async () => {
    const doc = await loadSnapshot(file('minor.json', text.replace('"ka-top/snapshot/v1"', '"ka-top/snapshot/v1.3"')));
    expect(doc.connections).toHaveLength(13);
  });

  it.each([
    ['missing', () => join(dir, 'nope.json'), /nope\.json: no such file$/],
    ['a directory', () => dir, /: is a directory$/],
    ['empty', () => file('empty.json', ''), /empty\.json: empty file$/],
    ['not JSON', () => file('text.json', 'hello\nworld\n'), /text\.json: not JSON \(.+\)$/],
    ['truncated JSON', () => file('cut.json', text.slice(0, 2000)), /cut\.json: not JSON/],
    ['truncated among the rows', () => file('cut-rows.json', written.slice(0, written.indexOf('"connections": [') + 900)), /cut-rows\.json: not JSON: truncated, the file ends inside the document after \d+ bytes$/],
    ['truncated gzip', () => file('cut.gz', gzipSync(text).subarray(0, 400)), /cut\.gz: not a complete gzip file/],
    ['another schema', () => file('events.json', '{"schema":"ka-top/events/v1"}'), /not a ka-top snapshot \(schema "ka-top\/events\/v1", expected ka-top\/snapshot\/v1\)$/],
    ['no schema', () => file('array.json', '[1,2]'), /not a ka-top snapshot \(not a JSON object\)$/],
    ['a newer major version', () => file('v2.json', text.replace('"ka-top/snapshot/v1"', '"ka-top/snapshot/v2"')), /unsupported snapshot version ka-top\/snapshot\/v2/],
    ['connections not a list', () => file('bad.json', text.replace('"connections": [', '"connections": {"x": [').replace(/\]\s*\}\s*$/, ']}}')), /"connections" is not a list$/],
  ])('%s: one-line error naming the file', async (_what, path, re) => {
    const p = path();
    const err = await loadSnapshot(p).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(re);
    expect(err?.message.startsWith(p)).toBe(true);
    expect(err?.message).not.toContain('\n');
  });
});
