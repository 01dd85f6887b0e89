// Runs `ka-top watch` (dist/) as a child process and collects its NDJSON events.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { start } from '../../src/sources/exec.js';
import { CLI } from './cli.js';
import { Waiters } from './waiters.js';

export interface Watch {
  child: ChildProcess;
  /** bpftrace pid from the ready line on stderr. */
  tracerPid: number;
  events: Array<Record<string, unknown>>;
  stderr: () => string;
  /** First event (already received or future) matching the predicate. */
  waitEvent: (pred: (e: Record<string, any>) => boolean, timeoutMs?: number, what?: string) => Promise<Record<string, any>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `nodeArgs` go to node before the CLI (e.g. `--import` of a test preload). */
export async function startWatch(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<Watch> {
  const child = start(process.execPath, [...nodeArgs, CLI, 'watch', ...args], { env: { ...process.env, ...env } });
  const events: Array<Record<string, unknown>> = [];
  let err = '';
  const waiters = new Waiters();
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    waiters.wake();
  });
  createInterface({ input: child.stdout! }).on('line', (l) => {
    if (l.startsWith('{')) events.push(JSON.parse(l) as Record<string, unknown>);
    waiters.wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': every stdout line has been read by then.
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const until = <T>(probe: () => T | undefined, timeoutMs: number, what: string) =>
    waiters.until(probe, timeoutMs, () =>
      `timeout waiting for ${what}; stderr:\n${err}\nlast events:\n${events.slice(-30).map((e) => JSON.stringify(e)).join('\n')}`);
  const m = await until(() => /watching \(bpftrace pid (\d+)/.exec(err) ?? undefined, 20_000, 'the ready line');
  return {
    child, tracerPid: Number(m[1]), events, stderr: () => err, exited,
    waitEvent: (pred, timeoutMs = 10_000, what = 'an event') => until(() => events.find(pred) as Record<string, any> | undefined, timeoutMs, what),
  };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
