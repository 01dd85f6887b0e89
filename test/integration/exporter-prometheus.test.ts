// End to end: a real Prometheus (Debian's binary, loopback, temp config and storage) scrapes `ka-top exporter`
// every 2 s while the scenario lab runs the zero-linger health checker, the dead peer and the idle reclaim. The
// HTTP API must show the linger resets, the probes and timeout and the idle-reclaim finding with the lab's labels.
// The exporter also survives 10 concurrent scrapers during refreshes, a namespace disappearing and its tracer
// being killed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, start } from '../../src/sources/exec.js';
import { runCli } from '../helpers/cli.js';
import { eventually, sample, startExporter, type RunningExporter } from '../helpers/exporter.js';
import { acquireLabLock, releaseLabLock } from '../helpers/lab-lock.js';
import { startPeer, stopAllPeers } from '../helpers/peer.js';

const dir = mkdtempSync(join(tmpdir(), 'kat-exp-prom-'));
const eventsLog = join(dir, 'events.ndjson');
let exporter: RunningExporter;
let prometheus: ChildProcess;
let promUrl = '';
let promErr = '';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface PromResult { metric: Record<string, string>; value: [number, string] }
async function query(q: string): Promise<PromResult[]> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await r.json()) as { status: string; data: { result: PromResult[] } };
  if (body.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(body)}`);
  return body.data.result;
}
const nonEmpty = (q: string) => async () => {
  const r = await query(q);
  return r.length > 0 && r;
};

function cpuAndRss(pid: number): { cpuSec: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { cpuSec: ticks / 100, rssMiB: Math.round(rss / 1024) };
}

beforeAll(async () => {
  await acquireLabLock();
  await runCli(['lab', 'down']);
  const up = await runCli(['lab', 'up', '--scenario', 'health-checker,dead-peer,idle-reclaim'], { timeoutMs: 120_000 });
  expect(up.code, up.stderr).toBe(0);
  exporter = await startExporter(['--interval', '2s', '--idle-timeouts', 'lab=8', '--events-log', eventsLog], { KA_TOP_TRACER_RETRY_MS: '2000' });
  const target = exporter.url.replace('http://', '');
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global: { scrape_interval: 2s, evaluation_interval: 2s }',
    'scrape_configs:',
    '  - job_name: ka-top',
    `    static_configs: [{ targets: ["${target}"] }]`,
  ].join('\n') + '\n');
  prometheus = start('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ]);
  prometheus.stderr!.on('data', (b: Buffer) => (promErr += b.toString()));
  promUrl = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${promUrl}/-/ready`)).status === 200, 60_000, `prometheus ready: ${promErr}`);
}, 300_000);

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  if (exporter) expect(await exporter.stop()).toBe(143);
  await stopAllPeers();
  await runCli(['lab', 'down']);
  releaseLabLock();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('Prometheus scraping ka-top exporter on the lab', () => {
  it('shows the health checker\'s zero-linger resets with its namespace', async () => {
    const r = await eventually(nonEmpty('sum by (netns) (katop_resets_sent_total{job="ka-top",cause="linger"}) > 0'), 150_000, 'linger resets in Prometheus');
    expect(r.map((x) => x.metric.netns)).toContain('kalab-hc-cli');
    // The kernel's own counts of the checker's namespace (by cause: the same rule as the events') and its target's:
    // at least what the events counted before (exact also in a flood, when events are held back).
    const sent = await eventually(nonEmpty('katop_netns_resets_sent_total{job="ka-top",netns="kalab-hc-cli",cause="linger"} > 0'), 60_000, 'the namespace\'s kernel count');
    expect(Number(sent[0]!.value[1])).toBeGreaterThanOrEqual(Number(r.find((x) => x.metric.netns === 'kalab-hc-cli')!.value[1]));
    await eventually(nonEmpty('katop_netns_resets_received_total{job="ka-top",netns="kalab-hc-srv"} > 0'), 60_000, 'the target\'s received resets');
    const up = await query('up{job="ka-top"}');
    expect(up[0]!.value[1]).toBe('1');
  }, 200_000);

  it('shows the dead peer\'s keepalive probes and its keepalive timeout', async () => {
    const probes = await eventually(nonEmpty('katop_keepalive_probes_total{netns="kalab-dead-cli"} > 0'), 90_000, 'probes');
    expect(Number(probes[0]!.value[1])).toBeGreaterThan(0);
    await eventually(nonEmpty('katop_keepalive_timeouts_total{netns="kalab-dead-cli"} > 0'), 150_000, 'keepalive timeout');
    await eventually(nonEmpty('katop_closes_total{netns="kalab-dead-cli"} > 0'), 30_000, 'closes of the dead peer\'s client');
    await eventually(nonEmpty('katop_kernel_keepalive_timeouts_total > 0'), 30_000, 'kernel count of timeouts');
  }, 300_000);

  it('shows the findings: idle reclaim, zero-linger resets and keepalive timeouts', async () => {
    // Over the whole run: a reclaimed flow lives 12 s, and a loaded host may refresh its inventory less often.
    for (const rule of ['idle-flow-reset-by-middlebox', 'zero-linger-resets', 'keepalive-timeouts']) {
      await eventually(nonEmpty(`max_over_time(katop_findings{rule="${rule}"}[15m]) > 0`), 240_000, `finding ${rule}`);
    }
    const sysctl = await query('katop_netns_keepalive_time_seconds{netns="kalab-hc-cli"}');
    expect(Number(sysctl[0]!.value[1])).toBeGreaterThan(0);
  }, 800_000);

  it('serves an exposition promtool accepts, with no address, port or pid in any label', async () => {
    const body = await exporter.scrape();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(body).not.toMatch(/198\.18\.|fd6b:|pid="|port="|cookie/);
    const om = await exporter.scrape('application/openmetrics-text; version=1.0.0');
    expect(om.endsWith('# EOF\n')).toBe(true);
  });

  it('writes the per-connection detail to --events-log', () => {
    const lines = readFileSync(eventsLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; local?: { address: string } });
    // The lab's resets, with their endpoints (other tests running meanwhile may add their own, on loopback).
    expect(lines.some((e) => e.type === 'rst_sent' && /^198\.18\./.test(e.local?.address ?? ''))).toBe(true);
  });

  it('answers 10 concurrent scrapers during refreshes, each with a whole set', async () => {
    const before = sample(await exporter.scrape(), 'katop_inventories_total')!;
    const bodies: string[] = [];
    // Rounds of 10 at once until at least one refresh happened in between (2 s interval, longer when costly).
    for (let round = 0; round < 6 || sample(bodies.at(-1)!, 'katop_inventories_total')! <= before; round++) {
      bodies.push(...await Promise.all(Array.from({ length: 10 }, () => exporter.scrape())));
      await new Promise((r) => setTimeout(r, 700));
    }
    for (const b of bodies) {
      for (const name of ['katop_connections', 'katop_netns_keepalive_time_seconds', 'katop_build_info', 'katop_tracer_up']) expect(b).toContain(`\n${name}`);
      expect(b.endsWith('\n')).toBe(true);
    }
  }, 240_000);

  it('survives a namespace disappearing', async () => {
    const ns = `kat-exp-${process.pid}-gone`;
    await run('ip', ['netns', 'add', ns]);
    try {
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const srv = await startPeer(['server', '--listen', '127.0.0.1:7311', '--mode', 'hold'], { netns: ns });
      await srv.waitFor(/^LISTEN /);
      const cli = await startPeer(['client', '--connect', '127.0.0.1:7311', '--mode', 'hold'], { netns: ns });
      await cli.waitFor(/^CONN /);
      await eventually(async () => sample(await exporter.scrape(), 'katop_connections', { netns: ns, state: 'ESTAB' }) === 2, 150_000, 'the namespace in the metrics');
      await cli.stop();
      await srv.stop();
    } finally {
      await run('ip', ['netns', 'del', ns]);
    }
    // Its gauges go with the inventory; its counters (the peers' closes) stay, as counters of a gone pod do.
    await eventually(async () => !new RegExp(`^katop_(connections|netns_keepalive_time_seconds)\\{[^}]*netns="${ns}"`, 'm').test(await exporter.scrape()), 150_000, 'its gauges gone');
    expect((await fetch(`${exporter.url}/healthz`)).status).toBe(200);
  }, 360_000);

  it('survives its tracer being killed: restarts it, counts the restart, keeps counters monotonic', async () => {
    const pgrep = await run('pgrep', ['-P', String(exporter.child.pid), 'bpftrace']);
    const bpftrace = Number(pgrep.stdout.trim().split('\n')[0]);
    expect(bpftrace, pgrep.stderr).toBeGreaterThan(0);
    const before = await exporter.scrape();
    const linger = (b: string) => b.split('\n').filter((l) => l.startsWith('katop_kernel_resets_sent_total')).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    process.kill(bpftrace, 'SIGKILL');
    const after = await eventually(async () => {
      const b = await exporter.scrape();
      return (sample(b, 'katop_tracer_restarts_total') ?? 0) >= 1 && sample(b, 'katop_tracer_up') === 1 && b;
    }, 120_000, 'the tracer back up');
    expect(linger(after)).toBeGreaterThanOrEqual(linger(before));
    const usage = cpuAndRss(exporter.child.pid!);
    console.log(`exporter after the lab run: ${usage.cpuSec.toFixed(1)} s CPU (with children), RSS ${usage.rssMiB} MiB`);
  }, 150_000);
});
