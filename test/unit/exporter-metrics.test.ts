// The exporter's metric set on synthetic inventories built from a real connection: the series bound at 10k
// connections across 200 namespaces, folding into `other`, counters from events, kernel totals across a tracer
// restart, a scrape view that never mixes two inventories, and an exposition promtool accepts.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Connection, NetnsInfo, TcpState } from '../../src/domain/connection.js';
import type { KaEvent } from '../../src/domain/event.js';
import type { Inventory } from '../../src/domain/inventory.js';
import type { TracerCounts } from '../../src/domain/counts.js';
import { ExporterState, type ExporterSource } from '../../src/engine/exporter.js';
import { DEFAULT_IDLE_TIMEOUTS } from '../../src/model/findings/index.js';
import { KernelTotals, METRICS } from '../../src/model/metric-set.js';
import { exposition } from '../../src/output/prometheus.js';
import { conn, event, ns } from '../helpers/findings-fixture.js';

const STATES: TcpState[] = ['ESTAB', 'TIME-WAIT', 'LISTEN', 'CLOSE-WAIT', 'SYN-SENT'];

function inventory(nNs: number, nConn: number): Inventory {
  const namespaces: NetnsInfo[] = [];
  const connections: Connection[] = [];
  for (let i = 0; i < nNs; i++) {
    const uid = `0000${String(i).padStart(4, '0')}-1111-2222-3333-444455556666`;
    const container = { id: `c${String(i).padStart(11, '0')}`, runtime: 'containerd', name: 'app', pod: { uid, namespace: `team-${i % 7}`, name: `web-${i}` } };
    namespaces.push(ns({ inode: 4026540000 + i, name: null, container }));
  }
  for (let j = 0; j < nConn; j++) {
    const n = namespaces[j % nNs]!;
    connections.push(conn({
      id: `${n.inode}:${j.toString(16)}`,
      state: STATES[j % STATES.length]!,
      netns: { inode: n.inode, name: n.name, container: n.container },
      process: null,
      keepalive: j % 3 === 0 ? { enabled: false } : { enabled: true, idleSec: j % 2 ? 7200 : 60, source: j % 2 ? 'sysctl' : 'socket' },
    }));
  }
  return {
    takenAt: new Date().toISOString(), namespaces, connections, ownersMissing: null, sockoptReads: { ok: 0, errors: [] },
    parseErrors: [], timings: { totalMs: 1, dumpMs: 1, scanMs: 0, joinMs: 0 },
  };
}

/** A monitor and a tracer stand-in: the exporter only reads these parts of a LiveSession. */
function source(inv: Inventory | null) {
  const monitorFns = new Set<(s: never) => void>();
  const eventFns = new Set<(e: KaEvent) => void>();
  const state = { inventory: inv, refresh: { lastCostMs: 12, error: null as string | null } };
  const counts: TracerCounts = { rstSentByReason: {}, rstSentByNetns: {}, rstSentByNetnsCause: {}, rstReceived: 0, rstReceivedByNetns: {}, keepaliveTimeouts: 0, closesByNetns: {}, lostEvents: 0, cappedEvents: {}, mapFull: {} };
  const src = {
    monitor: {
      get state() { return state; },
      subscribe: (fn: (s: never) => void) => (monitorFns.add(fn), () => monitorFns.delete(fn)),
    },
    tracing: { counts, state: 'ready' as const, subscribe: (fn: (e: KaEvent) => void) => (eventFns.add(fn), () => eventFns.delete(fn)) },
  };
  return {
    src: src as unknown as ExporterSource,
    counts,
    newInventory(next: Inventory) {
      state.inventory = next;
      for (const fn of monitorFns) fn(state as never);
    },
    emit(e: KaEvent) {
      for (const fn of eventFns) fn(e);
    },
  };
}

const opts = (over = {}) => ({ filter: {}, version: 'test', processLabels: false, maxOwners: 100, idleTimeouts: DEFAULT_IDLE_TIMEOUTS, ...over });
const seriesLines = (body: string) => body.split('\n').filter((l) => l && !l.startsWith('#'));

describe('exporter metric set', () => {
  it('10k connections across 200 namespaces: a bounded series count, the rest folded into other', async () => {
    const s = source(inventory(200, 10_000));
    const st = new ExporterState(s.src, opts());
    // Resets from every namespace: counters are capped by the same owner slots.
    for (let j = 0; j < 10_000; j++) {
      const c = conn({ id: `x${j}`, netns: { inode: 4026540000 + (j % 200), name: null, container: null } });
      s.emit(event('rst_sent', c, { reason: 'TCP_STATE', cause: 'linger', causeInferred: false, state: 'ESTAB' }));
    }
    const { body } = await exposition(st.view(), false, false);
    const lines = seriesLines(body);
    // Bound: (max-owners + 1) × (states × keepalive sources + 2 × middleboxes + reset causes × reasons + 4 closes
    // + 3) + min(namespaces, max-owners) × 3 sysctls + rules × severities + 16 own series.
    const perOwner = 11 * 4 + 2 * DEFAULT_IDLE_TIMEOUTS.length + 6 * 3 + 4 + 3;
    const bound = 101 * perOwner + 100 * 3 + 8 * 3 + 16;
    expect(lines.length).toBeLessThanOrEqual(bound);
    expect(lines.length).toBeLessThan(2000); // what this inventory actually gives (measured: see README)
    const owners = new Set(lines.filter((l) => l.startsWith('katop_connections{')).map((l) => /pod="([^"]*)"/.exec(l)![1]));
    expect(owners.size).toBe(101);
    expect(owners.has('other')).toBe(true);
    expect(body).toMatch(/^katop_owners 100$/m);
    expect(Number(/^katop_owners_folded_total (\d+)$/m.exec(body)![1])).toBeGreaterThanOrEqual(100);
    // The biggest owners keep their own series; the other pods' connections are all counted, under `other`.
    const total = lines.filter((l) => l.startsWith('katop_connections{')).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    expect(total).toBe(10_000);
    const resets = lines.filter((l) => l.startsWith('katop_resets_sent_total{')).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    expect(resets).toBe(10_000);
    // Pods are named with their Kubernetes namespace; never an address, port or pid.
    expect(body).toMatch(/katop_connections\{netns="c00000000000",namespace="team-0",pod="web-0",container="app",state="ESTAB",keepalive="off"\} 17\n/);
    expect(body).not.toMatch(/198\.18\.|port=|pid=|cookie/);
    st.close();
  });

  it('the exposition passes promtool check metrics, and OpenMetrics ends with # EOF', async () => {
    const s = source(inventory(5, 200));
    const st = new ExporterState(s.src, opts({ processLabels: true }));
    s.emit(event('keepalive_probe', null, { probesSent: 1, probesOutstanding: 1, maxProbes: 3, intervalMs: 1000, userTimeoutMs: 0, giveUpInMs: 2000 }));
    s.counts.rstSentByReason = { TCP_STATE: 3 };
    s.counts.rstSentByNetnsCause = { 4026540000: { linger: 3 } };
    s.counts.rstReceivedByNetns = { 4026540001: 2 };
    const { body } = await exposition(st.view(), false, true);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const om = await exposition(st.view(), true, true);
    expect(om.contentType).toMatch(/^application\/openmetrics-text/);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.body).toMatch(/^# TYPE katop_kernel_resets_sent counter$/m);
    expect(om.body).toMatch(/^katop_kernel_resets_sent_total\{reason="TCP_STATE"\} 3$/m);
    st.close();
  });

  it('a scrape view never changes under a new inventory (the gauge set is swapped whole)', async () => {
    const s = source(inventory(3, 30));
    const st = new ExporterState(s.src, opts());
    const before = st.view();
    const sum = (v: typeof before) => v.get(METRICS.connections.name)!.reduce((a, x) => a + x.value, 0);
    expect(sum(before)).toBe(30);
    s.newInventory(inventory(4, 80));
    expect(sum(before)).toBe(30);
    expect(sum(st.view())).toBe(80);
    st.close();
  });

  it('resets per namespace (sent: by cause) as the kernel counted them, named with their pod; only the namespaces inventoried', async () => {
    const s = source(inventory(3, 30));
    const st = new ExporterState(s.src, opts());
    // A flood from web-0's namespace held most records back: its series is the kernel's count, not the events'.
    s.counts.rstSentByNetnsCause = { 4026540000: { linger: 69_990, no_socket: 10 }, 4026549999: { other: 5 }, 0: { no_socket: 1 } };
    s.counts.rstReceivedByNetns = { 4026540001: 69_000 };
    let { body } = await exposition(st.view(), false, true);
    expect(body).toMatch(/^katop_netns_resets_sent_total\{netns="c00000000000",namespace="team-0",pod="web-0",cause="linger"\} 69990$/m);
    expect(body).toMatch(/^katop_netns_resets_sent_total\{netns="c00000000000",namespace="team-0",pod="web-0",cause="no_socket"\} 10$/m);
    expect(body).toMatch(/^katop_netns_resets_received_total\{netns="c00000000001",namespace="team-1",pod="web-1"\} 69000$/m);
    // A namespace no inventory lists (gone with its pod, or not known): no series.
    expect(seriesLines(body).filter((l) => l.startsWith('katop_netns_resets_sent_total'))).toHaveLength(2);
    // A restarted tracer counts from zero: the series goes on from where it was.
    s.counts.rstSentByNetnsCause = { 4026540000: { linger: 10 } };
    ({ body } = await exposition(st.view(), false, true));
    expect(body).toMatch(/^katop_netns_resets_sent_total\{netns="c00000000000",namespace="team-0",pod="web-0",cause="linger"\} 70000$/m);
    st.close();
  });

  it('closes per namespace by how they ended, as the kernel counted them, named with their pod', async () => {
    const s = source(inventory(3, 30));
    const st = new ExporterState(s.src, opts());
    const none = { fin: 0, rst_sent: 0, rst_received: 0, timeout: 0, retransmit_timeout: 0, connect_failed: 0 };
    s.counts.closesByNetns = { 4026540000: { ...none, fin: 120, retransmit_timeout: 2, connect_failed: 7 }, 4026549999: { ...none, timeout: 5 } };
    const { body } = await exposition(st.view(), false, true);
    expect(body).toMatch(/^katop_netns_closes_total\{netns="c00000000000",namespace="team-0",pod="web-0",how="retransmit_timeout"\} 2$/m);
    expect(body).toMatch(/^katop_netns_closes_total\{netns="c00000000000",namespace="team-0",pod="web-0",how="fin"\} 120$/m);
    expect(body).toMatch(/^katop_netns_closes_total\{netns="c00000000000",namespace="team-0",pod="web-0",how="connect_failed"\} 7$/m);
    expect(body).toMatch(/^katop_kernel_closes_total\{how="timeout"\} 5$/m); // host-wide: every namespace
    expect(seriesLines(body).filter((l) => l.startsWith('katop_netns_closes_total') && l.includes('c00000000000'))).toHaveLength(6);
    expect(body).not.toMatch(/^katop_netns_closes_total.*how="timeout"\} 5$/m); // not inventoried: no series
    st.close();
  });

  it('kernel totals stay monotonic across a tracer restart', () => {
    const k = new KernelTotals();
    k.observe(new Map([['lost', 5], ['rst_sent:TCP_STATE', 10]]));
    k.observe(new Map([['lost', 7], ['rst_sent:TCP_STATE', 12]]));
    k.observe(new Map([['lost', 1], ['rst_sent:TCP_STATE', 2]])); // restarted: maps start from zero
    expect(k.value('lost')).toBe(8);
    expect(k.value('rst_sent:TCP_STATE')).toBe(14);
  });

  it('counts connections by owner, state and keepalive source, and the crossing ones against each middlebox', () => {
    const container = { id: 'c0000000000a', runtime: 'containerd', name: 'web', pod: { uid: 'u-a', namespace: 'shop', name: 'web-0' } };
    const a = { inode: 4026540100, name: null, container };
    const b = { inode: 4026540200, name: 'kat-b', container: null };
    const proc = (comm: string) => ({ ...conn().process!, comm, container });
    const nginx = proc('nginx'), envoy = proc('envoy');
    const idle = (s: number) => ({ send: s * 1000, recv: s * 1000, ack: s * 1000 });
    const connections = [
      conn({ netns: a, process: nginx, keepalive: { enabled: true, idleSec: 7200, source: 'sysctl' } }), // over every middlebox
      conn({ netns: a, process: nginx, keepalive: { enabled: true, idleSec: 300, source: 'socket' } }), // over azure-lb's 240 s
      conn({ netns: a, process: nginx, keepalive: { enabled: false }, idleMs: idle(400) }), // idle past 240 and 350 s
      conn({ netns: a, process: nginx, keepalive: { enabled: false }, idleMs: idle(5000), peer: { address: '127.0.0.1', port: 80 } }), // no middlebox on loopback
      conn({ netns: a, process: nginx, state: 'TIME-WAIT', keepalive: { enabled: false }, idleMs: idle(5000) }), // only ESTAB crosses
      // The same owner through another, equal namespace object: one series.
      conn({ netns: { ...a }, process: { ...nginx }, keepalive: { enabled: false }, idleMs: idle(100) }),
      conn({ netns: a, process: envoy, keepalive: { enabled: null }, idleMs: idle(9000) }),
      conn({ netns: b, process: null, state: 'LISTEN', keepalive: { enabled: false } }),
    ];
    const inv = { ...inventory(1, 0), connections };
    const st = new ExporterState(source(inv).src, opts({ processLabels: true }));
    const samples = (m: { name: string }) => Object.fromEntries(st.view().get(m.name)!.map((x) => [Object.values(x.labels).join('|'), x.value]));
    expect(samples(METRICS.connections)).toEqual({
      'c0000000000a|shop|web-0|web|nginx|ESTAB|sysctl': 1,
      'c0000000000a|shop|web-0|web|nginx|ESTAB|socket': 1,
      'c0000000000a|shop|web-0|web|nginx|ESTAB|off': 3,
      'c0000000000a|shop|web-0|web|nginx|TIME-WAIT|off': 1,
      'c0000000000a|shop|web-0|web|envoy|ESTAB|unknown': 1,
      'kat-b|||||LISTEN|off': 1,
    });
    expect(samples(METRICS.keepaliveOverIdle)).toEqual({
      'c0000000000a|shop|web-0|web|nginx|azure-lb': 2,
      'c0000000000a|shop|web-0|web|nginx|aws-nlb': 1,
      'c0000000000a|shop|web-0|web|nginx|aws-nat': 1,
      'c0000000000a|shop|web-0|web|nginx|gcp-nat': 1,
    });
    expect(samples(METRICS.idleNoKeepalive)).toEqual({
      'c0000000000a|shop|web-0|web|nginx|azure-lb': 1,
      'c0000000000a|shop|web-0|web|nginx|aws-nlb': 1,
      'c0000000000a|shop|web-0|web|nginx|aws-nat': 1,
    });
    st.close();
  });

  it('finds an idle reclaim from the reset connection\'s last observation, also when the inventory served as its reset arrives no longer lists it', () => {
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    let now = t0;
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    const reclaimed = conn({ keepalive: { enabled: false }, idleMs: { send: 300_000, recv: 300_000, ack: 300_000 } });
    const other = conn({ keepalive: { enabled: false }, idleMs: { send: 1000, recv: 1000, ack: 1000 } });
    const inv = (ms: number, connections: Connection[]) => ({ ...inventory(1, 0), takenAt: at(ms), connections });
    const s = source(inv(0, [reclaimed, other]));
    const st = new ExporterState(s.src, opts(), () => now);
    now = t0 + 2000;
    s.newInventory(inv(2000, [other])); // the reset came before this inventory's dump…
    s.emit(event('rst_received', reclaimed, { inferredCause: 'peer_reset (sender not observed)' }, at(1000))); // …its event after
    now = t0 + 4000;
    s.newInventory(inv(4000, [other]));
    const findings = st.view().get(METRICS.findings.name)!;
    expect(findings.find((f) => f.labels.rule === 'idle-flow-reset-by-middlebox')?.value).toBe(1);
    st.close();
  });

  it('counts events by owner, cause and how; process names only with the opt-in', async () => {
    const inv = inventory(1, 5);
    const s = source(inv);
    const st = new ExporterState(s.src, opts());
    const c = inv.connections[0]!;
    s.emit(event('rst_sent', c, { reason: 'TCP_STATE', cause: 'linger', causeInferred: false, state: 'ESTAB' }));
    s.emit(event('close', c, { how: 'timeout', lifetimeMs: 10, probesSent: 3 }));
    s.emit(event('keepalive_timeout', c, { probesSent: 3, maxProbes: 3 }));
    const { body } = await exposition(st.view(), false, false);
    expect(body).toMatch(/katop_resets_sent_total\{netns="c00000000000",namespace="team-0",pod="web-0",container="app",cause="linger",reason="TCP_STATE"\} 1/);
    expect(body).toMatch(/katop_closes_total\{[^}]*how="timeout"\} 1/);
    expect(body).toMatch(/katop_keepalive_timeouts_total\{[^}]*\} 1/);
    expect(body).not.toMatch(/process=/);
    st.close();
  });
});
