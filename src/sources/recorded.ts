// Recorded OS input: wrap live sources to capture everything they return, and replay a capture through the same
// pipeline. Tests and benchmarks run the whole join on real, committed input this way.
import type { NetnsSysctl, ProcessInfo, SockScan } from '../domain/connection.js';
import { LineSplitter } from '../domain/lines.js';
import type { InventoryPort, NetnsRef } from './ports.js';

export interface InventoryRecording {
  format: 'ka-top/recording/v1';
  netns: NetnsRef[];
  /** Raw ss output by namespace inode, or the error it failed with. */
  dumps: Record<string, { text: string } | { error: string }>;
  /** Raw output of the native inventory, or the error it failed with; absent when the sources had none. */
  inventory?: { text: string } | { error: string };
  sysctls: Record<string, NetnsSysctl | string>;
  scan: SockScan;
  processes: Record<string, ProcessInfo | null>;
}

export function recordInventory(inner: InventoryPort): { sources: InventoryPort; recording: InventoryRecording } {
  const rec: InventoryRecording = { format: 'ka-top/recording/v1', netns: [], dumps: {}, sysctls: {}, scan: { sockets: [], deniedPids: 0, elapsedUs: 0 }, processes: {} };
  const dumpInventory = inner.dumpInventory?.bind(inner);
  const sources: InventoryPort = {
    async listNetns() {
      rec.netns = await inner.listNetns();
      return rec.netns;
    },
    ...(dumpInventory && {
      async dumpInventory(refs: NetnsRef[], sink: (line: string) => void) {
        let text = '';
        try {
          await dumpInventory(refs, (line) => {
            text += `${line}\n`;
            sink(line);
          });
          rec.inventory = { text };
        } catch (e) {
          rec.inventory = { error: (e as Error).message };
          throw e;
        }
      },
    }),
    async dumpSockets(ns, sink) {
      let text = '';
      try {
        await inner.dumpSockets(ns, (chunk) => {
          text += chunk;
          sink(chunk);
        });
        rec.dumps[ns.inode] = { text };
      } catch (e) {
        rec.dumps[ns.inode] = { error: (e as Error).message };
        throw e;
      }
    },
    async readSysctls(refs) {
      const m = await inner.readSysctls(refs);
      for (const [k, v] of m) rec.sysctls[k] = v;
      return m;
    },
    async scanSockets() {
      rec.scan = await inner.scanSockets();
      return rec.scan;
    },
    async processInfo(pid) {
      const p = await inner.processInfo(pid);
      rec.processes[pid] = p;
      return p;
    },
  };
  return { sources, recording: rec };
}

export function replayInventory(rec: InventoryRecording): InventoryPort {
  return {
    listNetns: async () => rec.netns,
    ...(rec.inventory && {
      async dumpInventory(_refs: NetnsRef[], sink: (line: string) => void) {
        const d = rec.inventory!;
        if ('error' in d) throw new Error(d.error);
        const lines = new LineSplitter();
        for (const line of [...lines.push(d.text), ...lines.end()]) sink(line);
      },
    }),
    async dumpSockets(ns, sink) {
      const d = rec.dumps[ns.inode];
      if (!d) throw new Error(`no recorded dump for netns ${ns.inode}`);
      if ('error' in d) throw new Error(d.error);
      sink(d.text);
    },
    readSysctls: async (refs) => new Map(refs.flatMap((r) => (rec.sysctls[r.inode] === undefined ? [] : [[r.inode, rec.sysctls[r.inode]!] as const]))),
    scanSockets: async () => rec.scan,
    processInfo: async (pid) => rec.processes[pid] ?? null,
  };
}
