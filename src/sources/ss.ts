// Runs iproute2 ss inside a network namespace. -p is deliberately absent: owners come from our own /proc scan.
import { run } from './exec.js';
import type { NetnsRef } from './procfs.js';

export const SS_ARGS = ['-HtinaeO'] as const;

export class SsError extends Error {}

/** Raw `ss -HtinaeO` output of one namespace (entered with nsenter unless it is our own). */
export async function dumpSockets(ns: Pick<NetnsRef, 'path' | 'self'>): Promise<string> {
  const [cmd, args] = ns.self ? ['ss', [...SS_ARGS]] : ['nsenter', [`--net=${ns.path}`, 'ss', ...SS_ARGS]];
  let r;
  try {
    r = await run(cmd, args, { timeoutMs: 60_000 });
  } catch (e) {
    throw new SsError(`cannot run ${cmd}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n')[0] || `exit ${r.code ?? r.signal}`;
    throw new SsError(`${cmd} failed: ${why}`);
  }
  return r.stdout;
}
