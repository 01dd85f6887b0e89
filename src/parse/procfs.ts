// Pure parsers for /proc files and /etc/passwd.
import type { ContainerRef } from '../domain/connection.js';

/** Field 22 (starttime) of /proc/<pid>/stat; comm (field 2) may contain spaces and ')' so parse after the last ')'. */
export function parseStartTime(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): starttime (22) is at index 19. Digits only: Number('') is 0 (a cut line).
  const text = fields[19] ?? '';
  const v = Number(text);
  return /^\d+$/.test(text) && Number.isFinite(v) ? v : null;
}

/** Real uid from the `Uid:` line of /proc/<pid>/status. */
export function parseStatusUid(status: string): number | null {
  const m = /^Uid:\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : null;
}

/** /proc/<pid>/cmdline: NUL-separated argv, with a trailing NUL. */
export function parseCmdline(raw: string): string {
  return raw.replace(/\0+$/, '').split('\0').join(' ');
}

/** The libraries named in LD_PRELOAD of /proc/<pid>/environ, as base names (nothing else of the environment is
 *  kept: it may hold secrets). Entries are separated by spaces or colons (ld.so(8)). */
export function parsePreload(environ: string): string[] {
  const entry = environ.split('\0').find((e) => e.startsWith('LD_PRELOAD='));
  if (!entry) return [];
  return entry.slice('LD_PRELOAD='.length).split(/[\s:]+/).filter(Boolean).map((l) => l.split('/').pop()!);
}

/** uid -> user name from /etc/passwd. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid)) users.set(Number(uid), name);
  }
  return users;
}

/**
 * The most specific cgroup path of /proc/<pid>/cgroup: the v2 unified line (`0::`) when it says more than `/`,
 * else the longest v1 path (hybrid hosts keep containers in v1 hierarchies).
 */
export function parseCgroupPath(text: string): string | null {
  let best: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^\d+:[^:]*:(.*)$/.exec(line);
    if (!m) continue;
    const path = m[1]!;
    if (line.startsWith('0::') && path !== '/') return path;
    if (path !== '/' && (best === null || path.length > best.length)) best = path;
  }
  return best;
}

const CONTAINER_PATTERNS: Array<[RegExp, string]> = [
  [/docker-([0-9a-f]{64})\.scope/, 'docker'],
  [/\/docker\/([0-9a-f]{64})/, 'docker'],
  [/cri-containerd-([0-9a-f]{64})\.scope/, 'containerd'],
  [/crio-([0-9a-f]{64})\.scope/, 'cri-o'],
  [/libpod-([0-9a-f]{64})(?:\.scope)?(?:\/|$)/, 'podman'],
  [/\/kubepods[^\s]*\/([0-9a-f]{64})$/, 'kubernetes'],
  [/\/lxc\.payload\.([^/]+)/, 'lxc'],
  [/\/lxc\/([^/]+)/, 'lxc'],
];

/** Container id (12 characters, as docker ps shows it) and runtime from a cgroup path. */
export function containerFromCgroup(path: string | null): ContainerRef | null {
  if (!path) return null;
  for (const [re, runtime] of CONTAINER_PATTERNS) {
    const m = re.exec(path);
    if (m) return { id: runtime === 'lxc' ? m[1]! : m[1]!.slice(0, 12), runtime };
  }
  return null;
}
