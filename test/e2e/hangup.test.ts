// An ssh session that drops during `snapshot --capture`: the kernel hangs up its terminal (SIGHUP, then every write
// to it fails with EIO). The capture is still written: to --output, or, without one, to a file in
// $XDG_STATE_HOME/ka-top instead of the screen that is gone. Until then a failed progress line ended ka-top first.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { spawnCli } from '../helpers/pty.js';
import { schemaValidator } from '../helpers/schema.js';

async function gone(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
  }
  return false;
}

describe('snapshot --capture when its terminal hangs up', () => {
  for (const how of ['--output FILE', 'no --output (the screen)'] as const) {
    it(`is still written: ${how}`, async () => {
      const validate = await schemaValidator('snapshot.schema.json');
      const state = mkdtempSync(join(tmpdir(), 'kat-hangup-'));
      try {
        const out = join(state, 'capture.json');
        const args = ['snapshot', '--capture', '5m', ...(how === '--output FILE' ? ['--format', 'json', '--output', out] : [])];
        const t = spawnCli(args, { env: { XDG_STATE_HOME: state } });
        await t.waitFor(/capturing, \S+ left/, 40_000);
        // Closes the terminal's master side, as sshd does when the connection drops (UnixTerminal.destroy; the
        // typings leave it out).
        (t.p as unknown as { destroy(): void }).destroy();
        expect(await gone(t.p.pid, 30_000)).toBe(true);
        const path = how === '--output FILE' ? out : join(state, 'ka-top', readdirSync(join(state, 'ka-top'))[0]!);
        if (how !== '--output FILE') expect(path).toMatch(/ka-top-snapshot-[\dT-]+Z\.json$/);
        const doc = JSON.parse(readFileSync(path, 'utf8')) as SnapshotDocument;
        expect(validate(doc)).toEqual([]);
        expect(doc.capture?.interrupted).toBe(true);
      } finally {
        rmSync(state, { recursive: true, force: true });
      }
    }, 90_000);
  }
});
