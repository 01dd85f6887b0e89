// The native inventory: the ka-sockinfo helper (dist/bin/<arch>/) reads every TCP socket of the given network namespaces through
// netlink sock_diag and joins them with its owner scan (format: parse/native-inventory.ts).
import { LineSplitter } from '../domain/lines.js';
import type { NetnsRef } from './ports.js';
import { nativeBinary, start } from './exec.js';
import { SockinfoError } from './sockinfo.js';

/** Namespace paths travel as argv, or tab-separated to the daemon: a path that cannot is refused up front. */
export function inventoryPaths(refs: readonly Pick<NetnsRef, 'path'>[]): string[] {
  const bad = refs.find((r) => /[\t\n]/.test(r.path));
  if (bad) throw new SockinfoError(`namespace path ${JSON.stringify(bad.path)} holds a tab or newline`);
  return refs.map((r) => r.path);
}

/** One `ka-sockinfo inventory PATH…` run, its output streamed to `sink` line by line; rejects with a one-line reason. */
export function dumpInventory(refs: readonly Pick<NetnsRef, 'path'>[], sink: (line: string) => void): Promise<void> {
  const paths = inventoryPaths(refs);
  if (paths.length === 0) return Promise.reject(new SockinfoError('no namespace to dump'));
  return new Promise((resolve, reject) => {
    const child = start(nativeBinary('ka-sockinfo'), ['inventory', ...paths], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const lines = new LineSplitter();
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) sink(line);
    });
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => reject(new SockinfoError(`cannot run ka-sockinfo: ${e.code ?? e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) {
        for (const line of lines.end()) sink(line);
        resolve();
      }
      else reject(new SockinfoError(`ka-sockinfo inventory failed: ${stderr.trim().split('\n')[0] || `exit ${code ?? signal}`}`));
    });
  });
}
