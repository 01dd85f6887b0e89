import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SsSocket } from '../../src/domain/connection.js';
import { normaliseIpv6, parseEndpoint, parseMsTimer, parseSsLine, parseSsOutput } from '../../src/parse/ss.js';

// Fixtures come from scripts/capture-ss-fixtures.sh (iproute2 6.1.0, kernel 6.18; see test/fixtures/ss/VERSION).
const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/ss/${name}`, import.meta.url), 'utf8');

function parseFixture(name: string): SsSocket[] {
  const r = parseSsOutput(fixture(name));
  expect(r.errors).toEqual([]);
  return r.sockets;
}

function find(socks: SsSocket[], state: string, localPort: number, peerPort?: number): SsSocket {
  const hits = socks.filter(
    (s) => s.state === state && s.local.port === localPort && (peerPort === undefined || s.peer.port === peerPort),
  );
  expect(hits, `${state} ${localPort}->${peerPort}`).toHaveLength(1);
  return hits[0];
}

describe('real fixtures', () => {
  it('parses every fixture with zero errors and the expected socket counts', () => {
    expect(parseFixture('ss-HtinaeO.txt')).toHaveLength(41);
    expect(parseFixture('ss-HtinaepO.txt')).toHaveLength(41);
    // Without -a, ss leaves out LISTEN and TIME-WAIT; the multi-line records are joined.
    expect(parseFixture('ss-tiepn.txt')).toHaveLength(25);
    // With a header line and no tcp_info.
    expect(parseFixture('ss-taeon.txt')).toHaveLength(41);
  });

  const socks = parseFixture('ss-HtinaeO.txt');
  const client = (peerPort: number, localPort: number): SsSocket =>
    find(socks.filter((s) => s.peer.port === peerPort), 'ESTAB', localPort);

  it('covers every TCP state the capture creates', () => {
    const states = new Set(socks.map((s) => s.state));
    expect([...states].sort()).toEqual(
      ['CLOSE-WAIT', 'CLOSING', 'ESTAB', 'FIN-WAIT-1', 'FIN-WAIT-2', 'LAST-ACK', 'LISTEN', 'SYN-RECV', 'SYN-SENT',
        'TIME-WAIT'].sort(),
    );
  });

  it('reads keepalive timers in minutes, seconds and the old S.mmm"ms" notation', () => {
    const long = client(8085, 35476);
    expect(long.timer).toEqual({ kind: 'keepalive', remainingMs: 597_000, count: 0 }); // 9min57sec
    expect(long.inode).toBe(24548);
    expect(long.cookie).toBe('1014');
    expect(long.uid).toBe(0);
    expect(long.cgroup).toBe('unreachable:1');
    expect(client(8085, 35492).timer).toEqual({ kind: 'keepalive', remainingMs: 42_000, count: 0 });
    // `2.332ms` printed by iproute2 6.1 means 2.332 s.
    expect(client(8085, 35500).timer).toEqual({ kind: 'keepalive', remainingMs: 2_332, count: 0 });
  });

  it('reads outstanding keepalive probes and tcp_info of a connection whose peer went silent', () => {
    const s = client(8086, 43950);
    expect(s.timer).toEqual({ kind: 'keepalive', remainingMs: 360, count: 2 });
    expect(s.info.lastsndMs).toBe(2668);
    expect(s.info.lastrcvMs).toBe(2668);
    expect(s.info.lastackMs).toBe(2668);
    expect(s.info.rtoMs).toBe(204);
    expect(s.info.rttMs).toBe(0.009);
    expect(s.info.rttVarMs).toBe(0.004);
    expect(s.info.mss).toBe(32741);
    expect(s.info.cwnd).toBe(10);
    expect(s.info.bytesAcked).toBe(1);
    expect(s.info.segsOut).toBe(4);
    expect(s.info.segsIn).toBe(1);
    // ss omits zero counters: with tcp_info present they are 0, not unknown.
    expect(s.info.bytesSent).toBe(0);
    expect(s.info.bytesReceived).toBe(0);
    expect(s.info.unacked).toBe(0);
    expect(s.info.retransTotal).toBe(0);
    expect(s.info.flags).toEqual(['ts', 'sack', 'bbr', 'app_limited']);
    expect(s.extra).toMatchObject({
      shutdown: '<->',
      wscale: '10,10',
      send: '291031111111bps',
      pacing_rate: '831723710664bps',
      bbr: '(bw:0bps,mrtt:0.009,pacing_gain:2.88672,cwnd_gain:2.88672)',
      delivered: '1',
      snd_wnd: '65483',
      minrtt: '0.009',
    });
  });

  it('reads the persist timer of a sender facing a zero window', () => {
    const s = find(socks, 'ESTAB', 58078, 8093);
    expect(s.timer).toEqual({ kind: 'persist', remainingMs: 704, count: 0 });
    expect(s.sendQ).toBe(2803712);
    expect(s.info.lastackMs).toBe(960);
    expect(s.extra.rwnd_limited).toBe('2504ms(100.0%)');
    expect(s.extra.notsent).toBe('2803712');
  });

  it('reads SYN-SENT retransmits and SYN-RECV request sockets', () => {
    const s = find(socks, 'SYN-SENT', 51816, 9);
    expect(s.peer).toEqual({ address: '198.18.0.2', port: 9 });
    expect(s.timer).toEqual({ kind: 'on', remainingMs: 424, count: 2 });
    expect(s.info.retransCurrent).toBe(1);
    expect(s.info.retransTotal).toBe(2);
    expect(s.info.unacked).toBe(1);
    expect(s.info.lost).toBe(1);
    expect(s.info.rttMs).toBeNull();
    const r = find(socks, 'SYN-RECV', 8090, 35078);
    expect(r.timer).toEqual({ kind: 'on', remainingMs: 400, count: 1 });
    expect(r.inode).toBe(0);
    expect(r.cookie).toBe('1018');
    // No tcp_info for request sockets: the counters stay unknown.
    expect(r.info.lastrcvMs).toBeNull();
  });

  it('reads TIME-WAIT, half-closed and orphaned closing sockets', () => {
    const tw = find(socks, 'TIME-WAIT', 52450, 8087);
    expect(tw.timer).toEqual({ kind: 'timewait', remainingMs: 57_000, count: 0 });
    expect(tw.cgroup).toBeNull();
    expect(tw.info.flags).toEqual([]);
    const half = find(socks, 'FIN-WAIT-2', 37358, 8088);
    expect(half.timer).toBeNull();
    expect(half.inode).toBe(24563);
    expect(half.extra.shutdown).toBe('<--');
    const orphan = find(socks, 'FIN-WAIT-2', 37362, 8088);
    expect(orphan.timer).toEqual({ kind: 'keepalive', remainingMs: 57_000, count: 0 });
    expect(orphan.inode).toBe(0);
    expect(find(socks, 'CLOSE-WAIT', 8088, 37358).recvQ).toBe(1);
    expect(find(socks, 'CLOSE-WAIT', 8088, 37358).extra.shutdown).toBe('-->');
    expect(find(socks, 'LAST-ACK', 8091, 40130).timer).toEqual({ kind: 'on', remainingMs: 704, count: 3 });
    expect(find(socks, 'FIN-WAIT-1', 8092, 53306).timer).toEqual({ kind: 'on', remainingMs: 736, count: 3 });
    expect(find(socks, 'CLOSING', 53306, 8092).info.retransTotal).toBe(4);
  });

  it('reads every address form ss printed', () => {
    expect(find(socks, 'LISTEN', 8084).local).toEqual({ address: '127.0.0.1', port: 8084, scope: 'lo' });
    expect(find(socks, 'LISTEN', 8084).peer).toEqual({ address: '0.0.0.0', port: 0 });
    const dual = find(socks, 'LISTEN', 8082);
    expect(dual.local).toEqual({ address: '::', port: 8082 });
    expect(dual.peer).toEqual({ address: '::', port: 0 });
    expect(dual.extra.v6only).toBe('0');
    expect(find(socks, 'LISTEN', 8081).peer).toEqual({ address: '::', port: 0 });
    expect(find(socks, 'LISTEN', 8083).local).toEqual({ address: 'fe80::1', port: 8083, scope: 'kat0' });
    const mapped = find(socks, 'ESTAB', 8082, 54142);
    expect(mapped.local).toEqual({ address: '::ffff:127.0.0.1', port: 8082 });
    expect(mapped.peer).toEqual({ address: '::ffff:127.0.0.1', port: 54142 });
    expect(find(socks, 'ESTAB', 47908, 8081).peer).toEqual({ address: 'fd6b:6174::1', port: 8081 });
    const ll = find(socks, 'ESTAB', 34710, 8083);
    expect(ll.local).toEqual({ address: 'fe80::1', port: 34710, scope: 'kat0' });
    expect(ll.peer).toEqual({ address: 'fe80::1', port: 8083 });
  });

  it('reads users:(...) with awkward names and a socket shared by five processes', () => {
    const p = parseFixture('ss-HtinaepO.txt');
    expect(find(p, 'LISTEN', 8080).users).toEqual([
      { comm: 'sp "q,c" (p', pid: 8392, fd: 3 },
      // comm `we(ird) "na,me"`: ss cuts it at the first ')'.
      { comm: 'we(ird', pid: 8391, fd: 3 },
      { comm: 'a",pid=1,fd=2', pid: 8390, fd: 3 },
      // comm `k)",pid=7,fd=8`, cut at ')'.
      { comm: 'k', pid: 8389, fd: 3 },
      { comm: 'python3', pid: 8348, fd: 3 },
    ]);
    expect(find(p, 'LISTEN', 8080).inode).toBe(24513);
    expect(find(p, 'ESTAB', 43950, 8086).users).toEqual([{ comm: 'python3', pid: 8348, fd: 23 }]);
    expect(find(p, 'ESTAB', 43950, 8086).timer).toEqual({ kind: 'keepalive', remainingMs: 356, count: 2 });
    expect(find(p, 'FIN-WAIT-2', 37362, 8088).users).toEqual([]);
  });

  it('joins the multi-line records of ss without -O', () => {
    const multi = parseFixture('ss-tiepn.txt');
    const one = parseFixture('ss-HtinaepO.txt');
    const s = find(multi, 'ESTAB', 35476, 8085);
    expect(s.timer).toEqual({ kind: 'keepalive', remainingMs: 597_000, count: 0 });
    expect(s.users).toEqual([{ comm: 'python3', pid: 8348, fd: 16 }]);
    expect(s.info.mss).toBe(47616);
    expect(s.info.lastrcvMs).toBe(2680);
    // Same sockets as the -O capture (taken a moment apart: compare what does not move).
    const key = (x: SsSocket): string => `${x.state} ${x.local.address}:${x.local.port} ${x.peer.port} ${x.cookie}`;
    const oneKeys = new Set(one.map(key));
    for (const x of multi) expect(oneKeys.has(key(x)), key(x)).toBe(true);
  });
});

describe('parseMsTimer (iproute2 print_ms_timer)', () => {
  it.each([
    ['', 0],
    ['003ms', 3],
    ['476ms', 476],
    ['1.028ms', 1028], // before iproute2 6.11: seconds with a wrong ms suffix
    ['9.373ms', 9373],
    ['1.028sec', 1028], // iproute2 >= 6.11
    ['9.501sec', 9501],
    ['5sec', 5000],
    ['59sec', 59_000],
    ['1min', 60_000],
    ['9min59sec', 599_000],
    ['10min', 600_000],
    ['119min', 7_140_000],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseMsTimer(text)).toBe(ms);
  });

  it('rejects garbage', () => {
    expect(() => parseMsTimer('abc')).toThrow(/malformed timer expiry/);
    expect(() => parseMsTimer('5parsec')).toThrow(/unknown timer unit/);
  });
});

describe('synthetic lines', () => {
  const base = 'ESTAB 0 0 10.0.0.1:40000 10.0.0.2:443';

  it('reads every state name', () => {
    for (const st of ['ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN',
      'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING']) {
      expect(parseSsLine(`${st} 0 0 1.2.3.4:1 5.6.7.8:2`).state).toBe(st);
    }
    expect(() => parseSsLine('UNKNOWN 0 0 1.2.3.4:1 5.6.7.8:2')).toThrow(/unknown socket state "UNKNOWN"/);
    expect(parseSsLine('tcp ESTAB 0 0 1.2.3.4:1 5.6.7.8:2').state).toBe('ESTAB');
  });

  it('reads timers of every kind and notation', () => {
    expect(parseSsLine(`${base} timer:(on,200ms,0)`).timer).toEqual({ kind: 'on', remainingMs: 200, count: 0 });
    expect(parseSsLine(`${base} timer:(keepalive,9min59sec,0)`).timer)
      .toEqual({ kind: 'keepalive', remainingMs: 599_000, count: 0 });
    expect(parseSsLine(`${base} timer:(timewait,59sec,0)`).timer)
      .toEqual({ kind: 'timewait', remainingMs: 59_000, count: 0 });
    expect(parseSsLine(`${base} timer:(persist,1.2sec,0)`).timer)
      .toEqual({ kind: 'persist', remainingMs: 1_200, count: 0 });
    expect(parseSsLine(`${base} timer:(persist,1.200ms,3)`).timer)
      .toEqual({ kind: 'persist', remainingMs: 1_200, count: 3 });
    expect(parseSsLine(`${base} timer:(on,,5)`).timer).toEqual({ kind: 'on', remainingMs: 0, count: 5 });
    const d = parseSsLine(`${base} timer:(delack,003ms,0)`);
    expect(d.timer).toEqual({ kind: 'unknown', remainingMs: 3, count: 0 });
    expect(d.extra.timer).toBe('(delack,003ms,0)');
    expect(() => parseSsLine(`${base} timer:(on,200ms)`)).toThrow(/malformed timer/);
  });

  it('anchors users entries on their ",pid=N,fd=N) tail', () => {
    const s = parseSsLine(
      `${base} users:(("a) b",pid=1,fd=2",pid=10,fd=3),("x(",pid=,fd=",pid=11,fd=4),("",pid=12,fd=5),` +
        '("t",pid=13,tid=14,fd=6),("c",pid=15,proc_ctx=unconfined,fd=7)) ino:5 sk:0000abc',
    );
    expect(s.users).toEqual([
      { comm: 'a) b",pid=1,fd=2', pid: 10, fd: 3 },
      { comm: 'x(",pid=,fd=', pid: 11, fd: 4 },
      { comm: '', pid: 12, fd: 5 },
      { comm: 't', pid: 13, fd: 6 },
      { comm: 'c', pid: 15, fd: 7 },
    ]);
    expect(s.inode).toBe(5);
    expect(s.cookie).toBe('abc');
    expect(() => parseSsLine(`${base} users:(("a",pid=1,fd=2)`)).toThrow(/malformed users/);
    expect(() => parseSsLine(`${base} users:(("a",pid=1)) ino:1`)).toThrow(/malformed users/);
  });

  it('reads the address forms', () => {
    expect(parseEndpoint('[::1]:22')).toEqual({ address: '::1', port: 22 });
    expect(parseEndpoint('[::ffff:127.0.0.1]:80')).toEqual({ address: '::ffff:127.0.0.1', port: 80 });
    expect(parseEndpoint('[fe80::1%eth0]:22')).toEqual({ address: 'fe80::1', port: 22, scope: 'eth0' });
    expect(parseEndpoint('[fe80::1]%eth0:22')).toEqual({ address: 'fe80::1', port: 22, scope: 'eth0' });
    expect(parseEndpoint('*:22')).toEqual({ address: '::', port: 22 });
    expect(parseEndpoint('0.0.0.0:*')).toEqual({ address: '0.0.0.0', port: 0 });
    expect(parseEndpoint('[::]:*')).toEqual({ address: '::', port: 0 });
    expect(parseEndpoint('127.0.0.1%lo:80')).toEqual({ address: '127.0.0.1', port: 80, scope: 'lo' });
    expect(parseEndpoint('[FD6B:6174:0:0:0:0:0:0001]:65535')).toEqual({ address: 'fd6b:6174::1', port: 65535 });
    expect(() => parseEndpoint('1.2.3.4:ssh')).toThrow(/-n/);
    expect(() => parseEndpoint('1.2.3.4:70000')).toThrow(/bad port/);
    expect(() => parseEndpoint('[1::2::3]:1')).toThrow(/malformed IPv6/);
    expect(() => parseEndpoint('noport')).toThrow(/malformed address/);
  });

  it('normalises IPv6 to lower-case compressed form', () => {
    expect(normaliseIpv6('2001:DB8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(normaliseIpv6('2001:0db8:0000:0000:0000:0000:0002:0001')).toBe('2001:db8::2:1');
    expect(normaliseIpv6('0:0:0:0:0:0:0:0')).toBe('::');
    expect(normaliseIpv6('1:0:0:0:0:0:0:0')).toBe('1::');
    expect(normaliseIpv6('1:0:1:1:1:1:1:1')).toBe('1:0:1:1:1:1:1:1');
    expect(normaliseIpv6('::FFFF:10.1.2.3')).toBe('::ffff:10.1.2.3');
    expect(normaliseIpv6('0:0:0:0:0:ffff:a01:203')).toBe('::ffff:10.1.2.3');
  });

  it('keeps "key value" pairs and unknown tokens without throwing', () => {
    const s = parseSsLine(
      `${base} ino:7 sk:1 <-> cubic wscale:7,7 send 52428800000bps pacing_rate 1.2Gbps/2Gbps ` +
        'delivery_rate 1Gbps app_limited busy:12ms retrans:0/3 lost:2 lastrcv:123 weird:(a,b) ecn fwmark:0x1',
    );
    expect(s.uid).toBe(0);
    expect(s.info.flags).toEqual(['cubic', 'app_limited', 'ecn']);
    expect(s.extra).toEqual({
      shutdown: '<->',
      wscale: '7,7',
      send: '52428800000bps',
      pacing_rate: '1.2Gbps/2Gbps',
      delivery_rate: '1Gbps',
      busy: '12ms',
      weird: '(a,b)',
      fwmark: '0x1',
    });
    expect(s.info.retransCurrent).toBe(0);
    expect(s.info.retransTotal).toBe(3);
    expect(s.info.lost).toBe(2);
    expect(s.info.lastrcvMs).toBe(123);
    expect(s.info.lastsndMs).toBe(0);
    expect(s.info.rttMs).toBeNull();
  });

  it('handles missing fields', () => {
    const s = parseSsLine(base);
    expect(s).toMatchObject({ timer: null, uid: null, inode: 0, cookie: null, cgroup: null, users: [] });
    expect(s.info.lastrcvMs).toBeNull();
    expect(parseSsLine(`${base} uid:1000 ino:9 sk:2`).uid).toBe(1000);
    expect(() => parseSsLine('ESTAB 0 0 1.2.3.4:1')).toThrow(/malformed address ""/);
    expect(() => parseSsLine('ESTAB x 0 1.2.3.4:1 1.2.3.4:2')).toThrow(/bad Recv-Q/);
  });

  it('reports bad records with their line number and keeps going', () => {
    const text = `State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n${base} ino:1 sk:1\n` +
      'ESTAB 0 0 garbage\n\tcwnd:10\n' +
      `${base} ino:2 sk:2\n\t lastrcv:5 cwnd:10\r\n\t\n`;
    const r = parseSsOutput(text);
    expect(r.sockets.map((s) => s.inode)).toEqual([1, 2]);
    expect(r.sockets[1].info.lastrcvMs).toBe(5);
    expect(r.errors).toEqual([{ line: 3, text: 'ESTAB 0 0 garbage cwnd:10', message: 'malformed address "garbage"' }]);
  });
});

describe('volume', () => {
  it('parses 50k lines without errors (speed is measured in scripts/bench/parse.mjs)', () => {
    const lines = fixture('ss-HtinaepO.txt').split('\n').filter((l) => l !== '');
    const big: string[] = [];
    for (let i = 0; big.length < 50_000; i++) big.push(lines[i % lines.length]);
    const r = parseSsOutput(big.join('\n'));
    expect(r.sockets).toHaveLength(50_000);
    expect(r.errors).toHaveLength(0);
  });
});
