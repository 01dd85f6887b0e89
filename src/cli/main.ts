#!/usr/bin/env -S node --no-parallel-scavenge --no-concurrent-sweeping --max-semi-space-size=8
// Entry point: dispatches to one module per command. Results go to stdout, messages to stderr.
// Shebang flags: as bin/ka-top runs it (the reasons are there).
import './production.js';
import { CliError } from './errors.js';
import { runCommand } from './commands.js';

// The reader went away (`ka-top snapshot | head`): stop quietly; 'exit' handlers still stop any tracer.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

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
