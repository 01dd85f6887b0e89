// Snapshots nobody named a file for: the TUI's `e`, and a capture whose terminal hung up before it was written.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeNewFileAsync } from '../output/atomic-write.js';
import { jsonChunks } from '../output/snapshot-json.js';

/** $XDG_STATE_HOME/ka-top when set, else /var/tmp (never the current directory of a root shell). */
export function snapshotDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_STATE_HOME ? join(env.XDG_STATE_HOME, 'ka-top') : '/var/tmp';
}

/** `doc` as JSON in snapshotDir(), named by the time of the call (`-2`, `-3`… when that name is taken: a file is
 *  never replaced); streamed in chunks between which the event loop runs. Returns the path. */
export function writeTimestampedSnapshot(doc: object): Promise<string> {
  const dir = snapshotDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return writeNewFileAsync((n) => join(dir, `ka-top-snapshot-${stamp}${n ? `-${n + 1}` : ''}.json`), jsonChunks(doc));
}
