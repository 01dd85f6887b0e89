import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/domain/connection.js';
import { rulePeersNotAnswering } from '../../../src/model/findings/peers-not-answering.js';
import { conn, input, kaOn, event } from '../../helpers/findings-fixture.js';

describe('peers not answering', () => {
  it('flags probes outstanding now and probes sent while earlier ones went unanswered, not answered probes', () => {
    const now = conn({ keepalive: { ...kaOn(2), timer: { remainingMs: 500, probesOutstanding: 2 } } });
    const seen = conn({ keepalive: kaOn(2) });
    const healthy = conn({ keepalive: kaOn(2) });
    const probe = (c: Connection, out: number) => event('keepalive_probe', c, { probesSent: out, probesOutstanding: out, maxProbes: 3, intervalMs: 1000, userTimeoutMs: 0, giveUpInMs: 1000 });
    const f = rulePeersNotAnswering(input({ connections: [now, seen, healthy], events: [probe(healthy, 1), probe(healthy, 1), probe(seen, 1), probe(seen, 2)] }));
    expect(f).toHaveLength(1);
    expect(new Set(f[0]!.connections)).toEqual(new Set([now.id, seen.id]));
    expect(f[0]!.evidence.unansweredProbesSeen).toEqual({ [seen.id]: 2 });
    expect(rulePeersNotAnswering(input({ connections: [healthy], events: [probe(healthy, 1)] }))).toEqual([]);
  });

  it('names the peer of a connection the probes have killed already (in no inventory any more) from its probes', () => {
    const gone = conn({ keepalive: kaOn(2) });
    const probe = (out: number) => event('keepalive_probe', gone, { probesSent: out, probesOutstanding: out, maxProbes: 3, intervalMs: 1000, userTimeoutMs: 0, giveUpInMs: 1000 });
    const [f] = rulePeersNotAnswering(input({ connections: [], events: [probe(1), probe(2)] }));
    expect(f!.summary).toMatch(/^1 connection\(s\) have keepalive probes going unanswered \(peer 198\.18\.100\.7\): /);
    expect(f!.evidence.peers).toEqual(['198.18.100.7']);
  });

  it('lists at most 50 connections in its per-connection evidence; the count keeps the total', () => {
    const probing = Array.from({ length: 120 }, () => conn({ keepalive: { ...kaOn(2), timer: { remainingMs: 500, probesOutstanding: 1 } } }));
    const [f] = rulePeersNotAnswering(input({ connections: probing, events: [] }));
    expect(Object.keys(f!.evidence.probesOutstandingNow as object)).toHaveLength(50);
    expect(f!.evidence.connectionCount).toBe(120);
    expect(f!.connections).toHaveLength(50);
  });
});
