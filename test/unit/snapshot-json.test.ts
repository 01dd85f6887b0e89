import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkWritable, gzipChunks, writeFileAtomic, writeNewFileAsync, writeStream } from '../../src/output/atomic-write.js';
import { asciiJson, jsonChunks, toJson } from '../../src/output/snapshot-json.js';

describe('jsonChunks', () => {
  // Every third row ASCII, the others with two- and four-byte UTF-8 characters.
  const row = (i: number) => ({ id: `ns:${i}`, cmdline: i % 3 ? `prog --name ${'é'.repeat(300)}${'😀'.repeat(i % 7)}` : `prog ${'x'.repeat(400)}`, n: i });
  const doc = { schema: 'x/v1', host: { name: 'h—1', addresses: ['127.0.0.1'] }, connections: Array.from({ length: 4000 }, (_, i) => row(i)), events: [] };

  it('streams ASCII chunks of about a MiB that join to the document, one row per line, other characters escaped', () => {
    const chunks = Array.from(jsonChunks(doc), (c) => c.slice()); // a chunk is valid until the next is asked for
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks.slice(0, -1)) expect(c.byteLength).toBeGreaterThan(900_000);
    const bytes = Buffer.concat(chunks);
    expect(bytes.findIndex((b) => b >= 0x80)).toBe(-1);
    const text = bytes.toString('latin1');
    expect(JSON.parse(text)).toEqual(doc);
    const lines = text.split('\n');
    const first = lines.indexOf('  "connections": [');
    expect(lines[first + 1]).toBe(`    ${JSON.stringify(doc.connections[0])},`); // ASCII: as JSON.stringify wrote it
    expect(lines[first + 2]).toBe(`    ${JSON.stringify(doc.connections[1]).replace(/é/g, '\\u00e9').replace(/😀/g, '\\ud83d\\ude00')},`);
    expect(lines[first + 4000]).toBe(`    ${asciiJson(JSON.stringify(doc.connections[3999]))}`);
    expect(text).toContain('  "host": {\n    "name": "h\\u20141",');
  });

  it('a row longer than a chunk is written whole', () => {
    const big = { connections: [{ cmdline: 'ä'.repeat(3 << 20) }] };
    expect(JSON.parse(toJson(big))).toEqual(big);
  });

  it("reuses a chunk's memory once the next chunk is asked for; every consumer still gets the document", async () => {
    const small = 4096; // many chunks from this document, so that memory is reused many times over
    const kept = [...jsonChunks(doc, small)]; // kept without copying: the later rows overwrote them
    expect(kept.length).toBeGreaterThan(100);
    expect(new Set(kept.map((c) => c.buffer)).size).toBeLessThan(5);
    const text = toJson(doc);
    expect(JSON.parse(text)).toEqual(doc);
    expect(gunzipSync(Buffer.concat([...gzipChunks(jsonChunks(doc, small), 10_000)])).toString()).toBe(text);
    const dir = mkdtempSync(join(tmpdir(), 'kat-json-'));
    try {
      writeFileAtomic(join(dir, 'a.json'), jsonChunks(doc, small));
      expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe(text);
    } finally {
      rmSync(dir, { recursive: true });
    }
    // A stream that takes its time with each write and buffers far more than a chunk before it pushes back.
    const written: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _encoding, done) => setTimeout(() => (written.push(Buffer.from(chunk)), done()), 0),
    });
    await writeStream(slow, jsonChunks(doc, small));
    expect(Buffer.concat(written).toString()).toBe(text);
  });

  it('a new file (the TUI\'s e) never replaces one: the next free name; the event loop runs between chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kat-json-'));
    try {
      const name = (n: number) => join(dir, `s${n ? `-${n + 1}` : ''}.json`);
      writeFileSync(name(0), 'earlier');
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      const path = await writeNewFileAsync(name, jsonChunks(doc, 4096));
      clearInterval(timer);
      expect(path).toBe(name(1));
      expect(readFileSync(name(0), 'utf8')).toBe('earlier');
      expect(readFileSync(path, 'utf8')).toBe(toJson(doc));
      expect(ticks).toBeGreaterThan(0);
      expect(await writeNewFileAsync(name, ['x'])).toBe(name(2));
      // Nothing else left behind (no temporary file), also when the chunks fail midway.
      const failing = function* () {
        yield 'part';
        throw new Error('producer failed');
      };
      await expect(writeNewFileAsync(name, failing())).rejects.toThrow('producer failed');
      expect(readdirSync(dir).sort()).toEqual(['s-2.json', 's-3.json', 's.json']);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('checkWritable meets the errors a write would, and leaves nothing behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kat-json-'));
    try {
      checkWritable(join(dir, 'new.json'));
      writeFileSync(join(dir, 'old.json'), 'earlier');
      checkWritable(join(dir, 'old.json'));
      expect(readdirSync(dir)).toEqual(['old.json']);
      expect(readFileSync(join(dir, 'old.json'), 'utf8')).toBe('earlier');
      expect(() => checkWritable(dir)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
      expect(() => checkWritable(join(dir, 'missing', 'x.json'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => checkWritable(join(dir, 'old.json', 'x.json'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
      checkWritable('/dev/null'); // written in place, never replaced
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
