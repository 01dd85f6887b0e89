// Facts about the host for a snapshot's header, from systeminformation: the distribution, how long the host has been
// up, and the addresses of its interfaces (a peer with one of them is this host, not something behind a middlebox).
import si from 'systeminformation';

export interface HostDetails {
  os: string | null;
  uptimeSec: number | null;
  /** Addresses of ka-top's own namespace's interfaces (IPv4 and IPv6). */
  addresses: string[];
}

export async function readHostDetails(): Promise<HostDetails> {
  const [os, ifaces] = await Promise.all([si.osInfo().catch(() => null), si.networkInterfaces().catch(() => [])]);
  const list = Array.isArray(ifaces) ? ifaces : [ifaces];
  return {
    os: os ? [os.distro, os.release, os.codename && `(${os.codename})`].filter(Boolean).join(' ') : null,
    uptimeSec: Math.round(si.time().uptime),
    addresses: [...new Set(list.flatMap((i) => [i.ip4, i.ip6.replace(/%.*$/, '')]).filter(Boolean))],
  };
}
