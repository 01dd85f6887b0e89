// Runs iproute2 ss inside a network namespace. -p is deliberately absent: owners come from our own /proc scan.
import { start } from './exec.js';
import type { NetnsRef } from './ports.js';

export const SS_ARGS = ['-HtinaeO'] as const;

export class SsError extends Error {}

/**
 * Streams `ss -HtinaeO` output of one namespace (entered with nsenter unless it is our own) to `sink` as it
 * arrives, so the caller parses while ss is still dumping. Rejects with a one-line reason.
 */
export function dumpSockets(ns: Pick<NetnsRef, 'path' | 'self'>, sink: (chunk: string) => void): Promise<void> {
  const [cmd, args] = ns.self ? ['ss', [...SS_ARGS]] : ['nsenter', [`--net=${ns.path}`, 'ss', ...SS_ARGS]];
  return new Promise((resolve, reject) => {
    const child = start(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', sink);
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => reject(new SsError(`cannot run ${cmd}: ${e.code ?? e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new SsError(`${cmd} failed: ${stderr.trim().split('\n')[0] || `exit ${code ?? signal}`}`));
    });
  });
}
