import { describe, expect, it } from 'vitest';
import { ruleDefaultSysctlBehindMiddlebox } from '../../../src/model/findings/default-sysctl-behind-middlebox.js';
import { conn, ns, input, kaOn } from '../../helpers/findings-fixture.js';

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
});
