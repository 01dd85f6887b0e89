// Parsers of ka-sockinfo's line format; samples are real output lines of the helper.
import { describe, expect, it } from 'vitest';
import { applySockinfoDiff, parseNetnsSysctls, parseSockScan, parseSockinfoLine, socketKey } from '../../src/parse/sockinfo.js';
import type { ScannedSocket } from '../../src/domain/connection.js';

const SCAN = `S 8408 4 24606 1 33 75 9 0 1 0
S 8417 3 25663 1 11 4 6 4321 1 5
U 900 7 5551 EPERM
# pids=90 denied=2 sockets=3 elapsed_us=2583
`;

describe('ka-sockinfo parsing', () => {
  it('reads S and U lines and the summary', () => {
    const s = parseSockScan(SCAN);
    expect(s.deniedPids).toBe(2);
    expect(s.elapsedUs).toBe(2583);
    expect(s.sockets).toEqual([
      { pid: 8408, fd: 4, inode: 24606, error: null, opts: {
        keepalive: true, keepIdleSec: 33, keepIntvlSec: 75, keepCnt: 9, userTimeoutMs: 0, lingerOn: true, lingerSec: 0 } },
      { pid: 8417, fd: 3, inode: 25663, error: null, opts: {
        keepalive: true, keepIdleSec: 11, keepIntvlSec: 4, keepCnt: 6, userTimeoutMs: 4321, lingerOn: true, lingerSec: 5 } },
      { pid: 900, fd: 7, inode: 5551, opts: null, error: 'EPERM' },
    ]);
  });

  it('rejects output cut before the summary and malformed lines', () => {
    expect(() => parseSockScan('S 1 2 3 1 1 1 1 0 0 0\n')).toThrow(/summary/);
    expect(parseSockinfoLine('S 1 2 3 1 1 1')).toBeNull();
    expect(parseSockinfoLine('U 1 2 3 eperm')).toBeNull();
    expect(parseSockinfoLine('ok reread')).toBeNull();
  });

  it('applies a serve diff: new, replaced and gone entries', () => {
    const cur = new Map<string, ScannedSocket>();
    applySockinfoDiff(cur, SCAN.replace('#', '. 1').split('\n'));
    expect(cur.size).toBe(3);
    const diff = applySockinfoDiff(cur, ['- 900 7', 'S 8408 4 30000 0 7200 75 9 0 0 0', '. 2 pids=91 denied=0 sockets=2 elapsed_us=10']);
    expect(diff.summary).toEqual({ seq: 2, pids: 91, denied: 0, sockets: 2, elapsedUs: 10 });
    expect(diff.gone).toEqual([{ pid: 900, fd: 7 }]);
    expect(diff.changed.map((s) => s.inode)).toEqual([30000]);
    expect([...cur.keys()].sort()).toEqual([socketKey(8408, 4), socketKey(8417, 3)]);
    expect(cur.get(socketKey(8408, 4))!.inode).toBe(30000);
  });

  it('reads sysctl lines, paths with spaces and errors', () => {
    const m = parseNetnsSysctls('N /proc/self/ns/net 4026531833 7200 75 9 15 60\nN /run/netns/a b 42 123 5 3 8 30\nE /proc/1/ns/net EACCES\n');
    expect(m.get('/proc/self/ns/net')).toEqual({ inode: 4026531833, sysctl: {
      tcp_keepalive_time: 7200, tcp_keepalive_intvl: 75, tcp_keepalive_probes: 9, tcp_retries2: 15, tcp_fin_timeout: 60 } });
    expect(m.get('/run/netns/a b')).toMatchObject({ inode: 42 });
    expect(m.get('/proc/1/ns/net')).toEqual({ error: 'EACCES' });
  });
});
