// The built CLI in a real pseudo-terminal (node-pty), for end-to-end tests of the interactive views. ink renders
// every frame only with CI unset/false; output is matched with escape sequences stripped.
import { execFileSync } from 'node:child_process';
import pty from 'node-pty';
import { CLI } from './cli.js';
import { Waiters } from './waiters.js';

export const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b[=>78]/g, '');

export interface Term {
  p: pty.IPty;
  /** Resolves with the first match of `re` in output received after the last `mark()`; rejects on exit or timeout. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<string>;
  mark: () => void;
  exited: Promise<number>;
  kill: () => void;
}

/** `command`: an installed `ka-top` instead of the built CLI on this Node; `env` is added to this process's. */
export function spawnCli(args: string[], opts: { cols?: number; rows?: number; cwd?: string; asUser?: number; command?: string; env?: NodeJS.ProcessEnv } = {}): Term {
  const [run, runArgs] = opts.command === undefined ? [process.execPath, [CLI, ...args]] : [opts.command, args];
  // setpriv (util-linux) drops root for the "without root" paths
  const [cmd, argv] = opts.asUser === undefined
    ? [run, runArgs]
    : ['setpriv', [`--reuid=${opts.asUser}`, `--regid=${opts.asUser}`, '--clear-groups', run, ...runArgs]];
  const p = pty.spawn(cmd, argv, {
    cols: opts.cols ?? 120, rows: opts.rows ?? 40, cwd: opts.cwd ?? process.cwd(), env: { ...process.env, ...opts.env, CI: 'false' } as Record<string, string>,
  });
  let out = '';
  let from = 0;
  let exitCode: number | undefined;
  const waiters = new Waiters();
  p.onData((d) => {
    out += d;
    waiters.wake();
  });
  const exited = new Promise<number>((resolve) => p.onExit((e) => {
    exitCode = e.exitCode;
    resolve(e.exitCode);
    waiters.wake();
  }));
  const waitFor = (re: RegExp, timeoutMs = 20_000) => waiters.until(
    () => {
      const text = stripAnsi(out.slice(from));
      const m = text.match(re);
      if (m) return m[0];
      if (exitCode !== undefined) throw new Error(`process exited (${exitCode}) before ${re}; screen:\n${text.slice(-3000)}`);
      return undefined;
    },
    timeoutMs,
    // the regex again last: a CI log shows only the tail of a failure
    () => `timeout waiting for ${re}; output since mark:\n${stripAnsi(out.slice(from)).slice(-3000)}\n(waited ${timeoutMs} ms for ${re})`,
  );
  const kill = () => {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  };
  return { p, waitFor, mark: () => (from = out.length), exited, kill };
}

export function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `/`, type `text`, Enter: the view keeps the filter and shows `selected/matches`. */
export async function filterTo(t: Term, text: string, matches: number): Promise<void> {
  t.mark();
  t.p.write('/');
  await t.waitFor(/Enter keep · Esc clear/);
  t.p.write(text);
  await t.waitFor(new RegExp(`/${escapeRe(text)}▏`));
  t.p.write('\r');
  await t.waitFor(new RegExp(`\\d+/${matches} · filter "${escapeRe(text)}"`));
}
