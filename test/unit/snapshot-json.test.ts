import { describe, expect, it } from 'vitest';
import { jsonChunks, toJson } from '../../src/output/snapshot-json.js';

describe('jsonChunks', () => {
  const row = (i: number) => ({ id: `ns:${i}`, cmdline: `prog --name ${'é'.repeat(300)}${'😀'.repeat(i % 7)}`, n: i });
  const doc = { schema: 'x/v1', host: { name: 'h', addresses: ['127.0.0.1'] }, connections: Array.from({ length: 4000 }, (_, i) => row(i)), events: [] };

  it('streams UTF-8 chunks of about a MiB that join to the document, one row per line, multibyte text cut nowhere', () => {
    const chunks = [...jsonChunks(doc)];
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks.slice(0, -1)) expect(c.byteLength).toBeGreaterThan(900_000);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
    expect(JSON.parse(text)).toEqual(doc);
    const lines = text.split('\n');
    const first = lines.indexOf('  "connections": [');
    expect(lines[first + 1]).toBe(`    ${JSON.stringify(doc.connections[0])},`);
    expect(lines[first + 4000]).toBe(`    ${JSON.stringify(doc.connections[3999])}`);
    expect(text).toContain('  "host": {\n    "name": "h",');
  });

  it('a row longer than a chunk is written whole', () => {
    const big = { connections: [{ cmdline: 'ä'.repeat(3 << 20) }] };
    expect(JSON.parse(toJson(big))).toEqual(big);
  });
});
