import { describe, expect, it } from 'vitest';
import { ruleKeepaliveTimeouts } from '../../../src/model/findings/keepalive-timeouts.js';
import { conn, input, event } from '../../helpers/findings-fixture.js';

describe('keepalive timeouts', () => {
  it('keepalive timeouts are critical and name the owners', () => {
    const c = conn();
    const f = ruleKeepaliveTimeouts(input({ events: [event('keepalive_timeout', c, { probesSent: 3, maxProbes: 3 })] }));
    expect(f[0]).toMatchObject({ severity: 'critical', connections: [c.id], processes: [{ pid: c.process!.pid, comm: 'ka-peer' }] });
  });
});
