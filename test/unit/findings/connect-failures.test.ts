import { describe, expect, it } from 'vitest';
import type { KaEvent } from '../../../src/domain/event.js';
import { ruleConnectFailures } from '../../../src/model/findings/connect-failures.js';
import { conn, event, input } from '../../helpers/findings-fixture.js';

describe('connect failures', () => {
  const close = (c: ReturnType<typeof conn>, how: string, error: string | null) => event('close', c, { how, error, lifetimeMs: 3000, probesSent: 0 }) as KaEvent;

  it('counts the attempts by destination and by how each ended; other closes are not its concern', () => {
    const db = conn();
    const v6 = conn({ peer: { address: 'fd6b:6174::2', port: 443 } });
    const f = ruleConnectFailures(input({
      events: [close(db, 'connect_failed', null), close(db, 'connect_failed', null), close(db, 'connect_failed', 'ETIMEDOUT'),
        close(v6, 'connect_failed', 'EHOSTUNREACH'), close(db, 'retransmit_timeout', 'ETIMEDOUT'), close(db, 'fin', null)],
    }));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ rule: 'connect-failures', severity: 'warning', processes: [{ pid: db.process!.pid, comm: db.process!.comm }] });
    expect(f[0]!.summary).toBe('4 connection attempt(s) never completed while ka-top watched, to 198.18.100.7:5432 ×3, [fd6b:6174::2]:443 ×1: '
      + 'closed by the application while connecting 2, timed out 1 (ETIMEDOUT), EHOSTUNREACH 1.');
    expect(f[0]!.evidence).toEqual({ connectionCount: 4, failures: 4, byError: { none: 2, ETIMEDOUT: 1, EHOSTUNREACH: 1 }, peers: ['198.18.100.7:5432', '[fd6b:6174::2]:443'] });
    expect(f[0]!.fix).toMatch(/tcp_syn_retries/);
    expect(ruleConnectFailures(input({ events: [close(db, 'retransmit_timeout', 'ETIMEDOUT')] }))).toEqual([]);
  });
});
