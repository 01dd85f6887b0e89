import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KaEvent } from '../../src/model/events.js';
import {
  DEFAULT_IDLE_TIMEOUTS, evaluateFindings, parseIdleTimeouts, ruleDefaultSysctlBehindMiddlebox, ruleIdleReclaimed,
  ruleIdleWithoutKeepalive, ruleKeepaliveOverMiddlebox, ruleKeepaliveTimeouts, rulePeersNotAnswering, ruleUserTimeout,
  ruleZeroLingerResets, type FindingsInput,
} from '../../src/model/findings.js';
import type { Connection, NetnsInfo } from '../../src/model/types.js';
import type { SnapshotDocument } from '../../src/output/snapshot-json.js';

// A real capture of the scenario lab (see test/fixtures/capture/README.md).
const CAPTURE = JSON.parse(readFileSync(new URL('../fixtures/capture/lab-capture-12s.json', import.meta.url), 'utf8')) as SnapshotDocument;
// A real connection as the template of the synthetic ones.
const BASE = (JSON.parse(readFileSync(new URL('../fixtures/tui/snapshot-ka-peer.json', import.meta.url), 'utf8')) as SnapshotDocument)
  .connections.find((c) => c.state === 'ESTAB')!;

let port = 40000;
type Over = Partial<Omit<Connection, 'keepalive'>> & { keepalive?: Partial<Connection['keepalive']> };
function conn(over: Over = {}): Connection {
  const p = port++;
  const c = structuredClone(BASE);
  return {
    ...c,
    id: `4026532000:${p.toString(16)}`,
    local: { address: '198.18.0.1', port: p },
    peer: { address: '198.18.100.7', port: 5432 },
    netns: { inode: 4026532000, name: 'kat-app', container: null },
    ...over,
    keepalive: { ...c.keepalive, ...over.keepalive },
  } as Connection;
}

const ns = (over: Partial<NetnsInfo> = {}): NetnsInfo => ({
  inode: 4026532000, name: 'kat-app', container: null, self: false, error: null,
  sysctl: { tcp_keepalive_time: 7200, tcp_keepalive_intvl: 75, tcp_keepalive_probes: 9, tcp_retries2: 15, tcp_fin_timeout: 60 },
  ...over,
});

const input = (over: Partial<FindingsInput> = {}): FindingsInput => ({
  connections: [], namespaces: [ns()], events: [], window: null, idleTimeouts: DEFAULT_IDLE_TIMEOUTS, ...over,
});

const kaOn = (idleSec: number, source: 'socket' | 'sysctl' = 'socket') => ({
  enabled: true, idleSec, intervalSec: 75, probes: 9, sources: { idle: source, interval: source, probes: source },
});

function event<T extends KaEvent['type']>(type: T, c: Connection | null, fields: Record<string, unknown>, ts = '2026-01-01T00:00:05.000Z'): KaEvent {
  return {
    type, ts, local: c?.local ?? null, peer: c?.peer ?? null, netns: c?.netns.inode ?? null, pid: c?.process?.pid ?? null,
    comm: c?.process?.comm ?? null, process: null, connection: c?.id ?? null, sk: 'ffff1', ...fields,
  } as KaEvent;
}

describe('idle timeouts', () => {
  it('parses name=seconds lists with unit suffixes and rejects junk', () => {
    expect(parseIdleTimeouts('aws-nlb=350, lab=8,corp=5m')).toEqual([
      { name: 'aws-nlb', seconds: 350 }, { name: 'lab', seconds: 8 }, { name: 'corp', seconds: 300 },
    ]);
    for (const bad of ['', 'x', 'x=', 'x=-1', 'x=0', 'a b=3']) expect(() => parseIdleTimeouts(bad), bad).toThrow();
  });
  it('defaults are the documented vendor values', () => {
    expect(Object.fromEntries(DEFAULT_IDLE_TIMEOUTS.map((t) => [t.name, t.seconds]))).toEqual({ 'azure-lb': 240, 'aws-nlb': 350, 'aws-nat': 350, 'gcp-nat': 1200 });
  });
});

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

describe('idle without keepalive', () => {
  it('uses the longest idle seen over the window and names the timeouts it exceeds', () => {
    const c = conn({ keepalive: { enabled: false }, idleMs: { send: 2000, recv: 2000, ack: 2000 } });
    const busy = conn({ keepalive: { enabled: false }, idleMs: { send: 1, recv: 1, ack: 1 } });
    const lab = [{ name: 'lab', seconds: 8 }];
    expect(ruleIdleWithoutKeepalive(input({ connections: [c, busy], idleTimeouts: lab }))).toEqual([]);
    const f = ruleIdleWithoutKeepalive(input({ connections: [c, busy], idleTimeouts: lab, observedIdleMs: new Map([[c.id, 11_000]]) }));
    expect(f).toHaveLength(1);
    expect(f[0]!.connections).toEqual([c.id]);
    expect(f[0]!.evidence).toMatchObject({ maxIdleMs: 11_000, exceeds: lab });
    expect(f[0]!.fix).toMatch(/enable keepalive/);
  });
});

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
  it('keepalive timeouts are critical and name the owners', () => {
    const c = conn();
    const f = ruleKeepaliveTimeouts(input({ events: [event('keepalive_timeout', c, { probesSent: 3, maxProbes: 3 })] }));
    expect(f[0]).toMatchObject({ severity: 'critical', connections: [c.id], processes: [{ pid: c.process!.pid, comm: 'ka-peer' }] });
  });
});

describe('zero-linger resets', () => {
  it('groups linger resets by process with a rate over the window', () => {
    const checker = { pid: 4242, comm: 'checker' };
    const rst = (i: number, cause = 'linger') => ({ ...event('rst_sent', null, { reason: 'TCP_STATE', cause, causeInferred: false, state: 'TCP_CLOSE' }), pid: checker.pid, comm: checker.comm, peer: { address: '198.18.0.2', port: 7002 }, connection: `1:${i}` }) as KaEvent;
    const events = [...Array.from({ length: 20 }, (_, i) => rst(i)), rst(99, 'unread_data')];
    const f = ruleZeroLingerResets(input({ events, window: { startMs: 0, durationMs: 10_000, startInventoryMs: 0 } }));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ rule: 'zero-linger-resets', severity: 'warning', processes: [checker] });
    expect(f[0]!.evidence).toMatchObject({ resets: 20, ratePerSec: 2, peers: ['198.18.0.2:7002'] });
    expect(f[0]!.summary).toMatch(/checker\[4242\] closed 20 connection\(s\) with SO_LINGER \{1,0\} \(2\.00\/s\)/);
  });
  it('without events, reports the sockets armed for it', () => {
    const c = conn({ linger: { enabled: true, seconds: 0 } });
    const f = ruleZeroLingerResets(input({ connections: [c, conn()] }));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'info', connections: [c.id] });
  });
});

describe('TCP_USER_TIMEOUT', () => {
  it('info when it overrides the probe count, warning when shorter than the idle', () => {
    const grpc = conn({ userTimeoutMs: 20_000, keepalive: { ...kaOn(10), intervalSec: 10, probes: 9 } });
    const short = conn({ userTimeoutMs: 5_000, keepalive: kaOn(30) });
    const f = ruleUserTimeout(input({ connections: [grpc, short, conn()] }));
    expect(f.map((x) => [x.connections[0], x.severity])).toEqual([[grpc.id, 'info'], [short.id, 'warning']]);
    expect(f[0]!.evidence).toMatchObject({ userTimeoutMs: 20_000, giveUpByProbesMs: 100_000 });
    expect(f[0]!.fix).toMatch(/GRPC_ARG_KEEPALIVE_TIMEOUT_MS/);
  });
});

describe('middlebox signs', () => {
  it('a reset from an unseen sender on a flow idle longer than a timeout is an idle reclaim; the namespace defaults are blamed', () => {
    const c = conn({ keepalive: { enabled: false }, idleMs: { send: 5000, recv: 5000, ack: 5000 } });
    const rr = (cause: string) => event('rst_received', c, { inferredCause: cause }, '2026-01-01T00:00:10.000Z');
    const w = { startMs: Date.parse('2026-01-01T00:00:00.000Z'), durationMs: 12_000, startInventoryMs: Date.parse('2026-01-01T00:00:00.000Z') };
    const base = { startConnections: [c], window: w, idleTimeouts: [{ name: 'lab', seconds: 8 }] };
    const f = ruleIdleReclaimed(input({ ...base, events: [rr('peer_reset (sender not observed)')] }));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'critical', connections: [c.id], evidence: { idleAtResetMs: { [c.id]: 15_000 }, matchedTimeout: { name: 'lab', seconds: 8 } } });
    // the sender was seen on this host (a linger reset of a local process): not a middlebox
    expect(ruleIdleReclaimed(input({ ...base, events: [rr('linger')] }))).toEqual([]);
    const d = ruleDefaultSysctlBehindMiddlebox(input({ ...base, events: [rr('peer_reset (sender not observed)')] }));
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ severity: 'warning', connections: [c.id] });
    expect(d[0]!.fix).toMatch(/net\.ipv4\.tcp_keepalive_time=6/);
  });
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
  it('is what ka-top wrote into the capture', () => {
    expect(rules).toEqual(CAPTURE.findings!.map((x) => x.rule));
  });
});
