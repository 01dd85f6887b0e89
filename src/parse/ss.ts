// Pure parser of iproute2 `ss -HtinaeO` output (also -p, and the multi-line form without -O) into SsSocket records.
// Hand-written scanning (indexOf/charCodeAt, no per-token regex): a refresh can carry tens of thousands of lines.
// Format facts below are from iproute2's misc/ss.c (v6.1.0 and v7.1.0): sock_state_print, inet_addr_print,
// sock_addr_print, find_entry, sock_details_print, inet_show_sock, tcp_stats_print, tcp_timer_print, print_ms_timer.
import type { Endpoint, SsSocket, SsTimer, SsUser, TcpInfo, TcpState, TimerKind } from '../domain/connection.js';
import { TCP_STATES } from '../domain/connection.js';
import { LineSplitter } from '../domain/lines.js';
import { ParseError } from './parse-error.js';

export interface SsParseError {
  /** 1-based line number of the (first line of the) record in the input. */
  line: number;
  text: string;
  message: string;
}

export interface SsParseResult {
  sockets: SsSocket[];
  errors: SsParseError[];
}

const STATES: ReadonlySet<string> = new Set(TCP_STATES);

/**
 * Incremental parser: feed ss output as it arrives (push), so parsing overlaps with ss still dumping.
 * Records that span several lines (ss without -O starts continuation lines with a tab) are joined first.
 * A header line (ss without -H) is skipped. Bad records are reported, never thrown.
 */
export class SsStreamParser {
  /** @param keepExtras false skips ss's untyped tokens (`extra` stays empty): an inventory never reads them, and
   *  at tens of thousands of sockets their strings are a large share of the garbage. */
  constructor(private readonly keepExtras = true) {}

  readonly sockets: SsSocket[] = [];
  readonly errors: SsParseError[] = [];
  private record = '';
  private recordLine = 0;
  private lineNo = 0;
  private readonly lines = new LineSplitter();

  push(chunk: string): void {
    for (const line of this.lines.push(chunk)) this.line(line);
  }

  end(): SsParseResult {
    for (const line of this.lines.end()) this.line(line);
    this.flush();
    return { sockets: this.sockets, errors: this.errors };
  }

  private line(line: string): void {
    this.lineNo++;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) {
      const cont = line.trim();
      if (cont === '') return;
      if (this.record !== '') this.record += ' ' + cont;
      // Nothing to continue (output cut at its start, or a blank line before): reported, not silently lost.
      else this.errors.push({ line: this.lineNo, text: line, message: 'continuation line without a socket record' });
      return;
    }
    this.flush();
    if (line === '') return;
    if (this.lineNo === 1 && (line.startsWith('State ') || line.startsWith('Netid '))) return;
    this.record = line;
    this.recordLine = this.lineNo;
  }

  private flush(): void {
    if (this.record === '') return;
    try {
      this.sockets.push(parseSsLine(this.record, this.keepExtras));
    } catch (e) {
      this.errors.push({ line: this.recordLine, text: this.record, message: (e as Error).message });
    }
    this.record = '';
  }
}

/** Parses a whole ss dump (see SsStreamParser). */
export function parseSsOutput(text: string): SsParseResult {
  const p = new SsStreamParser();
  p.push(text);
  return p.end();
}

/** Parses one socket record (one `-O` line, or continuation lines already joined).
 *  Throws ParseError on an unreadable line. */
export function parseSsLine(line: string, keepExtras = true): SsSocket {
  // ss separates fields with spaces; a tab (multi-line output) is one too.
  if (line.indexOf('\t') >= 0) line = line.replace(/\t/g, ' ');
  src = line;
  pos = 0;
  let state = nextWord();
  // With several protocols selected ss prints a Netid column first.
  if (state === 'tcp' || state === 'mptcp') state = nextWord();
  if (!STATES.has(state)) throw new ParseError(`unknown socket state ${JSON.stringify(state)}`);
  const recvQ = toInt(nextWord(), 'Recv-Q');
  const sendQ = toInt(nextWord(), 'Send-Q');
  const local = parseEndpoint(nextWord());
  const peer = parseEndpoint(nextWord());

  const sock: SsSocket = {
    state: state as TcpState,
    recvQ,
    sendQ,
    local,
    peer,
    timer: null,
    uid: null,
    inode: 0,
    cookie: null,
    cgroup: null,
    users: [],
    info: emptyInfo(),
    extra: {},
  };

  skipSpaces();
  // users:(...) comes right after the addresses; names are raw, so it is cut out before splitting on spaces.
  if (line.startsWith('users:(', pos)) pos = parseUsers(line, pos + 7, sock.users);

  const info = sock.info;
  const n = line.length;
  let details = false;
  let hasInfo = false;
  for (;;) {
    // Token bounds and its first ':' by native indexOf, without slicing the whole token.
    skipSpaces();
    const start = pos;
    if (start >= n) break;
    pos = wordEnd(line, start);
    let colon = line.indexOf(':', start);
    if (colon >= pos) colon = -1;
    if (colon < 0) {
      const tok = line.slice(start, pos);
      if (tok === 'send' || tok === 'pacing_rate' || tok === 'delivery_rate') {
        // "key value" pairs printed with a space (`send 52428800000bps`).
        const value = nextWord();
        if (keepExtras) sock.extra[tok] = value;
        hasInfo = true;
      } else if (isShutdownMark(tok)) {
        // `<->` etc.: which directions are shut down (inet_show_sock, INET_DIAG_SHUTDOWN).
        sock.extra.shutdown = tok;
      } else {
        info.flags.push(tok);
      }
      continue;
    }
    const key = line.slice(start, colon);
    const v = colon + 1;
    switch (key) {
      case 'timer':
        sock.timer = parseTimer(line.slice(v, pos), sock.extra);
        break;
      case 'uid':
        sock.uid = numAt(line, v, pos, key);
        break;
      case 'ino':
        sock.inode = numAt(line, v, pos, key);
        details = true;
        break;
      case 'sk':
        sock.cookie = normaliseCookie(line.slice(v, pos));
        details = true;
        break;
      case 'cgroup':
        sock.cgroup = line.slice(v, pos);
        break;
      default:
        if (setInfoField(info, key, line, v, pos)) hasInfo = true;
        else if (keepExtras) sock.extra[key] = line.slice(v, pos);
    }
  }
  // ss prints uid only when non-zero (sock_details_print): with -e details present, a missing uid is root.
  if (details && sock.uid === null) sock.uid = 0;
  // tcp_stats_print omits zero counters; when tcp_info was printed at all, missing counters are 0, not unknown.
  if (hasInfo) zeroSuppressed(info);
  return sock;
}

function zeroSuppressed(info: TcpInfo): void {
  if (info.lastsndMs === null) info.lastsndMs = 0;
  if (info.lastrcvMs === null) info.lastrcvMs = 0;
  if (info.lastackMs === null) info.lastackMs = 0;
  if (info.bytesSent === null) info.bytesSent = 0;
  if (info.bytesAcked === null) info.bytesAcked = 0;
  if (info.bytesReceived === null) info.bytesReceived = 0;
  if (info.segsOut === null) info.segsOut = 0;
  if (info.segsIn === null) info.segsIn = 0;
  if (info.unacked === null) info.unacked = 0;
  if (info.lost === null) info.lost = 0;
  if (info.retransCurrent === null) info.retransCurrent = 0;
  if (info.retransTotal === null) info.retransTotal = 0;
}

function emptyInfo(): TcpInfo {
  return {
    lastsndMs: null,
    lastrcvMs: null,
    lastackMs: null,
    rtoMs: null,
    rttMs: null,
    rttVarMs: null,
    mss: null,
    cwnd: null,
    bytesSent: null,
    bytesAcked: null,
    bytesReceived: null,
    segsOut: null,
    segsIn: null,
    unacked: null,
    lost: null,
    retransCurrent: null,
    retransTotal: null,
    flags: [],
  };
}

/** Stores a typed tcp_info field from s[a, b); returns false for keys that are not typed (they go to `extra`). */
function setInfoField(info: TcpInfo, key: string, s: string, a: number, b: number): boolean {
  switch (key) {
    case 'lastsnd': info.lastsndMs = numAt(s, a, b, key); return true;
    case 'lastrcv': info.lastrcvMs = numAt(s, a, b, key); return true;
    case 'lastack': info.lastackMs = numAt(s, a, b, key); return true;
    case 'rto': info.rtoMs = numAt(s, a, b, key); return true;
    case 'mss': info.mss = numAt(s, a, b, key); return true;
    case 'cwnd': info.cwnd = numAt(s, a, b, key); return true;
    case 'bytes_sent': info.bytesSent = numAt(s, a, b, key); return true;
    case 'bytes_acked': info.bytesAcked = numAt(s, a, b, key); return true;
    case 'bytes_received': info.bytesReceived = numAt(s, a, b, key); return true;
    case 'segs_out': info.segsOut = numAt(s, a, b, key); return true;
    case 'segs_in': info.segsIn = numAt(s, a, b, key); return true;
    case 'unacked': info.unacked = numAt(s, a, b, key); return true;
    case 'lost': info.lost = numAt(s, a, b, key); return true;
    case 'rtt': {
      const slash = s.indexOf('/', a);
      const mid = slash < 0 || slash > b ? b : slash;
      info.rttMs = numAt(s, a, mid, key);
      if (mid < b) info.rttVarMs = numAt(s, mid + 1, b, key);
      return true;
    }
    case 'retrans': {
      const slash = s.indexOf('/', a);
      if (slash < 0 || slash > b) return false;
      info.retransCurrent = numAt(s, a, slash, key);
      info.retransTotal = numAt(s, slash + 1, b, key);
      return true;
    }
    default:
      return false;
  }
}

function isShutdownMark(tok: string): boolean {
  if (tok.length !== 3 || tok.charCodeAt(1) !== 45 /* - */) return false;
  const a = tok[0];
  const b = tok[2];
  return (a === '<' || a === '-') && (b === '>' || b === '-');
}

// ---------------------------------------------------------------------------------------------------------------
// timer:(kind,expiry,count)

const TIMER_KINDS: Readonly<Record<string, TimerKind>> = {
  on: 'on',
  keepalive: 'keepalive',
  timewait: 'timewait',
  persist: 'persist',
};

function parseTimer(val: string, extra: Record<string, string>): SsTimer {
  if (val.charCodeAt(0) !== 40 || val.charCodeAt(val.length - 1) !== 41) throw new ParseError(`malformed timer ${val}`);
  const c1 = val.indexOf(',');
  const c2 = c1 < 0 ? -1 : val.indexOf(',', c1 + 1);
  if (c2 < 0) throw new ParseError(`malformed timer ${val}`);
  const name = val.slice(1, c1);
  const kind = TIMER_KINDS[name] ?? 'unknown';
  // Kinds outside the model (`delack` from iproute2 7.1, `unknown`) keep their ss name here.
  if (kind === 'unknown') extra.timer = val;
  return {
    kind,
    remainingMs: parseMsTimer(val.slice(c1 + 1, c2)),
    count: toInt(val.slice(c2 + 1, val.length - 1), 'timer count'),
  };
}

/**
 * Reads iproute2's print_ms_timer() notation back into ms. Its forms (misc/ss.c): `NNNms` (< 1 s, 3 digits, e.g.
 * `003ms`), `S.mmm<unit>` (1-9 s with a ms part), `Ssec`, `MminSsec` / `Mmin` (< 10 min), `MMmin` (≥ 10 min,
 * seconds dropped), and an empty string for 0. Before iproute2 v6.11.0 (commit 3e807112 "ss: fix expired time
 * format of timer") the S.mmm form ended in `ms` (`1.028ms` = 1.028 s); since then it ends in `sec`. So a number
 * with a decimal point is seconds whatever its suffix.
 */
export function parseMsTimer(s: string): number {
  let total = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const numStart = i;
    let dot = false;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 46) dot = true;
      else if (c < 48 || c > 57) break;
    }
    if (i === numStart) throw new ParseError(`malformed timer expiry ${JSON.stringify(s)}`);
    const num = Number(s.slice(numStart, i));
    const unitStart = i;
    while (i < n && s.charCodeAt(i) >= 97 && s.charCodeAt(i) <= 122) i++;
    const unit = s.slice(unitStart, i);
    if (Number.isNaN(num)) throw new ParseError(`malformed timer expiry ${JSON.stringify(s)}`);
    if (dot) total += num * 1000;
    else if (unit === 'ms') total += num;
    else if (unit === 'sec' || unit === 's') total += num * 1000;
    else if (unit === 'min') total += num * 60_000;
    else if (unit === 'h') total += num * 3_600_000;
    else throw new ParseError(`unknown timer unit in ${JSON.stringify(s)}`);
  }
  return Math.round(total);
}

// ---------------------------------------------------------------------------------------------------------------
// users:(("name",pid=N,fd=N),...)

/**
 * Parses the entries of `users:(` starting at `i` (just after the opening paren); returns the index after the
 * closing paren. ss reads the name with fscanf("%*d (%[^)])") from /proc/<pid>/stat and prints it raw, so it may
 * contain quotes, spaces, commas and `(`. Each entry is anchored on its tail `",pid=N,[tid=N,]fd=N)`: the first
 * `",pid=` that is followed by that exact tail ends the name, so `",pid=` or `)` inside a name do not derail it.
 */
function parseUsers(s: string, i: number, out: SsUser[]): number {
  for (;;) {
    if (s.charCodeAt(i) !== 40 || s.charCodeAt(i + 1) !== 34) throw new ParseError(`malformed users:( at column ${i}`);
    const nameStart = i + 2;
    let from = nameStart;
    let user: SsUser | null = null;
    let after = 0;
    for (;;) {
      const q = s.indexOf('",pid=', from);
      if (q < 0) throw new ParseError(`malformed users entry at column ${i}`);
      const tail = parseUserTail(s, q + 6);
      if (tail) {
        user = { comm: s.slice(nameStart, q), pid: tail.pid, fd: tail.fd };
        after = tail.end;
        break;
      }
      from = q + 1;
    }
    out.push(user);
    const c = s.charCodeAt(after);
    if (c === 44 /* , */) {
      i = after + 1;
      continue;
    }
    if (c === 41 /* ) */) return after + 1;
    throw new ParseError(`malformed users list at column ${after}`);
  }
}

/** Reads `N,[tid=N,]fd=N)` (or the -Z forms with proc_ctx=/sock_ctx=) at i; null if the text is not that tail. */
function parseUserTail(s: string, i: number): { pid: number; fd: number; end: number } | null {
  const pid = readUint(s, i);
  if (pid.end === i || s.charCodeAt(pid.end) !== 44) return null;
  let j = pid.end + 1;
  let fd = -1;
  // Remaining comma-separated key=value fields up to ')'; fd is the one we need.
  for (;;) {
    const eq = s.indexOf('=', j);
    if (eq < 0) return null;
    const key = s.slice(j, eq);
    if (key === 'fd' || key === 'tid') {
      const v = readUint(s, eq + 1);
      if (v.end === eq + 1) return null;
      if (key === 'fd') fd = v.value;
      j = v.end;
    } else if (key === 'proc_ctx' || key === 'sock_ctx') {
      j = eq + 1;
      while (j < s.length && s.charCodeAt(j) !== 44 && s.charCodeAt(j) !== 41) j++;
    } else {
      return null;
    }
    const c = s.charCodeAt(j);
    if (c === 41) return fd < 0 ? null : { pid: pid.value, fd, end: j + 1 };
    if (c !== 44) return null;
    j++;
  }
}

function readUint(s: string, i: number): { value: number; end: number } {
  let v = 0;
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  return { value: v, end: j };
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses

/**
 * ss forms: `1.2.3.4:80`, `1.2.3.4%lo:80` (SO_BINDTODEVICE), `[::1]:22`, `[fe80::1]%eth0:22` (ss puts the interface
 * after the bracket), `[fe80::1%eth0]:22`, `*:22` (in6addr_any on a dual-stack socket), `0.0.0.0:*`, `[::]:*`.
 * Port `*` is 0. Interface names cannot contain `:` (dev_valid_name), so the last `:` starts the port.
 */
export function parseEndpoint(tok: string): Endpoint {
  const colon = tok.lastIndexOf(':');
  if (colon <= 0) throw new ParseError(`malformed address ${JSON.stringify(tok)}`);
  const portStr = tok.slice(colon + 1);
  const port = portStr === '*' ? 0 : toPort(portStr, tok);
  let host = tok.slice(0, colon);
  let scope: string | undefined;
  let address: string;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    if (close < 0) throw new ParseError(`malformed address ${JSON.stringify(tok)}`);
    if (close + 1 < host.length) {
      if (host.charCodeAt(close + 1) !== 37 /* % */) throw new ParseError(`malformed address ${JSON.stringify(tok)}`);
      scope = host.slice(close + 2);
    }
    host = host.slice(1, close);
    const pct = host.indexOf('%');
    if (pct >= 0) {
      scope = host.slice(pct + 1);
      host = host.slice(0, pct);
    }
    address = normaliseIpv6(host);
  } else {
    const pct = host.indexOf('%');
    if (pct >= 0) {
      scope = host.slice(pct + 1);
      host = host.slice(0, pct);
    }
    // `*` is the IPv6 wildcard of a socket that also accepts IPv4 (inet_addr_print, !v6only).
    address = host === '*' ? '::' : host.indexOf(':') >= 0 ? normaliseIpv6(host) : host;
  }
  return scope === undefined ? { address, port } : { address, port, scope };
}

const v6Cache = new Map<string, string>();

/** Lower-case compressed IPv6 (RFC 5952; dotted tail for v4-mapped/-compatible like glibc's inet_ntop). */
export function normaliseIpv6(addr: string): string {
  const hit = v6Cache.get(addr);
  if (hit !== undefined) return hit;
  const out = formatIpv6(parseIpv6(addr));
  if (v6Cache.size > 4096) v6Cache.clear();
  v6Cache.set(addr, out);
  return out;
}

function parseIpv6(addr: string): number[] {
  const bad = (): ParseError => new ParseError(`malformed IPv6 address ${JSON.stringify(addr)}`);
  const dbl = addr.indexOf('::');
  if (dbl >= 0 && addr.indexOf('::', dbl + 1) >= 0) throw bad();
  const parsePart = (part: string): number[] => {
    if (part === '') return [];
    const groups = part.split(':');
    const words: number[] = [];
    for (let g = 0; g < groups.length; g++) {
      const grp = groups[g];
      if (g === groups.length - 1 && grp.indexOf('.') >= 0) {
        const o = grp.split('.');
        if (o.length !== 4) throw bad();
        const b = o.map((x) => {
          const v = Number(x);
          if (x === '' || !Number.isInteger(v) || v < 0 || v > 255) throw bad();
          return v;
        });
        words.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else {
        if (grp.length === 0 || grp.length > 4) throw bad();
        const v = parseInt(grp, 16);
        if (Number.isNaN(v) || !/^[0-9a-fA-F]+$/.test(grp)) throw bad();
        words.push(v);
      }
    }
    return words;
  };
  if (dbl < 0) {
    const w = parsePart(addr);
    if (w.length !== 8) throw bad();
    return w;
  }
  const head = parsePart(addr.slice(0, dbl));
  const tail = parsePart(addr.slice(dbl + 2));
  const fill = 8 - head.length - tail.length;
  if (fill < 1) throw bad();
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

function formatIpv6(w: number[]): string {
  // Longest run of >= 2 zero words (first one on ties) becomes `::`.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  // glibc inet_ntop prints ::ffff:a.b.c.d and ::a.b.c.d with a dotted IPv4 tail.
  const dotted = bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff));
  const parts: string[] = [];
  const end = dotted ? 6 : 8;
  for (let i = 0; i < end; i++) {
    if (i === bestStart) {
      parts.push(i === 0 ? ':' : '');
      i += bestLen - 1;
      if (i === end - 1) parts.push('');
      continue;
    }
    parts.push(w[i].toString(16));
  }
  let s = parts.join(':');
  if (dotted) s += (s.endsWith(':') ? '' : ':') + `${w[6] >> 8}.${w[6] & 255}.${w[7] >> 8}.${w[7] & 255}`;
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function normaliseCookie(hex: string): string {
  let i = 0;
  while (i < hex.length - 1 && hex.charCodeAt(i) === 48) i++;
  const s = hex.slice(i).toLowerCase();
  if (s === '' || !/^[0-9a-f]+$/.test(s)) throw new ParseError(`malformed sk cookie ${JSON.stringify(hex)}`);
  return s;
}

// Scanner state of parseSsLine: parsing is synchronous, so a module-level cursor saves an allocation per line.
let src = '';
let pos = 0;

function skipSpaces(): void {
  while (pos < src.length) {
    const c = src.charCodeAt(pos);
    if (c !== 32) break;
    pos++;
  }
}

/** Next whitespace-delimited word ('' at the end). */
function nextWord(): string {
  skipSpaces();
  const start = pos;
  pos = wordEnd(src, start);
  return src.slice(start, pos);
}

/** End of the word starting at i (parseSsLine has turned tabs into spaces). */
function wordEnd(s: string, i: number): number {
  const sp = s.indexOf(' ', i);
  return sp < 0 ? s.length : sp;
}

/** The number in s[a, b): up to 15 digits are read in place (exact), anything else (`0.05`, `1e+06`, a u64 beyond
 *  2^53, where summing digits drifts from the nearest double) goes through Number(). */
function numAt(s: string, a: number, b: number, what: string): number {
  let v = 0;
  let j = a;
  for (; j < b; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  if (j === b && b > a && b - a <= 15) return v;
  const x = Number(s.slice(a, b));
  if (b === a || Number.isNaN(x)) throw new ParseError(`bad ${what} ${JSON.stringify(s.slice(a, b))}`);
  return x;
}

function toInt(s: string, what: string): number {
  const v = readUint(s, 0);
  if (s.length === 0 || v.end !== s.length) throw new ParseError(`bad ${what} ${JSON.stringify(s)}`);
  return v.value;
}

function toPort(s: string, tok: string): number {
  const v = readUint(s, 0);
  if (s.length === 0 || v.end !== s.length || v.value > 65535) {
    throw new ParseError(`bad port in ${JSON.stringify(tok)} (ss must run with -n)`);
  }
  return v.value;
}
