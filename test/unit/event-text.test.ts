import { describe, expect, it } from 'vitest';
import type { KaEvent } from '../../src/domain/event.js';
import { describeContainer } from '../../src/domain/workload.js';
import { formatEventLine, resetCausesText } from '../../src/output/event-text.js';

const probe: KaEvent = {
  type: 'keepalive_probe', ts: '2026-01-01T00:00:05.000Z', local: { address: '198.18.2.1', port: 40000 },
  peer: { address: '198.18.2.2', port: 7000 }, netns: 4026532177, pid: 42, comm: 'ka-peer', process: null,
  connection: null, sk: 'ffff1', probesSent: 1, probesOutstanding: 1, maxProbes: 3, intervalMs: 1000, userTimeoutMs: 0, giveUpInMs: 3000,
};

describe('formatEventLine', () => {
  it('names the namespace, and the container or pod living there, where they are known; the inode otherwise', () => {
    const pod = describeContainer({ id: 'a1b2c3d4e5f6', runtime: 'containerd', name: 'app', pod: { uid: 'u', namespace: 'shop', name: 'web-0' } });
    expect(formatEventLine(probe, () => `kalab-dead-cli (${pod})`)).toMatch(/ netns=kalab-dead-cli \(containerd:a1b2c3d4e5f6 "app" in pod shop\/web-0\)$/);
    expect(formatEventLine(probe)).toMatch(/ netns=4026532177$/);
    expect(formatEventLine({ ...probe, netns: null })).toMatch(/ netns=\?$/);
  });
});

describe('a keepalive timeout in words', () => {
  it('names TCP_USER_TIMEOUT when it ended the connection before the probe count, the probe count otherwise', () => {
    const t = { ...probe, type: 'keepalive_timeout', probesSent: 2, maxProbes: 5 } as const;
    const { probesOutstanding: _o, intervalMs: _i, giveUpInMs: _g, userTimeoutMs: _u, ...base } = t;
    expect(formatEventLine({ ...base, probesOutstanding: 2, userTimeoutMs: 5000 })).toContain('peer declared dead by TCP_USER_TIMEOUT 5000 ms, 2 of 5 probes unanswered');
    expect(formatEventLine({ ...base, probesOutstanding: 5, userTimeoutMs: 0 })).toContain('peer declared dead after 5 unanswered probes');
    expect(formatEventLine({ ...base, probesOutstanding: 5, userTimeoutMs: 60_000 })).toContain('after 5 unanswered probes');
    expect(formatEventLine(base)).toContain('after 5 unanswered probes'); // an older recording
  });
});

describe('resetCausesText', () => {
  it('words sent causes (ka-top\'s and bare kernel reasons) apart from received ones, each in the order given', () => {
    const b = (key: string, rate: number) => ({ key, count: 1, rate });
    const rate = (x: { rate: number }) => x.rate.toFixed(1);
    expect(resetCausesText([b('linger', 1.7), b('received: linger', 1.7), b('TCP_FLAGS', 0.5), b('received: unread_data', 0.2)], rate))
      .toBe('sent linger 1.7, TCP_FLAGS 0.5 · received linger 1.7, unread_data 0.2');
    expect(resetCausesText([b('received: no_socket', 3)], rate)).toBe('received no_socket 3.0');
    expect(resetCausesText([], rate)).toBe('');
  });
});
