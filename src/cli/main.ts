#!/usr/bin/env -S node --max-semi-space-size=32
// Entry point: dispatches to one module per command. Results go to stdout, messages to stderr.
// A larger young generation (shebang flag) halves GC time when parsing tens of thousands of ss lines.
import { CliError, runCommand } from './commands.js';

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
