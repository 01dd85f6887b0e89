// `ka-top diff` on two real snapshots taken around a real change in kat-diff-* namespaces: a connection opened
// with keepidle 33 is new, one closed is gone, the one left alone is unchanged; text, JSON (schema), exit codes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delNetnsPrefix, makePair, type Pair } from '../../src/lab/topology.js';
import type { SnapshotDiff } from '../../src/model/snapshot-diff.js';
import { runCli } from '../helpers/cli.js';
import { startPeer, stopAllPeers, type Peer } from '../helpers/peer.js';
import { schemaValidator } from '../helpers/schema.js';

const PREFIX = 'kat-diff-';
const dir = mkdtempSync(join(tmpdir(), 'kat-diff-'));
const fileA = join(dir, 'a.json');
const fileB = join(dir, 'b.json');
let pair: Pair;
const port: Record<string, number> = {};

async function client(name: string, args: string[]): Promise<Peer> {
  const peer = await startPeer(['client', '--connect', `${pair.serverAddr}:7000`, '--mode', 'hold', ...args], { netns: pair.client });
  port[name] = Number((await peer.waitFor(/^CONN \S+ (\d+) /, 10_000))[1]);
  return peer;
}

async function snapshot(file: string): Promise<void> {
  const r = await runCli(['snapshot', '--format', 'json', '--output', file, '--netns', pair.client]);
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  await delNetnsPrefix(PREFIX);
  pair = await makePair(PREFIX, 60);
  const server = await startPeer(['server', '--listen', `${pair.serverAddr}:7000`, '--mode', 'hold'], { netns: pair.server });
  await server.waitFor(/^LISTEN/);
  await client('stays', ['--keepidle', '50']);
  // SO_LINGER {1,0}: closing sends a reset, so the socket is gone at once instead of lingering in TIME-WAIT.
  const goes = await client('goes', ['--keepalive', '--linger', '0']);
  await snapshot(fileA);
  await goes.stop();
  await client('new', ['--keepidle', '33']);
  await snapshot(fileB);
}, 60_000);

afterAll(async () => {
  await stopAllPeers();
  await delNetnsPrefix(PREFIX);
  rmSync(dir, { recursive: true, force: true });
});

describe('ka-top diff on real snapshots (root, real namespaces)', () => {
  it('JSON: the new connection with keepidle 33, the gone one, nothing else changed; valid against the schema', async () => {
    const r = await runCli(['diff', fileA, fileB, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as SnapshotDiff;
    expect((await schemaValidator('diff.schema.json'))(d)).toEqual([]);
    expect(d.differ).toBe(true);
    expect(d.connections.new).toEqual([
      expect.objectContaining({
        state: 'ESTAB', netns: expect.objectContaining({ name: pair.client }), local: { address: pair.clientAddr, port: port.new },
        peer: { address: pair.serverAddr, port: 7000 }, owner: expect.objectContaining({ comm: 'ka-peer' }),
        keepalive: expect.objectContaining({ enabled: true, idleSec: 33 }),
      }),
    ]);
    expect(d.connections.gone).toEqual([
      expect.objectContaining({ state: 'ESTAB', local: { address: pair.clientAddr, port: port.goes }, keepalive: expect.objectContaining({ enabled: true }) }),
    ]);
    expect(d.connections.changed).toEqual([]);
    expect(d.connections.matched).toBe(1);
    expect(d.connections.matchedByTuple).toBe(0);
    expect(d.namespaces).toEqual({ new: [], gone: [], sysctl: [] });
    expect(d.resets).toEqual({ a: null, b: null });
    expect(d.a).toMatchObject({ file: fileA, connections: 2, events: null });
    expect(d.b).toMatchObject({ file: fileB, connections: 2 });
  });

  it('text: sections with counts and the rows; --exit-code exits 1 when they differ, 0 when not', async () => {
    const r = await runCli(['diff', fileA, fileB]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Connections: 1 new, 1 gone, 0 changed, 1 unchanged$/m);
    const cli = pair.clientAddr.replace(/\./g, '\\.');
    const srv = pair.serverAddr.replace(/\./g, '\\.');
    expect(r.stdout).toMatch(new RegExp(`^  \\+ ESTAB ${cli}:${port.new} -> ${srv}:7000  \\d+/ka-peer  keepalive 33s/\\d+s/\\d+  \\[${pair.client}\\]$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^  - ESTAB ${cli}:${port.goes} -> ${srv}:7000  \\d+/ka-peer  keepalive \\d+s/\\d+s/\\d+  \\[${pair.client}\\]$`, 'm'));
    expect(r.stdout).toMatch(/^  A: unknown \(no events recorded/m);
    expect((await runCli(['diff', fileA, fileB, '--exit-code'])).code).toBe(1);
    const same = await runCli(['diff', fileA, fileA, '--exit-code']);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('No differences');
  });

  it('filters apply to both sides', async () => {
    const r = await runCli(['diff', fileA, fileB, '--json', '--port', String(port.stays)]);
    const d = JSON.parse(r.stdout) as SnapshotDiff;
    expect(d.differ).toBe(false);
    expect(d.a.connections).toBe(1);
    expect(d.b.connections).toBe(1);
    expect(d.filters).toEqual({ ports: [port.stays] });
  });

  it('an unreadable file is one line and exit 2 (1 stays "they differ")', async () => {
    const r = await runCli(['diff', fileA, join(dir, 'missing.json'), '--exit-code']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([`ka-top: ${join(dir, 'missing.json')}: no such file`]);
    expect((await runCli(['diff', fileA])).code).toBe(2);
  });
});
