// The socket dump of an inventory, by either source: the native helper (sock_diag, joined with the owner scan in
// one pass) or `ss` per namespace with its parser. The native one is preferred; ss stays the fallback, per namespace
// when only some could not be dumped natively, for all of them when the helper cannot run at all.
import type { SockScan } from '../domain/connection.js';
import { NativeInventoryParser, type NativeInventory } from '../parse/native-inventory.js';
import { SsStreamParser, type SsParseResult } from '../parse/ss.js';
import type { NetnsRef, InventoryPort } from '../sources/ports.js';

export type SocketDump = { ok: true; parsed: SsParseResult } | { ok: false; error: string };

const oneLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** One namespace through `ss`, parsed while ss is still writing. */
export async function dumpSs(src: InventoryPort, ns: NetnsRef): Promise<SocketDump> {
  const parser = new SsStreamParser(false);
  try {
    await src.dumpSockets(ns, (chunk) => parser.push(chunk));
    return { ok: true, parsed: parser.end() };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

export interface NativeDumps {
  /** By position in `refs`. */
  dumps: SocketDump[];
  scan: SockScan;
  /** Which namespaces went through ss instead, and why; null when none did. */
  note: string | null;
}

/** The native inventory of `refs`, or why it cannot be used (then the caller takes the ss path for everything). */
export async function dumpNative(src: InventoryPort, refs: NetnsRef[]): Promise<NativeDumps | { fallback: string }> {
  if (!src.dumpInventory) return { fallback: 'no native source' };
  let inv: NativeInventory;
  try {
    inv = await parseStreamed(new NativeInventoryParser(), (sink) => src.dumpInventory!(refs, sink));
  } catch (e) {
    return { fallback: oneLine(e) };
  }
  const byIndex = new Map(inv.namespaces.map((n) => [n.index, n]));
  const dumps: SocketDump[] = [];
  const viaSs: string[] = [];
  for (let i = 0; i < refs.length; i++) {
    const d = byIndex.get(i);
    if (d && !d.error) {
      dumps.push({ ok: true, parsed: { sockets: d.sockets, errors: d.errors } });
      continue;
    }
    const ns = refs[i]!;
    viaSs.push(`${ns.name ?? ns.inode} (${d?.error ?? 'not dumped'})`);
    dumps.push(await dumpSs(src, ns));
  }
  if (viaSs.length === 0) return { dumps, scan: inv.scan, note: null };
  // The helper reports owners only for the sockets it dumped: the others need the full owner scan.
  const note = `native dump failed for netns ${viaSs.join(', ')}: read with ss`;
  try {
    return { dumps, scan: await src.scanSockets(), note };
  } catch (e) {
    return { fallback: `${note}; owner scan failed (${oneLine(e)})` };
  }
}

/** Runs a helper answer through `parser` as it streams, line by line; rejects with the first format error or the
 *  dump's. */
export async function parseStreamed(parser: NativeInventoryParser, dump: (sink: (line: string) => void) => Promise<void>): Promise<NativeInventory> {
  let formatError: unknown = null;
  await dump((line) => {
    if (formatError !== null) return;
    try {
      parser.pushLine(line);
    } catch (e) {
      formatError = e; // the helper keeps writing; the rest of its output is ignored
    }
  });
  if (formatError !== null) throw formatError;
  return parser.end();
}
