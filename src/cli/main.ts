#!/usr/bin/env -S node --no-parallel-scavenge --no-concurrent-sweeping --max-semi-space-size=8
// Entry point: dispatches to one module per command. Results go to stdout, messages to stderr.
// Shebang flags: as bin/ka-top runs it (the reasons are there).
import './production.js';
import { isRegularFile, writeAllSync } from '../output/atomic-write.js';
import { CliError, writeErrorText } from './errors.js';
import { runCommand } from './commands.js';

// Node hands a `> file` stdout to write(2) once a chunk and drops, with no error, what a partial write left (a full
// disk): written until all is out, a full disk is the error it is.
if (isRegularFile(1)) {
  process.stdout._write = (chunk: Uint8Array, _encoding, done) => {
    try {
      writeAllSync(1, chunk);
    } catch (e) {
      done(e as Error);
      return;
    }
    done();
  };
}
// The reader went away (`ka-top snapshot | head`): stop quietly. Any other failed write (a full disk) is one line
// and exit code 1. 'exit' handlers still stop any tracer.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`ka-top: cannot write to standard output: ${writeErrorText(e, null)}\n`);
  process.exit(1);
});
// Messages are worth less than the work: a terminal that hung up (EIO) must not end a capture before it is written.
process.stderr.on('error', () => {});

runCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`ka-top: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`ka-top: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
