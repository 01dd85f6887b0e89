// Every input ka-top takes from the operating system, as interfaces. Each has a live implementation (live.ts,
// tracer.ts, procfs.ts) and a recorded one (recorded.ts, recorded-tracer.ts), so the whole pipeline runs in tests
// from committed recordings of real output, as it runs on a host.
import type { NetnsSysctl, ProcessInfo, SockScan } from '../domain/connection.js';
import type { BpftraceRecord } from '../parse/bpftrace-json.js';
import type { HostDetails } from './host-details.js';

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
  /** Streams the native helper's inventory of these namespaces (sockets joined with owners and options: the
   *  format of parse/native-inventory.ts) to `sink`, a line at a time without its newline (the daemon reads lines
   *  anyway: no chunk to rebuild and split again); rejects with a one-line reason. Absent: ss only. */
  dumpInventory?(refs: NetnsRef[], sink: (line: string) => void): Promise<void>;
  /** The same, for what changed since the previous call only (a `changes` answer, same format): the refresh loop's
   *  source when a long-running helper keeps what it sent. Absent: every refresh is a full inventory. The helper
   *  does not dump again a namespace whose TCP counters stand, for up to 10 s; those of `always` (inodes) it dumps
   *  every time. */
  dumpChanges?(refs: NetnsRef[], sink: (line: string) => void, always?: ReadonlySet<number>): Promise<void>;
  /** The next dumpChanges answers in full (the reader lost track). */
  forgetChanges?(): Promise<void>;
  /** Keepalive sysctls by namespace inode, or a reason string. */
  readSysctls(refs: NetnsRef[]): Promise<Map<number, NetnsSysctl | string>>;
  scanSockets(): Promise<SockScan>;
  processInfo(pid: number): Promise<ProcessInfo | null>;
}

/** Facts about the host for the header of a snapshot. */
export interface HostPort {
  facts(): { hostname: string; kernel: string };
  /** Distribution, uptime and interface addresses (slower: a snapshot reads them alongside its inventory). */
  details(): Promise<HostDetails>;
  /** Keepalive sysctls of ka-top's own namespace, or why they could not be read. */
  ownSysctls(): NetnsSysctl | string;
}

/** The tracer: decoded records (bpftrace's NDJSON, ka-top's records typed) and its state. */
export type TracerState = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopped';

export type RecordSink = (rec: BpftraceRecord) => void;
export type StateSink = (state: TracerState, detail: string | null) => void;

export interface TraceSource {
  /** The tracer's process, when it is one. */
  readonly pid: number | null;
  /** Tracepoints whose perf sampling was switched off once the tracer attached (null: not done, or it failed). */
  readonly samplingOff?: number | null;
  /** Starts delivering records; resolves once the tracer is ready (its ready record), rejects if it fails first. */
  start(onRecord?: RecordSink, onState?: StateSink): Promise<void>;
  /** Stops; resolves true when the tracer's final counts were delivered (a clean stop). */
  stop(): Promise<boolean>;
  /** Immediate stop (crash paths). */
  kill(): void;
}

/** Milliseconds since the epoch; replaced in tests that replay time. */
export type Clock = () => number;
