// Property tests of src/sources/snapshot-file.ts (the properties follow in the next commit); counter-examples found.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSnapshot } from '../../src/sources/snapshot-file.js';
import { fixture } from './arbitraries.js';

const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'kat-props-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DOCS = [JSON.parse(fixture('tui/snapshot-ka-peer.json')) as Record<string, unknown>];

/** loadSnapshot's error for `data` written to a file. */
async function loadError(name: string, data: string): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, data);
  return loadSnapshot(path).then(() => 'loaded', (e: Error) => e.message);
}

describe('loadSnapshot', () => {
  it('rejects null capabilities and keeps the error short for a huge schema name (found by the property above)', async () => {
    const doc = { ...DOCS[0]!, capabilities: null };
    expect(await loadError('null-capabilities.json', JSON.stringify(doc))).toMatch(/takenAt, host or capabilities missing$/);
    const long = await loadError('long-schema.json', JSON.stringify({ ...DOCS[0]!, schema: 'x'.repeat(5000) }));
    expect(long.length).toBeLessThan(300);
  });
});
