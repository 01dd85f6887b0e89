// The live OS behind the ports: ss per namespace, the ka-sockinfo owner scan, /proc for processes and host facts.
import type { HostPort, InventoryPort } from './ports.js';
import type { NetnsSysctl } from '../domain/connection.js';
import { HelperMissingError } from './exec.js';
import { readSysctlsWithNsenter } from './netns-sysctl.js';
import { ProcessReader, hostFacts, listNetns, readOwnSysctls } from './procfs.js';
import { SockinfoDaemon, readNetnsSysctls, scanSockets } from './sockinfo.js';
import { dumpSockets } from './ss.js';

export interface LiveOptions {
  /** Use a long-running incremental scanner (the TUI and watch refresh loops); close() it when done. */
  daemon?: SockinfoDaemon;
}

export function liveInventory(opts: LiveOptions = {}): InventoryPort {
  const processes = new ProcessReader();
  const root = process.getuid?.() === 0;
  let samplePids = new Set<number>();
  return {
    async listNetns() {
      const refs = root ? listNetns() : listNetns().filter((n) => n.self);
      samplePids = new Set(refs.flatMap((r) => (r.samplePid === null ? [] : [r.samplePid])));
      return refs;
    },
    dumpSockets,
    async readSysctls(refs) {
      const out = new Map<number, NetnsSysctl | string>();
      const others = refs.filter((r) => !r.self);
      for (const r of refs.filter((x) => x.self)) out.set(r.inode, readOwnSysctls());
      if (others.length) {
        const read = await readNetnsSysctls(others.map((r) => r.path)).catch((e: Error) => e);
        if (read instanceof HelperMissingError) {
          // the owner scan already says the helper is missing: read the sysctls another way rather than repeat it
          const viaNsenter = await Promise.all(others.map((r) => readSysctlsWithNsenter(r.path)));
          others.forEach((r, i) => out.set(r.inode, viaNsenter[i]!));
          return out;
        }
        for (const r of others) {
          const v = read instanceof Error ? { error: read.message } : read.get(r.path) ?? { error: 'not read' };
          out.set(r.inode, 'error' in v ? v.error : v.sysctl);
        }
      }
      return out;
    },
    async scanSockets() {
      const scan = await (opts.daemon ? opts.daemon.scan() : scanSockets());
      // A long-running view must not keep the facts of every process it ever saw: keep owners and the processes
      // namespaces are identified by (their container).
      processes.prune(new Set([...samplePids, ...scan.sockets.map((s) => s.pid)]));
      return scan;
    },
    processInfo: async (pid) => processes.read(pid),
  };
}

export const liveHost: HostPort = { facts: hostFacts, ownSysctls: readOwnSysctls };
