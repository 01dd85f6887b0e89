import { describe, expect, it } from 'vitest';
import type { KaEvent } from '../../../src/domain/event.js';
import { ruleUnreadDataResets } from '../../../src/model/findings/unread-data-resets.js';
import { input, event } from '../../helpers/findings-fixture.js';

const WINDOW = { startMs: 0, durationMs: 10_000, startInventoryMs: 0 };

describe('unread-data resets', () => {
  const rst = (pid: number, comm: string, i: number, cause = 'unread_data', localPort = 7005) => ({
    ...event('rst_sent', null, { reason: 'TCP_ABORT_ON_CLOSE', cause, causeInferred: false, state: 'TCP_CLOSE' }),
    pid, comm, local: { address: '198.18.10.2', port: localPort }, peer: { address: `198.18.10.${1 + (i % 2)}`, port: 40000 + i }, connection: `1:${i}`,
  }) as KaEvent;

  it('names each closing process, its service port, its peers and its rate; other causes are not its concern', () => {
    const events = [...Array.from({ length: 4 }, (_, i) => rst(8440, 'server', i)), rst(8440, 'server', 9, 'linger'), rst(77, 'worker', 10)];
    const f = ruleUnreadDataResets(input({ events, window: WINDOW }));
    expect(f.map((x) => x.processes)).toEqual([[{ pid: 8440, comm: 'server' }], [{ pid: 77, comm: 'worker' }]]);
    expect(f[0]).toMatchObject({ rule: 'unread-data-resets', severity: 'warning', connections: ['1:0', '1:1', '1:2', '1:3'] });
    expect(f[0]!.evidence).toMatchObject({ resets: 4, ratePerSec: 0.4, peers: ['198.18.10.1', '198.18.10.2'], localPorts: [7005], reason: 'TCP_ABORT_ON_CLOSE' });
    expect(f[0]!.summary).toMatch(/^server\[8440\] closed 4 connection\(s\) on port 7005 with data still unread \(0\.40\/s\): the kernel reset each one instead of sending a FIN \(TCP_ABORT_ON_CLOSE\), so 198\.18\.10\.1, 198\.18\.10\.2 got "connection reset by peer"/);
    expect(f[0]!.fix).toMatch(/shutdown\(SHUT_WR\)/);
  });

  it('a client closing early (its ephemeral ports) is not given a port; no events, no finding', () => {
    const events = Array.from({ length: 5 }, (_, i) => rst(5, 'curl', i, 'unread_data', 50000 + i));
    const [f] = ruleUnreadDataResets(input({ events, window: WINDOW }));
    expect(f!.summary).toMatch(/^curl\[5\] closed 5 connection\(s\) with data still unread/);
    expect(ruleUnreadDataResets(input({}))).toEqual([]);
  });
});
