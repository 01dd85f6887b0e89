import { describe, expect, it } from 'vitest';
import type { KaEvent } from '../../../src/domain/event.js';
import { ruleZeroLingerResets } from '../../../src/model/findings/zero-linger-resets.js';
import { conn, input, event } from '../../helpers/findings-fixture.js';

describe('zero-linger resets', () => {
  it('groups linger resets by process with a rate over the window', () => {
    const checker = { pid: 4242, comm: 'checker' };
    const rst = (i: number, cause = 'linger') => ({ ...event('rst_sent', null, { reason: 'TCP_STATE', cause, causeInferred: false, state: 'TCP_CLOSE' }), pid: checker.pid, comm: checker.comm, peer: { address: '198.18.0.2', port: 7002 }, connection: `1:${i}` }) as KaEvent;
    const events = [...Array.from({ length: 20 }, (_, i) => rst(i)), rst(99, 'unread_data')];
    const f = ruleZeroLingerResets(input({ events, window: { startMs: 0, durationMs: 10_000, startInventoryMs: 0 } }));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ rule: 'zero-linger-resets', severity: 'warning', processes: [checker] });
    expect(f[0]!.evidence).toMatchObject({ resets: 20, ratePerSec: 2, peers: ['198.18.0.2:7002'] });
    expect(f[0]!.summary).toMatch(/checker\[4242\] closed 20 connection\(s\) with SO_LINGER \{1,0\} \(2\.00\/s\)/);
  });
  it('without events, reports the sockets armed for it', () => {
    const c = conn({ linger: { enabled: true, seconds: 0 } });
    const f = ruleZeroLingerResets(input({ connections: [c, conn()] }));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'info', connections: [c.id] });
  });
});
