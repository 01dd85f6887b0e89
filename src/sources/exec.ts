// The one place that spawns processes. Arguments are always an argv array: nothing goes through a shell.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

/** The architectures the package carries native helpers for (Node's `process.arch` names; see the Makefile). */
export const HELPER_ARCHES = ['x64', 'arm64'] as const;

/** A native helper is not there for this machine: ka-top runs without it, with this one-line reason. */
export class HelperMissingError extends Error {}

/**
 * A native helper for this machine's architecture (`make build` puts them in dist/bin/<arch>/). Throws
 * HelperMissingError, never a spawn ENOENT later, when the package has none for this architecture.
 */
export function nativeBinary(name: string): string {
  const path = packagePath(`dist/bin/${process.arch}/${name}`);
  if (existsSync(path)) return path;
  throw new HelperMissingError((HELPER_ARCHES as readonly string[]).includes(process.arch)
    ? `${path} is missing (run \`make build\`, or reinstall ka-top)`
    : `ka-top has no ${name} for ${process.platform}-${process.arch} (only ${HELPER_ARCHES.join(', ')})`);
}

/** ka-top's own version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}
