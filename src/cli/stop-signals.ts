// Clean shutdown for commands that run the tracer (watch, snapshot --capture): SIGINT/SIGTERM/SIGHUP ask the
// command to stop (it then stops bpftrace cleanly), and a crash kills every tracer before exiting.
import { killAllTracers } from '../sources/tracer.js';

/** Exit code for a stop by each signal: SIGINT is a normal end, the others 128+N. */
export const STOP_SIGNALS: ReadonlyArray<[NodeJS.Signals, number]> = [['SIGINT', 0], ['SIGTERM', 143], ['SIGHUP', 129]];

/** Installs the handlers; returns the function that removes them. */
export function onStopSignals(onStop: (signal: NodeJS.Signals, exitCode: number) => void): () => void {
  const handlers = STOP_SIGNALS.map(([sig, code]): [NodeJS.Signals, () => void] => [sig, () => {
    process.stderr.write(`ka-top: ${sig}, stopping\n`);
    onStop(sig, code);
  }]);
  for (const [s, h] of handlers) process.on(s, h);
  const crash = (e: unknown) => {
    killAllTracers();
    process.stderr.write(`ka-top: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
  };
}
