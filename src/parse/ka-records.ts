// The one table of ka-top's tracer records: for every record kind, its fields in print order, how the bpftrace
// program prints each (the printf conversion and the program variable holding it) and how it is read back. The
// program's `printf(KA_REC_<KIND>, KA_ARGS_<KIND>)` lines get their format and argument list from here (as
// `#define`s in the generated preamble), and decodeKaRecord() reads the same positions: a field name is written
// nowhere else. A record is one line `KA <kind> <v1> <v2> …`; a `rest` field (the task name, which may contain
// spaces) comes last.

/** How a value is printed and read: `int` (%d/%u/%llu), `hex` (%llx: pointers and cookies, printed as hex because
 *  bpftrace ≤ 0.23 prints u64 as raw JSON numbers; `0` reads as null), `word` (%s/%rx without spaces), `rest`. */
export type FieldKind = 'int' | 'hex' | 'word' | 'rest';

interface FieldSpec {
  readonly name: string;
  readonly conv: string;
  /** The bpftrace expression printed (a variable the probe computed, or a builtin). */
  readonly expr: string;
  readonly kind: FieldKind;
}

const int = <N extends string>(name: N, expr: string, conv = '%d') => ({ name, conv, expr, kind: 'int' as const });
const hex = <N extends string>(name: N, expr: string) => ({ name, conv: '%llx', expr, kind: 'hex' as const });
const word = <N extends string>(name: N, expr: string, conv = '%s') => ({ name, conv, expr, kind: 'word' as const });
const rest = <N extends string>(name: N, expr: string) => ({ name, conv: '%s', expr, kind: 'rest' as const });

/** The socket's identity as the probes read it from `struct sock`: address, netns inode, cookie. */
const socket = [hex('sk', '$sk'), int('netns', '$ns', '%u'), hex('cookie', '$ck')] as const;
/** Endpoints read from the socket itself (timer probes): IPv4 words and IPv6 as two little-endian u64 each. */
const sockTuple = [
  int('family', '$family'), hex('la', '$la'), hex('ra', '$ra'), hex('l6a', '$l6a'), hex('l6b', '$l6b'),
  hex('r6a', '$r6a'), hex('r6b', '$r6b'), int('lport', '$lport'), int('rportBe', '$rport_be'),
] as const;
/** A connection's endpoints as the tracepoints with family/sport/dport/saddr/daddr/saddr_v6/daddr_v6 give them. */
const endpoints = (family: string, sport: string, dport: string, s4: string, d4: string, s6: string, d6: string) => [
  int('family', family), int('sport', sport), int('dport', dport),
  word('s4', s4), word('d4', d4), word('s6', s6), word('d6', d6),
] as const;
const tpTuple = endpoints('args->family', 'args->sport', 'args->dport', 'ntop(2, args->saddr)', 'ntop(2, args->daddr)',
  'ntop(10, args->saddr_v6)', 'ntop(10, args->daddr_v6)');
/** The same of a state change, as state.bt reads them (through STATE_*, however it is attached). */
const stateTuple = endpoints('$family', '$lport', '$rport', '$s4', '$d4', '$s6', '$d6');
/** The process that called connect() on the socket (0: accepted, or born before the tracer started). */
const connector = int('connectPid', '$cpid');
/** Bits of @born[sk] below its birth time (ms): the connecting pid (PID_MAX_LIMIT is 2^22). */
export const BORN_PID_BITS = 22;
/** The on-CPU task: the owner only when the event ran in the owner's syscall (close, setsockopt). */
const task = [int('pid', 'pid'), rest('comm', 'comm')] as const;
/** Keepalive settings in force for the socket (jiffies; the namespace default where the socket has none). */
const keepalive = [
  int('outstanding', '$outstanding'), int('total', '$total'), int('maxProbes', '$kp'), int('intvlJiffies', '$ki'),
  int('idleJiffies', '$kt'), int('userTimeoutMs', '$ut'),
] as const;
/** A reset sent for a listener or without a socket: the 4-tuple of the segment it answers, read from the skb and
 *  turned round (local = the segment's destination), as sockTuple prints it; family 0 when not read (a connected
 *  socket's own addresses are in the record already). */
const segTuple = [
  int('segFamily', '$sfamily'), hex('segLa', '$sla'), hex('segRa', '$sra'), hex('segL6a', '$sl6a'), hex('segL6b', '$sl6b'),
  hex('segR6a', '$sr6a'), hex('segR6b', '$sr6b'), int('segLport', '$slport'), int('segRportBe', '$srport_be'),
] as const;
/** A reset we send: kernel reason (-1 without a reason field), socket state, sent from this socket's keepalive
 *  timer, SO_LINGER {1,0} set. */
const resetFacts = [
  int('reason', '$reason'), int('state', 'args->state'), int('inKeepaliveTimer', '$ka'), int('lingerZero', '$l0'),
] as const;

/** A close: its last state, how it ended, the socket's error then (sk_err, 0 = none; read when no reset or keepalive
 *  timeout marked it), its life, keepalive probes sent, endpoints. */
const closeFields = [
  ...socket, int('oldState', '$old'), int('how', '$how'), int('error', '$err'), int('lifeMs', '$life', '%llu'),
  int('lifeKnown', '$known'), int('probes', '$probes'), ...stateTuple, connector, ...task,
] as const;

export const KA_RECORDS = {
  /** BEGIN: every probe is attached. */
  ready: [],
  /** The end of one interval's counts (the maps printed just before it): the exact totals at a known time. */
  countsEnd: [],
  /** A keepalive probe went out (icsk_probes_out grew across one run of the keepalive timer). */
  probe: [...socket, ...keepalive, ...sockTuple, connector],
  /** The keepalive timer gave up on the peer (the socket moved to TCP_CLOSE inside it). */
  katimeout: [...socket, ...keepalive, ...sockTuple, connector],
  /** tcp_send_reset, 6.10+ layout: addresses as 28-byte sockaddrs. */
  rst: [
    ...socket, ...resetFacts, word('saddr', 'buf(args->saddr, 28)', '%rx'), word('daddr', 'buf(args->daddr, 28)', '%rx'),
    ...segTuple, ...task,
  ],
  /** tcp_send_reset, older layout: ports and addresses like the other tracepoints, no reason. */
  rstLegacy: [...socket, ...resetFacts, ...tpTuple, ...segTuple, ...task],
  /** tcp_receive_reset. */
  rrst: [...socket, ...tpTuple, connector, ...task],
  /** A connection ended (any state -> TCP_CLOSE but a listener's), with how and after how long. */
  close: closeFields,
  /** A connection ended by a reset it received: the received reset and its close in one record (tcp_reset() ends
   *  the connection in the same softirq, right after tcp_receive_reset). Its fields hold rrst's. */
  resetClose: closeFields,
  /** A keepalive- or close-related setsockopt (runs in the caller: pid and fd name the socket). */
  sockopt: [int('pid', 'pid'), int('fd', '$fd'), int('level', '$level'), int('optname', '$optname'), rest('comm', 'comm')],
} as const satisfies Record<string, readonly FieldSpec[]>;

export type KaRecordKind = keyof typeof KA_RECORDS;

type ValueOf<K extends FieldKind> = K extends 'int' ? number : K extends 'hex' ? string | null : string;
type FieldsOf<T extends readonly FieldSpec[]> = { [F in T[number] as F['name']]: ValueOf<F['kind']> };

/** A decoded record: its kind and typed fields. */
export type KaRecord = { [K in KaRecordKind]: { kind: K } & FieldsOf<(typeof KA_RECORDS)[K]> }[KaRecordKind];
export type KaRecordOf<K extends KaRecordKind> = Extract<KaRecord, { kind: K }>;

/** Markers, not events: not counted in @records (a marker is never among the lost). */
const MARKER_KINDS: ReadonlySet<KaRecordKind> = new Set(['ready', 'countsEnd'] satisfies KaRecordKind[]);
export const isMarker = (r: KaRecord): r is KaRecordOf<'ready' | 'countsEnd'> => MARKER_KINDS.has(r.kind);

/** How a connection ended, as the program keeps it in @how[sk] and counts it in @closes[netns, how]; bpf/ reads
 *  them as HOW_* defines. `reset_after_close` is only a count: a close() that reset after moving the socket to
 *  TCP_CLOSE (zero linger, unread data), whose close was counted as `fin` a moment before. */
export const CLOSE_HOW = { fin: 0, rst_sent: 1, rst_received: 2, timeout: 3, reset_after_close: 4, retransmit_timeout: 5, connect_failed: 6 } as const;

/** The `#define`s the program prints its records with: KA_REC_<KIND> (format) and KA_ARGS_<KIND> (arguments). */
export function recordDefines(kinds: readonly KaRecordKind[] = Object.keys(KA_RECORDS) as KaRecordKind[]): string[] {
  return kinds.flatMap((kind) => {
    const fields: readonly FieldSpec[] = KA_RECORDS[kind];
    const name = kind.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
    const fmt = ['KA', kind, ...fields.map((f) => f.conv)].join(' ');
    const out = [`#define KA_REC_${name} "${fmt}\\n"`];
    if (fields.length) out.push(`#define KA_ARGS_${name} ${fields.map((f) => f.expr).join(', ')}`);
    return out;
  });
}

/** A copy of a value cut from the line: V8 keeps a slice of 13+ characters as a view of the whole line, and events
 *  (their `sk`, a command name) live on in timelines long after the line is gone. */
const detached = (value: string): string => (value.length < 13 ? value : (' ' + value).slice(1));

/** One `KA …` printf line -> a typed record; null for anything else (other output, a kind or field count this
 *  table does not know). */
export function decodeKaRecord(data: string): KaRecord | null {
  const text = data.endsWith('\n') ? data.slice(0, -1) : data;
  if (!text.startsWith('KA ')) return null;
  const kindEnd = text.indexOf(' ', 3);
  const kind = (kindEnd < 0 ? text.slice(3) : text.slice(3, kindEnd)) as KaRecordKind;
  const fields: readonly FieldSpec[] | undefined = Object.hasOwn(KA_RECORDS, kind) ? KA_RECORDS[kind] : undefined;
  if (!fields) return null;
  const out: Record<string, unknown> = { kind };
  // `at` is where the next value starts; past the end once the line is used up.
  let at = kindEnd < 0 ? text.length + 1 : kindEnd + 1;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (at > text.length) return null;
    let value: string;
    if (f.kind === 'rest') {
      value = text.slice(at);
      at = text.length + 1;
    } else {
      const end = text.indexOf(' ', at);
      value = end < 0 ? text.slice(at) : text.slice(at, end);
      at = end < 0 ? text.length + 1 : end + 1;
    }
    if (f.kind === 'int') {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n)) return null;
      out[f.name] = n;
    } else if (f.kind === 'hex') {
      if (!/^[0-9a-f]+$/.test(value)) return null;
      out[f.name] = /^0+$/.test(value) ? null : detached(value);
    } else out[f.name] = detached(value);
  }
  if (at <= text.length) return null; // more values than fields: not this table's record
  return out as KaRecord;
}
