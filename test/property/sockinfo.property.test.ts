// Property tests of src/parse/sockinfo.ts: line parsers never throw (unreadable lines are null); parseSockScan
// throws nothing but ParseError. The real captures mutated here are the built ka-sockinfo's own output (`scan`,
// `sysctl`), taken when the test starts (`make build` builds it). Generated inputs per run of this file:
//   parseSockinfoLine: 20k printed lines (round trip) + 14k random lines = 34k
//   parseSockScan: 10k printed scans + 20k mutated real scans = 30k
//   applySockinfoDiff: 6k serve sequences (up to 4 scans of up to 8 lines)
//   parseNetnsSysctls: 15k printed outputs (paths with spaces) + 15k mutated real outputs = 30k
//   total 100k inputs.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScannedSocket } from '../../src/domain/connection.js';
import { ParseError } from '../../src/parse/parse-error.js';
import { nativeBinary } from '../../src/sources/exec.js';
import { applySockinfoDiff, parseNetnsSysctls, parseSockScan, parseSockinfoLine, socketKey, type ScanSummary, type SockinfoLine } from '../../src/parse/sockinfo.js';
import { awkwardString, hugeNumber, mutated, randomText, rejectsOnlyWith } from './arbitraries.js';

const helper = (args: string[]): string =>
  execFileSync(nativeBinary('ka-sockinfo'), args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
/** A busy host has thousands of sockets: the first lines of its scan and the summary are enough to mutate. */
const excerpt = (scan: string): string => {
  const lines = scan.trimEnd().split('\n');
  return [...lines.slice(0, 30), lines[lines.length - 1]].join('\n') + '\n';
};
const REAL_SCANS = [
  excerpt(helper(['scan'])),
  'S 8408 4 24606 1 33 75 9 0 1 0\nS 8417 3 25663 1 11 4 6 4321 1 5\nU 900 7 5551 EPERM\n# pids=90 denied=2 sockets=3 elapsed_us=2583\n',
];
const REAL_SYSCTL = helper(['sysctl', '/proc/self/ns/net', '/run/netns/no such ns']);

const int = fc.oneof(fc.nat(70_000), fc.nat(2 ** 31 - 1));
const u64 = fc.oneof(fc.nat(2 ** 32), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(Number));
const errno = fc.constantFrom('EPERM', 'ESRCH', 'EBADF', 'ENOENT', 'EACCES', 'E2BIG', 'EOVERFLOW');

/** A helper output line (printf formats of src/native/ka-sockinfo.c) and what it must parse to. */
type Printed = { text: string; want: SockinfoLine };
const printed: fc.Arbitrary<Printed> = fc.oneof(
  fc.tuple(int, int, u64, fc.boolean(), int, int, int, fc.nat(2 ** 32 - 1), fc.boolean(), int).map(
    ([pid, fd, inode, ka, idle, intvl, cnt, ut, lon, lsec]): Printed => ({
      text: `S ${pid} ${fd} ${inode} ${+ka} ${idle} ${intvl} ${cnt} ${ut} ${+lon} ${lsec}`,
      want: { kind: 'socket', socket: { pid, fd, inode, error: null, opts: {
        keepalive: ka, keepIdleSec: idle, keepIntvlSec: intvl, keepCnt: cnt, userTimeoutMs: ut, lingerOn: lon, lingerSec: lsec,
      } } },
    }),
  ),
  fc.tuple(int, int, u64, errno).map(([pid, fd, inode, e]): Printed => ({
    text: `U ${pid} ${fd} ${inode} ${e}`,
    want: { kind: 'socket', socket: { pid, fd, inode, opts: null, error: e } },
  })),
  fc.tuple(int, int).map(([pid, fd]): Printed => ({ text: `- ${pid} ${fd}`, want: { kind: 'gone', pid, fd } })),
  fc.tuple(fc.option(fc.nat()), int, int, int, fc.maxSafeNat()).map(([seq, pids, denied, sockets, elapsedUs]): Printed => {
    const summary: ScanSummary = { seq, pids, denied, sockets, elapsedUs };
    const fields = `pids=${pids} denied=${denied} sockets=${sockets} elapsed_us=${elapsedUs}`;
    return { text: seq === null ? `# ${fields}` : `. ${seq} ${fields}`, want: { kind: 'summary', summary } };
  }),
);
const noise = fc.oneof(
  fc.constantFrom('', 'ok reread', 'ok full', 'error unknown command', 'S 1 2 3 1 1 1', 'U 1 2 3 eperm', '# pids=1'),
  randomText(40),
);

describe('parseSockinfoLine', () => {
  it('reads back every line the helper prints, with surrounding blanks', () => {
    fc.assert(
      fc.property(printed, fc.constantFrom('', ' ', '\t', '\r'), (p, pad) => {
        expect(parseSockinfoLine(pad + p.text + pad)).toEqual(p.want);
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on random text or huge numbers', () => {
    const withHuge = fc.tuple(printed, hugeNumber, fc.nat()).map(([p, n, i]) => {
      const t = p.text.split(' ');
      t[1 + (i % (t.length - 1))] = n;
      return t.join(' ');
    });
    fc.assert(
      fc.property(fc.oneof(noise, withHuge, awkwardString(30)), (line) => {
        parseSockinfoLine(line);
      }),
      { numRuns: 14_000 },
    );
  });
});

describe('parseSockScan, applySockinfoDiff', () => {
  it('parseSockScan keeps every socket line in order and the last summary; no summary is a ParseError', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(printed, noise.map((text) => ({ text, want: null }))), { maxLength: 12 }), (lines) => {
        const text = lines.map((l) => l.text).join('\n');
        const parsed = lines.map((l) => (l.want === null ? parseSockinfoLine(l.text) : l.want));
        const sockets = parsed.flatMap((p) => (p?.kind === 'socket' ? [p.socket] : []));
        const summary = parsed.filter((p) => p?.kind === 'summary').pop();
        const got = rejectsOnlyWith(ParseError, () => parseSockScan(text));
        if (summary?.kind !== 'summary') expect(got).toBeUndefined();
        else expect(got).toEqual({ sockets, deniedPids: summary.summary.denied, elapsedUs: summary.summary.elapsedUs });
      }),
      { numRuns: 10_000 },
    );
  });

  it('parseSockScan throws nothing but ParseError on mutated real scans', () => {
    fc.assert(
      fc.property(fc.constantFrom(...REAL_SCANS).chain(mutated), (text) => {
        rejectsOnlyWith(ParseError, () => parseSockScan(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('applySockinfoDiff leaves the set a replay of the lines would, and reports what changed', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.oneof(printed, noise.map((text) => ({ text, want: null }))), { maxLength: 8 }), { maxLength: 4 }), (scans) => {
        const current = new Map<string, ScannedSocket>();
        const model = new Map<string, ScannedSocket>();
        for (const scan of scans) {
          const diff = applySockinfoDiff(current, scan.map((l) => l.text));
          const changed: ScannedSocket[] = [];
          const gone: Array<{ pid: number; fd: number }> = [];
          let summary: ScanSummary | null = null;
          for (const l of scan) {
            const p = l.want ?? parseSockinfoLine(l.text);
            if (p?.kind === 'socket') {
              model.set(socketKey(p.socket.pid, p.socket.fd), p.socket);
              changed.push(p.socket);
            } else if (p?.kind === 'gone') {
              model.delete(socketKey(p.pid, p.fd));
              gone.push({ pid: p.pid, fd: p.fd });
            } else if (p?.kind === 'summary') summary = p.summary;
          }
          expect(diff).toEqual({ summary, changed, gone });
          expect(current).toEqual(model);
        }
      }),
      { numRuns: 6_000 },
    );
  });
});

describe('parseNetnsSysctls', () => {
  // Paths come from argv: anything but a newline (and NUL), spaces at either end included.
  const path = awkwardString(24).map((p) => p.replace(/[\n\0]/g, ''));
  const line = fc.oneof(
    fc.tuple(path, u64, fc.array(fc.nat(2 ** 31 - 1), { minLength: 5, maxLength: 5 })).map(([p, inode, v]) => ({
      path: p,
      text: `N ${p} ${inode} ${v.join(' ')}`,
      want: { inode, sysctl: { tcp_keepalive_time: v[0]!, tcp_keepalive_intvl: v[1]!, tcp_keepalive_probes: v[2]!, tcp_retries2: v[3]!, tcp_fin_timeout: v[4]! } },
    })),
    fc.tuple(path, errno).map(([p, e]) => ({ path: p, text: `E ${p} ${e}`, want: { error: e } })),
  );

  it('reads back every path, spaces included, and its sysctls or error; the last line for a path wins', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), (lines) => {
        const want = new Map<string, unknown>();
        for (const l of lines) want.set(l.path, l.want);
        expect(parseNetnsSysctls(lines.map((l) => l.text).join('\n') + '\n')).toEqual(want);
      }),
      { numRuns: 15_000 },
    );
  });

  it('never throws on mutated real output', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(REAL_SYSCTL), randomText(60)), (text) => {
        for (const v of parseNetnsSysctls(text).values()) expect('error' in v || typeof v.inode === 'number').toBe(true);
      }),
      { numRuns: 15_000 },
    );
  });
});
