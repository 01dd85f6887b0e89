import { describe, expect, it } from 'vitest';
import { ruleKeepaliveOverMiddlebox } from '../../../src/model/findings/keepalive-over-middlebox.js';
import { BASE, conn, input, kaOn } from '../../helpers/findings-fixture.js';

describe('keepalive idle over a middlebox timeout', () => {
  it('flags long-lived connections whose keepalive idle exceeds the smallest timeout, grouped, with the right knob', () => {
    const sysctl = [conn({ keepalive: kaOn(7200, 'sysctl') }), conn({ keepalive: kaOn(7200, 'sysctl') })];
    const sock = conn({ keepalive: kaOn(300) });
    const fine = conn({ keepalive: kaOn(60) });
    const f = ruleKeepaliveOverMiddlebox(input({ connections: [...sysctl, sock, fine] }));
    expect(f).toHaveLength(2);
    const bySysctl = f.find((x) => x.evidence.keepaliveIdleSec === 7200)!;
    expect(bySysctl.connections).toEqual(sysctl.map((c) => c.id));
    expect(bySysctl.fix).toMatch(/net\.ipv4\.tcp_keepalive_time=192` in network namespace kat-app/);
    expect(bySysctl.summary).toMatch(/azure-lb 240 s, aws-nlb 350 s, aws-nat 350 s, gcp-nat 1200 s/);
    const bySocket = f.find((x) => x.evidence.keepaliveIdleSec === 300)!;
    expect(bySocket.fix).toMatch(/set on the socket: lower it/);
    expect(bySocket.fix).toMatch(/TCP_KEEPIDLE=192/);
    expect((bySocket.evidence.exceeds as { name: string }[]).map((t) => t.name)).toEqual(['azure-lb']);
    expect(bySocket.processes).toEqual([{ pid: BASE.process!.pid, comm: 'ka-peer' }]);
  });
  it('skips loopback, short-lived (not in the start inventory) and flows the other local end keeps alive', () => {
    const lo = conn({ peer: { address: '127.0.0.1', port: 1 }, keepalive: kaOn(7200) });
    const young = conn({ keepalive: kaOn(7200) });
    const server = conn({ keepalive: kaOn(600), local: { address: '198.18.0.9', port: 7000 }, peer: { address: '198.18.0.1', port: 555 } });
    const client = conn({ keepalive: kaOn(5), local: { address: '198.18.0.1', port: 555 }, peer: { address: '198.18.0.9', port: 7000 } });
    const old = conn({ keepalive: kaOn(7200) });
    const f = ruleKeepaliveOverMiddlebox(input({ connections: [lo, young, server, client, old], startConnections: [lo, server, client, old], window: { startMs: 0, durationMs: 1, startInventoryMs: 0 } }));
    expect(f.flatMap((x) => x.connections)).toEqual([old.id]);
  });
});
