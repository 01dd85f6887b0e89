// A snapshot file for `view` and `diff`: a bad file is one line on stderr with the command's exit code.
import type { SnapshotDocument } from '../domain/snapshot.js';
import { SnapshotFileError, loadSnapshot } from '../sources/snapshot-file.js';
import { CliError } from './errors.js';

/** Reads a snapshot for a command, turning a bad file into a one-line error with `exitCode`. On a terminal, a line
 *  says what is being read meanwhile (a 100k-connection snapshot takes seconds), erased when it is done. */
export async function loadForCommand(path: string, exitCode: number): Promise<SnapshotDocument> {
  const note = process.stderr.isTTY;
  if (note) process.stderr.write(`ka-top: reading ${path}…`);
  try {
    return await loadSnapshot(path);
  } catch (e) {
    if (e instanceof SnapshotFileError) throw new CliError(e.message, exitCode);
    throw e;
  } finally {
    if (note) process.stderr.write('\r\x1b[K');
  }
}
