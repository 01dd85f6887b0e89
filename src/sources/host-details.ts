// Facts about the host for a snapshot's header: the distribution, how long the host has been up, and the addresses
// of its interfaces (a peer with one of them is this host, not something behind a middlebox). Read without forking:
// systeminformation's osInfo() runs ~10 processes (hostname -f, dmesg | grep, cat …, echo $LANG) and blocks the
// event loop ~125 ms in execSync for these three words, and its networkInterfaces() forks ~45 shells per interface
// (181 processes and 280 ms for 4 interfaces here), which a node with hundreds of veths must not pay per snapshot.
import { readFile } from 'node:fs/promises';
import { networkInterfaces, uptime } from 'node:os';
import { parseOsRelease } from '../parse/os-release.js';

export interface HostDetails {
  os: string | null;
  uptimeSec: number | null;
  /** Addresses of ka-top's own namespace's interfaces (IPv4 and IPv6). */
  addresses: string[];
}

/** os-release(5): /etc first, /usr/lib as the fallback. */
async function osName(): Promise<string | null> {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text !== null) return parseOsRelease(text);
  }
  return null;
}

export async function readHostDetails(): Promise<HostDetails> {
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.replace(/%.*$/, '')));
  return { os: await osName(), uptimeSec: Math.round(uptime()), addresses: [...new Set(addresses)] };
}
