import { describe, expect, it } from 'vitest';
import type { KaEvent } from '../../../src/domain/event.js';
import { ruleRetransmitTimeouts } from '../../../src/model/findings/retransmit-timeouts.js';
import { conn, event, input } from '../../helpers/findings-fixture.js';

describe('retransmit timeouts', () => {
  it('names the connections the retransmission timer gave up on, their owners and peers; other closes are not its concern', () => {
    const a = conn();
    const b = conn();
    const close = (c: typeof a, how: string) => event('close', c, { how, lifetimeMs: 1000, probesSent: 0 }) as KaEvent;
    const f = ruleRetransmitTimeouts(input({ events: [close(a, 'retransmit_timeout'), close(b, 'timeout'), close(b, 'fin')] }));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ rule: 'retransmit-timeouts', severity: 'critical', connections: [a.id], processes: [{ pid: a.process!.pid, comm: a.process!.comm }] });
    expect(f[0]!.evidence).toMatchObject({ timeouts: 1, peers: [a.peer.address], errors: ['ETIMEDOUT'] });
    expect(f[0]!.summary).toMatch(/^1 connection\(s\) were given up by the retransmission timer while ka-top watched/);
    expect(f[0]!.fix).toMatch(/tcp_retries2/);
    expect(f[0]!.fix).not.toMatch(/ICMP/);
    expect(ruleRetransmitTimeouts(input({ events: [close(b, 'timeout'), close(b, 'connect_failed')] }))).toEqual([]);
  });

  it('names the ICMP error the connection got instead of ETIMEDOUT', () => {
    const a = conn();
    const close = (error: string | null) => event('close', a, { how: 'retransmit_timeout', error, lifetimeMs: 1000, probesSent: 0 }) as KaEvent;
    const f = ruleRetransmitTimeouts(input({ events: [close('EHOSTUNREACH'), close('ETIMEDOUT')] }));
    expect(f[0]!.summary).toMatch(/\(the application got EHOSTUNREACH or ETIMEDOUT\)/);
    expect(f[0]!.evidence).toMatchObject({ errors: ['EHOSTUNREACH', 'ETIMEDOUT'] });
    expect(f[0]!.fix).toMatch(/hosts \(EHOSTUNREACH: an ICMP error said the host or the route to it is gone\)/);
  });
});
