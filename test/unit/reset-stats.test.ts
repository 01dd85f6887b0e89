import { describe, expect, it } from 'vitest';
import { CountedResetRate, MAX_KEYS, OTHER_KEY, ResetStats, summarizeResets, type ResetRecord } from '../../src/model/reset-stats.js';

const rst = (at: number, over: Partial<ResetRecord> = {}): ResetRecord => ({
  at, direction: 'sent', cause: 'TCP_STATE', pid: 100, comm: 'haproxy', peer: '198.18.0.2', ...over,
});

describe('reset stats', () => {
  it('counts by cause, process and peer, with rates over the window', () => {
    const storm = Array.from({ length: 50 }, (_, i) => rst(10_000 + i * 100, { comm: 'checker', pid: 7, peer: '198.18.0.9' }));
    const other = [rst(1_000, { cause: 'TCP_ABORT_ON_CLOSE' }), rst(2_000, { direction: 'received', cause: 'peer reset', pid: null, comm: null, peer: null })];
    const s = summarizeResets([...other, ...storm], 15_000, 10_000);
    expect(s.total).toBe(52);
    expect(s.sent).toBe(51);
    expect(s.received).toBe(1);
    // 50 storm resets in the last 10 s -> 5/s; the two old ones are out of the window
    expect(s.rate).toBe(5);
    expect(s.byCause[0]).toEqual({ key: 'TCP_STATE', count: 50, rate: 5 });
    expect(s.byCause.map((b) => b.key)).toEqual(['TCP_STATE', 'TCP_ABORT_ON_CLOSE', 'received: peer reset']);
    expect(s.byProcess[0]).toEqual({ key: '7/checker', count: 50, rate: 5 });
    expect(s.byProcess.find((b) => b.key === 'unknown')?.count).toBe(1);
    expect(s.byPeer[0]).toEqual({ key: '198.18.0.9', count: 50, rate: 5 });
    expect(s.byPeer.find((b) => b.key === '198.18.0.2')).toEqual({ key: '198.18.0.2', count: 1, rate: 0 });
  });

  it('rates fall back to zero when the storm stops, totals stay', () => {
    const st = new ResetStats(1_000);
    for (let i = 0; i < 10; i++) st.add(rst(i * 50));
    expect(st.summary(500).rate).toBe(10);
    const later = st.summary(5_000);
    expect(later.rate).toBe(0);
    expect(later.total).toBe(10);
    expect(later.byCause).toEqual([{ key: 'TCP_STATE', count: 10, rate: 0 }]);
  });

  it('stays correct while compacting a long stream', () => {
    const st = new ResetStats(1_000);
    for (let i = 0; i < 20_000; i++) {
      st.add(rst(i));
      if (i % 997 === 0) st.summary(i);
    }
    const s = st.summary(19_999);
    expect(s.total).toBe(20_000);
    expect(s.rate).toBe(1000); // exactly the last 1000 ms
  });

  it('keeps MAX_KEYS keys per dimension and counts the rest under other', () => {
    const st = new ResetStats(1_000);
    const n = MAX_KEYS + 500;
    for (let i = 0; i < n; i++) st.add(rst(i, { peer: `198.18.${i >> 8}.${i & 255}` }));
    const s = st.summary(n);
    expect(s.byPeer).toHaveLength(MAX_KEYS + 1);
    expect(s.byPeer.find((b) => b.key === OTHER_KEY)?.count).toBe(n - MAX_KEYS);
    expect(s.byPeer.reduce((a, b) => a + b.count, 0)).toBe(n);
    expect(s.total).toBe(n);
  });

  it('is empty without resets', () => {
    const s = summarizeResets([], 0);
    expect(s).toMatchObject({ total: 0, rate: 0, byCause: [], byProcess: [], byPeer: [] });
  });
});

describe('the kernel\'s reset rate (CountedResetRate)', () => {
  // Two namespaces: 11 (the flood's) and 22; received ones counted per namespace too, and in all.
  // Sent in 11: for no socket (the flood), and one a second for zero linger; in 22 all linger.
  const counts = (sent11: number, received11: number, heldBack = 0, other = 0, linger11 = 0) => ({
    rstSentByNetnsCause: { 11: { no_socket: sent11 - linger11, linger: linger11 }, 22: { linger: other } },
    rstReceivedByNetns: { 11: received11, 22: other }, rstReceived: received11 + other, cappedEvents: { rst_sent: heldBack, close: 7 },
  });

  it('is the resets a second between two interval ends, sent and received, held back or not; of some namespaces or all', () => {
    const r = new CountedResetRate();
    r.sample(10_000, counts(1_000, 500));
    expect(r.rate(null)).toBeNull(); // one sample is no rate
    r.sample(15_000, counts(176_000, 175_500, 340_000, 2_500, 5));
    expect(r.rate(null)).toEqual({
      perSecond: 71_000, heldBack: true, scope: 'host',
      sentByCause: [{ cause: 'no_socket', perSecond: 34_999 }, { cause: 'linger', perSecond: 501 }], receivedPerSecond: 35_500,
    });
    expect(r.rate([11])).toEqual({
      perSecond: 70_000, heldBack: true, scope: 'netns',
      sentByCause: [{ cause: 'no_socket', perSecond: 34_999 }, { cause: 'linger', perSecond: 1 }], receivedPerSecond: 35_000,
    });
    expect(r.rate([22])).toMatchObject({ perSecond: 1_000, sentByCause: [{ cause: 'linger', perSecond: 500 }], receivedPerSecond: 500 });
    // Nothing more held back in the next interval: the recorded rates are the rate again.
    r.sample(20_000, counts(176_010, 175_500, 340_000, 2_500, 5));
    expect(r.rate(null)).toEqual({ perSecond: 2, heldBack: false, scope: 'host', sentByCause: [{ cause: 'no_socket', perSecond: 2 }], receivedPerSecond: 0 });
    // Held-back closes alone are no reset flood.
    r.sample(25_000, { ...counts(176_010, 175_500, 340_000, 2_500), cappedEvents: { rst_sent: 340_000, close: 9 } });
    expect(r.rate(null)?.heldBack).toBe(false);
    // A restarted tracer's maps start from zero: no rate until two of its own samples.
    r.sample(30_000, counts(40, 20, 30));
    expect(r.rate(null)).toBeNull();
    r.sample(35_000, counts(5_040, 20, 500));
    expect(r.rate([11])).toMatchObject({ perSecond: 1000, heldBack: true, scope: 'netns' });
  });

  it('keeps each sample as it was: the counts object it is given changes after', () => {
    const r = new CountedResetRate();
    const live = counts(100, 100);
    r.sample(0, live);
    Object.assign(live, counts(600, 600, 10)); // as applyCountsMap replaces the maps and sets the total
    r.sample(1_000, live);
    expect(r.rate(null)?.perSecond).toBe(1_000);
  });
});
