// A nearly full file system for the paths where a write fails: a tmpfs of two pages, one of them taken.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `fn` with a directory where only `free` bytes (4096 or 0) can be written; unmounted after. Root. */
export async function withFullDisk<T>(free: 0 | 4096, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'kat-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', dir]);
  try {
    writeFileSync(join(dir, '.filler'), Buffer.alloc(8192 - free));
    return await fn(dir);
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true });
  }
}
