// Runs `ka-top exporter` as a real process on a free loopback port and scrapes it.
import type { ChildProcess } from 'node:child_process';
import { start } from '../../src/sources/exec.js';
import { CLI } from './cli.js';

export interface RunningExporter {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  scrape: (accept?: string) => Promise<string>;
  /** SIGTERM; resolves with the exit code. */
  stop: () => Promise<number | null>;
}

export async function startExporter(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningExporter> {
  const child = start(process.execPath, [CLI, 'exporter', '--listen', '127.0.0.1:0', ...args], { env: { ...process.env, ...env } });
  let err = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`exporter did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /exporter on (http:\/\/\S+)\/metrics/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    void exited.then((c) => reject(new Error(`exporter exited (${c}): ${err}`)));
  });
  const scrape = async (accept?: string) => {
    const r = await fetch(`${url}/metrics`, { headers: accept ? { accept } : {} });
    if (r.status !== 200) throw new Error(`scrape: HTTP ${r.status}`);
    return r.text();
  };
  return {
    child, url, scrape,
    stderr: () => err,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls until `fn` returns a value (not undefined/false) or the time is up. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The value of the first series of `name` whose labels include every `labels` pair. */
export function sample(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return undefined;
}
