// Reads the bpftrace program's fragments from the package's bpf/ folder (model/bpf-program.ts assembles them).
import { readFileSync, readdirSync } from 'node:fs';
import { packagePath } from './exec.js';

/** The fragment files of bpf/ (name -> text). */
export type BpfFragments = Readonly<Record<string, string>>;

let cached: BpfFragments | null = null;

export function loadBpfFragments(): BpfFragments {
  if (cached) return cached;
  const dir = packagePath('bpf');
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir)) if (f.endsWith('.bt') || f.endsWith('.h')) out[f] = readFileSync(`${dir}/${f}`, 'utf8');
  return (cached = out);
}
