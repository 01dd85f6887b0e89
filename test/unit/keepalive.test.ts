import { describe, expect, it } from 'vitest';
import { giveUp, keepaliveIdleMs, keepaliveView, type KeepaliveInput } from '../../src/model/keepalive.js';
import type { SockOpts } from '../../src/domain/connection.js';

const sysctl = { tcp_keepalive_time: 7200, tcp_keepalive_intvl: 75, tcp_keepalive_probes: 9, tcp_retries2: 15, tcp_fin_timeout: 60 };
const opts = (o: Partial<SockOpts> = {}): SockOpts => ({
  keepalive: true, keepIdleSec: 7200, keepIntvlSec: 75, keepCnt: 9, userTimeoutMs: 0, lingerOn: false, lingerSec: 0, ...o,
});
const input = (o: Partial<KeepaliveInput> = {}): KeepaliveInput => ({
  state: 'ESTAB', opts: opts(), optsReason: null, sysctl, timer: null, orphan: false, lastrcvMs: 1000, lastackMs: 1000, ...o,
});

describe('keepaliveIdleMs', () => {
  it('takes the smaller of lastrcv and lastack, as keepalive_time_elapsed() does', () => {
    expect(keepaliveIdleMs(5000, 300)).toBe(300);
    expect(keepaliveIdleMs(null, 300)).toBe(300);
    expect(keepaliveIdleMs(700, null)).toBe(700);
    expect(keepaliveIdleMs(null, null)).toBeNull();
  });
});

describe('giveUp', () => {
  it('counts probes: first probe when idle reaches keepalive_time, death after cnt intervals', () => {
    const g = giveUp({ idleSec: 10, intervalSec: 2, probes: 3, userTimeoutMs: 0, idleMs: 4000, timer: { remainingMs: 6000, probesOutstanding: 0 } });
    expect(g).toEqual({ nextProbeInMs: 6000, deadInMs: 6000 + 3 * 2000, rule: 'probes' });
  });
  it('uses the re-check when the timer fires before the connection is idle long enough', () => {
    // timer armed long ago fires in 1 s, but the connection received 2 s ago: next probe when idle reaches 10 s
    const g = giveUp({ idleSec: 10, intervalSec: 2, probes: 3, userTimeoutMs: 0, idleMs: 2000, timer: { remainingMs: 1000, probesOutstanding: 0 } });
    expect(g.nextProbeInMs).toBe(8000);
    expect(g.deadInMs).toBe(14000);
  });
  it('with probes outstanding, the armed timer is the next probe and fewer probes remain', () => {
    const g = giveUp({ idleSec: 10, intervalSec: 2, probes: 3, userTimeoutMs: 0, idleMs: 13000, timer: { remainingMs: 500, probesOutstanding: 2 } });
    expect(g).toEqual({ nextProbeInMs: 500, deadInMs: 500 + 2000, rule: 'probes' });
  });
  it('all probes out: the next fire kills', () => {
    const g = giveUp({ idleSec: 10, intervalSec: 2, probes: 3, userTimeoutMs: 0, idleMs: 15000, timer: { remainingMs: 1200, probesOutstanding: 3 } });
    expect(g.deadInMs).toBe(1200);
  });
  it('TCP_USER_TIMEOUT overrides the probe count (gRPC style)', () => {
    // idle 10 s, intvl 2 s, 9 probes would take 18 s; user timeout 15 s kills at the first fire with idle >= 15 s
    const g = giveUp({ idleSec: 10, intervalSec: 2, probes: 9, userTimeoutMs: 15000, idleMs: 0, timer: { remainingMs: 10000, probesOutstanding: 0 } });
    expect(g.rule).toBe('user_timeout');
    expect(g.nextProbeInMs).toBe(10000);
    expect(g.deadInMs).toBe(16000); // fires at 10,12,14,16 s: 16 is the first with idle >= 15 s
  });
  it('a user timeout shorter than the idle time still needs one probe out', () => {
    const g = giveUp({ idleSec: 10, intervalSec: 2, probes: 9, userTimeoutMs: 3000, idleMs: 0, timer: { remainingMs: 10000, probesOutstanding: 0 } });
    expect(g.deadInMs).toBe(12000);
  });
});

describe('keepaliveView', () => {
  it('marks values set on the socket against the namespace sysctl, per field', () => {
    const v = keepaliveView(input({ opts: opts({ keepIdleSec: 60 }) }));
    expect(v.source).toBe('socket');
    expect(v.sources).toEqual({ idle: 'socket', interval: 'sysctl', probes: 'sysctl' });
    expect(v.enabled).toBe(true);
    expect(v.idleSec).toBe(60);
  });
  it('reports sysctl when every value is the namespace default', () => {
    expect(keepaliveView(input()).source).toBe('sysctl');
  });
  it('is unknown with a reason when the options could not be read', () => {
    const v = keepaliveView(input({ opts: null, optsReason: 'not root' }));
    expect(v).toMatchObject({ enabled: null, source: 'unknown', reason: 'not root', deadInMs: null });
  });
  it('a half-closed FIN-WAIT-2 socket still held by its process keeps probing', () => {
    const v = keepaliveView(input({ state: 'FIN-WAIT-2', opts: opts({ keepIdleSec: 10, keepIntvlSec: 5, keepCnt: 2 }), timer: { kind: 'keepalive', remainingMs: 9000, count: 0 } }));
    expect(v.deadInMs).toBe(9000 + 2 * 5000);
  });
  it('an orphaned FIN-WAIT-2 socket\'s `keepalive` timer is its FIN-WAIT-2 timer, not keepalive', () => {
    const v = keepaliveView(input({ state: 'FIN-WAIT-2', orphan: true, opts: null, optsReason: 'no socket inode (orphaned)', timer: { kind: 'keepalive', remainingMs: 30000, count: 0 } }));
    expect(v.timer).toBeNull();
  });
  it('derives nothing for keepalive off, or for LISTEN', () => {
    expect(keepaliveView(input({ opts: opts({ keepalive: false }) })).deadInMs).toBeNull();
    expect(keepaliveView(input({ state: 'LISTEN' })).deadInMs).toBeNull();
  });
  it('estimates when the keepalive timer is hidden behind a retransmit timer', () => {
    const v = keepaliveView(input({ timer: { kind: 'on', remainingMs: 200, count: 1 } }));
    expect(v.timer).toBeNull();
    expect(v.estimated).toBe(true);
    expect(v.nextProbeInMs).toBe(7200_000 - 1000);
  });
  it('exposes the keepalive timer and outstanding probes from ss', () => {
    const v = keepaliveView(input({ timer: { kind: 'keepalive', remainingMs: 750, count: 2 }, lastrcvMs: 20000, lastackMs: 20000,
      opts: opts({ keepIdleSec: 10, keepIntvlSec: 5, keepCnt: 4 }) }));
    expect(v.timer).toEqual({ remainingMs: 750, probesOutstanding: 2 });
    expect(v.deadInMs).toBe(750 + 2 * 5000);
    expect(v.estimated).toBe(false);
  });
});
