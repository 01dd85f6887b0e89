// Small pure parsers for host facts the tracer needs: /proc/kallsyms, kernel config, `bpftrace --version`.
import type { SemVer } from '../domain/version.js';

/** Address (hex, no 0x) of an exact symbol in /proc/kallsyms text; `.cold`/`__pfx_` variants do not match. */
export function kallsymsAddress(text: string, symbol: string): string | null {
  for (const line of text.split('\n')) {
    const parts = line.split(/\s+/);
    if (parts[2] === symbol && parts[0] && !/^0+$/.test(parts[0])) return parts[0].replace(/^0+(?=.)/, '');
  }
  return null;
}

/** `CONFIG_X=y` value from a kernel config; 'n' for `# CONFIG_X is not set`; null when absent. */
export function kernelConfig(text: string, key: string): string | null {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${key}=`)) return line.slice(key.length + 1).replace(/^"|"$/g, '');
    if (line === `# ${key} is not set`) return 'n';
  }
  return null;
}

/** `bpftrace v0.17.0` (also `bpftrace v0.21.2-1ubuntu1`) -> 0.17.0. */
export function parseBpftraceVersion(text: string): SemVer | null {
  const m = /bpftrace\s+v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}
