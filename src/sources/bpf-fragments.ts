// Reads the bpftrace program's fragments from the package's bpf/ folder (model/bpf-program.ts assembles them).
import { readFileSync, readdirSync } from 'node:fs';
import { packagePath } from './exec.js';

/** The fragment files of bpf/ (name -> text). */
export type BpfFragments = Readonly<Record<string, string>>;

/** The package's bpf/ folder cannot be read (a broken install); the message is one line with the fix. */
export class BpfFilesMissingError extends Error {}

let cached: BpfFragments | null = null;

export function loadBpfFragments(): BpfFragments {
  if (cached) return cached;
  const dir = packagePath('bpf');
  const out: Record<string, string> = {};
  try {
    for (const f of readdirSync(dir)) if (f.endsWith('.bt') || f.endsWith('.h')) out[f] = readFileSync(`${dir}/${f}`, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new BpfFilesMissingError(`the probe programs cannot be read: ${dir} (${code}); reinstall ka-top`);
  }
  return (cached = out);
}

/** Why the probe programs cannot be read, or null: tracing is then off, as on a host without bpftrace. */
export function bpfFilesProblem(): string | null {
  try {
    loadBpfFragments();
    return null;
  } catch (e) {
    if (e instanceof BpfFilesMissingError) return e.message;
    throw e;
  }
}
