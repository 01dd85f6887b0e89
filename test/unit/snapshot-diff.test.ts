// snapshot-diff on real input: A is the recorded inventory (test/fixtures/inventory) replayed through the real
// pipeline; B is A with real fields changed the way the kernel would show them after a change.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectInventory } from '../../src/engine/inventory.js';
import { replayInventory, type InventoryRecording } from '../../src/sources/recorded.js';
import type { KaEvent } from '../../src/domain/event.js';
import { diffSnapshots, matchConnections, type DiffInput } from '../../src/model/snapshot-diff.js';
import type { Connection } from '../../src/domain/connection.js';
import { renderDiffText } from '../../src/output/diff-text.js';
import { schemaValidator } from '../helpers/schema.js';
import { loadSnapshot } from '../helpers/tui-fixture.js';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';

const CAPTURE = new URL('../fixtures/capture/lab-capture-12s.json', import.meta.url);

const REC = new URL('../fixtures/inventory/keepalive-mix.json', import.meta.url);
let a: DiffInput;
let validate: (doc: unknown) => string[];

const clone = <T>(x: T): T => structuredClone(x);
const byId = (d: DiffInput, id: string): Connection => d.connections.find((c) => c.id === id)!;

beforeAll(async () => {
  const inv = await collectInventory(replayInventory(JSON.parse(readFileSync(REC, 'utf8')) as InventoryRecording));
  const tui = loadSnapshot();
  a = { takenAt: inv.takenAt, kaTopVersion: '0.1.0', host: tui.host, capabilities: tui.capabilities, namespaces: inv.namespaces, connections: inv.connections };
  validate = await schemaValidator('diff.schema.json');
});

// Real connections of the recording (kat-cap-cli, ka-peer clients): idle 41 set on the socket, the namespace default
// 321, idle 99, a probing one (3 outstanding) and an IPv6 one.
const CUSTOM = '4026533390:4063e';
const NSDEFAULT = '4026533390:4063f';
const IDLE99 = '4026533390:40642';
const PROBING = '4026533390:4064b';
const V6 = '4026533390:40643';

function changed(): DiffInput {
  const b = clone(a);
  b.takenAt = new Date(Date.parse(a.takenAt) + 60_000).toISOString();
  b.connections = b.connections.filter((c) => c.id !== IDLE99);
  byId(b, CUSTOM).keepalive.idleSec = 33;
  byId(b, PROBING).keepalive.timer = { remainingMs: 1000, probesOutstanding: 0 };
  // The same socket seen with another cookie (another recording of it): matched by netns + 4-tuple.
  byId(b, V6).id = '4026533390:ffff1';
  const fresh = clone(byId(b, NSDEFAULT));
  fresh.id = '4026533390:ffff2';
  fresh.local = { ...fresh.local, port: 41000 };
  b.connections.push(fresh);
  b.namespaces.find((n) => n.name === 'kat-cap-cli')!.sysctl!.tcp_keepalive_time = 300;
  b.capabilities.pidfdGetfd = { available: false, detail: 'not root' };
  const probing = byId(b, PROBING);
  const base = { ts: b.takenAt, local: probing.local, peer: probing.peer, netns: probing.netns.inode, pid: 1, comm: 'ka-peer', process: null, connection: PROBING, sk: null };
  b.events = [
    { ...base, type: 'keepalive_probe', probesSent: 4, probesOutstanding: 4, maxProbes: 9, intervalMs: 1000, userTimeoutMs: 0, giveUpInMs: 1000 },
    { ...base, type: 'rst_sent', reason: 'TCP_KEEPALIVE_TIMEOUT', cause: 'keepalive_timeout', causeInferred: false, state: 'TCP_ESTABLISHED' },
    { ...base, connection: null, type: 'rst_received', inferredCause: 'peer closed with unread data' },
    { type: 'lost', ts: b.takenAt, events: 2 },
  ] satisfies KaEvent[];
  return b;
}

describe('snapshot diff', () => {
  it('finds no difference between a snapshot and itself', () => {
    const d = diffSnapshots(a, clone(a));
    expect(d.differ).toBe(false);
    expect(d.connections).toMatchObject({ matched: a.connections.length, matchedByTuple: 0, new: [], gone: [], changed: [] });
    expect(d.resets).toEqual({ a: null, b: null });
    expect(validate(d)).toEqual([]);
  });

  it('reports new, gone, changed settings, probes, resets, sysctls and capabilities', () => {
    const b = changed();
    const d = diffSnapshots(a, b, { files: ['a.json', 'b.json'] });
    expect(validate(d)).toEqual([]);
    expect(d.differ).toBe(true);
    expect(d.connections.gone.map((c) => c.id)).toEqual([IDLE99]);
    expect(d.connections.new.map((c) => c.id)).toEqual(['4026533390:ffff2']);
    expect(d.connections.new[0]!.keepalive).toEqual({ enabled: true, idleSec: 321, intervalSec: expect.any(Number), probes: expect.any(Number) });
    expect(d.connections.matchedByTuple).toBe(1);
    expect(d.connections.matched).toBe(a.connections.length - 1);
    expect(d.connections.changed).toEqual([
      expect.objectContaining({ matchedBy: 'id', changes: [{ field: 'keepalive.idleSec', before: 41, after: 33 }] }),
    ]);
    expect(d.connections.changed[0]!.after.id).toBe(CUSTOM);
    expect(d.probes).toEqual([expect.objectContaining({ outstanding: { before: 3, after: 0 }, probesSent: { before: null, after: 4 } })]);
    expect(d.probes[0]!.connection.id).toBe(PROBING);
    expect(d.resets.a).toBeNull();
    expect(d.resets.b).toEqual({ total: 2, byCause: { keepalive_timeout: 1, 'received: peer closed with unread data': 1 }, exact: null, lostEvents: 2, eventsDropped: 0 });
    expect(d.namespaces.sysctl).toEqual([{ netns: expect.objectContaining({ name: 'kat-cap-cli' }), field: 'tcp_keepalive_time', before: 321, after: 300 }]);
    expect(d.capabilities).toEqual([{ name: 'pidfdGetfd', before: true, after: false, detail: 'not root' }]);
    expect(d.a.file).toBe('a.json');
    expect(d.b.events).toBe(4);
  });

  it('resets: exact tracer totals from a capture win over event counts; a capture without tracing is unknown', () => {
    const b = changed();
    const capture = { tracing: { on: true }, lostEvents: 0, eventsDropped: 7, counts: { rstSentByReason: { TCP_KEEPALIVE_TIMEOUT: 1, TCP_STATE: 7 }, rstReceived: 1 } };
    const d = diffSnapshots(a, { ...b, capture });
    expect(d.resets.b).toMatchObject({ total: 9, exact: { sentByReason: { TCP_KEEPALIVE_TIMEOUT: 1, TCP_STATE: 7 }, received: 1 }, eventsDropped: 7 });
    expect(validate(d)).toEqual([]);
    expect(renderDiffText(d)).toMatch(/^  B: 9 — sent keepalive_timeout 1 · received .* · tracer totals: sent TCP_STATE 7, TCP_KEEPALIVE_TIMEOUT 1; received 1 · causes are a lower bound: 7 events not kept$/m);
    expect(diffSnapshots(a, { ...b, events: [], capture: { ...capture, tracing: { on: false }, counts: null } }).resets.b).toBeNull();
    // Filtered: only events of the compared connections, and no host totals (they cannot be split).
    const f = diffSnapshots(a, { ...b, capture }, { filter: { ports: [byId(a, PROBING).local.port] } });
    expect(f.resets.b).toMatchObject({ total: 1, byCause: { keepalive_timeout: 1 }, exact: null });
    expect(diffSnapshots(a, { ...b, capture }, { filter: { ports: [1] } }).resets.b).toMatchObject({ total: 0, byCause: {} });
  });

  it('compares state, owner, linger and user timeout', () => {
    const b = clone(a);
    const c = byId(b, NSDEFAULT);
    c.state = 'CLOSE-WAIT';
    c.userTimeoutMs = 5000;
    c.linger = { enabled: true, seconds: 0 };
    c.process = { ...c.process!, pid: 99999, comm: 'other' };
    const d = diffSnapshots(a, b);
    expect(d.connections.changed[0]!.changes.map((f) => f.field)).toEqual(['state', 'userTimeoutMs', 'linger.enabled', 'owner.pid', 'owner.comm']);
  });

  it('applies the filters to both sides', () => {
    const d = diffSnapshots(a, changed(), { filter: { netns: ['kat-cap-srv'] } });
    expect(d.connections.new).toEqual([]);
    expect(d.connections.gone).toEqual([]);
    expect(d.namespaces.sysctl).toEqual([]);
    expect(d.a.connections).toBe(a.connections.filter((c) => c.netns.name === 'kat-cap-srv').length);
    expect(d.filters).toEqual({ netns: ['kat-cap-srv'] });
    expect(validate(d)).toEqual([]);
    // --port keeps only the changed connection's side of the story
    const p = diffSnapshots(a, changed(), { filter: { ports: [byId(a, CUSTOM).local.port] } });
    expect(p.connections.changed).toHaveLength(1);
    expect(p.connections.new).toHaveLength(0);
  });

  it('matches sockets sharing one tuple (SO_REUSEPORT) one to one', () => {
    const c = byId(a, CUSTOM);
    const twins = [c, { ...c, id: 'x:1' }];
    const m = matchConnections(twins, [{ ...c, id: 'y:1' }, { ...c, id: 'y:2' }, { ...c, id: 'y:3' }]);
    expect(m.pairs.map((p) => p.by)).toEqual(['tuple', 'tuple']);
    expect(m.added.map((x) => x.id)).toEqual(['y:3']);
    expect(m.gone).toEqual([]);
  });

  it('closes: the kernel\'s counts by how they ended, summed over the namespaces --netns selects; unknown otherwise', () => {
    const b = changed();
    const [cli, other] = [b.namespaces.find((n) => n.name === 'kat-cap-cli')!, b.namespaces.find((n) => n.name !== 'kat-cap-cli')!];
    const row = (over: Partial<Record<string, number>>) => ({ fin: 0, rst_sent: 0, rst_received: 0, timeout: 0, retransmit_timeout: 0, connect_failed: 0, ...over });
    const capture = { tracing: { on: true }, lostEvents: 0, eventsDropped: 0, counts: { rstSentByReason: {}, rstReceived: 0,
      closesByNetns: { [cli.inode]: row({ fin: 10, connect_failed: 4 }), [other.inode]: row({ fin: 5, retransmit_timeout: 1 }) } } };
    const d = diffSnapshots(a, { ...b, capture });
    expect(d.closes).toEqual({ a: null, b: row({ fin: 15, connect_failed: 4, retransmit_timeout: 1 }) });
    expect(validate(d)).toEqual([]);
    const text = renderDiffText(d);
    expect(text).toMatch(/^How connections ended during each capture \(the kernel's counts\):\n  A: unknown \(take the snapshot with --capture.*\n  B: fin 15, retransmit_timeout 1, connect_failed 4$/m);
    expect(diffSnapshots(a, { ...b, capture }, { filter: { netns: ['kat-cap-cli'] } }).closes.b).toEqual(row({ fin: 10, connect_failed: 4 }));
    // Per namespace, not per connection: another filter leaves them out.
    expect(diffSnapshots(a, { ...b, capture }, { filter: { ports: [1] } }).closes.b).toBeNull();
  });

  it('text output: sections with counts, bounded lists, unknown resets said so', () => {
    const b = changed();
    for (let i = 0; i < 25; i++) b.connections.push({ ...byId(b, NSDEFAULT), id: `n:${i}`, local: { address: '198.18.4.1', port: 42000 + i } });
    const text = renderDiffText(diffSnapshots(a, b, { files: ['a.json', 'b.json'] }), 5);
    expect(text).toMatch(/^A: a\.json · taken \S+ · \S+ · \d+ connections · no events$/m);
    expect(text).toMatch(/^B: b\.json .* · 4 events$/m);
    expect(text).toContain('Snapshots differ.');
    expect(text).toMatch(/^Connections: 26 new, 1 gone, 1 changed, \d+ unchanged \(1 matched by netns \+ 4-tuple, ids differ\)$/m);
    expect(text).toMatch(/^New \(26\):\n(  \+ .*\n){5}  … 21 more$/m);
    expect(text).toMatch(/^  - ESTAB 198\.18\.\d+\.\d+:\d+ -> 198\.18\.\d+\.\d+:7000  \d+\/ka-peer  keepalive 99s\/\d+s\/\d+  \[kat-cap-cli\]$/m);
    expect(text).toMatch(/^      keepalive\.idleSec: 41 -> 33$/m);
    expect(text).toMatch(/outstanding 3 -> 0 · sent during capture - -> 4/);
    expect(text).toMatch(/^  A: unknown \(no events recorded/m);
    expect(text).toMatch(/^  B: 2 — sent keepalive_timeout 1 · received peer closed with unread data 1 · causes are a lower bound: 2 events lost$/m);
    expect(text).toMatch(/^  ~ kat-cap-cli tcp_keepalive_time: 321 -> 300$/m);
    expect(text).toMatch(/^  ~ pidfd_getfd: yes -> no \(not root\)$/m);
  });

  it('real lab capture: probes sent from its events, exact reset totals; the same capture without events is unknown', () => {
    const cap = JSON.parse(readFileSync(CAPTURE, 'utf8')) as SnapshotDocument;
    const bare: SnapshotDocument = { ...clone(cap), events: undefined, capture: undefined, closedConnections: undefined };
    const d = diffSnapshots(bare, cap);
    expect(validate(d)).toEqual([]);
    expect(d.differ).toBe(false); // same state; events are not differences
    // The idle-reclaim flow probed 4 times during the capture (a live connection in both).
    expect(d.probes).toContainEqual(expect.objectContaining({
      connection: expect.objectContaining({ id: '4026532461:3ccb5' }), probesSent: { before: null, after: 4 },
    }));
    expect(d.resets.a).toBeNull();
    expect(d.resets.b).toMatchObject({ total: 60, exact: { received: 30, sentByReason: expect.objectContaining({ TCP_KEEPALIVE_TIMEOUT: 1, TCP_STATE: 25 }) } });
    // Filtered to the dead-peer client: its keepalive timeout reset counts although it closed during the window.
    const dead = diffSnapshots(bare, cap, { filter: { netns: ['kalab-dead-cli'] } });
    expect(dead.resets.b).toMatchObject({ total: 1, byCause: { keepalive_timeout: 1 }, exact: null });
  });
});
