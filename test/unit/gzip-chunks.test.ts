import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzipChunks } from '../../src/output/atomic-write.js';

describe('gzipChunks', () => {
  it('compresses as it goes: several members that gunzip to the whole text', () => {
    const parts = Array.from({ length: 50 }, (_, i) => `{"row":${i},"pad":"${'x'.repeat(1000)}"}\n`);
    const members = [...gzipChunks(parts, 10_000)];
    expect(members.length).toBeGreaterThan(3);
    expect(gunzipSync(Buffer.concat(members)).toString()).toBe(parts.join(''));
  });
  it('takes bytes as the JSON writer gives them, and strings', () => {
    const parts = [Buffer.from('{"a":'), '"é",', new TextEncoder().encode('"b":1}\n')];
    expect(gunzipSync(Buffer.concat([...gzipChunks(parts, 4)])).toString()).toBe('{"a":"é","b":1}\n');
  });
  it('an empty input is one empty member', () => {
    const members = [...gzipChunks([])];
    expect(members).toHaveLength(1);
    expect(gunzipSync(Buffer.concat(members)).toString()).toBe('');
  });
});
