// Runs the built CLI (dist/) as a real process, the way users and scripts do.
import { packagePath, run, type RunResult } from '../../src/sources/exec.js';

export const CLI = packagePath('dist/cli/main.js');

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; asUser?: number } = {}): Promise<RunResult> {
  const env = { ...process.env, ...opts.env };
  if (opts.asUser !== undefined) {
    // setpriv (util-linux) drops root for the "without root" paths
    const id = String(opts.asUser);
    return run('setpriv', [`--reuid=${id}`, `--regid=${id}`, '--clear-groups', process.execPath, CLI, ...args], { env, timeoutMs: opts.timeoutMs ?? 60_000 });
  }
  return run(process.execPath, [CLI, ...args], { env, timeoutMs: opts.timeoutMs ?? 60_000 });
}

export async function loadSchema(name: string): Promise<object> {
  const { readFile } = await import('node:fs/promises');
  return JSON.parse(await readFile(packagePath(`schema/${name}`), 'utf8')) as object;
}
