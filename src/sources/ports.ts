// Every input ka-top takes from the operating system, as interfaces. Each has a live implementation (live.ts,
// tracer.ts, procfs.ts) and a recorded one (recorded.ts, recorded-tracer.ts), so the whole pipeline runs in tests
// from committed recordings of real output, as it runs on a host.
import type { NetnsSysctl, ProcessInfo, SockScan } from '../domain/connection.js';

/** A network namespace and a path through which it can be entered (nsenter --net=PATH). */
export interface NetnsRef {
  inode: number;
  path: string;
  name: string | null;
  self: boolean;
  /** One process living in it, to read its container from (null for a named namespace with no process). */
  samplePid: number | null;
}

/** The sockets, owners and sysctls an inventory is built from. */
export interface InventoryPort {
  listNetns(): Promise<NetnsRef[]>;
  /** Streams raw ss output of one namespace to `sink`; rejects with a one-line reason. */
  dumpSockets(ns: NetnsRef, sink: (chunk: string) => void): Promise<void>;
  /** Keepalive sysctls by namespace inode, or a reason string. */
  readSysctls(refs: NetnsRef[]): Promise<Map<number, NetnsSysctl | string>>;
  scanSockets(): Promise<SockScan>;
  processInfo(pid: number): Promise<ProcessInfo | null>;
}

/** Facts about the host for the header of a snapshot. */
export interface HostPort {
  facts(): { hostname: string; kernel: string };
  /** Keepalive sysctls of ka-top's own namespace, or why they could not be read. */
  ownSysctls(): NetnsSysctl | string;
}

/** Milliseconds since the epoch; replaced in tests that replay time. */
export type Clock = () => number;
