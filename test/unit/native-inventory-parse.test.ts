// The native inventory format on a real capture (scripts/capture-native-inventory.mjs: `ka-sockinfo inventory` and,
// right after it (some 300 ms later), ss -HtinaeO, the owner scan and process facts of the same sockets; see test/fixtures/native/VERSION).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectInventory } from '../../src/engine/inventory.js';
import { ageConnection } from '../../src/model/join.js';
import { replayInventory, type InventoryRecording } from '../../src/sources/recorded.js';
import type { SsSocket } from '../../src/domain/connection.js';
import { INVENTORY_HEADER, InventoryFormatError, parseNativeInventory } from '../../src/parse/native-inventory.js';
import { parseSsOutput } from '../../src/parse/ss.js';

const rec = JSON.parse(readFileSync(new URL('../fixtures/native/recording.json', import.meta.url), 'utf8')) as InventoryRecording;
const text = (rec.inventory as { text: string }).text;
const parsed = parseNativeInventory(text);
const [cli, srv] = rec.netns.sort((a, b) => (a.name! < b.name! ? -1 : 1)); // kat-capn-cli, kat-capn-srv
const nsOf = (inode: number) => parsed.namespaces.find((n) => n.inode === inode)!;
const sockets = parsed.namespaces.flatMap((n) => n.sockets);
/** ss prints ms below 10 s, seconds below 10 min, whole minutes above (print_ms_timer); plus the capture gap. */
const timerTolerance = (ms: number): number => (ms < 10_000 ? 1_000 : ms < 600_000 ? 2_000 : 61_000);
const find = (pred: (s: SsSocket) => boolean): SsSocket => {
  const hits = sockets.filter(pred);
  expect(hits).toHaveLength(1);
  return hits[0]!;
};

describe('ka-sockinfo inventory output', () => {
  it('parses both namespaces without errors, in argument order, with their inodes', () => {
    expect(parsed.namespaces.map((n) => [n.index, n.error, n.errors])).toEqual([[0, null, []], [1, null, []]]);
    expect(new Set(parsed.namespaces.map((n) => n.inode))).toEqual(new Set([cli!.inode, srv!.inode]));
    expect(sockets).toHaveLength(18);
  });

  it('reads states, timers and queues as ss shows them', () => {
    const tw = find((s) => s.state === 'TIME-WAIT');
    expect(tw).toMatchObject({ inode: 0, uid: 0, cgroup: null, timer: { kind: 'timewait', remainingMs: 54_580, count: 0 } });
    expect(tw.info).toMatchObject({ cwnd: null, lastsndMs: null, flags: [] });
    const syn = find((s) => s.state === 'SYN-SENT');
    expect(syn).toMatchObject({ peer: { address: '198.18.91.2', port: 7109 }, sendQ: 1, timer: { kind: 'on', remainingMs: 1_648, count: 5 } });
    expect(syn.info).toMatchObject({ rtoMs: 2000, rttMs: null, unacked: 1, retransCurrent: 1, retransTotal: 5 });
    // The peer went silent: 2 keepalive probes outstanding.
    expect(find((s) => s.peer.port === 7100 && s.state === 'ESTAB').timer).toEqual({ kind: 'keepalive', remainingMs: 1_800, count: 2 });
    expect(find((s) => s.local.port === 7006 && s.state === 'ESTAB').recvQ).toBe(19);
    expect(find((s) => s.state === 'LISTEN' && s.local.port === 7000)).toMatchObject({ recvQ: 0, sendQ: 4096, peer: { address: '0.0.0.0', port: 0 }, cgroup: '/' });
  });

  it('addresses: IPv6 compressed lower-case, v4-mapped dotted, the IPv6 wildcard', () => {
    expect(find((s) => s.local.port === 59410).peer).toEqual({ address: 'fd6b:6174:91::2', port: 7006 });
    expect(find((s) => s.local.address === '::ffff:127.0.0.1').peer).toEqual({ address: '::ffff:127.0.0.1', port: 7200 });
    expect(find((s) => s.state === 'LISTEN' && s.local.port === 7006).peer).toEqual({ address: '::', port: 0 });
  });

  it('tcp_info: ss print rules (rto 3 s hidden, zero counters 0 once anything is shown, flags in ss order)', () => {
    const s = find((x) => x.local.port === 59410);
    expect(s.info).toEqual({
      lastsndMs: 5760, lastrcvMs: 5776, lastackMs: 5760, rtoMs: 204, rttMs: 0.073, rttVarMs: 0.037, mss: 1428, cwnd: 11,
      bytesSent: 19, bytesAcked: 20, bytesReceived: 0, segsOut: 3, segsIn: 2, unacked: 0, lost: 0, retransCurrent: 0,
      retransTotal: 0, flags: ['ts', 'sack', 'bbr', 'app_limited'],
    });
    expect(s.extra).toEqual({ shutdown: '<->' });
  });

  it('owners and options joined by inode: one entry per (pid, fd), shared sockets list every holder', () => {
    const shared = find((s) => s.local.port === 56104);
    const holders = parsed.scan.sockets.filter((o) => o.inode === shared.inode);
    expect(holders.map((o) => o.pid)).toHaveLength(2);
    expect(holders[0]!.opts).toMatchObject({ lingerOn: true, lingerSec: 0 });
    const ut = find((s) => s.local.port === 56102);
    expect(parsed.scan.sockets.find((o) => o.inode === ut.inode)!.opts).toMatchObject({ keepalive: true, userTimeoutMs: 12345 });
    expect(parsed.scan).toMatchObject({ deniedPids: 0 });
    // the owner scan recorded with it saw the same owners and options
    const key = (o: { pid: number; fd: number }) => `${o.pid}:${o.fd}`;
    expect([...parsed.scan.sockets].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...rec.scan.sockets].sort((a, b) => key(a).localeCompare(key(b))));
  });

  it('equals the ss -HtinaeO records of the same sockets, up to what moved in between and what ss rounds', () => {
    for (const ns of [cli!, srv!]) {
      const ss = parseSsOutput((rec.dumps[ns.inode] as { text: string }).text);
      expect(ss.errors).toEqual([]);
      const mine = nsOf(ns.inode).sockets;
      expect(mine).toHaveLength(ss.sockets.length);
      const byCookie = new Map(ss.sockets.map((s) => [s.cookie, s]));
      for (const n of mine) {
        const s = byCookie.get(n.cookie)!;
        const strip = (x: SsSocket) => ({ ...x, timer: x.timer && { ...x.timer, remainingMs: 0 }, info: { ...x.info, lastsndMs: 0, lastrcvMs: 0, lastackMs: 0 }, extra: { shutdown: x.extra.shutdown } });
        expect(strip(n), n.cookie!).toEqual(strip(s));
        if (n.timer) expect(Math.abs(n.timer.remainingMs - s.timer!.remainingMs)).toBeLessThanOrEqual(timerTolerance(n.timer.remainingMs));
        if (n.info.lastsndMs !== null) expect(Math.abs(n.info.lastsndMs - s.info.lastsndMs!)).toBeLessThanOrEqual(1_000);
      }
    }
  });
});

describe('inventory replayed through the native path and its fallback', () => {
  const ids = (inv: Awaited<ReturnType<typeof collectInventory>>) => inv.connections.map((c) => `${c.id} ${c.state} ${c.process?.pid ?? '-'} ${c.keepalive.idleSec ?? '-'}`).sort();

  it('a TIME-WAIT connection shares its empty parts with the others (tcp_info, idle, keepalive view), frozen; it ages as before', async () => {
    const tw = (await collectInventory(replayInventory(rec))).connections.find((c) => c.state === 'TIME-WAIT')!;
    const again = (await collectInventory(replayInventory(rec))).connections.find((c) => c.id === tw.id)!;
    expect(again).not.toBe(tw);
    for (const part of ['tcp', 'idleMs', 'keepalive'] as const) {
      expect(again[part]).toBe(tw[part]);
      expect(Object.isFrozen(tw[part])).toBe(true);
    }
    expect(tw.keepalive).toMatchObject({ enabled: null, reason: 'TIME-WAIT has no socket options', timer: null });
    const shared = JSON.stringify([tw.tcp, tw.idleMs, tw.keepalive]);
    ageConnection(tw, 5000); // strict mode: a write to a frozen part would throw
    expect(tw.timer!.remainingMs).toBe(again.timer!.remainingMs - 5000);
    expect(JSON.stringify([tw.tcp, tw.idleMs, tw.keepalive])).toBe(shared);
  });

  it('connections whose keepalive view cannot move (options read, no timer, no forecast) share one frozen view per set of options', async () => {
    const conns = (await collectInventory(replayInventory(rec))).connections;
    const still = conns.filter((c) => c.keepalive.enabled !== null && c.keepalive.timer === null && c.keepalive.giveUpRule === null);
    const moving = conns.filter((c) => c.keepalive.timer !== null);
    expect(still.length).toBeGreaterThan(1);
    expect(moving.length).toBeGreaterThan(0);
    const same = still.filter((c) => JSON.stringify(c.keepalive) === JSON.stringify(still[0]!.keepalive));
    expect(same.length).toBeGreaterThan(1);
    for (const c of same) expect(c.keepalive).toBe(still[0]!.keepalive);
    expect(Object.isFrozen(still[0]!.keepalive)).toBe(true);
    for (const c of moving) expect(Object.isFrozen(c.keepalive)).toBe(false); // aged in place
    const before = JSON.stringify(still[0]!.keepalive);
    for (const c of conns) ageConnection(c, 5000); // strict mode: a write to a frozen view would throw
    expect(JSON.stringify(still[0]!.keepalive)).toBe(before);
  });

  it('takes the native output when there is one, and joins owners, options and sysctls from it', async () => {
    const inv = await collectInventory(replayInventory(rec));
    expect(inv.socketSource).toEqual({ via: 'sock_diag', fallback: null });
    expect(inv.parseErrors).toEqual([]);
    expect(inv.connections).toHaveLength(18);
    const c = inv.connections.find((x) => x.local.port === 56094)!;
    expect(c.process).toMatchObject({ comm: 'ka-peer' });
    expect(c.keepalive).toMatchObject({ enabled: true, idleSec: 41, intervalSec: 7, probes: 4, source: 'socket' });
  });

  it('falls back to ss when the helper failed, says why, and gives the same connections', async () => {
    const native = await collectInventory(replayInventory(rec));
    const failed = await collectInventory(replayInventory({ ...rec, inventory: { error: 'spawn ka-sockinfo ENOENT' } }));
    expect(failed.socketSource).toEqual({ via: 'ss', fallback: 'spawn ka-sockinfo ENOENT' });
    expect(ids(failed)).toEqual(ids(native));
  });

  it('falls back to ss when the helper speaks another format version', async () => {
    const other = text.replace(INVENTORY_HEADER, '@ka-sockinfo/inventory 2');
    const inv = await collectInventory(replayInventory({ ...rec, inventory: { text: other } }));
    expect(inv.socketSource!.via).toBe('ss');
    expect(inv.socketSource!.fallback).toMatch(/another inventory format/);
    expect(inv.connections).toHaveLength(18);
  });

  it('a recording without native output replays through ss alone', async () => {
    const { inventory: _n, ...old } = rec;
    const inv = await collectInventory(replayInventory(old));
    expect(inv.socketSource).toEqual({ via: 'ss', fallback: null });
  });
});

describe('format guards', () => {
  const lines = text.split('\n');
  it('refuses other field lists and output cut before the summary', () => {
    expect(() => parseNativeInventory(lines.map((l) => l.replace(' owners opts', ' opts owners')).join('\n'))).toThrow(InventoryFormatError);
    expect(() => parseNativeInventory(lines.map((l) => l.replace(' app_limited rates', ' rates app_limited')).join('\n'))).toThrow(InventoryFormatError);
    expect(() => parseNativeInventory(lines.filter((l) => !l.startsWith('#')).join('\n'))).toThrow(/no summary/);
  });

  it('reports a bad socket line with its number and keeps the others', () => {
    const bad = lines.map((l, i) => (i === 5 ? l.replace(/^T 10 /, 'T 99 ') : l)).join('\n');
    const p = parseNativeInventory(bad);
    expect(p.namespaces[0]!.errors).toMatchObject([{ line: 6, message: 'unknown TCP state 99' }]);
    expect(p.namespaces.flatMap((n) => n.sockets)).toHaveLength(17);
    const short = lines.map((l, i) => (i === 5 ? l.split(' ').slice(0, 20).join(' ') : l)).join('\n');
    expect(parseNativeInventory(short).namespaces[0]!.errors[0]!.message).toMatch(/fewer fields/);
  });

  it('a namespace the helper could not dump carries its errno and no sockets', () => {
    const p = parseNativeInventory(text.replace(/^N 1 (\d+)$/m, 'N 1 $1\nE 1 EPERM'));
    expect(p.namespaces[1]).toMatchObject({ error: 'EPERM', sockets: [] });
  });
});
