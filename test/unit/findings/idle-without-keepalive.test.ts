import { describe, expect, it } from 'vitest';
import { ruleIdleWithoutKeepalive } from '../../../src/model/findings/idle-without-keepalive.js';
import { conn, input } from '../../helpers/findings-fixture.js';

describe('idle without keepalive', () => {
  it('uses the longest idle seen over the window and names the timeouts it exceeds', () => {
    const c = conn({ keepalive: { enabled: false }, idleMs: { send: 2000, recv: 2000, ack: 2000 } });
    const busy = conn({ keepalive: { enabled: false }, idleMs: { send: 1, recv: 1, ack: 1 } });
    const lab = [{ name: 'lab', seconds: 8 }];
    expect(ruleIdleWithoutKeepalive(input({ connections: [c, busy], idleTimeouts: lab }))).toEqual([]);
    const f = ruleIdleWithoutKeepalive(input({ connections: [c, busy], idleTimeouts: lab, observedIdleMs: new Map([[c.id, 11_000]]) }));
    expect(f).toHaveLength(1);
    expect(f[0]!.connections).toEqual([c.id]);
    expect(f[0]!.evidence).toMatchObject({ maxIdleMs: 11_000, exceeds: lab });
    expect(f[0]!.fix).toMatch(/enable keepalive/);
  });
});
