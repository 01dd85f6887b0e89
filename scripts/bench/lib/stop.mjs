// A benchmark stopped by Ctrl-C, `kill` or a closed terminal must leave nothing behind: each of these signals ends
// the process through its `exit` handlers, which stop the servers and tracers it started and put back the
// namespaces and sysctls it changed.
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
let armed = false;

/** Runs `undo` (synchronous) when the process exits, whether it ended or was stopped by a signal. */
export function atExit(undo) {
  if (!armed) {
    armed = true;
    for (const [signal, n] of Object.entries(SIGNALS)) process.on(signal, () => process.exit(128 + n));
  }
  process.on('exit', undo);
}
