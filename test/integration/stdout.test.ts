// Standard output redirected to a file (`> file`) on a disk that fills up: every command fails in one line with
// exit code 1, never with a cut file and exit code 0.
import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { withFullDisk } from '../helpers/full-disk.js';

describe('standard output on a full disk', () => {
  it('a text larger than the room left (doctor --bpf, ~24 KB through process.stdout): one line, exit 1', async () => {
    // Node's stream for a file stdout writes once a chunk and drops what a partial write left, with no error.
    await withFullDisk(4096, async (dir) => {
      const out = join(dir, 'program.bt');
      const fd = openSync(out, 'w');
      const child = spawn(process.execPath, [CLI, 'doctor', '--bpf'], { stdio: ['ignore', fd, 'pipe'] });
      closeSync(fd);
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr.trim()).toBe('ka-top: cannot write to standard output: no space left on the device');
      expect(code).toBe(1);
      expect(statSync(out).size).toBe(4096);
    });
  });
});
