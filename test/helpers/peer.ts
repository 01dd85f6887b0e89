// Test helper around the built ka-peer (dist/bin/<arch>/): spawn it (optionally inside a network namespace) and wait for its lines.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { nativeBinary, start } from '../../src/sources/exec.js';
import { Waiters } from './waiters.js';

export interface Peer {
  pid: number;
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** stderr so far, for failure messages. */
  stderr: () => string;
  /**
   * Resolves with the first stdout line matching `re` that no earlier waitFor consumed (already printed lines count).
   * Rejects on timeout or when ka-peer exits first.
   */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after 2 s; resolves with the exit code (null when killed by a signal). */
  stop: () => Promise<number | null>;
  exited: Promise<number | null>;
}

const live = new Set<Peer>();

export function startPeer(args: string[], opts: { netns?: string } = {}): Promise<Peer> {
  const bin = nativeBinary('ka-peer');
  // `ip netns exec` execs the command after setns, so the child's pid is ka-peer's pid.
  const child = opts.netns ? start('ip', ['netns', 'exec', opts.netns, bin, ...args]) : start(bin, args);
  const lines: string[] = [];
  const consumed = new Set<number>();
  let err = '';
  let exitCode: number | null | undefined;
  const waiters = new Waiters();
  const wake = () => waiters.wake();
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    wake();
  });
  const exited = new Promise<number | null>((resolve) => {
    // 'close', not 'exit': it comes after the output is read to its end, so a waiter never gives up on a line
    // still in the pipe (a peer that prints and exits at once lost that race under load).
    child.on('close', (code) => {
      exitCode = code;
      live.delete(peer);
      wake();
      resolve(code);
    });
  });

  const waitFor = (re: RegExp, timeoutMs = 5000) =>
    waiters.until(
      () => {
        for (let i = 0; i < lines.length; i++) {
          if (consumed.has(i)) continue;
          const m = re.exec(lines[i]!);
          if (m) {
            consumed.add(i);
            return m;
          }
        }
        if (exitCode !== undefined) throw new Error(`ka-peer exited (${exitCode}) before ${re}; stdout:\n${lines.join('\n')}\nstderr: ${err}`);
        return undefined;
      },
      timeoutMs,
      () => `timeout waiting for ${re}; stdout:\n${lines.join('\n')}\nstderr: ${err}`,
    );

  const stop = async () => {
    if (exitCode === undefined) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killer);
    }
    return exitCode ?? null;
  };

  const peer: Peer = { pid: child.pid ?? -1, child, lines, stderr: () => err, waitFor, stop, exited };
  live.add(peer);
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(peer));
    child.once('error', reject);
  });
}

/** Stops every peer still running (for afterAll). */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}
