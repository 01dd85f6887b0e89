// Assembles the one bpftrace program ka-top runs from the readable fragments in bpf/ and what probeTracingHost()
// found. Pure: host facts and fragment texts in, program text out. The fragments use named constants only; this
// module writes the preamble of `#define`s that gives them this host's values (struct offsets from BTF, enums
// from tracefs, the keepalive timer's address), the user's filters and the record formats of the one field
// table (parse/ka-records.ts). bpftrace (0.17 too) expands object-like `#define`s; it cannot take one as an attach
// point, so the keepalive timer's attach points are put in here.
import type { EventType } from '../domain/event.js';
import type { KernelOffsets } from '../parse/pahole.js';
import { SOCK_LINGER_BIT, WATCHED_SOCKOPTS } from '../domain/kernel.js';
import { BORN_PID_BITS, CLOSE_HOW, recordDefines, type KaRecordKind } from '../parse/ka-records.js';
import { printSymbolic } from '../parse/tracefs-format.js';
import { versionAtLeast } from '../domain/version.js';
import type { BpfFragments } from '../sources/bpf-fragments.js';
import type { TracingHost } from '../sources/tracing-host.js';


export type KeepaliveProbeKind = 'tracepoint' | 'kprobe' | 'fentry';
export type StateProbeKind = 'tracepoint' | 'rawtracepoint';

/** Records the program can print, as the user asks for them (the others in KA_RECORDS are ready, the reset layouts'
 *  twin and resetClose, which stands for an rrst and its close). */
export type PrintedRecord = 'probe' | 'katimeout' | 'rst' | 'rrst' | 'close' | 'sockopt';

export interface ProgramFilter {
  /** Network namespace inodes. */
  netns?: readonly number[];
  /** Local or remote port. */
  ports?: readonly number[];
  /** Only for setsockopt, the one record that runs in its owner's context. */
  pids?: readonly number[];
  comms?: readonly string[];
}

export interface ProgramOptions {
  countsIntervalSec?: number;
  /** Records to print; all by default. Counting maps are kept whatever is printed. */
  records?: ReadonlySet<PrintedRecord>;
  /** A close record for every connection (that passes the filter); by default only for a connection that had a
   *  keepalive probe, a keepalive timeout or a reset. */
  allCloses?: boolean;
  /** Applied in the kernel to the records (never to the counts); ka-top filters again after attribution. */
  filter?: ProgramFilter;
  /** Entries per BPF map (bpftrace 0.17: BPFTRACE_MAP_KEYS_MAX, one size for every map). */
  mapKeysMax?: number;
  /** Records of each kind that leave the kernel per second, host-wide (default DEFAULT_RECORDS_PER_SECOND; 0: no
   *  limit). Beyond it a record is counted in @capped instead of printed: a reset flood costs bpftrace and ka-top
   *  what this many records cost, not what the flood's do, and the counting maps stay exact. */
  recordsPerSecond?: number;
}

export interface BpfProgram {
  text: string;
  /** Environment bpftrace must run with (map sizes). */
  env: Record<string, string>;
  /** How the keepalive timer is watched, or null when it cannot be (see `missing`). */
  keepalive: KeepaliveProbeKind | null;
  /** How TCP state changes are watched, or null when they cannot be (see `missing`). */
  state: StateProbeKind | null;
  /** What this program cannot see on this host, in words. */
  missing: string[];
  /** enum sk_rst_reason of this kernel (number -> name). */
  reasons: Record<number, string>;
  /** TCP states of this kernel (number -> TCP_* name). */
  tcpStates: Record<number, string>;
  /** Seconds between periodic map dumps. */
  countsIntervalSec: number;
  /** Every keepalive/linger setsockopt on the host is printed (attached, asked for, no pid/comm filter). */
  allSetsockopts: boolean;
  /** Each probe of the program, where it attaches and why there (`doctor` shows them). */
  attached: AttachedProbe[];
}

/** One probe of the program: what it watches, its attach point(s), why this way and what it costs the host. */
export interface AttachedProbe {
  watches: string;
  attach: string;
  why: string;
}

/** Live connections tracked per map; beyond it updates are dropped and counted in @map_full. */
export const DEFAULT_MAP_KEYS_MAX = 65536;

/** Under a flood of 70k resets a second bpftrace printed what it could (~9k records a second) on 1.1-1.3 cores of
 *  a 2-core host; a thousand a second of one kind is more than anyone reads, and a few percent of a core. */
export const DEFAULT_RECORDS_PER_SECOND = 1000;

const ALL_RECORDS: readonly PrintedRecord[] = ['probe', 'katimeout', 'rst', 'rrst', 'close', 'sockopt'];

/** The events each printed record kind gives, as @capped counts them (its key: the kind's place here, from 1). */
export const CAPPED_EVENT_TYPES: Readonly<Record<PrintedRecord, EventType>> = {
  probe: 'keepalive_probe', katimeout: 'keepalive_timeout', rst: 'rst_sent', rrst: 'rst_received', close: 'close', sockopt: 'sockopt_changed',
};
const gateNumber = (r: PrintedRecord) => ALL_RECORDS.indexOf(r) + 1;
/** The event type of a @capped key (null for a key this version does not print). */
export const cappedEventType = (key: number): EventType | null => {
  const r = ALL_RECORDS[key - 1];
  return r ? CAPPED_EVENT_TYPES[r] : null;
};

/** Records a gate's window lets through at the least, where the rate allows it (see gateWindow). */
const GATE_MIN_BURST = 64;

/**
 * The rate gate's window: 2^shift ns, the shortest from 2^24 (~17 ms) to 2^30 (~1.07 s) whose budget is still
 * GATE_MIN_BURST records. In a flood each window's budget leaves at once: in short windows a flood's records leave in
 * many small bursts through the second, not in one of up to a second's worth (1,074 records at the default, which
 * overflowed bpftrace's perf buffer while a busy TUI read late), and a low rate keeps long windows, where rounding a
 * window's budget up adds little. `perWindow` 0: no limit.
 */
export function gateWindow(recordsPerSecond: number): { shift: number; perWindow: number } {
  const budget = (shift: number) => Math.ceil((recordsPerSecond * 2 ** shift) / 1e9);
  let shift = 24;
  while (shift < 30 && budget(shift) < GATE_MIN_BURST) shift++;
  return { shift, perWindow: budget(shift) };
}

/**
 * The statements each `RECORD_GATE` line of the fragments stands for (bpftrace 0.17 expands no statement macro):
 * `$room` says whether the record of kind `$gate` may be printed. @rate[kind] holds the window's number (its low 32
 * bits) above the records printed in it. CPUs share the count without a lock: a few records more may pass in a
 * window, the counts stay exact (@capped is a per-CPU count).
 */
function recordGate({ shift, perWindow }: { shift: number; perWindow: number }, indent: string): string {
  const lines = perWindow <= 0
    ? ['$room = 1;']
    : [
        '$room = 0;',
        '$rate = @rate[$gate];',
        `$rate_w = (nsecs >> ${shift}) & 0xffffffff;`,
        'if (($rate >> 32) != $rate_w) { $rate = $rate_w << 32; }',
        `if (($rate & 0xffffffff) < ${perWindow}) { $room = 1; @rate[$gate] = $rate + 1; } else { @capped[$gate] = count(); }`,
      ];
  return lines.map((l) => indent + l).join('\n');
}

/** Every offset name the fragments use, also when BTF offsets are unknown (they are then 0 and never read). */
const OFFSET_NAMES = {
  sock_sk_timer: 1, sock_skc_family: 1, sock_skc_state: 1, sock_skc_daddr: 1, sock_skc_rcv_saddr: 1, sock_skc_dport: 1,
  sock_skc_num: 1, sock_skc_v6_daddr: 1, sock_skc_v6_rcv_saddr: 1, sock_skc_cookie: 1, sock_skc_flags: 1,
  sock_skc_net: 1, sock_sk_lingertime: 1, sock_sk_err: 1, sock_sk_protocol: 1, inet_sock_inet_sport: 1, icsk_probes_out: 1,
  icsk_user_timeout: 1, tp_keepalive_time: 1, tp_keepalive_intvl: 1, tp_keepalive_probes: 1, net_ns_inum: 1,
  net_ka_time: 1, net_ka_intvl: 1, net_ka_probes: 1, skb_dev: 1, netdev_nd_net: 1, skb_head: 1,
  skb_network_header: 1, skb_transport_header: 1, iphdr_saddr: 1, iphdr_daddr: 1, ipv6hdr_saddr: 1, ipv6hdr_daddr: 1,
  tcphdr_source: 1, tcphdr_dest: 1,
} satisfies Record<keyof KernelOffsets, 1>;

/** The `// attach-entry: …` / `// attach-exit: …` line of a keepalive-via-*.h variant, `// attach: …` of a
 *  state-via-*.h one. */
function attachLine(variant: string, label: 'attach-entry' | 'attach-exit' | 'attach'): string {
  const m = new RegExp(`^// ${label}: (.+)$`, 'm').exec(variant);
  if (!m) throw new Error(`a variant in bpf/ has no ${label} line`);
  return m[1]!.trim();
}

/** The attach points of a probe's text (`tracepoint:tcp:tcp_send_reset /pred/ {` → `tracepoint:tcp:tcp_send_reset`). */
function attachPoints(probes: string): string {
  return [...probes.matchAll(/^((?:raw)?tracepoint|kprobe|kretprobe|fentry|fexit|kfunc|kretfunc):(\S+)(?= .*\{$| \{$)/gm)].map((m) => `${m[1]}:${m[2]}`).join(', ');
}

/** A comm the program may compare against: printable, no quote or backslash (the rest is filtered in Node). */
const SAFE_COMM = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,15}$/;

const anyOf = (terms: string[]) => (terms.length ? `(${terms.join(' || ')})` : '(1)');

/** The TCP constants of this kernel from the inet_sock_set_state format (enums resolved from its print fmt). */
function kernelConstants(host: TracingHost): Record<string, number> {
  // Fallbacks: include/net/tcp_states.h and the UAPI, for a kernel whose format has no symbolic table.
  const out: Record<string, number> = {
    TCP_ESTABLISHED: 1, TCP_SYN_SENT: 2, TCP_SYN_RECV: 3, TCP_FIN_WAIT2: 5, TCP_CLOSE: 7, TCP_LISTEN: 10,
    AF_INET: 2, AF_INET6: 10, IPPROTO_TCP: 6,
  };
  const fmt = host.tracepoints['sock:inet_sock_set_state'].format;
  if (fmt) {
    for (const field of ['newstate', 'family', 'protocol']) {
      for (const [n, name] of printSymbolic(fmt.printFmt, field)) if (/^(TCP|AF|IPPROTO)_[A-Z0-9_]+$/.test(name)) out[name] = n;
    }
  }
  return out;
}

export function generateBpfProgram(host: TracingHost, fragments: BpfFragments, opts: ProgramOptions = {}): BpfProgram {
  const v = host.bpftrace.version ?? { major: 0, minor: 17, patch: 0 };
  const o = host.offsets.value;
  const tp = host.tracepoints;
  const interval = opts.countsIntervalSec ?? 5;
  const mapKeys = opts.mapKeysMax ?? DEFAULT_MAP_KEYS_MAX;
  const printed = opts.records ?? new Set(ALL_RECORDS);
  const filter = opts.filter ?? {};
  const missing: string[] = [];
  const frag = (name: string): string => {
    const text = fragments[name];
    if (text === undefined) throw new Error(`bpf/${name} is missing`);
    return text.trimEnd();
  };

  // Keepalive timer: the cheapest attach point the host has.
  let keepalive: KeepaliveProbeKind | null = null;
  if (!o) missing.push(`keepalive probes: ${host.offsets.reason ?? 'kernel struct offsets unknown'}`);
  else if (host.fentry.ok) keepalive = 'fentry';
  else if (host.kprobes.ok) keepalive = 'kprobe';
  else if (!host.keepaliveTimer.ok) missing.push(`keepalive probes: ${host.keepaliveTimer.reason}`);
  else if (!tp['timer:timer_expire_entry'].ok || !tp['timer:timer_expire_exit'].ok)
    missing.push(`keepalive probes: ${tp['timer:timer_expire_entry'].reason ?? tp['timer:timer_expire_exit'].reason}`);
  else keepalive = 'tracepoint';

  const sendReset = tp['tcp:tcp_send_reset'];
  const receiveReset = tp['tcp:tcp_receive_reset'];
  const state = tp['sock:inet_sock_set_state'];
  const sockopt = tp['syscalls:sys_enter_setsockopt'];
  if (!sendReset.ok) missing.push(`resets sent: ${sendReset.reason}`);
  else if (!host.sendReset.hasReason) missing.push('reset reasons: this kernel\'s tcp_send_reset has no reason field (cause is inferred)');
  if (sendReset.ok && !o) missing.push(`reset attribution by netns/cookie: ${host.offsets.reason ?? 'offsets unknown'}`);
  if (!receiveReset.ok) missing.push(`resets received: ${receiveReset.reason}`);
  if (!state.ok) missing.push(`connection close and lifetime: ${state.reason}`);
  // State changes, ~10 a connection: as a raw tracepoint where bpftrace has them (nothing is copied for the program
  // at each one; the socket is read by its offsets), else through the tracepoint.
  const stateVia: StateProbeKind | null = !state.ok ? null : host.rawTracepoint.ok && o ? 'rawtracepoint' : 'tracepoint';
  if (!sockopt.ok) missing.push(`socket option changes: ${sockopt.reason}`);

  // ---- the preamble ----
  const def = (name: string, value: string | number) => `#define ${name} ${value}`;
  const pre: string[] = [];
  pre.push(`// ka-top's bpftrace program for this host (bpftrace ${v.major}.${v.minor}), assembled from bpf/ by ka-top.`);
  pre.push(`// The #defines below are this host's values and this run's options; the probes follow.`);
  pre.push('', `// Kernel struct offsets (pahole on /sys/kernel/btf/vmlinux)${o ? '' : `: unknown (${host.offsets.reason}), never read`}`);
  pre.push(def('KA_HAVE_OFFSETS', o ? 1 : 0));
  for (const k of Object.keys(OFFSET_NAMES) as (keyof KernelOffsets)[]) pre.push(def(k.toUpperCase(), o ? o[k] : 0));

  pre.push('', '// TCP constants of this kernel (tracefs: sock/inet_sock_set_state print fmt)');
  for (const [name, n] of Object.entries(kernelConstants(host))) pre.push(def(name, n));

  pre.push('', '// ka-top constants: close outcomes kept in @how and counted in @closes, the SO_LINGER flag bit');
  for (const [name, n] of Object.entries(CLOSE_HOW)) pre.push(def(`HOW_${name.toUpperCase()}`, n));
  pre.push(def('SOCK_LINGER_BIT', SOCK_LINGER_BIT));
  // @born[sk]: ms since boot above the pid that called connect() (0 for an accepted connection); pids < 2^22
  pre.push(def('BORN_PID_BITS', BORN_PID_BITS));
  pre.push(def('BORN_PID_MASK', 2 ** BORN_PID_BITS - 1));
  pre.push(def('WATCHED_SOCKOPT', anyOf(Object.values(WATCHED_SOCKOPTS).map((s) => `(args->level == ${s.level} && args->optname == ${s.optname})`))));

  pre.push('', '// Host facts');
  if (keepalive === 'tracepoint') pre.push(def('KEEPALIVE_TIMER_FN', `0x${host.keepaliveTimer.address}`));
  // The exact per-reason counts need the in-timer flag; without the keepalive probe it is never set.
  pre.push(def('IN_KEEPALIVE_TIMER', keepalive ? '(@ka_sk[cpu] == $sk)' : '(0)'));
  const rrCookie = receiveReset.format?.fields.some((f) => f.name === 'sock_cookie') ?? false;
  // The tracepoint's sock_cookie is generated on demand (the socket's own field may still be 0).
  pre.push(def('RECEIVE_RESET_COOKIE', rrCookie ? 'args->sock_cookie' : '*(uint64*)($sk + SOCK_SKC_COOKIE)'));

  pre.push('', '// What this run prints (the counting maps are kept whatever is printed) and its filters');
  for (const r of ALL_RECORDS) if (r !== 'close' && r !== 'sockopt') pre.push(def(`KA_PRINT_${r.toUpperCase()}`, printed.has(r) ? 1 : 0));
  pre.push(def('KA_PRINT_CLOSE', printed.has('close') ? 1 : 0));
  pre.push(def('KA_PRINT_CLOSE_ALL', printed.has('close') && opts.allCloses ? 1 : 0));
  // A received reset rides on its connection's close (one record, resetClose) when the state can be read (the
  // close's cookie and the reset's own check of TCP_CLOSE need the offsets) and closes are traced.
  pre.push(def('KA_RRST_IN_CLOSE', o && state.ok ? 1 : 0));
  // The kinds RECORD_GATE counts apart (@rate, @capped).
  for (const r of ALL_RECORDS) pre.push(def(`RECORD_${r.toUpperCase()}`, gateNumber(r)));
  const netns = o ? (filter.netns ?? []).filter((n) => Number.isInteger(n) && n >= 0) : [];
  pre.push(def('KA_WANT_NETNS', anyOf(netns.map((n) => `$ns == ${n}`))));
  const ports = (filter.ports ?? []).filter((p) => Number.isInteger(p) && p >= 0 && p <= 65535);
  pre.push(def('KA_WANT_PORT', anyOf(ports.map((p) => `$lport == ${p} || $rport == ${p}`))));
  const comms = filter.comms ?? [];
  const task = [
    ...(filter.pids ?? []).filter((p) => Number.isInteger(p) && p > 0).map((p) => `pid == ${p}`),
    ...(comms.every((c) => SAFE_COMM.test(c)) ? comms.map((c) => `comm == "${c}"`) : []),
  ];
  // A pid filter and an unsafe comm together: Node filters; the kernel must not drop what the comm would keep.
  pre.push(def('KA_WANT_TASK', comms.every((c) => SAFE_COMM.test(c)) ? anyOf(task) : '(1)'));

  pre.push('', '// Record formats and arguments, from the field table (src/parse/ka-records.ts)');
  const kinds: KaRecordKind[] = ['ready', 'countsEnd', 'probe', 'katimeout', host.sendReset.layout === 'legacy' ? 'rstLegacy' : 'rst', 'rrst', 'close', 'resetClose', 'sockopt'];
  pre.push(...recordDefines(kinds));

  // ---- the probes ----
  const body: string[] = [];
  const attached: AttachedProbe[] = [];
  const gate = gateWindow(opts.recordsPerSecond ?? DEFAULT_RECORDS_PER_SECOND);
  const probe = (watches: string, text: string, why: string) => {
    body.push(text.replace(/^([ \t]*)RECORD_GATE$/gm, (_, indent: string) => recordGate(gate, indent)));
    attached.push({ watches, attach: attachPoints(text), why });
  };
  if (keepalive) {
    const variant = frag(`keepalive-via-${keepalive}.h`);
    pre.push('', variant);
    // bpftrace before 0.20 calls fentry/fexit kfunc/kretfunc.
    const oldNames = keepalive === 'fentry' && !versionAtLeast(v, 0, 20);
    const attach = (which: 'entry' | 'exit') => {
      const line = attachLine(variant, `attach-${which}`);
      return oldNames ? line.replace(/^fentry:/, 'kfunc:').replace(/^fexit:/, 'kretfunc:') : line;
    };
    probe('keepalive timer', frag('keepalive-timer.bt')
      .replace(/^KEEPALIVE_TIMER_ENTRY \{/m, () => `${attach('entry')} {`)
      .replace(/^KEEPALIVE_TIMER_EXIT \{/m, () => `${attach('exit')} {`), {
      fentry: 'runs only when a keepalive timer fires: the cheapest attach point',
      kprobe: 'runs only when a keepalive timer fires',
      tracepoint: `every timer expiry on the host runs its filter on the callback's address (no kprobes: ${host.kprobes.reason})`,
    }[keepalive]);
  }
  if (sendReset.ok) {
    pre.push('', frag(`send-reset-addr.${host.sendReset.layout === 'legacy' ? 'legacy' : 'sockaddr'}.h`));
    probe('resets sent', frag('send-reset.bt'), 'runs at each reset the host sends');
  }
  if (receiveReset.ok) probe('resets received', frag('receive-reset.bt'), 'runs at each reset the host receives');
  if (stateVia) {
    const variant = frag(`state-via-${stateVia}.h`);
    pre.push('', variant);
    const noRaw = host.rawTracepoint.ok ? 'the kernel\'s struct offsets are unknown' : host.rawTracepoint.reason;
    probe('state changes', frag('state.bt').replace(/^STATE_CHANGE \{/m, () => `${attachLine(variant, 'attach')} {`), stateVia === 'rawtracepoint'
      ? 'runs at each of a connection\'s ~10 state changes; a raw tracepoint hands the program the socket and the two states only, the cheapest way'
      : `runs at each of a connection's ~10 state changes, for which the kernel first copies the socket's ports and addresses; a raw tracepoint copies nothing, but not here: ${noRaw}`);
  }
  const sockoptAttached = sockopt.ok && printed.has('sockopt');
  if (sockoptAttached) {
    probe('setsockopt', frag('sockopt.bt'), 'every setsockopt on the host runs its filter (keepalive and linger options pass), and while it is attached every system call on the host takes the kernel\'s syscall-tracing path: attached only while option changes or keepalive events are watched');
  }

  // The counts: only maps some probe of this program writes (bpftrace rejects the others).
  const ready = frag('ready.bt');
  const text = [ready, ...body].join('\n\n');
  const uses = (m: string) => text.includes(`${m}[`) || text.includes(`${m} =`);
  const counts = ['@rst_sent', '@rst_received', '@ka_timeouts', '@closes', '@map_full', '@records', '@capped'].filter(uses);
  const scratch = ['@ka_sk', '@ka_po', '@ka_st', '@ka_lp', '@ka_cp', '@born', '@how', '@ka_probes', '@rate'].filter(uses);
  const tail = [
    '// Exact counts, printed every interval and once more when bpftrace stops: resets sent by reason, resets',
    '// received, keepalive timeouts, closes per namespace and how, updates a full map dropped, records printed and',
    '// records held back (beyond the records a second of their kind); then a marker: the maps before it are one sample.',
    ...(counts.length ? [`interval:s:${interval} { ${counts.map((m) => `print(${m});`).join(' ')} printf(KA_REC_COUNTS_END); }`] : []),
    '// Only the counting maps are printed at exit: the per-connection and per-CPU state is cleared first.',
    `END { ${scratch.map((m) => `clear(${m});`).join(' ')} }`,
  ].join('\n');

  let program = [pre.join('\n'), ready, ...body, tail].join('\n\n') + '\n';
  // bpftrace 0.19 introduced `args.field`; `args->field` is deprecated later.
  if (versionAtLeast(v, 0, 19)) program = program.replace(/\bargs->/g, 'args.');
  return {
    text: program,
    // bpftrace 0.23 reads BPFTRACE_MAX_MAP_KEYS (the old name still, with a deprecation warning on every start).
    env: { [versionAtLeast(v, 0, 23) ? 'BPFTRACE_MAX_MAP_KEYS' : 'BPFTRACE_MAP_KEYS_MAX']: String(mapKeys) },
    keepalive, state: stateVia, missing, reasons: host.sendReset.reasons, countsIntervalSec: interval,
    allSetsockopts: sockoptAttached && !filter.pids?.length && !filter.comms?.length,
    attached,
    tcpStates: Object.fromEntries(Object.entries(kernelConstants(host)).filter(([k]) => k.startsWith('TCP_')).map(([k, n]) => [n, k])),
  };
}
