// Keepalive sysctls of another network namespace without the native helper (a host it was not built for):
// `nsenter --net=PATH cat` of the /proc/sys files, since /proc/sys/net shows the namespace of the reading process.
import { SYSCTL_NAMES, type NetnsSysctl } from '../domain/connection.js';
import { run } from './exec.js';

/** The sysctls, or why they could not be read (one line). */
export async function readSysctlsWithNsenter(path: string): Promise<NetnsSysctl | string> {
  const files = SYSCTL_NAMES.map((n) => `/proc/sys/net/ipv4/${n}`);
  const r = await run('nsenter', [`--net=${path}`, 'cat', ...files], { timeoutMs: 10_000 }).catch((e: Error) => e);
  if (r instanceof Error) return `cannot run nsenter: ${r.message}`;
  const values = r.stdout.trim().split('\n').map(Number);
  if (r.code !== 0 || values.length !== files.length || !values.every(Number.isInteger)) {
    return `nsenter failed: ${r.stderr.trim().split('\n')[0] || `exit ${r.code ?? r.signal}`}`;
  }
  return Object.fromEntries(SYSCTL_NAMES.map((n, i) => [n, values[i]!])) as unknown as NetnsSysctl;
}
