import { describe, expect, it } from 'vitest';
import { ruleIdleReclaimed } from '../../../src/model/findings/idle-reclaimed.js';
import { ruleDefaultSysctlBehindMiddlebox } from '../../../src/model/findings/default-sysctl-behind-middlebox.js';
import { conn, input, event } from '../../helpers/findings-fixture.js';

describe('middlebox signs', () => {
  it('a reset from an unseen sender on a flow idle longer than a timeout is an idle reclaim; the namespace defaults are blamed', () => {
    const c = conn({ keepalive: { enabled: false }, idleMs: { send: 5000, recv: 5000, ack: 5000 } });
    const rr = (cause: string) => event('rst_received', c, { inferredCause: cause }, '2026-01-01T00:00:10.000Z');
    const w = { startMs: Date.parse('2026-01-01T00:00:00.000Z'), durationMs: 12_000, startInventoryMs: Date.parse('2026-01-01T00:00:00.000Z') };
    const base = { startConnections: [c], window: w, idleTimeouts: [{ name: 'lab', seconds: 8 }] };
    const f = ruleIdleReclaimed(input({ ...base, events: [rr('peer_reset (sender not observed)')] }));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'critical', connections: [c.id], evidence: { idleAtResetMs: { [c.id]: 15_000 }, matchedTimeout: { name: 'lab', seconds: 8 } } });
    // the sender was seen on this host (a linger reset of a local process): not a middlebox
    expect(ruleIdleReclaimed(input({ ...base, events: [rr('linger')] }))).toEqual([]);
    const d = ruleDefaultSysctlBehindMiddlebox(input({ ...base, events: [rr('peer_reset (sender not observed)')] }));
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ severity: 'warning', connections: [c.id] });
    expect(d[0]!.fix).toMatch(/net\.ipv4\.tcp_keepalive_time=6/);
  });
});
