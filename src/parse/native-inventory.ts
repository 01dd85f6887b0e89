// Pure parser of `ka-sockinfo inventory` output (src/native/ka-sockinfo.c): netlink sock_diag records joined with
// the owner scan, into the same `SsSocket` records parse/ss.ts makes from `ss -HtinaeO` (`T` lines), plus the
// owners and options of those sockets as `ScannedSocket`s (`O` lines, after all sockets). Where ss prints a field only under a condition (tcp_stats_print, tcp_show_info and
// tcp_timer_print in iproute2's misc/ss.c), the same condition decides here, so both sources give equal records.
// Hand-written scanning like the ss parser: numbers are read in place, only kept strings are sliced (and interned).
import type { ScannedSocket, SockOpts, SockScan, SsSocket, SsTimer, TcpInfo, TcpState, TimerKind } from '../domain/connection.js';
import { LineSplitter } from '../domain/lines.js';
import type { SsParseError } from './ss.js';
import { parseSockinfoLine } from './sockinfo.js';

export const INVENTORY_HEADER = '@ka-sockinfo/inventory 1';
/** A `changes` answer of `ka-sockinfo serve`: the same lines, for what changed since its previous answer only. */
export const CHANGES_HEADER = '@ka-sockinfo/changes 1';
/** The field order of a `T` line (socket) and an `O` line (its owners); the helper prints them as `@fields …` and
 *  `@owners …`, and the parser refuses any other. */
export const INVENTORY_FIELDS = [
  'state', 'rq', 'wq', 'laddr', 'lport', 'raddr', 'rport', 'dev', 'inode', 'uid', 'cookie', 'timer', 'expires',
  'timer_count', 'shutdown', 'cgroup', 'tcpi_options', 'cong', 'rto_us', 'rtt_us', 'rttvar_us', 'snd_mss',
  'snd_cwnd', 'bytes_sent', 'bytes_acked', 'bytes_received', 'segs_out', 'segs_in', 'lastsnd_ms', 'lastrcv_ms',
  'lastack_ms', 'unacked', 'retrans', 'total_retrans', 'lost', 'app_limited', 'rates',
] as const;
export const INVENTORY_OWNER_FIELDS = ['inode', 'owners', 'opts'] as const;
const headerLines = (first: string) => [first, `@fields ${INVENTORY_FIELDS.join(' ')}`, `@owners ${INVENTORY_OWNER_FIELDS.join(' ')}`];

export class InventoryFormatError extends Error {}

export interface NativeNetnsDump {
  /** Position of the namespace in the helper's argument list. */
  index: number;
  inode: number | null;
  sockets: SsSocket[];
  /** errno name when the namespace could not be entered or dumped (its sockets are then void). */
  error: string | null;
  /** Socket lines that could not be read (never silently dropped). */
  errors: SsParseError[];
  /** In a `changes` answer: the helper's clock (ms) its figures are as of, whether the section is complete (else
   *  `sockets` holds only new or changed sockets), the cookies of the sockets gone since its previous answer, and
   *  whether the namespace was left undumped because its TCP counters stood (`still`: nothing but time moved). */
  change?: { atMs: number; complete: boolean; gone: string[]; still: boolean };
}

export interface NativeInventory {
  namespaces: NativeNetnsDump[];
  /** Owners and options of the dumped sockets, one entry per (pid, fd), as the owner scan reports them. */
  scan: SockScan;
  /** In a `changes` answer: inodes of sockets whose last owner let go (their other lines are unchanged). */
  ownersGone: number[];
}

// Kernel TCP state numbers (include/net/tcp_states.h) to ss's names; SYN-RECV request sockets come as 3.
const STATE_BY_NUMBER: readonly (TcpState | undefined)[] = [
  undefined, 'ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN', 'CLOSE-WAIT',
  'LAST-ACK', 'LISTEN', 'CLOSING',
];
// idiag_timer (inet_diag.c): 1 retransmit/probe, 2 sk_timer (keepalive, FIN-WAIT-2), 3 TIME-WAIT, 4 zero window.
const TIMER_BY_NUMBER: readonly TimerKind[] = ['unknown', 'on', 'keepalive', 'timewait', 'persist'];
// INET_DIAG_SHUTDOWN as ss prints it: bit 0 = no more receives (`-` left), bit 1 = no more sends (`-` right).
const SHUTDOWN_EXTRA: readonly Readonly<Record<string, string>>[] = ['<->', '-->', '<--', '---'].map((m) =>
  Object.freeze({ shutdown: m }),
);
const NO_EXTRA: Readonly<Record<string, string>> = Object.freeze({});
/** ss lists owners in `users`; the helper gives them in O lines instead. */
const NO_USERS: SsSocket['users'] = Object.freeze([]) as unknown as SsSocket['users'];
const TCPI_OPT_TIMESTAMPS = 1, TCPI_OPT_SACK = 2, TCPI_OPT_ECN = 8, TCPI_OPT_ECN_SEEN = 16, TCPI_OPT_SYN_DATA = 32;

/**
 * Incremental parser: feed the helper's output as it arrives. Throws InventoryFormatError when the header is not
 * the one this parser reads; a bad line is reported in its namespace's `errors` and skipped.
 */
export class NativeInventoryParser {
  private readonly header: readonly string[];
  private readonly lines = new LineSplitter();
  private lineNo = 0;
  private headerSeen = 0;
  private current: NativeNetnsDump | null = null;
  private readonly namespaces: NativeNetnsDump[] = [];
  private readonly owners: ScannedSocket[] = [];
  private readonly cgroups = new Map<string, string>();
  private readonly strings = new Interner();
  private summary: { denied: number; elapsedUs: number } | null = null;
  private readonly ownersGone: number[] = [];

  /** @param changes reads a `changes` answer (serve's diff against its previous answer) instead of a full one. */
  constructor(private readonly changes = false) {
    this.header = headerLines(changes ? CHANGES_HEADER : INVENTORY_HEADER);
  }

  /** Output as it arrives, in chunks of any size. */
  push(chunk: string): void {
    for (const line of this.lines.push(chunk)) this.pushLine(line);
  }

  /** Throws InventoryFormatError when the output ended early (no summary line: the helper died). */
  end(): NativeInventory {
    for (const line of this.lines.end()) this.pushLine(line);
    if (!this.summary) throw new InventoryFormatError('ka-sockinfo inventory output has no summary line');
    return {
      namespaces: this.namespaces,
      scan: { sockets: this.owners, deniedPids: this.summary.denied, elapsedUs: this.summary.elapsedUs },
      ownersGone: this.ownersGone,
    };
  }

  /** One line of output, without its newline (what the helper's daemon hands over as it reads them). */
  pushLine(line: string): void {
    this.lineNo++;
    if (this.headerSeen < this.header.length) {
      const want = this.header[this.headerSeen]!;
      if (line !== want) {
        throw new InventoryFormatError(`ka-sockinfo speaks another inventory format (expected ${JSON.stringify(want)}, got ${JSON.stringify(line.slice(0, 80))})`);
      }
      this.headerSeen++;
      return;
    }
    switch (line.charCodeAt(0)) {
      case 84 /* T */:
        if (!this.current || this.current.error) return;
        try {
          this.current.sockets.push(this.socket(line));
        } catch (e) {
          this.current.errors.push({ line: this.lineNo, text: line, message: (e as Error).message });
        }
        return;
      case 79 /* O */:
        try {
          cur = line;
          at = 2;
          this.ownersOf(digitsThen(32));
        } catch (e) {
          // Owner lines follow the last namespace's sockets: reported there, with their line number.
          this.current?.errors.push({ line: this.lineNo, text: line, message: (e as Error).message });
        }
        return;
      case 67 /* C */: {
        const sp = line.indexOf(' ', 2);
        if (sp > 2) this.cgroups.set(line.slice(2, sp), this.strings.get(line.slice(sp + 1)));
        return;
      }
      case 78 /* N */: {
        const [, idx, inode, atMs, since, still] = line.split(' ');
        this.current = { index: Number(idx), inode: inode === '-' ? null : Number(inode), sockets: [], error: null, errors: [] };
        if (this.changes && inode !== '-') {
          if (!/^\d+$/.test(atMs ?? '') || (since !== '+' && since !== '-') || (still !== undefined && (still !== 'still' || since !== '+'))) {
            throw new InventoryFormatError(`bad section line ${JSON.stringify(line)}`);
          }
          this.current.change = { atMs: Number(atMs), complete: since === '-', gone: [], still: still !== undefined };
        }
        this.namespaces.push(this.current);
        return;
      }
      case 71 /* G */:
        if (!this.current?.change) throw new InventoryFormatError(`gone socket outside a changes section: ${JSON.stringify(line)}`);
        // Not interned: every cookie is unique, and it is only looked up once
        this.current.change.gone.push(line.slice(2));
        return;
      case 111 /* o */:
        this.ownersGone.push(Number(line.slice(2)));
        return;
      case 69 /* E */: {
        const [, idx, err] = line.split(' ');
        const ns = this.namespaces.find((n) => n.index === Number(idx));
        if (ns) {
          ns.error = err ?? 'EIO';
          ns.sockets = [];
        }
        return;
      }
      default: {
        const p = parseSockinfoLine(line);
        if (p?.kind === 'summary') this.summary = { denied: p.summary.denied, elapsedUs: p.summary.elapsedUs };
      }
    }
  }

  private socket(line: string): SsSocket {
    cur = line;
    at = 2;
    const stateNo = int();
    const state = STATE_BY_NUMBER[stateNo];
    if (!state) throw new Error(`unknown TCP state ${stateNo}`);
    const recvQ = int();
    const sendQ = int();
    const laddr = this.strings.get(word());
    const lport = int();
    const raddr = this.strings.get(word());
    const rport = int();
    const dev = word();
    const inode = int();
    const uid = int();
    const cookie = word();
    const timerNo = int();
    const expires = int();
    const timerCount = int();
    const shutdown = intOrNull();
    const cgroupId = word();
    const timer: SsTimer | null = timerNo === 0
      ? null
      : { kind: TIMER_BY_NUMBER[timerNo] ?? 'unknown', remainingMs: expires, count: timerCount };
    let cgroup: string | null = null;
    if (cgroupId !== '-') {
      cgroup = this.cgroups.get(cgroupId) ?? null;
      if (cgroup === null) throw new Error(`cgroup ${cgroupId} was not announced`);
    }
    const info = this.tcpInfo();
    const sock: SsSocket = {
      state,
      recvQ,
      sendQ,
      local: dev === '-' ? { address: laddr, port: lport } : { address: laddr, port: lport, scope: this.strings.get(dev) },
      peer: { address: raddr, port: rport },
      timer,
      uid,
      inode,
      cookie,
      cgroup,
      users: NO_USERS,
      info,
      extra: shutdown === null ? NO_EXTRA : SHUTDOWN_EXTRA[shutdown]!,
    };
    if (at < cur.length) throw new Error('more fields than the header names');
    return sock;
  }

  /** tcp_info as ss -i shows it: fields ss leaves out stay null, zero counters become 0 when ss printed any. */
  private tcpInfo(): TcpInfo {
    const options = intOrNull();
    if (options === null) {
      // The rest of the tcp_info fields are `-` too (a churning host sends thousands of such TIME-WAIT lines at each
      // refresh): the tail in one comparison, field by field only if it is not the expected one.
      if (cur.length - at === NO_INFO_TAIL.length && cur.endsWith(NO_INFO_TAIL)) at = cur.length + 1;
      else for (let i = 0; i < AFTER_OPTIONS; i++) skip();
      return NO_INFO;
    }
    const cong = word();
    const rtoUs = int(), rttUs = int(), rttVarUs = int(), mss = int(), cwnd = int();
    const bytesSent = int(), bytesAcked = int(), bytesReceived = int(), segsOut = int(), segsIn = int();
    const lastsnd = int(), lastrcv = int(), lastack = int(), unacked = int(), retrans = int(), retransTotal = int();
    const lost = int(), appLimited = int(), rates = int();
    // tcp_show_info: rto 3 s is the initial value and not printed; `send` needs rtt, mss and cwnd.
    const rtoShown = rtoUs !== 0 && rtoUs !== 3_000_000;
    const shown = rtoShown || rttUs !== 0 || mss !== 0 || cwnd !== 0 || bytesSent + bytesAcked + bytesReceived !== 0
      || segsOut + segsIn + lastsnd + lastrcv + lastack + unacked + retrans + retransTotal + lost !== 0 || rates !== 0;
    const zero = shown ? 0 : null;
    return {
      lastsndMs: lastsnd || zero,
      lastrcvMs: lastrcv || zero,
      lastackMs: lastack || zero,
      rtoMs: rtoShown ? printedMs(rtoUs) : null,
      rttMs: rttUs ? printedMs(rttUs) : null,
      rttVarMs: rttUs ? printedMs(rttVarUs) : null,
      mss: mss || null,
      cwnd: cwnd || null,
      bytesSent: bytesSent || zero,
      bytesAcked: bytesAcked || zero,
      bytesReceived: bytesReceived || zero,
      segsOut: segsOut || zero,
      segsIn: segsIn || zero,
      unacked: unacked || zero,
      lost: lost || zero,
      retransCurrent: retrans || retransTotal ? retrans : zero,
      retransTotal: retrans || retransTotal ? retransTotal : zero,
      flags: this.strings.flags(options, cong === '-' ? null : cong, appLimited !== 0),
    };
  }

  /** `pid:fd,…` and `ka,idle,intvl,cnt,user_timeout_ms,linger_on,linger_sec` | `!ERRNAME`. */
  private ownersOf(inode: number): void {
    if (at >= cur.length) throw new Error('fewer fields than the header names');
    const first = this.owners.length;
    for (;;) {
      const pid = digits();
      if (cur.charCodeAt(at++) !== 58 /* : */) throw new Error(`bad owner at column ${at - 1}`);
      const fd = digits();
      this.owners.push({ pid, fd, inode, opts: null, error: null });
      const c = cur.charCodeAt(at++);
      if (c === 32) break;
      if (c !== 44 /* , */) throw new Error(`bad owner list at column ${at - 1}`);
    }
    let opts: SockOpts | null = null;
    let error: string | null = null;
    if (cur.charCodeAt(at) === 33 /* ! */) {
      at++;
      error = this.strings.get(word());
    } else {
      const from = at;
      const v: number[] = [];
      for (let k = 0; k < 7; k++) {
        v.push(digits());
        const c = cur.charCodeAt(at++);
        if (c !== (k < 6 ? 44 : 32) && !(k === 6 && Number.isNaN(c))) throw new Error(`bad options at column ${at - 1}`);
      }
      opts = this.strings.opts(cur.slice(from, at - 1), () => ({
        keepalive: v[0] === 1, keepIdleSec: v[1]!, keepIntvlSec: v[2]!, keepCnt: v[3]!, userTimeoutMs: v[4]!, lingerOn: v[5] === 1, lingerSec: v[6]!,
      }));
    }
    for (let i = first; i < this.owners.length; i++) {
      this.owners[i]!.opts = opts;
      this.owners[i]!.error = error;
    }
  }
}

/** Parses a whole `ka-sockinfo inventory` output (see NativeInventoryParser). */
export function parseNativeInventory(text: string): NativeInventory {
  const p = new NativeInventoryParser();
  p.push(text);
  return p.end();
}

/** The ms figure ss prints for a µs value with `%g` (6 significant digits) and the ss parser reads back. */
function printedMs(us: number): number {
  return us < 1_000_000 ? us / 1000 : Number((us / 1000).toPrecision(6));
}

/** The fields after `tcpi_options`, and how a line without tcp_info ends: all of them `-`. */
const AFTER_OPTIONS = INVENTORY_FIELDS.length - 1 - INVENTORY_FIELDS.indexOf('tcpi_options');
const NO_INFO_TAIL = Array<string>(AFTER_OPTIONS).fill('-').join(' ');

/** A socket without tcp_info (TIME-WAIT, SYN-RECV): all of them share this one, frozen (ageConnection leaves nulls). */
const NO_INFO: TcpInfo = Object.freeze({
  lastsndMs: null, lastrcvMs: null, lastackMs: null, rtoMs: null, rttMs: null, rttVarMs: null, mss: null, cwnd: null,
  bytesSent: null, bytesAcked: null, bytesReceived: null, segsOut: null, segsIn: null, unacked: null, lost: null,
  retransCurrent: null, retransTotal: null, flags: Object.freeze([]) as unknown as string[],
});

/** A copy of a slice that does not keep the whole output chunk it was cut from alive. */
const fresh = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/**
 * One copy per distinct string (addresses, interface and congestion names, cgroup paths), one array per flag
 * combination and one frozen object per set of socket options: tens of thousands of sockets share a handful of each.
 */
class Interner {
  private readonly strs = new Map<string, string>();
  private readonly flagSets = new Map<string, string[]>();
  private readonly optSets = new Map<string, SockOpts>();

  get(s: string): string {
    let v = this.strs.get(s);
    if (v === undefined) {
      if (this.strs.size > 65_536) this.strs.clear();
      v = fresh(s);
      this.strs.set(v, v);
    }
    return v;
  }

  /** The options written as `text` (their field list in an O line). */
  opts(text: string, make: () => SockOpts): SockOpts {
    let o = this.optSets.get(text);
    if (o === undefined) {
      if (this.optSets.size > 65_536) this.optSets.clear();
      o = Object.freeze(make());
      this.optSets.set(fresh(text), o);
    }
    return o;
  }

  /** The flags ss prints without a value, in its order (tcp_stats_print): options, congestion control, app_limited. */
  flags(options: number, cong: string | null, appLimited: boolean): string[] {
    const key = `${options}|${cong ?? ''}|${appLimited ? 1 : 0}`;
    let f = this.flagSets.get(key);
    if (f === undefined) {
      f = [];
      if (options & TCPI_OPT_TIMESTAMPS) f.push('ts');
      if (options & TCPI_OPT_SACK) f.push('sack');
      if (options & TCPI_OPT_ECN) f.push('ecn');
      if (options & TCPI_OPT_ECN_SEEN) f.push('ecnseen');
      if (options & TCPI_OPT_SYN_DATA) f.push('fastopen');
      if (cong !== null) f.push(this.get(cong));
      if (appLimited) f.push('app_limited');
      this.flagSets.set(key, f);
    }
    return f;
  }
}

// Cursor over the current T line: parsing is synchronous, so module state saves an allocation per field.
let cur = '';
let at = 0;

function wordEnd(): number {
  const sp = cur.indexOf(' ', at);
  return sp < 0 ? cur.length : sp;
}

function word(): string {
  if (at >= cur.length) throw new Error('fewer fields than the header names');
  const end = wordEnd();
  const w = cur.slice(at, end);
  at = end + 1;
  return w;
}

/** Past one field without reading it (no string made: a TIME-WAIT line has twenty empty ones). */
function skip(): void {
  if (at >= cur.length) throw new Error('fewer fields than the header names');
  at = wordEnd() + 1;
}

function intOrNull(): number | null {
  if (cur.charCodeAt(at) === 45 /* - */ && (at + 1 === cur.length || cur.charCodeAt(at + 1) === 32)) {
    at += 2;
    return null;
  }
  return int();
}

/** Digits and the separator after them (or the end of the line). */
function digitsThen(sep: number): number {
  const v = digits();
  const c = cur.charCodeAt(at++);
  if (c !== sep && !Number.isNaN(c)) throw new Error(`unexpected character at column ${at - 1}`);
  return v;
}

/** Digits at the cursor, which is left on the character after them. */
function digits(): number {
  let v = 0;
  const from = at;
  for (; at < cur.length; at++) {
    const c = cur.charCodeAt(at);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  if (at === from) throw new Error(`missing number at column ${at}`);
  return v;
}

function int(): number {
  if (at >= cur.length) throw new Error('fewer fields than the header names');
  let v = 0;
  let j = at;
  for (; j < cur.length; j++) {
    const c = cur.charCodeAt(j);
    if (c === 32) break;
    if (c < 48 || c > 57) throw new Error(`bad number at column ${at}`);
    v = v * 10 + (c - 48);
  }
  if (j === at) throw new Error(`missing number at column ${at}`);
  at = j + 1;
  return v;
}
