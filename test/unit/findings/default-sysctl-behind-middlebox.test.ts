import { describe, expect, it } from 'vitest';
import { ruleDefaultSysctlBehindMiddlebox } from '../../../src/model/findings/default-sysctl-behind-middlebox.js';
import { conn, event, input, kaOn, ns } from '../../helpers/findings-fixture.js';

describe('middlebox signs', () => {
  it('a namespace on the defaults with peers outside the host is info; tuned namespaces and local peers are not', () => {
    const remote = conn({ keepalive: kaOn(7200, 'sysctl') });
    const f = ruleDefaultSysctlBehindMiddlebox(input({ connections: [remote] }));
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('info');
    const tuned = ns({ sysctl: { tcp_keepalive_time: 60, tcp_keepalive_intvl: 10, tcp_keepalive_probes: 6, tcp_retries2: 15, tcp_fin_timeout: 60 } });
    expect(ruleDefaultSysctlBehindMiddlebox(input({ connections: [remote], namespaces: [tuned] }))).toEqual([]);
    const other = conn({ local: { address: '198.18.100.7', port: 5432 }, peer: { ...remote.local } });
    expect(ruleDefaultSysctlBehindMiddlebox(input({ connections: [remote, other] }))).toEqual([]);
  });

  it('a peer in another namespace of this host is local even when the rows given are filtered', () => {
    const remote = conn({ keepalive: kaOn(7200, 'sysctl') });
    const hostAddresses = new Set([remote.local.address, remote.peer.address]);
    expect(ruleDefaultSysctlBehindMiddlebox(input({ connections: [remote], hostAddresses }))).toEqual([]);
  });

  it('a reset on an idle flow that set its own keepalive does not blame the namespace sysctl', () => {
    const own = conn({ keepalive: kaOn(30, 'socket'), idleMs: { send: 5000, recv: 5000, ack: 5000 } });
    const w = { startMs: Date.parse('2026-01-01T00:00:00.000Z'), durationMs: 12_000, startInventoryMs: Date.parse('2026-01-01T00:00:00.000Z') };
    const rr = event('rst_received', own, { inferredCause: 'peer_reset (sender not observed)' }, '2026-01-01T00:00:10.000Z');
    expect(ruleDefaultSysctlBehindMiddlebox(input({ startConnections: [own], window: w, idleTimeouts: [{ name: 'lab', seconds: 8 }], events: [rr] }))).toEqual([]);
  });
});
