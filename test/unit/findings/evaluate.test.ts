import { describe, expect, it } from 'vitest';
import { evaluateFindings } from '../../../src/model/findings/index.js';
import { CAPTURE, RULES_SINCE_CAPTURE } from '../../helpers/findings-fixture.js';

describe('on a real lab capture', () => {
  const f = evaluateFindings({
    connections: CAPTURE.connections,
    startConnections: [...CAPTURE.connections, ...CAPTURE.closedConnections!],
    namespaces: CAPTURE.namespaces,
    events: CAPTURE.events!,
    window: { startMs: Date.parse(CAPTURE.capture!.startedAt), durationMs: CAPTURE.capture!.durationMs, startInventoryMs: Date.parse(CAPTURE.capture!.inventories.start.takenAt) },
    idleTimeouts: CAPTURE.idleTimeouts!,
  });
  const rules = f.map((x) => x.rule);
  const nsOf = (id: string) => CAPTURE.namespaces.find((n) => id.startsWith(`${n.inode}:`))?.name;

  it('finds what the lab shows, most severe first', () => {
    expect(rules).toEqual(expect.arrayContaining([
      'keepalive-timeouts', 'idle-flow-reset-by-middlebox', 'peers-not-answering-probes', 'zero-linger-resets', 'user-timeout-overrides-keepalive',
    ]));
    const sev = f.map((x) => ['critical', 'warning', 'info'].indexOf(x.severity));
    expect(sev).toEqual([...sev].sort((a, b) => a - b));
  });
  it('names the scenario each finding comes from', () => {
    expect(f.find((x) => x.rule === 'keepalive-timeouts')!.connections.map(nsOf)).toContain('kalab-dead-cli');
    expect(f.find((x) => x.rule === 'idle-flow-reset-by-middlebox')!.connections.map(nsOf)).toEqual(['kalab-idle-cli']);
    expect(f.find((x) => x.rule === 'user-timeout-overrides-keepalive')!.connections.map(nsOf)).toEqual(['kalab-uto-cli']);
    const z = f.find((x) => x.rule === 'zero-linger-resets')!;
    expect(z.evidence.ratePerSec as number).toBeGreaterThan(1.5);
    expect(z.evidence.ratePerSec as number).toBeLessThan(2.5);
  });
  it('unread-close: the server that closes with unread data, from the capture\'s real abort resets', () => {
    const u = f.find((x) => x.rule === 'unread-data-resets')!;
    expect(u.processes).toEqual([{ pid: expect.any(Number), comm: 'ka-peer' }]);
    expect(u.evidence).toMatchObject({ peers: ['198.18.10.1'], localPorts: [7005], reason: 'TCP_ABORT_ON_CLOSE' });
  });
  it('is what ka-top wrote into the capture, but for the rules added since', () => {
    expect(rules.filter((r) => !RULES_SINCE_CAPTURE.has(r))).toEqual(CAPTURE.findings!.map((x) => x.rule));
  });
});
