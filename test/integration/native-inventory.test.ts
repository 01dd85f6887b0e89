// The native inventory (ka-sockinfo inventory: netlink sock_diag + owner scan) against `ss -HtinaeO` on the same
// real sockets in a namespace of our own: every state ka-top cares about, IPv4, IPv6 and v4-mapped addresses,
// timers, queues. Both dumps run back to back; fields that move with time are compared within a tolerance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectInventory } from '../../src/engine/inventory.js';
import type { SsSocket } from '../../src/domain/connection.js';
import { parseNativeInventory, type NativeInventory } from '../../src/parse/native-inventory.js';
import { parseSsOutput } from '../../src/parse/ss.js';
import { run } from '../../src/sources/exec.js';
import { liveInventory } from '../../src/sources/live.js';
import { dumpInventory } from '../../src/sources/native-inventory.js';
import { scanSockets, SockinfoDaemon } from '../../src/sources/sockinfo.js';
import { dumpSockets } from '../../src/sources/ss.js';
import { startPeer, stopAllPeers, type Peer } from '../helpers/peer.js';

const NS = `kat-native-${process.pid}`;
const ref = { path: `/run/netns/${NS}`, self: false };
const DROPPED_PORT = 9; // SYNs to it are dropped: the connecting socket stays in SYN-SENT

async function must(cmd: string, args: string[], input?: string) {
  const r = await run(cmd, args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

beforeAll(async () => {
  await must('ip', ['netns', 'add', NS]);
  await must('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  await must('ip', ['netns', 'exec', NS, 'nft', '-f', '-'],
    `table inet katnative {\n  chain in { type filter hook input priority 0; policy accept; tcp dport ${DROPPED_PORT} drop; }\n}\n`);
});

afterAll(async () => {
  await stopAllPeers();
  await run('ip', ['netns', 'del', NS]);
});

const peers: Peer[] = [];
async function peer(args: string[]): Promise<Peer> {
  const p = await startPeer(args, { netns: NS });
  peers.push(p);
  return p;
}
async function server(addr: string, mode = 'hold'): Promise<number> {
  const p = await peer(['server', '--listen', `${addr}:0`, '--mode', mode]);
  return Number((await p.waitFor(/^LISTEN \S+ (\d+) /, 20_000))[1]);
}
async function client(target: string, extra: string[] = []): Promise<Peer> {
  const p = await peer(['client', '--connect', target, ...extra]);
  await p.waitFor(/^CONN /, 20_000);
  return p;
}

async function native(): Promise<NativeInventory> {
  let text = '';
  await dumpInventory([ref], (c) => (text += c));
  return parseNativeInventory(text);
}

async function viaSs(): Promise<SsSocket[]> {
  let text = '';
  await dumpSockets(ref, (c) => (text += c));
  const r = parseSsOutput(text);
  expect(r.errors).toEqual([]);
  return r.sockets;
}

/** The record without the fields that move between two dumps (compared separately, with a tolerance). */
function stable(s: SsSocket) {
  const { timer, info, users: _u, extra, ...rest } = s;
  const { lastsndMs: _a, lastrcvMs: _b, lastackMs: _c, ...figures } = info;
  return { ...rest, shutdown: extra.shutdown ?? null, timer: timer && { kind: timer.kind, count: timer.count }, info: figures };
}

/** What ss's print_ms_timer rounds away: nothing below 10 s, the ms below 10 min, the seconds above. */
const timerRounding = (ms: number): number => (ms < 10_000 ? 0 : ms < 600_000 ? 1_000 : 60_000);

/** Both dumps, retried while a socket changed in between (a SYN retransmitted, a timer fired). */
async function bothDumps(): Promise<{ n: SsSocket[]; s: SsSocket[]; owners: NativeInventory['scan']; gapMs: number }> {
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const t0 = performance.now();
    const inv = await native();
    const s = await viaSs();
    const gapMs = performance.now() - t0; // time fields may move this much between the two dumps
    expect(inv.namespaces).toHaveLength(1);
    expect(inv.namespaces[0]!.error).toBeNull();
    expect(inv.namespaces[0]!.errors).toEqual([]);
    const n = inv.namespaces[0]!.sockets;
    const sorted = (xs: SsSocket[]) => JSON.stringify(xs.map(stable).sort((x, y) => x.cookie!.localeCompare(y.cookie!)));
    const a = sorted(n);
    const b = sorted(s);
    if (a === b) return { n, s, owners: inv.scan, gapMs };
    last = `native: ${a}\nss:     ${b}`;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`native and ss kept differing:\n${last}`);
}

describe('native inventory vs ss -HtinaeO on the same sockets', () => {
  let n: SsSocket[] = [];
  let s: SsSocket[] = [];
  let owners: NativeInventory['scan'];
  let gapMs = 0;
  let ports: Record<string, number> = {};

  beforeAll(async () => {
    const v4 = await server('127.0.0.1');
    const dual = await server('[::]');
    const unread = await server('[::1]'); // holds without reading: what the client sends stays queued
    await client(`127.0.0.1:${v4}`, ['--keepidle', '60', '--keepintvl', '5', '--keepcnt', '3']);
    // An IPv6 socket connected to an IPv4 peer: v4-mapped addresses on both ends.
    await client(`[::ffff:127.0.0.1]:${v4}`, ['--user-timeout', '4321']);
    await client(`[::1]:${dual}`, ['--linger', '0']);
    await client(`[::1]:${unread}`, ['--mode', 'send-once']);
    const closer = await client(`127.0.0.1:${v4}`, ['--close-after', '50']);
    await closer.waitFor(/^CLOSED /, 20_000);
    await peer(['client', '--connect', `127.0.0.1:${DROPPED_PORT}`]);
    await peer(['client', '--connect', `[::1]:${DROPPED_PORT}`]);
    ports = { v4, dual, unread };
    // Until the SYN-SENT sockets and the unread bytes show.
    for (let i = 0; i < 50; i++) {
      const now = await viaSs();
      if (now.filter((x) => x.state === 'SYN-SENT').length === 2 && now.some((x) => x.recvQ > 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    ({ n, s, owners, gapMs } = await bothDumps());
  });

  it('lists the same sockets with equal records (state, endpoints, inode, cookie, queues, timer kind and count, tcp_info)', () => {
    expect(n.length).toBe(s.length);
    expect(n.length).toBeGreaterThanOrEqual(14);
  });

  it('covers LISTEN, ESTAB, TIME-WAIT and SYN-SENT, IPv4, IPv6 and v4-mapped', () => {
    const states = new Set(n.map((x) => x.state));
    for (const st of ['LISTEN', 'ESTAB', 'TIME-WAIT', 'SYN-SENT'] as const) expect(states).toContain(st);
    expect(n.some((x) => x.local.address === '::1')).toBe(true);
    expect(n.some((x) => x.local.address === '::ffff:127.0.0.1' && x.peer.address === '::ffff:127.0.0.1' && x.peer.port === ports.v4)).toBe(true);
    const listen = n.find((x) => x.state === 'LISTEN' && x.local.port === ports.dual)!;
    expect(listen.local.address).toBe('::');
    expect(listen.peer).toEqual({ address: '::', port: 0 });
  });

  it('TIME-WAIT has no inode, uid 0, no tcp_info, and the timewait timer', () => {
    const tw = n.find((x) => x.state === 'TIME-WAIT')!;
    expect(tw).toMatchObject({ inode: 0, uid: 0, cgroup: null, timer: { kind: 'timewait', count: 0 } });
    expect(tw.info.cwnd).toBeNull();
    expect(tw.timer!.remainingMs).toBeGreaterThan(10_000); // of 60 s; the machine may be slow
  });

  it('SYN-SENT to a dropped peer: the retransmit timer with its count, equal in both', () => {
    const syn = n.filter((x) => x.state === 'SYN-SENT');
    expect(syn).toHaveLength(2);
    for (const x of syn) expect(x.timer).toMatchObject({ kind: 'on' });
  });

  it('keepalive timer and unread bytes, and every remaining time within what ss rounds away', () => {
    const ka = n.find((x) => x.state === 'ESTAB' && x.peer.port === ports.v4 && x.local.address === '127.0.0.1')!;
    expect(ka.timer).toMatchObject({ kind: 'keepalive', count: 0 });
    expect(ka.timer!.remainingMs).toBeGreaterThan(10_000); // of 60 s
    expect(n.some((x) => x.state === 'ESTAB' && x.local.port === ports.unread && x.recvQ > 0)).toBe(true);
    const byCookie = new Map(s.map((x) => [x.cookie, x]));
    for (const x of n) {
      const y = byCookie.get(x.cookie)!;
      if (x.timer) expect(Math.abs(x.timer.remainingMs - y.timer!.remainingMs), `${x.state} ${x.cookie}`).toBeLessThanOrEqual(timerRounding(x.timer.remainingMs) + gapMs + 1);
      for (const k of ['lastsndMs', 'lastrcvMs', 'lastackMs'] as const) {
        if (x.info[k] === null) expect(y.info[k]).toBeNull();
        else expect(Math.abs(x.info[k]! - y.info[k]!)).toBeLessThanOrEqual(gapMs + 1);
      }
    }
  });

  it('owners and options joined in the same pass equal the owner scan of ka-sockinfo', async () => {
    const scan = await scanSockets();
    const inodes = new Set(n.map((x) => x.inode).filter(Boolean));
    const key = (o: { pid: number; fd: number }) => `${o.pid}:${o.fd}`;
    const expected = scan.sockets.filter((o) => inodes.has(o.inode)).sort((a, b) => key(a).localeCompare(key(b)));
    const got = [...owners.sockets].sort((a, b) => key(a).localeCompare(key(b)));
    expect(got).toEqual(expected);
    expect(got.find((o) => o.opts?.keepIdleSec === 60)!.opts).toMatchObject({ keepalive: true, keepIntvlSec: 5, keepCnt: 3 });
    expect(got.some((o) => o.opts?.userTimeoutMs === 4321)).toBe(true);
    expect(got.some((o) => o.opts?.lingerOn && o.opts.lingerSec === 0)).toBe(true);
  });
});

describe('inventory through the native source', () => {
  const inNs = (c: { netns: { name: string | null } }) => c.netns.name === NS;
  const only = { netns: (r: { name: string | null }) => r.name === NS };

  it('uses sock_diag and gives the same connections as the ss path', async () => {
    const nat = await collectInventory(liveInventory(), only);
    const ss = await collectInventory(liveInventory({ native: false }), only);
    expect(nat.socketSource).toEqual({ via: 'sock_diag', fallback: null });
    expect(ss.socketSource).toEqual({ via: 'ss', fallback: null });
    const view = (c: (typeof nat.connections)[number]) => [c.id, c.state, c.process?.pid ?? null, c.keepalive.enabled, c.keepalive.idleSec, c.userTimeoutMs, c.linger?.enabled ?? null].join(' ');
    expect(nat.connections.filter(inNs).map(view).sort()).toEqual(ss.connections.filter(inNs).map(view).sort());
    expect(nat.connections.filter(inNs).length).toBeGreaterThanOrEqual(14);
  });

  it('through the serve daemon (incremental owner scan), twice, and the ss-path scan still works after it', async () => {
    const daemon = new SockinfoDaemon();
    daemon.start();
    try {
      const src = liveInventory({ daemon });
      const first = await collectInventory(src, only);
      const second = await collectInventory(src, only);
      expect(second.socketSource).toEqual({ via: 'sock_diag', fallback: null });
      const owned = (inv: typeof first) => inv.connections.filter((c) => inNs(c) && c.process).map((c) => `${c.id} ${c.process!.pid} ${c.keepalive.idleSec}`).sort();
      expect(owned(second)).toEqual(owned(first));
      expect(owned(second).length).toBeGreaterThanOrEqual(8);
      // The daemon's diff protocol starts over after an inventory: a plain scan still returns every socket.
      const scan = await daemon.scan();
      expect(scan.sockets.filter((o) => peers.some((p) => p.pid === o.pid)).length).toBeGreaterThanOrEqual(8);
    } finally {
      await daemon.close();
    }
  });

  it('a namespace the helper cannot enter is read with ss and said so', async () => {
    const src = liveInventory();
    const gone = { inode: 1, path: `/run/netns/${NS}-absent`, name: `${NS}-absent`, self: false, samplePid: null };
    const inv = await collectInventory({ ...src, listNetns: async () => [...(await src.listNetns()).filter((r) => r.name === NS), gone] });
    expect(inv.socketSource!.via).toBe('sock_diag');
    expect(inv.socketSource!.fallback).toMatch(new RegExp(`${NS}-absent \\(ENOENT\\).*read with ss`));
    expect(inv.namespaces.find((x) => x.name === `${NS}-absent`)!.error).toMatch(/nsenter|ss/);
    expect(inv.connections.filter(inNs).length).toBeGreaterThanOrEqual(14);
  });
});
