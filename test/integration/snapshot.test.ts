// `ka-top snapshot` against real sockets in real network namespaces: every figure must match what was set.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delNetnsPrefix, makePair, sysctlIn, type Pair } from '../../src/lab/topology.js';
import type { Connection } from '../../src/domain/connection.js';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { renderMarkdown } from '../../src/output/markdown.js';
import { refusedConnectionsFlood } from '../helpers/flood.js';
import { CLI, runCli } from '../helpers/cli.js';
import { withFullDisk } from '../helpers/full-disk.js';
import { startPeer, stopAllPeers, type Peer } from '../helpers/peer.js';
import { schemaValidator } from '../helpers/schema.js';

const PREFIX = 'kat-snap-';
let pair: Pair;
let validate: (doc: unknown) => string[];

interface Conn { peer: Peer; lport: number; pid: number }
const conns: Record<string, Conn> = {};

async function client(name: string, args: string[], port = 7000, v6 = false): Promise<void> {
  const addr = v6 ? `[${pair.serverAddr6}]:${port}` : `${pair.serverAddr}:${port}`;
  const peer = await startPeer(['client', '--connect', addr, ...args], { netns: pair.client });
  const m = await peer.waitFor(/^CONN \S+ (\d+) \S+ \d+ fd=\d+ pid=(\d+)/, 10_000);
  conns[name] = { peer, lport: Number(m[1]), pid: Number(m[2]) };
}

async function snapshot(args: string[]): Promise<SnapshotDocument> {
  const r = await runCli(['snapshot', '--format', 'json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as SnapshotDocument;
  expect(validate(doc)).toEqual([]);
  return doc;
}

function byLocalPort(doc: SnapshotDocument, port: number): Connection {
  const c = doc.connections.find((x) => x.local.port === port && x.state === 'ESTAB');
  if (!c) throw new Error(`no ESTAB connection from local port ${port} in ${doc.connections.length} connections`);
  return c;
}

beforeAll(async () => {
  validate = await schemaValidator('snapshot.schema.json');
  await delNetnsPrefix(PREFIX);
  pair = await makePair(PREFIX, 40);
  // this namespace's own default differs from the host's: a keepalive socket without overrides must show it
  await sysctlIn(pair.client, 'net.ipv4.tcp_keepalive_time', 321);
  const server = await startPeer(['server', '--listen', `${pair.serverAddr}:7000`, '--mode', 'hold'], { netns: pair.server });
  await server.waitFor(/^LISTEN/);
  const server6 = await startPeer(['server', '--listen', `[${pair.serverAddr6}]:7006`, '--mode', 'hold'], { netns: pair.server });
  await server6.waitFor(/^LISTEN/);
  await client('off', []);
  await client('custom', ['--keepidle', '41', '--keepintvl', '7', '--keepcnt', '4']);
  await client('nsdefault', ['--keepalive']);
  await client('usertimeout', ['--keepalive', '--user-timeout', '12345']);
  await client('linger0', ['--linger', '0']);
  await client('linger5', ['--linger', '5']);
  await client('shared', ['--keepidle', '99', '--fork-share']);
  await conns.shared!.peer.waitFor(/^SHARED pid=\d+/);
  await client('v6', ['--keepidle', '55'], 7006, true);
  await client('timewait', ['--close-after', '100']);
  await conns.timewait!.peer.waitFor(/^CLOSED/);
}, 60_000);

afterAll(async () => {
  await stopAllPeers();
  await delNetnsPrefix(PREFIX);
});

describe('ka-top snapshot (root, real namespaces)', () => {
  let doc: SnapshotDocument;
  beforeAll(async () => {
    doc = await snapshot(['--netns', pair.client]);
  });

  it('covers only the requested namespace and reads its own sysctls', () => {
    const ns = doc.namespaces.find((n) => n.name === pair.client);
    expect(ns?.sysctl?.tcp_keepalive_time).toBe(321);
    expect(new Set(doc.connections.map((c) => c.netns.name))).toEqual(new Set([pair.client]));
    expect(Number.isNaN(Date.parse(doc.takenAt))).toBe(false);
  });

  it('says what host it was taken on: distribution, uptime, its interface addresses', () => {
    expect(doc.host.os).toMatch(/\w/);
    expect(doc.host.uptimeSec).toBeGreaterThan(0);
    expect(doc.host.addresses).toContain('127.0.0.1');
  });

  it('reports keepalive off', () => {
    const c = byLocalPort(doc, conns.off!.lport);
    expect(c.keepalive.enabled).toBe(false);
    expect(c.keepalive.timer).toBeNull();
    expect(c.process?.pid).toBe(conns.off!.pid);
    expect(c.process?.comm).toBe('ka-peer');
  });

  it('reads TCP_KEEPIDLE/INTVL/CNT set on the socket, marked as socket', () => {
    const c = byLocalPort(doc, conns.custom!.lport);
    expect(c.keepalive).toMatchObject({ enabled: true, idleSec: 41, intervalSec: 7, probes: 4, source: 'socket' });
    expect(c.keepalive.sources).toEqual({ idle: 'socket', interval: 'socket', probes: 'socket' });
    expect(c.keepalive.timer?.probesOutstanding).toBe(0);
    expect(c.keepalive.timer!.remainingMs).toBeLessThanOrEqual(41_000);
    expect(c.keepalive.deadInMs).toBeGreaterThan(c.keepalive.nextProbeInMs! + 4 * 7000 - 1);
  });

  it('attributes the namespace default when nothing is set on the socket', () => {
    const c = byLocalPort(doc, conns.nsdefault!.lport);
    expect(c.keepalive).toMatchObject({ enabled: true, idleSec: 321, source: 'sysctl' });
  });

  it('reads TCP_USER_TIMEOUT and uses it as the give-up rule', () => {
    const c = byLocalPort(doc, conns.usertimeout!.lport);
    expect(c.userTimeoutMs).toBe(12345);
    expect(c.keepalive.giveUpRule).toBe('user_timeout');
  });

  it('reads SO_LINGER', () => {
    expect(byLocalPort(doc, conns.linger0!.lport).linger).toEqual({ enabled: true, seconds: 0 });
    expect(byLocalPort(doc, conns.linger5!.lport).linger).toEqual({ enabled: true, seconds: 5 });
    expect(byLocalPort(doc, conns.off!.lport).linger).toEqual({ enabled: false, seconds: 0 });
  });

  it('lists every process sharing a socket', () => {
    const c = byLocalPort(doc, conns.shared!.lport);
    expect(c.processes.map((p) => p.pid)).toHaveLength(2);
    expect(c.processes.map((p) => p.pid)).toContain(conns.shared!.pid);
    expect(c.keepalive.idleSec).toBe(99);
  });

  it('handles IPv6', () => {
    const c = byLocalPort(doc, conns.v6!.lport);
    expect(c.local.address).toBe(pair.clientAddr6);
    expect(c.peer).toEqual({ address: pair.serverAddr6, port: 7006 });
    expect(c.keepalive.idleSec).toBe(55);
  });

  it('shows TIME-WAIT without an owner and says why options are unknown', () => {
    const c = doc.connections.find((x) => x.state === 'TIME-WAIT' && x.local.port === conns.timewait!.lport);
    expect(c).toBeDefined();
    expect(c!.process).toBeNull();
    expect(c!.keepalive.source).toBe('unknown');
    expect(c!.keepalive.reason).toMatch(/TIME-WAIT/);
    expect(c!.timer?.kind).toBe('timewait');
  });

  it('attributes the server side in the other namespace to the server process', async () => {
    const srv = await snapshot(['--netns', pair.server, '--port', '7000']);
    const accepted = srv.connections.find((c) => c.peer.port === conns.custom!.lport);
    expect(accepted?.process?.comm).toBe('ka-peer');
    expect(accepted?.netns.name).toBe(pair.server);
    expect(srv.connections.every((c) => c.local.port === 7000 || c.peer.port === 7000)).toBe(true);
  });

  it('filters by pid, state and keepalive', async () => {
    const d = await snapshot(['--netns', pair.client, '--pid', String(conns.custom!.pid), '--state', 'established', '--keepalive', 'on']);
    expect(d.connections).toHaveLength(1);
    expect(d.filters).toMatchObject({ pids: [conns.custom!.pid], states: ['ESTAB'], keepalive: 'on' });
  });
});

describe('ka-top snapshot edge paths', () => {
  it('survives processes exiting while it reads them', async () => {
    const churn = [];
    for (let i = 0; i < 40; i++) {
      churn.push(startPeer(['client', '--connect', `${pair.serverAddr}:7000`, '--keepalive', '--duration', String(50 + (i % 7) * 30)], { netns: pair.client }));
    }
    const results = await Promise.all([snapshot(['--netns', pair.client]), snapshot([]), ...churn.map((p) => p.then((x) => x.exited))]);
    expect((results[0] as SnapshotDocument).connections.length).toBeGreaterThan(0);
  });

  it('writes --output atomically with mode 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kat-snap-'));
    const out = join(dir, 'snap.json');
    const r = await runCli(['snapshot', '--output', out, '--netns', pair.client]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(validate(JSON.parse(readFileSync(out, 'utf8')))).toEqual([]);
  });

  it('renders a table with the socket mark', async () => {
    const r = await runCli(['snapshot', '--format', 'table', '--netns', pair.client, '--port', '7000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('41s*/7s*/4*');
    expect(r.stdout).toContain('tcp_keepalive_time=');
  });

  it('a capture through a reset flood hands over --event-rate events a second and counts the rest as held back', async () => {
    // Nothing listens on 7999: refused for longer than the capture lasts.
    const flood = refusedConnectionsFlood(pair.client, pair.serverAddr, 7999, 15_000);
    try {
      const started = Date.now();
      const d = await snapshot(['--capture', '3s', '--event-rate', '5', '--netns', pair.client, '--netns', pair.server]);
      const held = d.capture!.counts!.cappedEvents!;
      expect(held.rst_sent).toBeGreaterThan(0);
      expect(held.rst_received).toBeGreaterThan(0);
      expect(d.warnings.join('\n')).toMatch(/the tracer held back \d+ events .*rst_sent \d+.*--event-rate raises it/);
      expect(renderMarkdown(d)).toMatch(/lost events: \d+; held back beyond the events a second: .*rst_sent \d+/);
      // Exact per namespace, whatever was held back: the server's namespace sent resets for no socket (a closed
      // port), the client's received them (the flood goes on while the tracer prints its maps one after the other
      // at exit: the two differ by the few sent or received in between).
      const inode = (name: string) => String(d.namespaces.find((n) => n.name === name)!.inode);
      const sent = d.capture!.counts!.rstSentByNetnsCause![inode(pair.server)]!;
      expect(Object.keys(sent)).toEqual(['no_socket']);
      const noSocket = sent.no_socket!;
      // More than the events delivered from there (held back counts the whole host's: another test may flood too).
      expect(noSocket).toBeGreaterThan(d.events!.filter((e) => e.type === 'rst_sent' && String(e.netns) === inode(pair.server)).length);
      const received = d.capture!.counts!.rstReceivedByNetns![inode(pair.client)]!;
      expect(Math.abs(received - noSocket)).toBeLessThan(noSocket * 0.1 + 50);
      expect(renderMarkdown(d)).toContain(`| ${pair.server} | ${noSocket} | no_socket ${noSocket} | 0 |`);
      expect(renderMarkdown(d)).toContain(`| ${pair.client} | 0 | - | ${received} |`);
      // Five a second (six a 2^30 ns window), a few more where CPUs raced, over the whole run of the tracer.
      const windows = Math.ceil((Date.now() - started) / 1073.7) + 1;
      expect(d.events!.filter((e) => e.type === 'rst_sent').length).toBeLessThanOrEqual(windows * 6 * 2);
    } finally {
      flood.kill();
    }
  }, 60_000);

  it('rejects bad arguments with one line and exit 2', async () => {
    for (const args of [['--port', 'abc'], ['--format', 'xml'], ['--state', 'BOGUS'], ['--keepalive', 'maybe'], ['--nope'], ['--event-rate', '10'], ['--capture', '1s', '--event-rate', '-1']]) {
      const r = await runCli(['snapshot', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ka-top: /);
      expect(r.stdout).toBe('');
    }
  });

  it('stops quietly when the reader goes away (ka-top snapshot | head)', async () => {
    // more output than a pipe holds, so the write really fails
    const many = await startPeer(['client', '--connect', `${pair.serverAddr}:7000`, '--conns', '200'], { netns: pair.client });
    for (let i = 0; i < 200; i++) await many.waitFor(/^CONN /);
    const child = spawn(process.execPath, [CLI, 'snapshot', '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    expect(code).toBe(0);
    await many.stop();
  });

  it('fails cleanly when the output cannot be written', async () => {
    const r = await runCli(['snapshot', '--output', '/nonexistent-dir/x.json']);
    expect(r.code).toBe(1);
    // In words, not a raw errno (issue 11).
    expect(r.stderr.trim()).toMatch(/^ka-top: cannot write \/nonexistent-dir\/x.json: the directory \/nonexistent-dir does not exist$/);
  });

  it('writes the document to /dev/shm when its output fills up, and says where', async () => {
    const name = `kat-rescue-${process.pid}.json`;
    try {
      await withFullDisk(4096, async (dir) => {
        const r = await runCli(['snapshot', '--format', 'json', '--output', join(dir, name)]);
        expect(r.code).toBe(1);
        expect(r.stderr.trim()).toBe(`ka-top: cannot write ${join(dir, name)}: no space left on the device (nothing was written there); wrote it to /dev/shm/${name} instead (memory-backed: move it somewhere safe)`);
        expect(readdirSync(dir)).toEqual(['.filler']); // no partial file, no temporary one
      });
      const doc = JSON.parse(readFileSync(`/dev/shm/${name}`, 'utf8')) as SnapshotDocument;
      expect(validate(doc)).toEqual([]);
      expect(doc.connections.length).toBeGreaterThan(0);
      expect(statSync(`/dev/shm/${name}`).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(`/dev/shm/${name}`, { force: true });
    }
  });

  it('fails, and keeps the document, when standard output is a file on a full disk (`> file`)', async () => {
    // Node's stream for such a stdout drops what a partial write left without an error: the document is larger
    // than the 4 KiB left, so only a write loop sees the full disk.
    await withFullDisk(4096, async (dir) => {
      const fd = openSync(join(dir, 'out.json'), 'w');
      const child = spawn(process.execPath, [CLI, 'snapshot', '--format', 'json'], { stdio: ['ignore', fd, 'pipe'] });
      closeSync(fd);
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(1);
      const m = /^ka-top: cannot write to standard output: no space left on the device; wrote it to (\/dev\/shm\/ka-top-snapshot-[\dTZ-]+\.json) instead \(memory-backed: move it somewhere safe\)$/.exec(stderr.trim());
      expect(m, stderr).not.toBeNull();
      try {
        expect(validate(JSON.parse(readFileSync(m![1]!, 'utf8')) as SnapshotDocument)).toEqual([]);
      } finally {
        rmSync(m![1]!, { force: true });
      }
    });
  });

  it('refuses an output it cannot write before the capture window, not after it', async () => {
    // An hour's window: this returns only if the output is checked first.
    const r = await runCli(['snapshot', '--capture', '1h', '--output', '/nonexistent-dir/x.json']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('ka-top: cannot write /nonexistent-dir/x.json: the directory /nonexistent-dir does not exist');
    const dir = mkdtempSync(join(tmpdir(), 'kat-snap-out-'));
    const named = await runCli(['snapshot', '--capture', '1h', '--output', dir]);
    expect(named.code).toBe(1);
    expect(named.stderr.trim()).toBe(`ka-top: cannot write ${dir}: it is a directory`);
    rmSync(dir, { recursive: true });
  });

  it('without root still delivers what it can see and says what it cannot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kat-snap-nobody-'));
    chmodSync(dir, 0o777);
    const r = await runCli(['snapshot', '--format', 'json'], { asUser: 65534 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack traces
    const doc = JSON.parse(r.stdout) as SnapshotDocument;
    expect(validate(doc)).toEqual([]);
    expect(doc.capabilities.root.available).toBe(false);
    expect(doc.capabilities.allNamespaces.available).toBe(false);
    expect(doc.warnings.join('\n')).toMatch(/not root/);
    expect(doc.namespaces).toHaveLength(1);
    const unknown = doc.connections.filter((c) => c.keepalive.source === 'unknown' && c.state === 'ESTAB');
    for (const c of unknown) expect(c.keepalive.reason).toBeTruthy();
  });
});
