// The one place that spawns processes. Arguments are always an argv array: nothing goes through a shell.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion and collects its output. Rejects only when it cannot be started. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin!.on('error', () => {}); // the child may exit before reading its input
    child.stdin!.end(opts.input ?? '');
  });
}

/** Starts a long-running child (tracer, helper daemon). The caller owns its lifetime. */
export function start(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}

/** Absolute path of a file shipped with ka-top, relative to the package root (works from src/ and dist/). */
export function packagePath(rel: string): string {
  return fileURLToPath(new URL(`../../${rel}`, import.meta.url));
}

/** A native helper built by `make build` into dist/bin/. */
export function nativeBinary(name: string): string {
  return packagePath(`dist/bin/${name}`);
}

/** ka-top's own version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}
