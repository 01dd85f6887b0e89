// What this host offers for tracing TCP keepalive and resets: bpftrace, tracefs, kprobes, BTF, the tracepoints
// and their layouts, the keepalive timer's address and the kernel offsets. Every missing piece carries a reason.
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { run } from './exec.js';
import { bpfFilesProblem } from './bpf-fragments.js';
import { kallsymsAddress, kernelConfig, parseBpftraceVersion } from '../parse/kernel-text.js';
import { versionAtLeast, type SemVer } from '../domain/version.js';
import { PAHOLE_STRUCTS, kernelOffsets, parsePahole, type KernelOffsets, type StructLayouts } from '../parse/pahole.js';
import { field, parseTraceFormat, printSymbolic, type TraceFormat } from '../parse/tracefs-format.js';

export const TRACEPOINTS = [
  'tcp:tcp_send_reset',
  'tcp:tcp_receive_reset',
  'sock:inet_sock_set_state',
  'timer:timer_expire_entry',
  'timer:timer_expire_exit',
  'syscalls:sys_enter_setsockopt',
] as const;
export type TracepointName = (typeof TRACEPOINTS)[number];

export interface Availability {
  ok: boolean;
  /** Why not, in words; null when ok. */
  reason: string | null;
}

/** `sockaddr`: saddr/daddr are 28-byte sockaddrs (6.10+: skbaddr, skaddr, state, reason, saddr[28], daddr[28]);
 *  `legacy`: ports and 4/16-byte addresses (≤ 6.9, without reason). */
export type SendResetLayout = 'sockaddr' | 'legacy';

export interface TracingHost {
  root: boolean;
  bpftrace: Availability & { path: string | null; version: SemVer | null };
  tracefs: Availability & { path: string | null };
  kprobes: Availability;
  /** kfunc/fentry (BPF tracing programs): probed by bpftrace itself; false unless it says so. */
  fentry: Availability;
  /** inet_sock_set_state can be attached as a raw tracepoint: bpftrace lists it (and is one ka-top is tested
   *  with), the kernel's sk_protocol is a u16. */
  rawTracepoint: Availability;
  btf: Availability;
  tracepoints: Record<TracepointName, Availability & { format: TraceFormat | null }>;
  /** Layout of tcp:tcp_send_reset; `reasons` is its `enum sk_rst_reason` table (empty when the kernel has none). */
  sendReset: { layout: SendResetLayout | null; hasReason: boolean; reasons: Record<number, string> };
  keepaliveTimer: Availability & { address: string | null };
  offsets: Availability & { value: KernelOffsets | null };
  /** Kernel HZ (jiffies per second), for keepalive intervals read from the socket. */
  hz: number | null;
  /** Can the tracer run at all (root, bpftrace, tracefs, the core tracepoints, ka-top's own probe programs)? */
  usable: Availability;
}

const TRACEFS_DIRS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const RAW_STATE_PROBE = 'rawtracepoint:inet_sock_set_state';
/** The oldest bpftrace ka-top attaches a raw tracepoint with (the one it is tested with). */
const RAW_TRACEPOINT_BPFTRACE = [0, 23] as const;
const BTF_PATH = '/sys/kernel/btf/vmlinux';

/** The oldest bpftrace the generated program is written for (0.17: Debian 12's; `args->field`, JSON output). */
export const MIN_BPFTRACE = [0, 17] as const;

const yes: Availability = { ok: true, reason: null };
const no = (reason: string): Availability => ({ ok: false, reason });

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function which(cmd: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir && (await exists(`${dir}/${cmd}`))) return `${dir}/${cmd}`;
  }
  return null;
}

/** Mounts tracefs when it is missing and we are root; returns the tracing directory or null. */
export async function ensureTracefs(): Promise<string | null> {
  for (const dir of TRACEFS_DIRS) if (await exists(`${dir}/events`)) return dir;
  if (process.getuid?.() !== 0) return null;
  await run('mount', ['-t', 'tracefs', 'nodev', TRACEFS_DIRS[0]!], { timeoutMs: 5000 }).catch(() => null);
  return (await exists(`${TRACEFS_DIRS[0]}/events`)) ? TRACEFS_DIRS[0]! : null;
}

async function readConfig(): Promise<string | null> {
  try {
    return gunzipSync(await readFile('/proc/config.gz')).toString('utf8');
  } catch {
    try {
      return await readFile(`/boot/config-${(await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim()}`, 'utf8');
    } catch {
      return null;
    }
  }
}

export interface ProbeOptions {
  /** Mount tracefs when missing (needs root). Default true. */
  mount?: boolean;
  /** Also resolve what a program needs (keepalive timer address, BTF offsets). Default true; false when only
   *  the capabilities are wanted (a plain snapshot): it skips /proc/kallsyms and pahole, the costly parts. */
  programDetails?: boolean;
}

export async function probeTracingHost(opts: ProbeOptions = {}): Promise<TracingHost> {
  const root = process.getuid?.() === 0;
  const [bpftracePath, tracefsDir, config, kallsyms, btfPresent] = await Promise.all([
    which('bpftrace'),
    opts.mount === false ? (async () => {
      for (const dir of TRACEFS_DIRS) if (await exists(`${dir}/events`)) return dir;
      return null;
    })() : ensureTracefs(),
    readConfig(),
    opts.programDetails === false ? null : readFile('/proc/kallsyms', 'utf8').catch(() => null),
    exists(BTF_PATH),
  ]);

  let version: SemVer | null = null;
  let bpftrace: TracingHost['bpftrace'];
  if (!bpftracePath) bpftrace = { ...no('bpftrace is not installed (Debian/Ubuntu: apt install bpftrace)'), path: null, version };
  else {
    const r = await run(bpftracePath, ['--version'], { timeoutMs: 5000 }).catch(() => null);
    version = r ? parseBpftraceVersion(r.stdout + r.stderr) : null;
    const [major, minor] = MIN_BPFTRACE;
    if (!version) bpftrace = { ...no(`could not read the version of ${bpftracePath}`), path: bpftracePath, version };
    else if (!versionAtLeast(version, major, minor)) {
      const v = `${version.major}.${version.minor}.${version.patch}`;
      bpftrace = { ...no(`bpftrace ${v} at ${bpftracePath} is older than ${major}.${minor}, the oldest ka-top's program runs on: install bpftrace ${major}.${minor} or newer`), path: bpftracePath, version };
    } else bpftrace = { ...yes, path: bpftracePath, version };
  }

  const tracefs = tracefsDir
    ? { ...yes, path: tracefsDir }
    : { ...no(root ? 'tracefs is not mounted and mounting it failed' : 'tracefs is not mounted (ka-top mounts it when run as root)'), path: null };

  const cfgKprobes = config ? kernelConfig(config, 'CONFIG_KPROBES') : null;
  let kprobes: Availability;
  if (tracefsDir && (await exists(`${tracefsDir}/kprobe_events`))) kprobes = yes;
  else if (cfgKprobes === 'n') kprobes = no('the kernel is built without CONFIG_KPROBES');
  else if (cfgKprobes === 'y') kprobes = tracefsDir ? no('kprobe_events is missing from tracefs') : no('tracefs is not mounted');
  else kprobes = no('no kprobe_events in tracefs and no kernel config to say why');

  const btf = btfPresent ? yes : no(`${BTF_PATH} is missing (kernel without CONFIG_DEBUG_INFO_BTF)`);
  // bpftrace decides kfunc support by loading a test program; it is reported only via --info, which is slow and
  // needs root. Without BTF it is certainly absent; the generator treats it as an optional extra anyway.
  const fentry = btfPresent ? no('not probed (optional; only tracepoints are needed)') : no('no kernel BTF');

  const tracepoints = {} as TracingHost['tracepoints'];
  await Promise.all(
    TRACEPOINTS.map(async (tp) => {
      const [sys, name] = tp.split(':') as [string, string];
      if (!tracefsDir) {
        tracepoints[tp] = { ...no('tracefs is not mounted'), format: null };
        return;
      }
      try {
        const format = parseTraceFormat(await readFile(`${tracefsDir}/events/${sys}/${name}/format`, 'utf8'));
        tracepoints[tp] = { ...yes, format };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        tracepoints[tp] = {
          ...no(code === 'ENOENT' ? `tracepoint ${tp} does not exist on this kernel` : `cannot read ${tp}'s format (${code ?? String(e)})`),
          format: null,
        };
      }
    }),
  );

  const sendReset = describeSendReset(tracepoints['tcp:tcp_send_reset'].format);

  const address = kallsyms ? kallsymsAddress(kallsyms, 'tcp_keepalive_timer') : null;
  const keepaliveTimer = address
    ? { ...yes, address }
    : opts.programDetails === false
      ? { ...no('not probed'), address: null }
      : { ...no(kallsyms === null ? '/proc/kallsyms is unreadable' : 'tcp_keepalive_timer is not in /proc/kallsyms (addresses hidden: need root, kptr_restrict)'), address: null };

  let offsets: TracingHost['offsets'];
  let layouts: StructLayouts | null = null;
  if (opts.programDetails === false) offsets = { ...no('not probed'), value: null };
  else if (!btfPresent) offsets = { ...no('no kernel BTF to read struct offsets from'), value: null };
  else {
    const pahole = await which('pahole');
    if (!pahole) offsets = { ...no('pahole is not installed (apt install pahole)'), value: null };
    else {
      const r = await run(pahole, ['-C', PAHOLE_STRUCTS.join(','), BTF_PATH], { timeoutMs: 15000 }).catch((e: Error) => e);
      try {
        if (r instanceof Error) throw r;
        layouts = parsePahole(r.stdout);
        offsets = { ...yes, value: kernelOffsets(layouts) };
      } catch (e) {
        offsets = { ...no(`cannot read kernel struct offsets with pahole: ${(e as Error).message}`), value: null };
      }
    }
  }

  // Raw tracepoints: bpftrace 0.17 has none (it aborts on the probe type); ka-top's use of them is tested with 0.23.
  // The program reads sk_protocol as the u16 it is since Linux 5.6 (a bitfield before).
  let rawTracepoint: Availability = no('not probed');
  if (bpftrace.ok && opts.programDetails !== false) {
    const [major, minor] = RAW_TRACEPOINT_BPFTRACE;
    const listed = versionAtLeast(version!, major, minor)
      && await run(bpftracePath!, ['-l', RAW_STATE_PROBE], { timeoutMs: 5000 }).then((r) => r.stdout.split('\n').includes(RAW_STATE_PROBE), () => false);
    if (!listed) rawTracepoint = no(`bpftrace ${version!.major}.${version!.minor} does not list ${RAW_STATE_PROBE} (ka-top attaches it from ${major}.${minor})`);
    else if (layouts?.sock?.sk_protocol?.size !== 2) rawTracepoint = no('sock.sk_protocol is not a 2-byte field on this kernel (before Linux 5.6)');
    else rawTracepoint = yes;
  }

  const hzText = config ? kernelConfig(config, 'CONFIG_HZ') : null;
  const hz = hzText && /^\d+$/.test(hzText) ? Number(hzText) : null;

  const programFiles = bpfFilesProblem();
  let usable: Availability = yes;
  if (!root) usable = no('tracing needs root');
  else if (!bpftrace.ok) usable = no(bpftrace.reason!);
  else if (!tracefs.ok) usable = no(tracefs.reason!);
  else if (!tracepoints['tcp:tcp_send_reset'].ok && !tracepoints['sock:inet_sock_set_state'].ok)
    usable = no('neither tcp:tcp_send_reset nor sock:inet_sock_set_state exist');
  else if (programFiles) usable = no(programFiles);

  return { root, bpftrace, tracefs, kprobes, fentry, rawTracepoint, btf, tracepoints, sendReset, keepaliveTimer, offsets, hz, usable };
}

/** Layout and reason names of tcp:tcp_send_reset, from its format file. */
export function describeSendReset(format: TraceFormat | null): TracingHost['sendReset'] {
  if (!format) return { layout: null, hasReason: false, reasons: {} };
  const layout: SendResetLayout = (field(format, 'saddr')?.arrayLen ?? 0) >= 16 ? 'sockaddr' : 'legacy';
  const hasReason = field(format, 'reason') !== undefined;
  return { layout, hasReason, reasons: hasReason ? Object.fromEntries(printSymbolic(format.printFmt, 'reason')) : {} };
}
