// Snapshots written where nobody named a file: the TUI's `e`, a capture whose terminal hung up, and a document its
// --output or `> file` could not take.
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNewFileAsync } from '../output/atomic-write.js';
import { jsonChunks } from '../output/snapshot-json.js';

/** $XDG_STATE_HOME/ka-top when set, else /var/tmp (never the current directory of a root shell). */
export function snapshotDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_STATE_HOME ? join(env.XDG_STATE_HOME, 'ka-top') : '/var/tmp';
}

/** For a document a write failed to take: memory-backed /dev/shm where there is one (a full disk is the usual
 *  reason), else the temporary directory. */
export function rescueDir(): string {
  try {
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    /* none on this host */
  }
  return tmpdir();
}

/** `ka-top-snapshot-2026-12-02T19-37-52-510Z.json`: a snapshot's file name by its time. */
export const timestampedName = (at: Date | string, ext = 'json'): string =>
  `ka-top-snapshot-${new Date(at).toISOString().replace(/[:.]/g, '-')}.${ext}`;

/** The names writeNewFileAsync tries in `dir`: `name`, then `name-2`, `name-3`… (numbered before the first dot). */
export const numberedIn = (dir: string, name: string) => (attempt: number): string =>
  join(dir, attempt ? name.replace(/^[^.]*/, (stem) => `${stem}-${attempt + 1}`) : name);

/** `doc` as JSON in snapshotDir(), named by the time of the call (a file there is never replaced); streamed in
 *  chunks between which the event loop runs. Returns the path. */
export function writeTimestampedSnapshot(doc: object): Promise<string> {
  const dir = snapshotDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return writeNewFileAsync(numberedIn(dir, timestampedName(new Date())), jsonChunks(doc));
}
