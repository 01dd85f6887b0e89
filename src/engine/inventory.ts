// Collects one inventory: every TCP socket of every namespace, joined with owners, options and sysctls.
// OS input comes through the InventoryPort, so the same pipeline runs on live input or on a recording.
import { withApplications } from '../model/apps/recognise.js';
import { joinConnections, type NetnsSockets, type OwnedSocket } from '../model/join.js';
import type { NetnsInfo, ProcessInfo, ScannedSocket, SockScan, SocketOwner, SsSocket } from '../domain/connection.js';
import type { Inventory } from '../domain/inventory.js';
import type { InventoryPort, NetnsRef } from '../sources/ports.js';
import { dumpNative, dumpSs, type NativeDumps } from './socket-dumps.js';

export interface CollectOptions {
  /** Only these namespaces (inode or name). */
  netns?: (ns: NetnsRef) => boolean;
  /** Bound on concurrent ss processes (one per namespace). */
  concurrency?: number;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function collectInventory(src: InventoryPort, opts: CollectOptions = {}): Promise<Inventory> {
  const t0 = performance.now();
  const refs = (await src.listNetns()).filter(opts.netns ?? (() => true));

  let dumpMs = 0;
  let scanMs = 0;
  const sysctlsRead = src.readSysctls(refs);
  sysctlsRead.catch(() => {}); // handled by Promise.all below, after the native dump
  let native: NativeDumps | null = null;
  let fallback: string | null = null;
  if (src.dumpInventory && refs.length > 0) {
    const n = await dumpNative(src, refs);
    if ('fallback' in n) fallback = n.fallback;
    else native = n;
    dumpMs = scanMs = performance.now() - t0;
  }
  const dumps = native
    ? Promise.resolve(native.dumps)
    : mapLimited(refs, opts.concurrency ?? 4, (ns) => dumpSs(src, ns)).finally(() => (dumpMs = performance.now() - t0));
  let scanError: string | null = null;
  // Without the owner scan (helper missing, failing) the sockets are still listed, with the reason.
  const scan = (native ? Promise.resolve(native.scan) : src.scanSockets())
    .catch((e: unknown): SockScan => {
      scanError = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      return { sockets: [], deniedPids: 0, elapsedUs: 0 };
    })
    .finally(() => (scanMs = performance.now() - t0));
  const [dumped, scanned, sysctls] = await Promise.all([dumps, scan, sysctlsRead]);

  const t1 = performance.now();
  const owned = await ownedSockets(src, scanned.sockets);

  const parseErrors: string[] = [];
  const namespaces: NetnsInfo[] = [];
  const joined: NetnsSockets[] = [];
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    const dump = dumped[i]!;
    const sysctl = sysctls.get(ref.inode);
    const sample = ref.samplePid === null ? null : await src.processInfo(ref.samplePid);
    const container = sample?.container ?? null;
    const errors = [dump.ok ? null : dump.error, typeof sysctl === 'string' ? `sysctl: ${sysctl}` : null].filter(Boolean);
    namespaces.push({
      inode: ref.inode,
      name: ref.name,
      container,
      self: ref.self,
      sysctl: typeof sysctl === 'object' ? sysctl : null,
      error: errors.length ? errors.join('; ') : null,
    });
    let sockets: SsSocket[] = [];
    if (dump.ok) {
      sockets = dump.parsed.sockets;
      for (const e of dump.parsed.errors) parseErrors.push(`netns ${ref.inode} line ${e.line}: ${e.message}`);
    }
    joined.push({ inode: ref.inode, name: ref.name, container, sysctl: namespaces[i]!.sysctl, sockets });
  }
  const ownersMissing = ownersMissingOf(scanError, scanned);
  const connections = withApplications(joinConnections({ namespaces: joined, owned, ownersMissing }));
  const t2 = performance.now();
  return {
    takenAt: new Date().toISOString(),
    namespaces,
    connections,
    ownersMissing,
    sockoptReads: {
      ok: scanned.sockets.filter((s) => s.opts).length,
      errors: [...new Set(scanned.sockets.flatMap((s) => (s.opts || !s.error ? [] : [s.error])))],
    },
    parseErrors,
    socketSource: native ? { via: 'sock_diag', fallback: native.note } : { via: 'ss', fallback },
    timings: { totalMs: t2 - t0, dumpMs, scanMs, joinMs: t2 - t1 },
  };
}

/** The owners (with their processes' facts) and options of each scanned socket, by inode. */
export async function ownedSockets(src: Pick<InventoryPort, 'processInfo'>, scanned: readonly ScannedSocket[]): Promise<Map<number, OwnedSocket>> {
  const owned = new Map<number, OwnedSocket>();
  const infos = new Map<number, ProcessInfo | null>(); // one read per process, not per socket
  // Indexed, as in joinConnections (model/join.ts).
  for (let i = 0; i < scanned.length; i++) {
    const s = scanned[i]!;
    let info = infos.get(s.pid);
    if (info === undefined) infos.set(s.pid, (info = await src.processInfo(s.pid)));
    if (!info) continue; // exited since the scan
    // One literal with every key (JSON leaves out the undefined ones): spreading optional parts in made two
    // objects more per socket and a slower copy.
    const owner: SocketOwner = {
      pid: info.pid, comm: info.comm, cmdline: info.cmdline, uid: info.uid, user: info.user, container: info.container, fd: s.fd,
      exe: info.exe || undefined,
      preload: info.preload?.length ? info.preload : undefined,
    };
    let entry = owned.get(s.inode);
    // Most sockets have one owner: an array of exactly one (an empty one grown by push reserves 17 slots).
    if (!entry) owned.set(s.inode, (entry = { owners: [owner], opts: null, optsError: null }));
    else entry.owners.push(owner);
    if (s.opts && !entry.opts) {
      entry.opts = s.opts;
      entry.optsError = null;
    } else if (!s.opts && !entry.opts && !entry.optsError) {
      entry.optsError = s.error;
    }
  }
  return owned;
}

/** Why some owners are missing, in words, or null when every process was read. */
export function ownersMissingOf(scanError: string | null, scanned: SockScan): string | null {
  return scanError
    ? `owner scan failed (${scanError})`
    : scanned.deniedPids > 0
      ? `${scanned.deniedPids} processes could not be read (needs root)`
      : null;
}
