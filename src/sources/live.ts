// The live OS behind the ports: the native inventory (ka-sockinfo: sock_diag + owner scan), ss per namespace as its
// fallback, the ka-sockinfo owner scan, /proc for processes and host facts.
import type { NetnsSysctl } from '../domain/connection.js';
import type { HostPort, InventoryPort } from './ports.js';
import { HelperMissingError } from './exec.js';
import { readHostDetails } from './host-details.js';
import { readSysctlsWithNsenter } from './netns-sysctl.js';
import { ProcessReader, hostFacts, listNetns, readOwnSysctls } from './procfs.js';
import { SockinfoDaemon, readNetnsSysctls, scanSockets } from './sockinfo.js';
import { dumpInventory, inventoryPaths } from './native-inventory.js';
import { dumpSockets } from './ss.js';

export interface LiveOptions {
  /** Use a long-running incremental scanner (the TUI and watch refresh loops); close() it when done. */
  daemon?: SockinfoDaemon;
  /** false: sockets from ss only (KA_TOP_SOCKETS=ss does the same, to compare or work around the helper). */
  native?: boolean;
}

export function liveInventory(opts: LiveOptions = {}): InventoryPort {
  const processes = new ProcessReader();
  const root = process.getuid?.() === 0;
  // A long-running view must not keep the facts of every process it ever saw: each inventory keeps only the
  // processes the previous one asked about (owners, and the processes namespaces are identified by).
  let asked = new Set<number>();
  return {
    async listNetns() {
      processes.prune(asked);
      asked = new Set();
      return root ? listNetns() : listNetns().filter((n) => n.self);
    },
    dumpSockets,
    ...((opts.native ?? process.env.KA_TOP_SOCKETS !== 'ss') && {
      dumpInventory: (refs, sink) => (opts.daemon ? opts.daemon.inventory(inventoryPaths(refs), sink) : dumpInventory(refs, sink)),
    }),
    ...((opts.native ?? process.env.KA_TOP_SOCKETS !== 'ss') && opts.daemon && {
      dumpChanges: (refs, sink, always) => opts.daemon!.changes(inventoryPaths(refs).map((p, i) => (always?.has(refs[i]!.inode) ? `!${p}` : p)), sink),
      forgetChanges: () => opts.daemon!.forget(),
    }),
    async readSysctls(refs) {
      const out = new Map<number, NetnsSysctl | string>();
      const others = refs.filter((r) => !r.self);
      for (const r of refs.filter((x) => x.self)) out.set(r.inode, readOwnSysctls());
      if (others.length) {
        const paths = others.map((r) => r.path);
        // Through the refresh loop's helper when there is one (a helper that failed: a process of its own).
        const viaDaemon = opts.daemon?.sysctls(paths).catch(() => readNetnsSysctls(paths));
        const read = await (viaDaemon ?? readNetnsSysctls(paths)).catch((e: Error) => e);
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
    scanSockets: () => (opts.daemon ? opts.daemon.scan() : scanSockets()),
    async processInfo(pid) {
      asked.add(pid);
      return processes.read(pid);
    },
  };
}

export const liveHost: HostPort = { facts: hostFacts, details: readHostDetails, ownSysctls: readOwnSysctls };
