import { beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/domain/inventory.js';
import { GONE_KEEP_MS, LiveTracing, type InventoryFeed } from '../../src/engine/live-tracing.js';
import { generateBpfProgram } from '../../src/model/bpf-program.js';
import { loadBpfFragments } from '../../src/sources/bpf-fragments.js';
import { RecordedTracer } from '../../src/sources/recorded-tracer.js';
import { decodeEvent } from '../../src/engine/event-decode.js';
import { applyCountsMap, emptyCounts } from '../../src/engine/tracer-counts.js';
import { EventStream } from '../../src/engine/event-stream.js';
import { countsLine, countsRecord } from '../../src/output/watch-records.js';
import { closeHowText } from '../../src/output/event-text.js';
import { parseBpftraceLine } from '../../src/parse/bpftrace-json.js';
import { ConnectionIndex } from '../../src/model/connection-index.js';
import { classifyRst, endpointFromSockaddr, endpointsFromSock, giveUpInMs, ipv4FromWord, ipv6FromWords } from '../../src/model/events.js';
import type { EventProcess, KaEvent } from '../../src/domain/event.js';
import { ThresholdTracker, parseThreshold } from '../../src/model/thresholds.js';
import type { Connection } from '../../src/domain/connection.js';
import { fixture, fixtureHost } from '../helpers/tracing-host-fixture.js';
import { schemaValidator } from '../helpers/schema.js';

const validate = await schemaValidator('events.schema.json');

function conn(p: Partial<Connection> & Pick<Connection, 'local' | 'peer'>, pid: number, comm: string, netns = 4026531833): Connection {
  return {
    id: `${netns}:${p.cookie ?? 'x'}`, state: 'ESTAB', netns: { inode: netns, name: null, container: null }, inode: 0,
    cookie: null, uid: 0, cgroup: null,
    process: { pid, comm, cmdline: `${comm} --x`, uid: 0, fd: 3, user: 'root', container: null },
    processes: [{ pid, comm, cmdline: `${comm} --x`, uid: 0, user: 'root', container: null, fd: 3 }],
    keepalive: {} as Connection['keepalive'], userTimeoutMs: null, linger: null,
    idleMs: { send: null, recv: null, ack: null }, timer: null, queues: { recv: 0, send: 0 }, tcp: {} as Connection['tcp'],
    ...p,
  };
}

describe('decoding', () => {
  it('addresses from socket words and sockaddr buffers', () => {
    expect(ipv4FromWord('100007f')).toBe('127.0.0.1');
    expect(ipv4FromWord('10012c6')).toBe('198.18.0.1');
    expect(ipv6FromWords('0:100007fffff0000')).toBe('::ffff:127.0.0.1');
    expect(ipv6FromWords('74616bfd:100000000000000')).toBe('fd6b:6174::1');
    const none = { l6a: null, l6b: null, r6a: null, r6b: null };
    expect(endpointsFromSock({ family: 2, la: '100007f', ra: '100007f', ...none, lport: 46716, rportBe: 26564 })).toEqual({
      local: { address: '127.0.0.1', port: 46716 }, peer: { address: '127.0.0.1', port: 50279 },
    });
    expect(endpointFromSockaddr('\\x02\\x00\\x8b\\x80\\x7f\\x00\\x00\\x01' + '\\x00'.repeat(20))).toEqual({ address: '127.0.0.1', port: 35712 });
    const v6 = '\\x0a\\x00\\x00\\x01' + '\\x00'.repeat(4) + '\\x00'.repeat(15) + '\\x01' + '\\x00'.repeat(4);
    expect(endpointFromSockaddr(v6)).toEqual({ address: '::1', port: 1 });
  });
  it('give-up time follows tcp_keepalive_timer', () => {
    expect(giveUpInMs(1, 3, 1000, 0, 1000)).toBe(3000);
    expect(giveUpInMs(3, 3, 1000, 0, 1000)).toBe(1000);
    // TCP_USER_TIMEOUT overrides the count: idle 1s + 0 intervals, user timeout 5s -> 4s more
    expect(giveUpInMs(1, 3, 1000, 5000, 1000)).toBe(4000);
  });
});

describe('classifyRst', () => {
  const base = { state: 'TCP_CLOSE', hasSocket: true, inKeepaliveTimer: false, lingerZero: false };
  it('uses the kernel reason', () => {
    expect(classifyRst({ ...base, reason: 'TCP_STATE', lingerZero: true })).toEqual({ cause: 'linger', inferred: false });
    expect(classifyRst({ ...base, reason: 'TCP_STATE' }).cause).toBe('other');
    expect(classifyRst({ ...base, reason: 'TCP_ABORT_ON_CLOSE' }).cause).toBe('unread_data');
    expect(classifyRst({ ...base, reason: 'TCP_KEEPALIVE_TIMEOUT' }).cause).toBe('keepalive_timeout');
    expect(classifyRst({ ...base, reason: 'NO_SOCKET', hasSocket: false }).cause).toBe('no_socket');
    expect(classifyRst({ ...base, reason: 'TCP_TIMEWAIT_SOCKET' }).cause).toBe('timewait');
  });
  it('infers without a reason (pre-6.10) and says so', () => {
    expect(classifyRst({ ...base, reason: null, inKeepaliveTimer: true })).toEqual({ cause: 'keepalive_timeout', inferred: true });
    expect(classifyRst({ ...base, reason: null, lingerZero: true }).cause).toBe('linger');
    expect(classifyRst({ ...base, reason: null }).cause).toBe('unread_data');
    expect(classifyRst({ ...base, reason: null, hasSocket: false }).cause).toBe('no_socket');
  });
});

describe('ConnectionIndex', () => {
  const c = conn({ local: { address: '127.0.0.1', port: 1000 }, peer: { address: '127.0.0.1', port: 2000 }, cookie: 'abc' }, 42, 'srv');
  const idx = new ConnectionIndex([c]);
  it('finds by cookie, tuple (also v4-mapped) and fd; not across namespaces', () => {
    expect(idx.find({ netns: 4026531833, cookie: 'abc' })).toBe(c);
    expect(idx.find({ netns: 4026531833, local: c.local, peer: c.peer })).toBe(c);
    expect(idx.find({ netns: 4026531833, local: { address: '::ffff:127.0.0.1', port: 1000 }, peer: { address: '::ffff:127.0.0.1', port: 2000 } })).toBe(c);
    expect(idx.find({ netns: 1, local: c.local, peer: c.peer })).toBeNull();
    expect(idx.findByFd(42, 3)).toBe(c);
  });
  it('does not give a new socket the connection of an old one on the same 4-tuple (a port reused past TIME-WAIT)', () => {
    const tw = conn({ state: 'TIME-WAIT', local: { address: '127.0.0.1', port: 40000 }, peer: { address: '127.0.0.1', port: 7000 }, cookie: '1f2e' }, 0, '');
    const i = new ConnectionIndex([tw]);
    const q = { netns: 4026531833, local: tw.local, peer: tw.peer };
    expect(i.find({ ...q, cookie: '0' })).toBeNull(); // never dumped: not the inventory's socket
    expect(i.find({ ...q, cookie: '9a9a' })).toBeNull();
    expect(i.find({ ...q, cookie: '1f2e' })).toBe(tw);
    expect(i.find({ ...q, cookie: null })).toBe(tw); // no cookie read: the tuple is all there is
  });
});

describe('the event path on a recorded bpftrace 0.17 run (decode -> order -> attribute -> events)', () => {
  const host = fixtureHost();
  const program = generateBpfProgram(host, loadBpfFragments());
  const accepted = conn({ local: { address: '127.0.0.1', port: 35119 }, peer: { address: '127.0.0.1', port: 52764 } }, 777, 'server');
  /** The whole path as watch runs it: the recording through the tracer port into LiveTracing, with a fixed
   *  inventory (by default the accepted side of the linger connection). */
  const run = async (inventory: Connection[] = [accepted], processOf?: (pid: number) => EventProcess | null) => {
    const events: KaEvent[] = [];
    const feed: InventoryFeed = {
      state: { inventory: { connections: inventory } as Inventory }, inventoryStartedAt: Date.now(),
      subscribe: () => () => {}, requestRefresh: () => {}, covers: () => true,
    };
    const tracing = new LiveTracing({
      source: {
        tracer: new RecordedTracer(fixture('bpftrace-0.17-run.ndjson')), reasons: program.reasons,
        tcpStates: program.tcpStates, hz: host.hz, missing: [], keepaliveVia: program.keepalive, stateVia: program.state,
      },
      monitor: feed,
      processOf,
    });
    tracing.subscribe((e) => events.push(e));
    await tracing.start();
    await tracing.stop();
    return { events, s: tracing.stream, tracing, feed };
  };
  let events: KaEvent[] = [];
  let s!: LiveTracing['stream'];
  beforeAll(async () => ({ events, s } = await run()));

  it('forgets the events of connections gone from the inventory after GONE_KEEP_MS, keeps the live ones\'', async () => {
    const client = conn({ local: { address: '127.0.0.1', port: 52764 }, peer: { address: '127.0.0.1', port: 35119 }, id: '4026531833:client' }, 12454, 'ka-peer');
    const { events: evs, tracing, feed } = await run([accepted, client]);
    expect(tracing.activityOf(client.id)?.timeline.length).toBeGreaterThan(0);
    expect(tracing.activityOf(accepted.id)?.timeline.length).toBeGreaterThan(0);
    (feed.state as { inventory: Inventory }).inventory = { connections: [accepted] } as Inventory; // the client closed
    const last = Math.max(...evs.filter((e) => e.type !== 'lost').map((e) => Date.parse(e.ts)));
    tracing.forgetGone(last + GONE_KEEP_MS - 1_000);
    expect(tracing.activityOf(client.id)).toBeDefined();
    tracing.forgetGone(last + GONE_KEEP_MS + 20_000);
    expect(tracing.activityOf(client.id)).toBeUndefined();
    expect(tracing.activityOf(accepted.id)?.timeline.length).toBeGreaterThan(0);
  });
  it('does not attribute a live socket\'s events to a TIME-WAIT entry on the same 4-tuple (a reused port)', async () => {
    const tw = conn({ state: 'TIME-WAIT', local: { address: '127.0.0.1', port: 52764 }, peer: { address: '127.0.0.1', port: 35119 }, id: '4026531833:tw', process: null, processes: [] }, 0, '');
    const { events: evs } = await run([accepted, tw]);
    const rst = evs.find((e) => e.type === 'rst_sent' && e.cause === 'linger');
    expect(rst).toMatchObject({ pid: 12454, ownerVia: 'context' });
    expect(evs.filter((e) => e.type !== 'lost' && e.connection === tw.id)).toEqual([]);
  });
  it('classifies the zero-linger reset and attributes it to the closing process', () => {
    const rst = events.find((e) => e.type === 'rst_sent' && e.cause === 'linger');
    expect(rst).toMatchObject({ reason: 'TCP_STATE', causeInferred: false, pid: 12454, comm: 'ka-peer', local: { port: 52764 }, ownerVia: 'context' });
  });
  it('marks the close that preceded its reset as rst_sent', () => {
    const close = events.find((e) => e.type === 'close' && e.local?.port === 52764);
    expect(close).toMatchObject({ how: 'rst_sent', pid: 12454, lifetimeMs: 1 });
  });
  it('infers the receiver cause from the observed sender and attributes by inventory, not CPU task', () => {
    const rr = events.find((e) => e.type === 'rst_received' && e.local?.port === 35119);
    expect(rr).toMatchObject({ inferredCause: 'linger', pid: 777, comm: 'server', ownerVia: 'inventory' });
    const close = events.find((e) => e.type === 'close' && e.local?.port === 35119);
    expect(close).toMatchObject({ how: 'rst_received', pid: 777 });
  });
  it('no_socket resets for IPv4 and IPv6, without borrowing the owner of a reused socket address', () => {
    const ns = events.filter((e) => e.type === 'rst_sent' && e.cause === 'no_socket');
    expect(ns.map((e) => e.type !== 'lost' && e.local)).toEqual([{ address: '127.0.0.1', port: 1 }, { address: '::1', port: 1 }]);
    for (const e of ns) expect(e).toMatchObject({ pid: null, netns: 4026531833 });
    const refused = events.find((e) => e.type === 'close' && e.peer?.port === 1 && e.local?.port === 37708);
    expect(refused).toMatchObject({ how: 'rst_received', pid: null });
  });
  it('a client socket reset after no inventory saw it belongs to the process that connected it (read as the record arrives)', async () => {
    const connector = { pid: 12455, comm: 'client', cmdline: 'client --connect 127.0.0.1:1' };
    const asked: number[] = [];
    const { events: evs } = await run([accepted], (pid) => (asked.push(pid), pid === connector.pid ? connector : null));
    const refused = (type: string) => evs.find((e) => e.type === type && e.type !== 'lost' && e.peer?.port === 1 && e.local?.port === 37708);
    expect(refused('rst_received')).toMatchObject({ pid: 12455, comm: 'client', process: connector, ownerVia: 'connect' });
    // Its received reset and its close both name it; /proc is read once per pid for the records of one tick.
    expect(asked.filter((p) => p === connector.pid)).toHaveLength(1);
    expect(refused('close')).toMatchObject({ how: 'rst_received', pid: 12455, ownerVia: 'connect' });
    // an accepted socket has no connecting process: its owner is still the inventory's
    expect(evs.find((e) => e.type === 'rst_received' && e.local?.port === 35119)).toMatchObject({ pid: 777, ownerVia: 'inventory' });
  });
  it('a keepalive probe of a client connection no inventory listed yet belongs to the process that connected it', async () => {
    // The probe runs in the timer's softirq; the kernel's record names the pid that called connect() (@born).
    const connector = { pid: 12453, comm: 'client', cmdline: 'client --keepalive' };
    const { events: evs } = await run([accepted], (pid) => (pid === connector.pid ? connector : null));
    const probes = evs.filter((e) => e.type === 'keepalive_probe' && e.local?.port === 52772);
    expect(probes).toHaveLength(2);
    for (const p of probes) expect(p).toMatchObject({ pid: 12453, comm: 'client', process: connector, ownerVia: 'connect' });
  });
  it('a connecting process that exited before its /proc was read is still named by the kernel\'s pid', async () => {
    const { events: evs } = await run([accepted], () => null);
    const refused = (type: string) => evs.find((e) => e.type === type && e.type !== 'lost' && e.peer?.port === 1 && e.local?.port === 37708);
    expect(refused('rst_received')).toMatchObject({ pid: 12455, comm: null, process: null, ownerVia: 'connect' });
    expect(refused('close')).toMatchObject({ how: 'rst_received', pid: 12455, comm: null, ownerVia: 'connect' });
  });
  it('a reset received and the close it caused, one record (resetClose), give both events: the reset first, one time stamp', () => {
    const recorded = fixture('bpftrace-0.17-run.ndjson');
    expect(recorded).toMatch(/"KA resetClose /);
    expect(recorded).not.toMatch(/"KA rrst /); // every received reset here ended its connection
    for (const port of [35119, 37708]) {
      const rr = events.findIndex((e) => e.type === 'rst_received' && e.local?.port === port);
      const close = events.findIndex((e) => e.type === 'close' && e.local?.port === port);
      expect(rr, `rst_received on ${port}`).toBeGreaterThanOrEqual(0);
      expect(close).toBe(rr + 1);
      expect(events[close]!.ts).toBe(events[rr]!.ts);
    }
    // Delivered + lost = printed: a record is received once, however many events it gives.
    expect(s.counts.lostEvents).toBe(0);
  });
  it('orders cause before effect: reset sent, then the close and the peer\'s receipt', () => {
    const i = (pred: (e: KaEvent) => boolean) => events.findIndex(pred);
    const sent = i((e) => e.type === 'rst_sent' && e.cause === 'linger');
    expect(sent).toBeGreaterThanOrEqual(0);
    expect(sent).toBeLessThan(i((e) => e.type === 'close' && e.local?.port === 52764));
    expect(sent).toBeLessThan(i((e) => e.type === 'rst_received' && e.local?.port === 35119));
  });
  it('a short-lived accepted socket no inventory saw belongs to the process listening on its port', async () => {
    const listener = conn({ state: 'LISTEN', local: { address: '0.0.0.0', port: 35119 }, peer: { address: '0.0.0.0', port: 0 } }, 555, 'backend');
    const { events: evs } = await run([listener]);
    const rr = evs.find((e) => e.type === 'rst_received' && e.local?.port === 35119);
    expect(rr).toMatchObject({ pid: 555, comm: 'backend', ownerVia: 'listener', connection: null });
    // a reset to a closed port has no socket: nobody listens there, nobody is blamed
    for (const e of evs.filter((x) => x.type === 'rst_sent' && x.cause === 'no_socket')) expect(e).toMatchObject({ pid: null });
  });
  it('keeps exact counts from the maps ', () => {
    // The maps count host-wide: another workload's namespace may show up in a capture; ours is exact.
    expect(s.counts.rstSentByReason).toMatchObject({ NO_SOCKET: 2 });
    expect(s.counts.rstSentByReason.TCP_STATE).toBeGreaterThanOrEqual(1);
    expect(s.counts.rstSentByNetns[4026531833]).toBe(3);
    expect(s.counts.rstReceived).toBeGreaterThanOrEqual(3);
    // The zero-linger close was counted as a FIN close, then moved to the reset closes by its reset.
    expect(s.counts.closesByNetns['4026531833']).toEqual({ fin: 2, rst_sent: 1, rst_received: 3, timeout: 0, retransmit_timeout: 0, connect_failed: 0 });
  });
  it('keepalive probes decode with the socket\'s own endpoints and settings', () => {
    const p = events.find((e) => e.type === 'keepalive_probe' && e.probesSent === 1);
    expect(p).toMatchObject({ probesOutstanding: 1, maxProbes: 3, intervalMs: 1000, local: { address: '127.0.0.1', port: 52772 }, peer: { port: 35119 } });
    // its close (from FIN-WAIT-2) is printed with the probe count the kernel kept
    expect(events.find((e) => e.type === 'close' && e.local?.port === 52772)).toMatchObject({ how: 'fin', probesSent: 2, lifetimeMs: 2604, error: null });
  });
  it('every event validates against schema/events.schema.json', () => {
    s.push({ type: 'lost_events', events: 4 });
    expect(events.length).toBeGreaterThan(8);
    for (const e of events) expect(validate(e)).toEqual([]);
    expect(validate({ type: 'rst_sent', ts: 'x' })).not.toEqual([]);
  });
});

describe('resets sent per namespace by cause, from the kernel\'s count (@rst_sent)', () => {
  it('are classified by the rule a record\'s cause follows, with the kernel\'s reason and without (before 6.10)', () => {
    const counts = emptyCounts();
    // Keys: netns, reason (-1: the tracepoint has none), in keepalive timer, linger 0, has a socket, state.
    const rec = parseBpftraceLine(JSON.stringify({ type: 'map', data: { '@rst_sent': {
      '100,2,0,0,0,0': 5, '100,3,0,1,1,7': 7, '100,9,0,0,1,7': 2, '100,3,0,0,1,1': 1,
      '200,-1,0,0,0,0': 4, '200,-1,1,0,1,1': 1, '200,-1,0,0,1,6': 3, '200,-1,0,1,1,7': 2, '200,-1,0,0,1,7': 6,
      '300,-1,0,1': 1, // a recording's older program: four fields
    } } }));
    if (rec?.type === 'map') {
      applyCountsMap(counts, rec.name, rec.data, {
        reasons: { 2: 'NO_SOCKET', 3: 'TCP_STATE', 9: 'TCP_ABORT_ON_CLOSE' },
        tcpStates: { 1: 'TCP_ESTABLISHED', 6: 'TCP_TIME_WAIT', 7: 'TCP_CLOSE' },
      });
    }
    expect(counts.rstSentByNetnsCause).toEqual({
      100: { no_socket: 5, linger: 7, unread_data: 2, other: 1 },
      200: { no_socket: 4, keepalive_timeout: 1, timewait: 3, linger: 2, unread_data: 6 },
      300: { linger: 1 },
    });
    expect(counts.rstSentByNetns).toEqual({ 100: 15, 200: 16, 300: 1 });
    expect(counts.rstSentByReason).toEqual({ NO_SOCKET: 5, TCP_STATE: 8, TCP_ABORT_ON_CLOSE: 2, unknown: 17 });
    const { recordsPrinted: _, ...published } = counts;
    expect(validate(countsRecord(published, new Date(0)))).toEqual([]);
  });
});

describe('closes counted in the kernel (@closes)', () => {
  it('by namespace and how, a retransmission timeout apart from a keepalive one and a failed connect; a reset after close() moves a FIN close', () => {
    const counts = emptyCounts();
    const rec = parseBpftraceLine('{"type": "map", "data": {"@closes": {"4026531833,0": 5, "4026531833,3": 1, "4026531833,5": 2, "4026531833,6": 3, "4026531833,4": 1, "4026531833,9": 7}}}');
    if (rec?.type === 'map') applyCountsMap(counts, rec.name, rec.data, { reasons: {}, tcpStates: {} });
    expect(counts.closesByNetns).toEqual({ 4026531833: { fin: 4, rst_sent: 1, rst_received: 0, timeout: 1, retransmit_timeout: 2, connect_failed: 3 } });
    const { recordsPrinted: _, ...published } = counts;
    const record = countsRecord(published, new Date(0));
    expect(validate(record)).toEqual([]);
    expect(countsLine(record)).toContain(', retransmission timeouts 2, failed connects 3, ');
  });
});

describe('records held back beyond the records a second (@capped)', () => {
  it('are counted by event type from the map bpftrace prints, and the counts line says so', () => {
    const counts = emptyCounts();
    // As bpftrace 0.17 prints the map (keys: the record kinds' numbers); a kind this version does not know is left out.
    const rec = parseBpftraceLine('{"type": "map", "data": {"@capped": {"3": 346, "5": 2, "4": 340, "99": 1}}}');
    expect(rec?.type).toBe('map');
    if (rec?.type === 'map') applyCountsMap(counts, rec.name, rec.data, { reasons: {}, tcpStates: {} });
    expect(counts.cappedEvents).toEqual({ rst_sent: 346, rst_received: 340, close: 2 });
    expect(counts.lostEvents).toBe(0); // never printed: not lost
    const { recordsPrinted: _, ...published } = counts;
    const record = countsRecord(published, new Date(0));
    expect(validate(record)).toEqual([]);
    expect(validate({ ...record, cappedEvents: { nonsense: 1 } })).not.toEqual([]);
    expect(countsLine(record)).toContain('held back beyond the events a second {"rst_sent":346,"rst_received":340,"close":2}');
    expect(countsLine(countsRecord({ ...published, cappedEvents: {} }))).not.toContain('held back');
  });

  it('the counts of each interval end with a marker: the kernel\'s reset rate between two, not an event', () => {
    let now = 100_000;
    const events: KaEvent[] = [];
    const stream = new EventStream({ reasons: { 2: 'NO_SOCKET' }, tcpStates: {}, hz: 250, now: () => now }, (e) => events.push(e));
    // As bpftrace 0.17 prints one interval's maps (@rst_sent keys: netns, reason, in keepalive timer, linger 0;
    // @rst_received: netns).
    const interval = (sent: number, received: number, capped: number) => [
      `{"type": "map", "data": {"@rst_sent": {"4026531840,2,0,0": ${sent}}}}`,
      `{"type": "map", "data": {"@rst_received": {"4026531840": ${received}}}}`,
      `{"type": "map", "data": {"@capped": {"3": ${capped}}}}`,
      '{"type": "printf", "data": "KA countsEnd\\n"}',
    ].map((l) => stream.push(parseBpftraceLine(l)!));
    interval(10, 10, 0);
    expect(stream.countedResets(null)).toBeNull();
    now += 5000;
    interval(350_010, 349_990, 343_000);
    const rate = { perSecond: 139_996, heldBack: true, sentByCause: [{ cause: 'no_socket', perSecond: 70_000 }], receivedPerSecond: 69_996 };
    expect(stream.countedResets(null)).toEqual({ ...rate, scope: 'host' });
    expect(stream.countedResets([4026531840])).toEqual({ ...rate, scope: 'netns' });
    expect(stream.counts.rstReceived).toBe(349_990);
    stream.flush(true);
    expect(events).toEqual([]);
  });
});

describe('--fail-on thresholds', () => {
  it('parses specs and rejects bad ones', () => {
    expect(parseThreshold('rst_sent:linger>10/min')).toMatchObject({ type: 'rst_sent', qualifier: 'linger', limit: 10, windowMs: 60_000 });
    expect(parseThreshold('keepalive_timeout>0')).toMatchObject({ limit: 0, windowMs: null });
    expect(() => parseThreshold('nope>1')).toThrow(/unknown event type/);
    expect(() => parseThreshold('rst_sent>')).toThrow(/invalid --fail-on/);
    expect(parseThreshold('close:connect_failed>5/min')).toMatchObject({ type: 'close', qualifier: 'connect_failed' });
    // A mistyped qualifier would never match: refused, with the ones there are.
    expect(() => parseThreshold('close:conect_failed>5')).toThrow("invalid --fail-on 'close:conect_failed>5': unknown close qualifier 'conect_failed' (fin, rst_sent, rst_received, timeout, retransmit_timeout, connect_failed)");
    expect(() => parseThreshold('keepalive_probe:linger>5')).toThrow(/keepalive_probe takes no qualifier/);
  });
  it('matches a received reset whose sender was not observed as peer_reset', () => {
    const t = new ThresholdTracker([parseThreshold('rst_received:peer_reset>0')]);
    expect(t.observe({ type: 'rst_received', inferredCause: 'linger' } as KaEvent, 0)).toBeNull();
    expect(t.observe({ type: 'rst_received', inferredCause: 'peer_reset (sender not observed)' } as KaEvent, 1)?.spec).toBe('rst_received:peer_reset>0');
  });
  it('counts in a sliding window', () => {
    const t = new ThresholdTracker([parseThreshold('rst_sent:linger>1/s')]);
    const e = { type: 'rst_sent', cause: 'linger' } as KaEvent;
    expect(t.observe(e, 0)).toBeNull();
    expect(t.observe(e, 1500)).toBeNull();
    expect(t.observe({ type: 'rst_sent', cause: 'other' } as KaEvent, 1600)).toBeNull();
    expect(t.observe(e, 1700)?.spec).toBe('rst_sent:linger>1/s');
  });
});

describe('resets sent for a listener (recorded in scratch namespaces: a wildcard listener answering segments of a connection it no longer has)', () => {
  const host = fixtureHost();
  const program = generateBpfProgram(host, loadBpfFragments());
  const ctx = { reasons: program.reasons, tcpStates: program.tcpStates, hz: host.hz };
  const resets = fixture('bpftrace-0.17-scratch-run.ndjson').split('\n').map(parseBpftraceLine)
    .flatMap((r) => (r?.type === 'ka' ? [decodeEvent(r.rec, 'ts', ctx)?.ev] : []))
    .filter((e) => e?.type === 'rst_sent' && e.state === 'TCP_LISTEN');
  it('name the segment\'s two ends, read from the skb, not the tracepoint\'s 0.0.0.0 / ::', () => {
    const v4 = resets.find((e) => e?.local?.port === 7010);
    const v6 = resets.find((e) => e?.local?.port === 7011);
    expect(v4).toMatchObject({ local: { address: '198.18.250.2', port: 7010 }, peer: { address: '198.18.250.1' } });
    expect(v6).toMatchObject({ local: { address: 'fd6b:6174:fa::2', port: 7011 }, peer: { address: 'fd6b:6174:fa::1' } });
    for (const e of [v4, v6]) expect(e!.peer!.port).toBeGreaterThan(0);
  });
});

describe('connects that never complete (recorded in scratch namespaces: SYNs to a silent peer)', () => {
  const host = fixtureHost();
  const program = generateBpfProgram(host, loadBpfFragments());
  const ctx = { reasons: program.reasons, tcpStates: program.tcpStates, hz: host.hz };
  const decoded = fixture('bpftrace-0.17-scratch-run.ndjson').split('\n').map(parseBpftraceLine)
    .flatMap((r) => (r?.type === 'ka' ? [decodeEvent(r.rec, 'ts', ctx)] : []));
  const failed = decoded.filter((d) => d?.ev.type === 'close' && d.ev.how === 'connect_failed');
  it('the kernel giving up (TCP_USER_TIMEOUT 1 s) leaves ETIMEDOUT; the application closing it first, no error', () => {
    expect(failed.map((d) => d!.ev)).toEqual([
      expect.objectContaining({ peer: { address: '198.18.250.2', port: 7004 }, error: 'ETIMEDOUT', lifetimeMs: 1026 }),
      expect.objectContaining({ peer: { address: '198.18.250.2', port: 7004 }, error: null, lifetimeMs: 3003 }),
    ]);
    // Both name the process that called connect(); the application's own close ran in its context.
    expect(failed.map((d) => d!.connectPid)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(failed[1]!.ctx).toMatchObject({ comm: 'ka-peer' });
    expect(failed.map((d) => closeHowText(d!.ev as Extract<KaEvent, { type: 'close' }>))).toEqual(['connect timed out', 'closed while connecting']);
  });
  it('a failed connect is not a retransmission timeout, and no other close of the run is one', () => {
    expect(decoded.filter((d) => d?.ev.type === 'close' && d.ev.how === 'retransmit_timeout')).toEqual([]);
  });
});
