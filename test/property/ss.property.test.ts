// Property tests of src/parse/ss.ts. Generated inputs per run of this file (numRuns below):
//   parseSsLine: 12k printed sockets (round trip) + 60k mutated fixture lines + 15k random lines = 87k
//   SsStreamParser / parseSsOutput: 3k printed documents (1-5 sockets, random chunking and line ends) + 10k
//     mutated fixture excerpts (1-8 lines) + 2k documents with newlines in process names = 15k
//   parseEndpoint: 5k; normaliseIpv6: 5k; parseMsTimer: 10k
//   total 122k inputs.
import { SocketAddress } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TCP_STATES, type Endpoint, type SsSocket, type TcpInfo, type TcpState } from '../../src/domain/connection.js';
import { ParseError } from '../../src/parse/parse-error.js';
import { SsStreamParser, normaliseIpv6, parseEndpoint, parseMsTimer, parseSsLine, parseSsOutput } from '../../src/parse/ss.js';
import { ALNUM, LOWER, awkwardString, captureLines, charsOf, chunked, fixture, hugeNumber, mutated, mutatedLine, randomText, rejectsOnlyWith } from './arbitraries.js';

// ---------------------------------------------------------------------------------------------------------------
// What ss prints (iproute2 misc/ss.c), written from generated sockets, with the record the parser must give back.

/** print_ms_timer(): `NNNms`, `S.mmm<unit>`, `Ssec`, `MminSsec`, `MMmin`; the S.mmm unit was `ms` before 6.11. */
function printMsTimer(timeout: number, since611: boolean): { text: string; ms: number } {
  const minutes = Math.floor(timeout / 60_000);
  let secs = Math.floor(timeout / 1000) % 60;
  let msecs = timeout % 1000;
  let text = '';
  if (minutes) {
    msecs = 0;
    text += `${minutes}min`;
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    text += `${secs}${msecs ? '.' : 'sec'}`;
  }
  if (msecs) text += `${String(msecs).padStart(3, '0')}${since611 && secs ? 'sec' : 'ms'}`;
  return { text, ms: minutes * 60_000 + secs * 1000 + msecs };
}

/** printf("%g"). */
function printfG(x: number): string {
  if (x === 0) return '0';
  const [mant, exp] = x.toExponential(5).split('e') as [string, string];
  const e = Number(exp);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (e < -4 || e >= 6) return `${trim(mant)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return trim(x.toFixed(5 - e));
}

interface GenEndpoint {
  text: string;
  expected: Endpoint;
}

const ifname = charsOf(`${ALNUM}_.@-`, 1, 15);
const port = fc.oneof(fc.integer({ min: 0, max: 65535 }).map((p) => ({ text: String(p), port: p })), fc.constant({ text: '*', port: 0 }));
/** libuv's inet_ntop (the same rules as glibc's) as the reference normal form. */
const ntop6 = (a: string): string => new SocketAddress({ address: a, family: 'ipv6' }).address;

const endpoint: fc.Arbitrary<GenEndpoint> = fc.oneof(
  fc.tuple(fc.ipV4(), fc.option(ifname), port).map(([a, scope, p]) => ({
    text: `${a}${scope === null ? '' : `%${scope}`}:${p.text}`,
    expected: scope === null ? { address: a, port: p.port } : { address: a, port: p.port, scope },
  })),
  fc.tuple(fc.ipV6(), fc.option(ifname), fc.constantFrom('after', 'inside', 'bare'), fc.boolean(), port).map(
    ([a, scope, form, upper, p]) => {
      const addr = upper ? a.toUpperCase() : a;
      const text =
        form === 'bare' ? `${addr}${scope === null ? '' : `%${scope}`}:${p.text}`
        : form === 'inside' && scope !== null ? `[${addr}%${scope}]:${p.text}`
        : `[${addr}]${scope === null ? '' : `%${scope}`}:${p.text}`;
      const address = ntop6(a);
      return { text, expected: scope === null ? { address, port: p.port } : { address, port: p.port, scope } };
    },
  ),
  port.map((p) => ({ text: `*:${p.text}`, expected: { address: '::', port: p.port } })),
);

/** ss takes the name from /proc/<pid>/stat with "%[^)]": anything but `)` (and NUL); a newline breaks the record. */
const processName = (withNewlines: boolean): fc.Arbitrary<string> =>
  awkwardString(24, 1).map((s) => {
    const name = s.replace(/[)\0]/g, '');
    return withNewlines ? name : name.replace(/[\n]/g, '');
  }).filter((s) => s !== '');

const u32 = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
const u53 = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeNat());
/** A u64 counter as printf("%llu") prints it; beyond 2^53 it must read as the nearest double, like Number(). */
const u64Text = fc.oneof(u53.map(String), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String));
const word = charsOf(`${LOWER}_`, 1, 10);

const TYPED_INT_FIELDS = [
  ['lastsnd', 'lastsndMs'], ['lastrcv', 'lastrcvMs'], ['lastack', 'lastackMs'], ['mss', 'mss'], ['cwnd', 'cwnd'],
  ['bytes_sent', 'bytesSent'], ['bytes_acked', 'bytesAcked'], ['bytes_received', 'bytesReceived'],
  ['segs_out', 'segsOut'], ['segs_in', 'segsIn'], ['unacked', 'unacked'], ['lost', 'lost'],
] as const;
const UNTYPED_KEYS = new Set([
  'wscale', 'backoff', 'ato', 'qack', 'pmtu', 'rcvmss', 'advmss', 'ssthresh', 'bytes_retrans', 'data_segs_out',
  'data_segs_in', 'delivered', 'busy', 'rcv_rtt', 'rcv_space', 'rcv_ssthresh', 'notsent', 'minrtt', 'snd_wnd', 'bbr',
  'reordering', 'dsack_dups', 'rwnd_limited', 'sndbuf_limited',
]);
const NOT_FLAGS = new Set(['send', 'pacing_rate', 'delivery_rate', 'tcp', 'mptcp']);

interface Printed {
  /** The socket on one line (-O) and as ss prints it without -O: first line and `\t` continuation. */
  oneLine: string;
  lines: string[];
  expected: SsSocket;
  /** Tokens the parser only keeps with keepExtras. */
  hasExtras: boolean;
}

function emptyInfo(): TcpInfo {
  return {
    lastsndMs: null, lastrcvMs: null, lastackMs: null, rtoMs: null, rttMs: null, rttVarMs: null, mss: null,
    cwnd: null, bytesSent: null, bytesAcked: null, bytesReceived: null, segsOut: null, segsIn: null, unacked: null,
    lost: null, retransCurrent: null, retransTotal: null, flags: [],
  };
}

const gap = fc.integer({ min: 1, max: 6 }).map((n) => ' '.repeat(n));

const printedSocket = (names: fc.Arbitrary<string>): fc.Arbitrary<Printed> =>
  fc
    .record({
      netid: fc.constantFrom('', 'tcp', 'mptcp'),
      state: fc.constantFrom(...TCP_STATES),
      recvQ: u32,
      sendQ: u32,
      local: endpoint,
      peer: endpoint,
      users: fc.option(
        fc.array(
          fc.record({
            comm: names,
            pid: fc.integer({ min: 1, max: 4194304 }),
            fd: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
            tid: fc.option(fc.integer({ min: 1, max: 4194304 })),
            ctx: fc.option(fc.array(charsOf(`${LOWER}0123456789_`, 1, 8), { minLength: 1, maxLength: 4 }).map((p) => p.join(':'))),
          }),
          { minLength: 1, maxLength: 4 },
        ),
      ),
      timer: fc.option(
        fc.record({
          kind: fc.constantFrom('on', 'keepalive', 'timewait', 'persist', 'delack', 'unknown'),
          ms: fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
          since611: fc.boolean(),
          count: fc.integer({ min: 0, max: 255 }),
        }),
      ),
      uid: fc.option(u32),
      details: fc.option(fc.record({ ino: u32, cookie: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), zeros: fc.nat(3), upper: fc.boolean() })),
      cgroup: fc.option(charsOf(`${ALNUM}/._:@-`, 1, 30)),
      shutdown: fc.option(fc.constantFrom('<->', '-->', '<--', '---')),
      flags: fc.array(word.filter((w) => !NOT_FLAGS.has(w)), { maxLength: 4 }),
      ints: fc.array(fc.tuple(fc.nat(TYPED_INT_FIELDS.length - 1), u64Text), { maxLength: 6 }),
      rto: fc.option(fc.double({ min: 0, max: 1e8, noNaN: true })),
      rtt: fc.option(fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.option(fc.double({ min: 0, max: 1e6, noNaN: true })))),
      retrans: fc.option(fc.tuple(u32, u32)),
      rates: fc.array(fc.tuple(fc.constantFrom('send', 'pacing_rate', 'delivery_rate'), u53), { maxLength: 2 }),
      extras: fc.array(fc.tuple(fc.constantFrom(...UNTYPED_KEYS), charsOf(`${LOWER}0123456789.,/:()`, 0, 12)), { maxLength: 4 }),
      gaps: fc.array(gap, { minLength: 8, maxLength: 8 }),
    })
    .map((g): Printed => {
      const info = emptyInfo();
      const extra: Record<string, string> = {};
      const expected: SsSocket = {
        state: g.state as TcpState, recvQ: g.recvQ, sendQ: g.sendQ, local: g.local.expected, peer: g.peer.expected,
        timer: null, uid: null, inode: 0, cookie: null, cgroup: null, users: [], info, extra,
      };
      const head = [g.netid, g.state, String(g.recvQ), String(g.sendQ), g.local.text, g.peer.text].filter((t) => t !== '');
      let first = head.map((t, i) => (i === 0 ? t : g.gaps[i] + t)).join('');
      if (g.users) {
        const entries = g.users.map((u) => {
          const tid = u.tid === null ? '' : `,tid=${u.tid}`;
          return u.ctx === null
            ? `("${u.comm}",pid=${u.pid}${tid},fd=${u.fd})`
            : `("${u.comm}",pid=${u.pid}${tid},proc_ctx=${u.ctx},fd=${u.fd},sock_ctx=${u.ctx})`;
        });
        first += `${g.gaps[7]}users:(${entries.join(',')})`;
        expected.users = g.users.map((u) => ({ comm: u.comm.replace(/\t/g, ' '), pid: u.pid, fd: u.fd }));
      }
      if (g.timer) {
        const t = printMsTimer(g.timer.ms, g.timer.since611);
        const val = `(${g.timer.kind},${t.text},${g.timer.count})`;
        first += ` timer:${val}`;
        const known = ['on', 'keepalive', 'timewait', 'persist'].includes(g.timer.kind);
        expected.timer = { kind: known ? (g.timer.kind as 'on') : 'unknown', remainingMs: t.ms, count: g.timer.count };
        if (!known) extra.timer = val;
      }
      if (g.uid) {
        first += ` uid:${g.uid}`;
        expected.uid = g.uid;
      }
      if (g.details) {
        const hex = g.details.cookie.toString(16);
        first += ` ino:${g.details.ino} sk:${'0'.repeat(g.details.zeros)}${g.details.upper ? hex.toUpperCase() : hex}`;
        expected.inode = g.details.ino;
        expected.cookie = hex;
        expected.uid ??= 0;
      }
      if (g.cgroup !== null) {
        first += ` cgroup:${g.cgroup}`;
        expected.cgroup = g.cgroup;
      }
      if (g.shutdown !== null) {
        first += ` ${g.shutdown}`;
        extra.shutdown = g.shutdown;
      }
      const tokens: string[] = [...g.flags];
      info.flags.push(...g.flags);
      let hasInfo = false;
      let hasExtras = false;
      for (const [i, v] of g.ints) {
        const [key, field] = TYPED_INT_FIELDS[i]!;
        tokens.push(`${key}:${v}`);
        info[field] = Number(v);
        hasInfo = true;
      }
      if (g.rto !== null) {
        const text = printfG(g.rto);
        tokens.push(`rto:${text}`);
        info.rtoMs = Number(text);
        hasInfo = true;
      }
      if (g.rtt !== null) {
        const [rtt, dev] = g.rtt;
        tokens.push(`rtt:${printfG(rtt)}${dev === null ? '' : `/${printfG(dev)}`}`);
        info.rttMs = Number(printfG(rtt));
        if (dev !== null) info.rttVarMs = Number(printfG(dev));
        hasInfo = true;
      }
      if (g.retrans !== null) {
        tokens.push(`retrans:${g.retrans[0]}/${g.retrans[1]}`);
        info.retransCurrent = g.retrans[0];
        info.retransTotal = g.retrans[1];
        hasInfo = true;
      }
      for (const [key, v] of g.rates) {
        tokens.push(`${key} ${v}bps`);
        extra[key] = `${v}bps`;
        hasInfo = hasExtras = true;
      }
      for (const [key, v] of g.extras) {
        tokens.push(`${key}:${v}`);
        extra[key] = v;
        hasExtras = true;
      }
      if (hasInfo) {
        for (const f of ['lastsndMs', 'lastrcvMs', 'lastackMs', 'bytesSent', 'bytesAcked', 'bytesReceived', 'segsOut',
          'segsIn', 'unacked', 'lost', 'retransCurrent', 'retransTotal'] as const) info[f] ??= 0;
      }
      const rest = tokens.join(' ');
      return {
        oneLine: rest === '' ? first : `${first} ${rest}`,
        lines: rest === '' ? [first] : [first, `\t ${rest}`],
        expected,
        hasExtras: hasExtras || g.shutdown !== null || (g.timer !== null && 'timer' in extra),
      };
    });

/** The same socket parsed without extras: `extra` keeps only the shutdown mark and the kind of an unknown timer. */
function withoutExtras(s: SsSocket): SsSocket {
  const extra: Record<string, string> = {};
  if (s.extra.shutdown !== undefined) extra.shutdown = s.extra.shutdown;
  if (s.extra.timer !== undefined) extra.timer = s.extra.timer;
  return { ...s, extra };
}

/** Lines the stream parser must turn into a socket or an error: those that start a record, and continuation lines
 *  (leading blank) with no record to continue. Blank lines and line 1's header are the only ones it may skip. */
function recordLines(text: string): number[] {
  const out: number[] = [];
  let inRecord = false;
  const lines = text.split('\n');
  // An unterminated last line of only spaces, tabs or carriage returns is no line (LineSplitter.end).
  if (/^[ \t\r]*$/.test(lines.at(-1)!)) lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') inRecord = false;
    else if (line[0] === ' ' || line[0] === '\t') {
      if (!inRecord && line.trim() !== '') out.push(i + 1);
    } else if (i === 0 && (line.startsWith('State ') || line.startsWith('Netid '))) inRecord = false;
    else {
      out.push(i + 1);
      inRecord = true;
    }
  });
  return out;
}

/** Parses `chunks` with a fresh stream parser. */
function streamParse(chunks: readonly string[]) {
  const p = new SsStreamParser();
  for (const c of chunks) p.push(c);
  return p.end();
}

const HEADER = 'State      Recv-Q Send-Q       Local Address:Port        Peer Address:Port Process';
const FIXTURES = ['ss-HtinaeO.txt', 'ss-HtinaepO.txt', 'ss-tiepn.txt', 'ss-taeon.txt'].map((f) => fixture(`ss/${f}`));
const FIXTURE_LINES = FIXTURES.flatMap(captureLines);

describe('parseSsLine', () => {
  it('reads back every field of what ss prints, whatever the process names', () => {
    fc.assert(
      fc.property(printedSocket(processName(false)), fc.boolean(), (p, keepExtras) => {
        const got = parseSsLine(p.oneLine, keepExtras);
        expect(got).toEqual(keepExtras ? p.expected : withoutExtras(p.expected));
      }),
      { numRuns: 12_000 },
    );
  });

  it('throws nothing but ParseError on mutated real lines', () => {
    fc.assert(
      fc.property(mutatedLine(FIXTURE_LINES), fc.boolean(), (line, keepExtras) => {
        rejectsOnlyWith(ParseError, () => parseSsLine(line, keepExtras));
      }),
      { numRuns: 60_000 },
    );
  });

  it('throws nothing but ParseError on random text', () => {
    const lineLike = fc.tuple(fc.constantFrom(...TCP_STATES, 'tcp', 'x'), randomText(80)).map(([s, r]) => `${s} ${r}`);
    fc.assert(
      fc.property(fc.oneof(randomText(120), lineLike), (line) => {
        rejectsOnlyWith(ParseError, () => parseSsLine(line));
      }),
      { numRuns: 15_000 },
    );
  });

  it('reads a counter beyond 2^53 as the nearest double (found by the property above)', () => {
    expect(parseSsLine('ESTAB 0 0 *:0 *:0 lastsnd:12265663892527104900').info.lastsndMs).toBe(12265663892527104900);
    expect(parseSsLine('ESTAB 0 0 *:0 *:0 bytes_sent:8231440184334803610').info.bytesSent).toBe(8231440184334803610);
  });
});

describe('SsStreamParser', () => {
  it('gives back every printed socket, one-line or multi-line, whatever the chunks and line endings', () => {
    const doc = fc.record({
      sockets: fc.array(printedSocket(processName(false)), { minLength: 1, maxLength: 5 }),
      multiLine: fc.boolean(),
      header: fc.boolean(),
      crlf: fc.boolean(),
      finalNewline: fc.boolean(),
    });
    fc.assert(
      fc.property(
        doc.chain((d) => {
          const lines = [...(d.header ? [HEADER] : []), ...d.sockets.flatMap((s) => (d.multiLine ? s.lines : [s.oneLine]))];
          const eol = d.crlf ? '\r\n' : '\n';
          const text = lines.join(eol) + (d.finalNewline ? eol : '');
          return fc.tuple(fc.constant(d.sockets), fc.constant(text), chunked(text));
        }),
        ([sockets, text, chunks]) => {
          const r = streamParse(chunks);
          expect(r.errors).toEqual([]);
          expect(r.sockets).toEqual(sockets.map((s) => s.expected));
          expect(parseSsOutput(text)).toEqual(r);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('never throws on mutated captures, reports every record line it cannot read, and ignores chunk boundaries', () => {
    const excerpt = fc
      .tuple(fc.constantFrom(...FIXTURES), fc.nat(), fc.integer({ min: 1, max: 8 }))
      .map(([text, from, n]) => {
        const lines = text.split('\n');
        const i = from % lines.length;
        return lines.slice(i, i + n).join('\n');
      })
      .chain(mutated)
      .chain((text) => fc.tuple(fc.constant(text), chunked(text)));
    fc.assert(
      fc.property(excerpt, ([text, chunks]) => {
        const r = streamParse(chunks);
        expect(r).toEqual(parseSsOutput(text));
        const starts = recordLines(text);
        expect(r.sockets.length + r.errors.length).toBe(starts.length);
        for (const e of r.errors) expect(starts).toContain(e.line);
      }),
      { numRuns: 10_000 },
    );
  });

  it('reports an unterminated last line of other whitespace (\\v, NBSP, BOM) like any unreadable record (found by the property above)', () => {
    for (const t of ['\v ', '\u00a0 ', '\ufeff ']) expect(parseSsOutput(t).errors.map((e) => e.line)).toEqual([1]);
    expect(parseSsOutput(' \t\r')).toEqual({ sockets: [], errors: [] });
    expect(parseSsOutput('x\n\r   ').errors.map((e) => e.line)).toEqual([1]); // a CR first is whitespace too (seed 2147172542)
  });

  it('reports a continuation line with no record to continue (found by the property above)', () => {
    const r = parseSsOutput('\t ts sack bbr cwnd:10\n\nESTAB 0 0 1.2.3.4:1 5.6.7.8:2\n\n\t rto:200');
    expect(r.sockets).toHaveLength(1);
    expect(r.errors.map((e) => e.line)).toEqual([1, 5]);
  });

  it('reports a socket whose process name holds a newline as an error and keeps the others', () => {
    fc.assert(
      fc.property(fc.array(printedSocket(processName(true)), { minLength: 1, maxLength: 4 }), (sockets) => {
        const text = sockets.map((s) => s.oneLine).join('\n');
        const r = parseSsOutput(text);
        expect(r.sockets.length + r.errors.length).toBe(recordLines(text).length);
        // Sockets whose line has no newline come back whole.
        const intact = sockets.filter((s) => !s.oneLine.includes('\n')).map((s) => s.expected);
        for (const s of intact) expect(r.sockets).toContainEqual(s);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('parseEndpoint, normaliseIpv6, parseMsTimer', () => {
  it('parseEndpoint reads every ss address form; IPv6 comes out as inet_ntop prints it', () => {
    fc.assert(
      fc.property(fc.oneof(endpoint, mutated('[fe80::1]%eth0:22').map((text) => ({ text, expected: null }))), (e) => {
        const got = rejectsOnlyWith(ParseError, () => parseEndpoint(e.text));
        if (e.expected) expect(got).toEqual(e.expected);
      }),
      { numRuns: 5_000 },
    );
  });

  it('normaliseIpv6 agrees with inet_ntop and rejects only with ParseError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV6(), fc.ipV6().chain(mutated), hugeNumber), (a) => {
        const got = rejectsOnlyWith(ParseError, () => normaliseIpv6(a));
        if (got !== undefined && /^[0-9a-fA-F:.]+$/.test(a) && isIpv6(a)) expect(got).toBe(ntop6(a));
        if (got !== undefined) expect(normaliseIpv6(got)).toBe(got);
      }),
      { numRuns: 5_000 },
    );
  });

  it('parseMsTimer reads every print_ms_timer form back (to its printed precision)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.nat(2 ** 32 - 1), fc.boolean()).map(([ms, v]) => printMsTimer(ms, v)),
          mutated('9min57sec').map((text) => ({ text, ms: null })),
          randomText(12).map((text) => ({ text, ms: null })),
        ),
        (t) => {
          const got = rejectsOnlyWith(ParseError, () => parseMsTimer(t.text));
          if (t.ms !== null) expect(got).toBe(t.ms);
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

function isIpv6(a: string): boolean {
  try {
    ntop6(a);
    return true;
  } catch {
    return false;
  }
}
