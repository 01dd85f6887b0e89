// The death of a connection on a recorded bpftrace 0.17 run (scripts/capture-tracing-fixtures.sh: a keepalive
// connection in a scratch namespace whose peer went silent): two probes, then the reset, the close and the
// keepalive timeout. Its last records leave the hold after the refresh that no longer lists the connection — the
// ordering that left the TUI's detail without its death events on a busy host.
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/domain/connection.js';
import type { KaEvent } from '../../src/domain/event.js';
import { Attribution, MAX_GONE, MAX_OWNERS } from '../../src/engine/event-attribution.js';
import type { Held } from '../../src/engine/event-order.js';
import { EventStream, UNKNOWN_WAIT_MS } from '../../src/engine/event-stream.js';
import { LiveTracing, type InventoryFeed } from '../../src/engine/live-tracing.js';
import type { Inventory } from '../../src/domain/inventory.js';
import { RecordedTracer } from '../../src/sources/recorded-tracer.js';
import { generateBpfProgram } from '../../src/model/bpf-program.js';
import { parseBpftraceLine } from '../../src/parse/bpftrace-json.js';
import { endpointsFromSock } from '../../src/model/events.js';
import { loadBpfFragments } from '../../src/sources/bpf-fragments.js';
import { fixture, fixtureHost } from '../helpers/tracing-host-fixture.js';

const host = fixtureHost();
const program = generateBpfProgram(host, loadBpfFragments());
const lines = fixture('bpftrace-0.17-scratch-run.ndjson').split('\n');
// The dying socket: the one whose keepalive timer gave up (address, namespace, cookie as the record has them).
const [, SK, NS_TEXT, COOKIE] = /KA katimeout (\S+) (\d+) (\S+) /.exec(lines.find((l) => l.includes('KA katimeout'))!)!;
const NS = Number(NS_TEXT);
// Its records (the kernel reuses a socket's address soon: a later listener's resets may carry the same one).
const mine = lines.filter((l) => l.includes(`KA `) && l.includes(` ${SK} ${NS} ${COOKIE} `));
const probes = mine.filter((l) => l.includes('KA probe'));
const death = mine.filter((l) => /KA (rst|close|katimeout) /.test(l));
const probeRec = parseBpftraceLine(probes[0]!);
const ends = probeRec?.type === 'ka' && probeRec.rec.kind === 'probe' ? endpointsFromSock(probeRec.rec) : null;

const owner = { pid: 4242, comm: 'ka-peer', cmdline: 'ka-peer client', uid: 0, user: 'root', container: null, fd: 3 };
/** The client's connection as an inventory listed it (the cookie ss gave it), with or without its owner. */
function dying(withOwner: boolean): Connection {
  return {
    id: `${NS}:${COOKIE}`, state: 'ESTAB', netns: { inode: NS, name: 'kat-capt-cli', container: null }, inode: 1, cookie: COOKIE!,
    uid: 0, cgroup: null, local: ends!.local, peer: ends!.peer,
    process: withOwner ? owner : null, processes: withOwner ? [owner] : [],
    keepalive: {} as Connection['keepalive'], userTimeoutMs: null, linger: null,
    idleMs: { send: null, recv: null, ack: null }, timer: null, queues: { recv: 0, send: 0 }, tcp: {} as Connection['tcp'],
  };
}

/** An event stream on the recording's program; with `waiting`, every refresh asked for is on its way, never landing
 *  (`asked()` counts them). */
function stream(waiting = false) {
  let now = 1_000_000;
  let asked = 0;
  const out: KaEvent[] = [];
  const onUnknownSocket = waiting ? () => (asked++, true) : undefined;
  const s = new EventStream({ reasons: program.reasons, tcpStates: program.tcpStates, hz: host.hz, now: () => now, onUnknownSocket }, (e) => out.push(e));
  const deliver = (ls: string[]) => ls.forEach((l) => { const r = parseBpftraceLine(l); if (r) s.push(r); });
  const after = (ms: number) => { now += ms; s.flush(); };
  const later = () => after(400);
  return { s, out, deliver, later, after, asked: () => asked };
}

describe('a dying connection whose inventory refresh lands before its last events leave the hold', () => {
  it('the recording holds two probes, then the reset, close and timeout of one socket with its cookie', () => {
    expect(probes).toHaveLength(2);
    expect(death).toHaveLength(3);
    for (const l of [...probes, ...death]) expect(l).toContain(` ${NS} ${COOKIE} `);
    expect(COOKIE).not.toBe('0');
  });

  /** The probes leave; the death arrives; the refresh after the close lands (the connection is gone); the rest
   *  leaves. */
  function dieAfterProbes(owned: boolean): KaEvent[] {
    const { s, out, deliver, later } = stream();
    s.setInventory([dying(owned)]);
    deliver(probes);
    later();
    deliver(death);
    s.setInventory([]);
    later();
    return out;
  }

  it('death events after probes: still the connection and its owner', () => {
    const out = dieAfterProbes(true);
    expect(out.map((e) => e.type)).toEqual(['keepalive_probe', 'keepalive_probe', 'keepalive_timeout', 'rst_sent', 'close']);
    for (const e of out) expect(e).toMatchObject({ connection: `${NS}:${COOKIE}`, pid: 4242, comm: 'ka-peer', ownerVia: 'inventory' });
    expect(out.at(-1)).toMatchObject({ type: 'close', how: 'timeout' });
  });

  it('a connection listed without an owner keeps its death events', () => {
    const out = dieAfterProbes(false);
    expect(out).toHaveLength(5);
    for (const e of out) expect(e).toMatchObject({ connection: `${NS}:${COOKIE}`, pid: null });
  });

  it('every event of the connection still held when the refresh lands', () => {
    const { s, out, deliver, later } = stream();
    s.setInventory([dying(true)]);
    deliver([...probes, ...death]);
    s.setInventory([]);
    later();
    expect(out).toHaveLength(5);
    for (const e of out) expect(e).toMatchObject({ connection: `${NS}:${COOKIE}`, pid: 4242 });
  });

  it('is forgotten after a while: a later socket with that cookie is not attributed to it', () => {
    const { s, out, deliver, later } = stream();
    s.setInventory([dying(true)]);
    s.setInventory([]);
    for (let i = 0; i < 80; i++) later(); // 32 s
    s.setInventory([]);
    deliver(death);
    later();
    for (const e of out) expect(e.type !== 'lost' && e.connection).toBeNull();
  });
});

describe('a probe of a socket no inventory lists yet', () => {
  it('holds the events behind it while a refresh is wanted, UNKNOWN_WAIT_MS at most', () => {
    const { out, deliver, after, asked } = stream(true);
    deliver([...probes, ...death]);
    after(1000);
    expect(out).toEqual([]);
    expect(asked()).toBeGreaterThan(0);
    after(UNKNOWN_WAIT_MS);
    expect(out.map((e) => e.type)).toEqual(['keepalive_probe', 'keepalive_probe', 'keepalive_timeout', 'rst_sent', 'close']);
  });
});

describe('a client reconnecting on the fd of a connection that just died', () => {
  it('its setsockopt waits for the refresh that lists the new socket, and names it, not the dead one', () => {
    const { s, out, deliver, after, asked } = stream(true);
    const old = dying(true);
    s.setInventory([old]);
    deliver(death);
    after(1000);
    expect(out.find((e) => e.type === 'close')).toMatchObject({ connection: old.id });
    deliver([`{"type": "printf", "data": "KA sockopt ${owner.pid} ${owner.fd} 1 9 ka-peer\\n"}`]);
    after(1000);
    expect(out.some((e) => e.type === 'sockopt_changed')).toBe(false); // held: the refresh is asked for
    expect(asked()).toBeGreaterThan(0);
    const next: Connection = { ...old, id: `${NS}:c0ffee`, cookie: 'c0ffee', local: { ...old.local, port: old.local.port + 1 } };
    s.setInventory([next]);
    s.flush();
    expect(out.find((e) => e.type === 'sockopt_changed')).toMatchObject({ connection: next.id, option: 'SO_KEEPALIVE', pid: owner.pid });
  });
});

describe('a probe in a namespace the inventories leave out (--netns)', () => {
  /** The probes through LiveTracing with an empty inventory taken long ago: events out after 600 ms, refreshes asked. */
  const run = async (covered: boolean) => {
    let asked = 0;
    const feed: InventoryFeed = {
      state: { inventory: { connections: [] } as unknown as Inventory }, inventoryStartedAt: 0,
      subscribe: () => () => {}, requestRefresh: () => void asked++, covers: (ns) => covered || ns !== NS,
    };
    const tracing = new LiveTracing({
      source: {
        tracer: new RecordedTracer(probes.join('\n')), reasons: program.reasons, tcpStates: program.tcpStates, hz: host.hz,
        missing: [], keepaliveVia: program.keepalive, stateVia: program.state,
      },
      monitor: feed,
    });
    const out: KaEvent[] = [];
    tracing.subscribe((e) => out.push(e));
    await tracing.start();
    await new Promise((r) => setTimeout(r, 600));
    const early = out.length;
    await tracing.stop();
    return { early, asked };
  };

  it('is not held for a refresh that could never list its socket, and asks for none', async () => {
    expect(await run(false)).toEqual({ early: probes.length, asked: 0 });
    const covered = await run(true); // the control: a namespace the inventories list
    expect(covered.early).toBe(0);
    expect(covered.asked).toBeGreaterThan(0);
  });
});

describe('owners remembered per socket', () => {
  it('keep the newest MAX_OWNERS: a socket seen long ago is forgotten, a recent one still named', () => {
    const a = new Attribution();
    const held = (i: number, withCtx: boolean): Held => ({
      at: i,
      cookie: null,
      ctx: withCtx ? { pid: 7, comm: 'checker', cmdline: null } : null,
      rstCause: 'linger',
      ev: {
        type: 'rst_sent', ts: new Date(i).toISOString(), netns: 1, pid: null, comm: null, process: null, connection: null,
        ownerVia: null, sk: `ffff${i.toString(16)}`, local: { address: '127.0.0.1', port: 10_000 + (i % 50_000) },
        peer: { address: '127.0.0.1', port: 7000 + Math.floor(i / 50_000) }, reason: 'TCP_STATE', cause: 'linger', causeInferred: false, state: null,
      },
    });
    for (let i = 0; i <= MAX_OWNERS; i++) a.attribute(held(i, true));
    const first = held(0, false);
    const last = held(MAX_OWNERS, false);
    a.attribute(first);
    a.attribute(last);
    expect(first.ev.pid).toBeNull();
    expect(last.ev).toMatchObject({ pid: 7, comm: 'checker' });
  });
});

describe('an inventory that churns between events', () => {
  // Connection i: its own port and cookie, owned by `pid`.
  const conn = (i: number, pid = 4242): Connection => ({
    ...dying(true), id: `${NS}:c${i}`, cookie: `c${i}`, inode: 1000 + i,
    local: { address: '127.0.0.1', port: 20_000 + i }, peer: { address: '127.0.0.1', port: 7000 },
    process: { ...owner, pid, fd: 3 + i }, processes: [{ ...owner, pid, fd: 3 + i }],
  });
  const reset = (i: number, cookie: string | null): Held => ({
    at: 1, cookie, ctx: null,
    ev: {
      type: 'rst_received', ts: new Date(1).toISOString(), netns: NS, pid: null, comm: null, process: null, connection: null,
      ownerVia: null, sk: `ffff${i}`, local: { address: '127.0.0.1', port: 20_000 + i }, peer: { address: '127.0.0.1', port: 7000 },
      reason: null, cause: null, causeInferred: false, state: 'ESTAB',
    } as unknown as Held['ev'],
  });
  const range = (from: number, to: number, pid?: number) => Array.from({ length: to - from }, (_, k) => conn(from + k, pid));

  /** Refreshes 1..n after the first inventory: each drops the oldest 10 connections, adds 10 new ones and re-joins
   *  one it keeps as a new object (owner 5000 + r). */
  function churn(a: Attribution, refreshes: number): Connection[] {
    let inv = range(0, 50);
    a.setInventory(inv);
    a.attribute(reset(0, null)); // an event: the index exists from here on, and follows the changes
    for (let r = 1; r <= refreshes; r++) {
      const gone = inv.slice(0, 10);
      const added = range(40 + r * 10, 50 + r * 10);
      const kept = inv.slice(10);
      const replaced = [conn(Number(kept[20]!.cookie!.slice(1)), 5000 + r)];
      kept[20] = replaced[0]!;
      inv = [...kept, ...added];
      a.setInventory(inv, { added, gone, replaced });
    }
    return inv;
  }

  it.each([2, 3, 40])('after %i refreshes without an event: what an index of the last inventory finds, and the recently gone by cookie', (n) => {
    const a = new Attribution();
    const last = churn(a, n);
    const fresh = new Attribution();
    fresh.setInventory(last);
    for (const c of [last[0]!, last.at(-1)!, last.find((x) => x.process!.pid === 5000 + n)!]) {
      const i = Number(c.cookie!.slice(1));
      const [mine, theirs] = [reset(i, null), reset(i, null)]; // by 4-tuple
      a.attribute(mine);
      fresh.attribute(theirs);
      expect(mine.ev).toMatchObject({ connection: c.id, pid: c.process!.pid });
      expect(mine.ev).toEqual(theirs.ev);
    }
    // Left at the last refresh: not listed, still named by its cookie.
    const left = reset(n * 10 - 1, `c${n * 10 - 1}`);
    a.attribute(left);
    expect(left.ev.connection).toBe(`${NS}:c${n * 10 - 1}`);
  });

  /** A refresh that drops `gone` (nothing new listed). */
  const drop = (a: Attribution, gone: Connection[]) => a.setInventory([], { added: [], gone, replaced: [] });
  const named = (a: Attribution, i: number) => {
    const h = reset(i, `c${i}`);
    a.attribute(h);
    return h.ev.connection;
  };

  it('a churning host\'s TIME-WAIT sockets do not push a connection that just died out of the memory', () => {
    const a = new Attribution();
    a.setInventory([conn(0)]);
    drop(a, [conn(0)]);
    for (let r = 1; r <= 3; r++) drop(a, range(r * 20_000, r * 20_000 + 15_000).map((c) => ({ ...c, state: 'TIME-WAIT' as const })));
    expect(named(a, 0)).toBe(`${NS}:c0`);
  });

  it(`holds at most MAX_GONE connections beyond the last refresh's: the older refreshes are forgotten first`, () => {
    const a = new Attribution();
    const half = Math.ceil(MAX_GONE / 2) + 1;
    drop(a, range(0, half));
    drop(a, range(half, 2 * half));
    expect(named(a, 0)).toBeNull();
    expect(named(a, half)).toBe(`${NS}:c${half}`);
    drop(a, range(2 * half, 2 * half + MAX_GONE + 5)); // one refresh larger than the bound is kept whole
    expect(named(a, 2 * half + MAX_GONE + 4)).toBe(`${NS}:c${2 * half + MAX_GONE + 4}`);
    expect(named(a, half + 1)).toBeNull(); // (one not asked for before: an answer is remembered per socket)
  });
});

describe('setsockopt on an fd whose connection the tracer saw close', () => {
  it('belongs to the new socket on that fd (a client reconnecting), not to the closed connection still listed', () => {
    let now = 1_000_000;
    const a = new Attribution(() => now);
    const old = dying(true);
    a.setInventory([old]);
    const client = { pid: owner.pid, comm: owner.comm, cmdline: null };
    const sockopt = (at: number): Held => ({
      at, cookie: null, ctx: client,
      ev: { type: 'sockopt_changed', ts: new Date(at).toISOString(), netns: null, pid: null, comm: null, process: null, connection: null, ownerVia: null, sk: null, local: null, peer: null, option: 'SO_KEEPALIVE', fd: owner.fd },
    });
    const before = sockopt(now);
    a.attribute(before);
    expect(before.ev).toMatchObject({ connection: old.id, local: old.local });
    const close: Held = {
      at: now, cookie: COOKIE!, ctx: null,
      ev: { type: 'close', ts: new Date(now).toISOString(), netns: NS, pid: null, comm: null, process: null, connection: null, ownerVia: null, sk: SK!, local: old.local, peer: old.peer, how: 'timeout', lifetimeMs: 1000, probesSent: 2 },
    };
    a.attribute(close);
    expect(close.ev.connection).toBe(old.id);
    now += 1000; // reconnected on the same fd; the inventory has not been refreshed
    const after = sockopt(now);
    expect(a.known(after)).toBe(false); // held for the refresh that lists the new socket
    const early = sockopt(now);
    a.attribute(early);
    expect(early.ev).toMatchObject({ connection: null, local: null, pid: owner.pid });
    const next: Connection = { ...old, id: `${NS}:c0ffee`, cookie: 'c0ffee', local: { ...old.local, port: old.local.port + 1 } };
    a.setInventory([next]);
    expect(a.known(after)).toBe(true);
    a.attribute(after);
    expect(after.ev).toMatchObject({ connection: next.id, local: next.local });
  });
});

