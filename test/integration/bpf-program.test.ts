// The generated program must load with the real bpftrace of this host, in every variant the host can produce.
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cappedEventType, gateWindow, generateBpfProgram } from '../../src/model/bpf-program.js';
import { CLOSE_HOW, isMarker } from '../../src/parse/ka-records.js';
import { loadBpfFragments } from '../../src/sources/bpf-fragments.js';
import type { BpftraceRecord } from '../../src/parse/bpftrace-json.js';
import { nativeBinary, run } from '../../src/sources/exec.js';
import { Tracer } from '../../src/sources/tracer.js';
import { probeTracingHost, type TracingHost } from '../../src/sources/tracing-host.js';

/** One loopback TCP connection, opened and closed. */
async function closeOneConnection(): Promise<void> {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => connect(port, '127.0.0.1').on('close', () => r()).resume());
  await new Promise((r) => server.close(r));
}

/** One loopback connection reset by its client (SO_LINGER {1,0}, as a health checker closes): the server's port. */
async function resetOneConnection(): Promise<number> {
  const server = createServer();
  let closed!: Promise<unknown>;
  const accepted = new Promise<void>((r) => {
    server.once('connection', (s) => {
      s.on('error', () => {}); // ECONNRESET: the point
      closed = new Promise((done) => s.on('close', done)); // not once(): it rejects on that error
      r();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const c = connect(port, '127.0.0.1').on('error', () => {});
  await once(c, 'connect');
  await accepted;
  c.resetAndDestroy();
  await closed;
  await new Promise((r) => server.close(r));
  return port;
}

/** `n` loopback connections to a closed port, one after the other, from a process bound to CPU 0: refused. */
async function refusedOnCpu0(port: number, n: number): Promise<void> {
  const script = `const net = require('net'); let left = ${n};
    const next = () => { if (left-- > 0) net.connect(${port}, '127.0.0.1').on('error', next).on('connect', function () { this.destroy(); next(); }); };
    next();`;
  const r = await run('taskset', ['-c', '0', process.execPath, '-e', script]);
  expect(r.code, r.stderr).toBe(0);
}

/** A closed port below the ephemeral range: no connection of a test running alongside gets it as its own port (a
 *  port from listen(0) can come back as another connection's, and its records then pass a port filter too). */
async function closedPortBelowEphemeral(): Promise<number> {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (let port = 20_000 + (process.pid % 5000); port < low!; port += 7) {
    const s = createServer();
    const ok = await new Promise<boolean>((r) => s.once('error', () => r(false)).listen(port, '127.0.0.1', () => r(true)));
    if (ok) {
      await new Promise((r) => s.close(r));
      return port;
    }
  }
  throw new Error('no free port below the ephemeral range');
}

/** The perf count of each tracepoint perf event of bpftrace `pid` (`ka-sockinfo tracepoint-events`), by fd. */
async function tracepointEvents(pid: number, ...extra: string[]): Promise<Map<string, number>> {
  const r = await run(nativeBinary('ka-sockinfo'), ['tracepoint-events', String(pid), ...extra]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return new Map([...r.stdout.matchAll(/^T (\d+) (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

async function loads(host: TracingHost): Promise<BpftraceRecord[]> {
  const recs: BpftraceRecord[] = [];
  const p = generateBpfProgram(host, loadBpfFragments(), { countsIntervalSec: 1, allCloses: true, filter: { netns: [1], ports: [9], pids: [1], comms: ['x'] } });
  const t = new Tracer({ bpftrace: host.bpftrace.path!, program: p.text, env: p.env, onRecord: (r) => recs.push(r), maxRestarts: 0 });
  await t.start(); // rejects if bpftrace does not attach (its own ready timeout); attach time is a benchmark figure
  await closeOneConnection(); // something for the close counts, on a quiet host too
  // Two periods of the 1 s count interval: the maps are printed at least once on a loaded machine too.
  await new Promise((r) => setTimeout(r, 2500));
  await t.stop();
  return recs;
}

describe('generated bpftrace program on this host', () => {
  it('probes the host: tracepoints, offsets, timer address, reasons', async () => {
    const host = await probeTracingHost();
    expect(host.usable).toEqual({ ok: true, reason: null });
    // `make test` runs this file again with bpftrace 0.23 (scripts/newer-bpftrace): state changes as a raw tracepoint.
    if (process.env.KA_TOP_TEST_NEWER_BPFTRACE) expect(host.rawTracepoint).toEqual({ ok: true, reason: null });
    else if (host.bpftrace.version?.minor === 17) expect(host.rawTracepoint.ok).toBe(false);
    expect(host.keepaliveTimer.address).toMatch(/^[0-9a-f]{16}$/);
    expect(host.offsets.value?.sock_sk_timer).toBeGreaterThan(0);
    expect(Object.values(host.sendReset.reasons)).toContain('TCP_KEEPALIVE_TIMEOUT');
    if (!host.kprobes.ok) expect(host.kprobes.reason).toMatch(/CONFIG_KPROBES|kprobe_events/);
  });

  it('loads, prints the ready marker and dumps its count maps periodically', async () => {
    const host = await probeTracingHost();
    const recs = await loads(host);
    expect(recs.some((r) => r.type === 'attached_probes' && r.probes >= 8)).toBe(true);
    expect(recs.some((r) => r.type === 'ka' && r.rec.kind === 'ready')).toBe(true);
    // Keyed maps are printed once they have a key (closes happen all the time on a host); then the interval's end.
    expect(recs.some((r) => r.type === 'map' && r.name === '@closes')).toBe(true);
    expect(recs.some((r) => r.type === 'ka' && r.rec.kind === 'countsEnd')).toBe(true);
  }, 30_000);

  it('loads without kernel offsets and without the keepalive timer (degraded variants)', async () => {
    const host = await probeTracingHost();
    await loads({ ...host, offsets: { ok: false, reason: 'test', value: null } });
    await loads({ ...host, keepaliveTimer: { ok: false, reason: 'test', address: null } });
    // The old reset layout needs the old tracepoint; its fragment must at least assemble here.
    expect(generateBpfProgram({ ...host, sendReset: { ...host.sendReset, layout: 'legacy', hasReason: false } }, loadBpfFragments()).text).toContain('KA_ARGS_RST_LEGACY');
  }, 40_000);

  it('perf sampling of its tracepoints switched off: perf no longer sees their hits, the programs still run at each', async () => {
    const host = await probeTracingHost();
    const recs: BpftraceRecord[] = [];
    const p = generateBpfProgram(host, loadBpfFragments(), { countsIntervalSec: 1 });
    const t = new Tracer({ bpftrace: host.bpftrace.path!, program: p.text, env: p.env, onRecord: (r) => recs.push(r), maxRestarts: 0 });
    await t.start();
    try {
      const free = createServer();
      await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
      const { port } = free.address() as AddressInfo;
      await new Promise((r) => free.close(r));
      const refused = () => recs.filter((r) => r.type === 'ka' && r.rec.kind === 'resetClose' && r.rec.dport === port).length;
      const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      // One perf event per tracepoint the program attaches (bpftrace opens it on CPU 0); a raw tracepoint has none.
      const tracepoints = p.attached.flatMap((a) => a.attach.split(', ')).filter((a) => a.startsWith('tracepoint:'));
      const before = await tracepointEvents(t.pid!);
      expect(before.size).toBe(tracepoints.length);
      // Each refused connection: its reset sent and received (and two state changes) on CPU 0, through perf's path.
      await refusedOnCpu0(port, 40);
      expect(total(await tracepointEvents(t.pid!)) - total(before)).toBeGreaterThanOrEqual(80);
      const off = await tracepointEvents(t.pid!, 'off');
      await refusedOnCpu0(port, 40);
      expect(await tracepointEvents(t.pid!)).toEqual(off);
      // …while every reset of both rounds left the kernel as a record.
      for (let i = 0; i < 100 && refused() < 80; i++) await new Promise((r) => setTimeout(r, 50));
      expect(refused()).toBe(80);
    } finally {
      await t.stop();
    }
  }, 40_000);

  it('a received reset and the close it causes leave the kernel as one record (resetClose); without offsets, as two', async () => {
    const host = await probeTracingHost();
    const kinds = async (h: TracingHost) => {
      const recs: BpftraceRecord[] = [];
      const p = generateBpfProgram(h, loadBpfFragments(), { countsIntervalSec: 1, filter: { ports: [] } });
      const t = new Tracer({ bpftrace: h.bpftrace.path!, program: p.text, env: p.env, onRecord: (r) => recs.push(r), maxRestarts: 0 });
      await t.start();
      const port = await resetOneConnection();
      // The server's end received the reset (its local port is the listener's); records still in the perf buffer
      // at SIGINT are never printed: wait for its close before stopping.
      const mine = () => recs.flatMap((r) => (r.type === 'ka' && 'sport' in r.rec && r.rec.sport === port ? [r.rec] : []));
      for (let i = 0; i < 100 && !mine().some((r) => r.kind === 'close' || r.kind === 'resetClose'); i++) await new Promise((r) => setTimeout(r, 50));
      await t.stop();
      const received = recs.find((r) => r.type === 'map' && r.name === '@rst_received');
      return { mine: mine(), received: received?.type === 'map' && typeof received.data === 'object' ? received.data : null };
    };
    // Both ways of attaching the state changes where the host has the raw tracepoint: the same record.
    for (const h of host.rawTracepoint.ok ? [host, { ...host, rawTracepoint: { ok: false, reason: 'test' } }] : [host]) {
      const one = await kinds(h);
      expect(one.mine.map((r) => r.kind)).toEqual(['resetClose']);
      expect(one.mine[0]).toMatchObject({ how: CLOSE_HOW.rst_received, family: 2, s4: '127.0.0.1', d4: '127.0.0.1' });
      expect((one.mine[0] as { dport?: number }).dport).toBeGreaterThan(0); // the client's port
      expect(one.mine[0]!.cookie).not.toBeNull(); // made by tcp_receive_reset's sock_cookie if nothing had asked before
      // The exact count stays in the kernel's map, by the namespace that received it (this test's).
      expect(one.received?.[String(statSync('/proc/self/ns/net').ino)]).toBeGreaterThanOrEqual(1);
    }
    const two = await kinds({ ...host, offsets: { ok: false, reason: 'test', value: null } });
    expect(two.mine.map((r) => r.kind)).toEqual(['rrst', 'close']);
  }, 40_000);

  it('a reset flood beyond the records a second: the rest are held back in @capped, none lost, every one counted', async () => {
    const host = await probeTracingHost();
    const recs: BpftraceRecord[] = [];
    const port = await closedPortBelowEphemeral();
    const perSecond = 50;
    const p = generateBpfProgram(host, loadBpfFragments(), { countsIntervalSec: 1, recordsPerSecond: perSecond, filter: { ports: [port] } });
    const t = new Tracer({ bpftrace: host.bpftrace.path!, program: p.text, env: p.env, onRecord: (r) => recs.push(r), maxRestarts: 0 });
    await t.start();
    const n = 400;
    const started = Date.now();
    // Each refused connection: a reset sent (no socket) and one received, which ends the connection (resetClose).
    await refusedOnCpu0(port, n);
    const { shift, perWindow } = gateWindow(perSecond);
    const windows = Math.ceil((Date.now() - started) / (2 ** shift / 1e6)) + 1;
    // The records printed reach the reader, and the counts end twice (1 s intervals) after the flood.
    const countsEnds = () => recs.flatMap((r, i) => (r.type === 'ka' && r.rec.kind === 'countsEnd' ? [i] : []));
    const endsBefore = countsEnds().length;
    for (let i = 0; i < 100 && countsEnds().length < endsBefore + 2; i++) await new Promise((r) => setTimeout(r, 50));
    await t.stop();
    const lastMap = (name: string) => [...recs].reverse().find((r) => r.type === 'map' && r.name === name);
    // A reset sent for a closed port names it as its segment's local port; the connection refused, as its peer.
    const printed = (kind: string) => recs.filter((r) => {
      if (r.type !== 'ka' || r.rec.kind !== kind) return false;
      const ports = r.rec as { segLport?: number; dport?: number };
      return ports.segLport === port || ports.dport === port;
    }).length;
    const cappedMap = lastMap('@capped');
    const capped: Record<string, number> = cappedMap?.type === 'map' && typeof cappedMap.data === 'object' ? cappedMap.data : {};
    const heldBack = (type: string) => Object.entries(capped).filter(([k]) => cappedEventType(Number(k)) === type).reduce((a, [, v]) => a + v, 0);
    for (const [kind, type] of [['rst', 'rst_sent'], ['resetClose', 'rst_received']] as const) {
      expect(printed(kind) + heldBack(type), kind).toBe(n);
      expect(heldBack(type), kind).toBeGreaterThan(0);
      expect(printed(kind), kind).toBeGreaterThan(0);
      // CPUs share a window's budget without a lock: a few more may pass, never a window's worth.
      expect(printed(kind), kind).toBeLessThan(windows * perWindow * 1.5);
    }
    // Nothing printed was lost: every record the kernel counted as printed arrived (all of them this port's, by the
    // in-kernel filter).
    const records = lastMap('@records');
    expect(records?.type === 'map' ? records.data : null).toBe(recs.filter((r) => r.type === 'ka' && !isMarker(r.rec)).length);
    // Each interval's counts end with a marker (a sample of the exact totals at a known time): maps before each one.
    const ends = countsEnds();
    expect(ends.length).toBeGreaterThanOrEqual(endsBefore + 2);
    for (const [a, b] of ends.slice(1).map((e, k) => [ends[k]!, e] as const)) {
      expect(recs.slice(a + 1, b).filter((r) => r.type === 'map').map((r) => r.type === 'map' && r.name)).toContain('@capped');
    }
  }, 40_000);

  it('restarts bpftrace with backoff when it dies', async () => {
    const host = await probeTracingHost();
    const states: string[] = [];
    let readies = 0;
    const t = new Tracer({
      bpftrace: host.bpftrace.path!, program: 'BEGIN { printf("KA ready\\n"); }',
      onRecord: (r) => void (r.type === 'ka' && readies++), onState: (s) => states.push(s),
    });
    await t.start();
    const first = t.pid!;
    process.kill(first, 'SIGKILL');
    const end = Date.now() + 10_000;
    while (readies < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(states).toEqual(['starting', 'ready', 'restarting', 'starting', 'ready']);
    expect(t.pid).not.toBe(first);
    await t.stop();
    expect(states.at(-1)).toBe('stopped');
  }, 30_000);

  it('a program bpftrace rejects fails start() with its error, not a hang', async () => {
    const host = await probeTracingHost();
    const t = new Tracer({ bpftrace: host.bpftrace.path!, program: 'tracepoint:tcp:no_such_tp { }', onRecord: () => {} });
    await expect(t.start()).rejects.toThrow(/no_such_tp|ERROR/);
  });
});
