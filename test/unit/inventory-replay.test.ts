// The whole inventory pipeline (ss parse, owner scan, options, sysctls, join, keepalive model) on a recording of
// real sockets (scripts/capture-inventory.mjs): what a live snapshot computes, checked figure by figure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectInventory } from '../../src/engine/inventory.js';
import { replayInventory, type InventoryRecording } from '../../src/sources/recorded.js';
import type { Connection } from '../../src/domain/connection.js';

const rec = JSON.parse(readFileSync(new URL('../fixtures/inventory/keepalive-mix.json', import.meta.url), 'utf8')) as InventoryRecording;
const inv = await collectInventory(replayInventory(rec));
const client = (port: number): Connection => {
  const c = inv.connections.find((x) => x.local.port === port && x.netns.name === 'kat-cap-cli');
  if (!c) throw new Error(`no client connection from port ${port}`);
  return c;
};

describe('inventory replayed from a real capture', () => {
  it('lists every socket of both namespaces with its namespace sysctls', () => {
    expect(inv.parseErrors).toEqual([]);
    expect(inv.ownersMissing).toBeNull();
    expect(inv.connections).toHaveLength(20);
    expect(inv.namespaces.find((n) => n.name === 'kat-cap-cli')!.sysctl!.tcp_keepalive_time).toBe(321);
  });

  it('keepalive off', () => {
    expect(client(40158).keepalive).toMatchObject({ enabled: false, timer: null, deadInMs: null });
  });

  it('options set on the socket, with the keepalive timer from ss', () => {
    const c = client(40174);
    expect(c.keepalive).toMatchObject({ enabled: true, idleSec: 41, intervalSec: 7, probes: 4, source: 'socket', timer: { remainingMs: 36_000, probesOutstanding: 0 } });
    expect(c.process).toMatchObject({ comm: 'ka-peer' });
    expect(c.process!.cmdline).toContain('--keepidle 41');
  });

  it('the namespace default (321 s in this namespace) is attributed to the sysctl', () => {
    expect(client(40190).keepalive).toMatchObject({ enabled: true, idleSec: 321, source: 'sysctl', sources: { idle: 'sysctl', interval: 'sysctl', probes: 'sysctl' } });
  });

  it('TCP_USER_TIMEOUT decides the give-up time', () => {
    const c = client(40206);
    expect(c.userTimeoutMs).toBe(12345);
    expect(c.keepalive.giveUpRule).toBe('user_timeout');
  });

  it('SO_LINGER {1,0}', () => {
    expect(client(40208).linger).toEqual({ enabled: true, seconds: 0 });
  });

  it('a socket shared by two processes lists both', () => {
    const c = client(40210);
    expect(c.processes).toHaveLength(2);
    expect(c.keepalive.idleSec).toBe(99);
  });

  it('a peer not answering: probes outstanding and the time left', () => {
    const c = client(47702);
    expect(c.keepalive.timer).toEqual({ remainingMs: 240, probesOutstanding: 3 });
    // 60 probes 1 s apart: 57 more intervals after the next fire
    expect(c.keepalive.deadInMs).toBe(240 + 57 * 1000);
    expect(c.keepalive.giveUpRule).toBe('probes');
  });

  it('IPv6, and TIME-WAIT without an owner', () => {
    expect(client(60742).peer).toEqual({ address: 'fd6b:6174:90::2', port: 7006 });
    const tw = client(40212);
    expect(tw).toMatchObject({ state: 'TIME-WAIT', process: null });
    expect(tw.keepalive.reason).toMatch(/TIME-WAIT/);
  });

  it('without the owner scan, still lists every socket and says why nothing is known about owners', async () => {
    const broken = { ...replayInventory(rec), scanSockets: () => Promise.reject(new Error('spawn ka-sockinfo ENOENT')) };
    const degraded = await collectInventory(broken);
    expect(degraded.connections).toHaveLength(20);
    expect(degraded.ownersMissing).toMatch(/owner scan failed \(spawn ka-sockinfo ENOENT\)/);
    const c = degraded.connections.find((x) => x.local.port === 40174)!;
    expect(c.process).toBeNull();
    expect(c.keepalive).toMatchObject({ enabled: null, source: 'unknown' });
    expect(c.keepalive.reason).toMatch(/owner scan failed/);
  });
});
