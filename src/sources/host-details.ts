// Facts about the host for a snapshot's header: the distribution (systeminformation), how long the host has been up,
// and the addresses of its interfaces (a peer with one of them is this host, not something behind a middlebox).
// Addresses come from Node's own getifaddrs: systeminformation's networkInterfaces() forks ~45 shells per interface
// (181 processes and 280 ms of blocked event loop for 4 interfaces here), which a node with hundreds of veths must
// not pay per snapshot.
import { networkInterfaces, uptime } from 'node:os';
import si from 'systeminformation';

export interface HostDetails {
  os: string | null;
  uptimeSec: number | null;
  /** Addresses of ka-top's own namespace's interfaces (IPv4 and IPv6). */
  addresses: string[];
}

export async function readHostDetails(): Promise<HostDetails> {
  const os = await si.osInfo().catch(() => null);
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.replace(/%.*$/, '')));
  return {
    os: os ? [os.distro, os.release, os.codename && `(${os.codename})`].filter(Boolean).join(' ') : null,
    uptimeSec: Math.round(uptime()),
    addresses: [...new Set(addresses)],
  };
}
