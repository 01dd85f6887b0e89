import { describe, expect, it } from 'vitest';
import { ruleUserTimeout } from '../../../src/model/findings/user-timeout.js';
import { conn, input, kaOn } from '../../helpers/findings-fixture.js';

describe('TCP_USER_TIMEOUT', () => {
  it('info when it overrides the probe count, warning when shorter than the idle', () => {
    const grpc = conn({ userTimeoutMs: 20_000, keepalive: { ...kaOn(10), intervalSec: 10, probes: 9 } });
    const short = conn({ userTimeoutMs: 5_000, keepalive: kaOn(30) });
    const f = ruleUserTimeout(input({ connections: [grpc, short, conn()] }));
    expect(f.map((x) => [x.connections[0], x.severity])).toEqual([[grpc.id, 'info'], [short.id, 'warning']]);
    expect(f[0]!.evidence).toMatchObject({ userTimeoutMs: 20_000, giveUpByProbesMs: 100_000 });
    expect(f[0]!.fix).toMatch(/GRPC_ARG_KEEPALIVE_TIMEOUT_MS/);
    // An owner with no setting of its own: the socket option, without an empty 'most specific first' list.
    expect(f[1]!.fix).toMatch(/^keep it longer than TCP_KEEPIDLE \+ one TCP_KEEPINTVL: setsockopt\(TCP_USER_TIMEOUT\) on the socket/);
  });
});
