// The TUI as installed (bin/ka-top with its node flags, run by this node) in a 160x45 pty: what the benches measure.
import pty from 'node-pty';

/** `bin`: the bin/ka-top of the build to measure. */
export function spawnInstalledTui(bin, args = []) {
  return pty.spawn(bin, args, { cols: 160, rows: 45, env: { ...process.env, KA_TOP_NODE: process.execPath } });
}
