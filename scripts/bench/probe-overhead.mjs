#!/usr/bin/env node
// Probe overhead: nginx (Debian) on loopback, every request a new connection (keepalive_timeout 0), `wrk -t1 -c32`
// for D seconds, runs alternated without ka-top / with `ka-top watch --json` attached / with the TUI running (in a
// 160x45 pty: its inventory every 2 s holds the ~20k TIME-WAIT sockets the churn keeps) (A B C, then C B A, …).
// Prints each run's req/s, the median of the rounds' throughput ratios with ÷ without (with a bootstrap 95% interval;
// every compared run follows the same 2 s pause), and ka-top's CPU while
// attached (node + bpftrace + ka-sockinfo + the ss/nsenter children it ran) in cores, and what its BPF programs ran
// in the kernel (bpf_stats, in a 2 s run after each attached one: the cost the probes add to nginx's and wrk's own
// system calls, which the throughput ratio shows only through the noise of the runs: rounds of this machine differ
// by 10–30%). Root; after `make build`. Targets (issue 10): ratio ≥ 0.95, CPU ≤ 0.10 core at ~20k new
// connections/s.
// Env: BENCH_SECONDS (6), BENCH_PAIRS (3 rounds), BENCH_WITH ("watch,tui"), WATCH_ARGS ("--json"), BENCH_PORT
// (8490), KA_TOP_CLI (this build's dist/cli/main.js; point it at another build to compare).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bpfRunStats, treeCpuSeconds, withBpfStats } from './lib/ka-top-cpu.mjs';
import { spawnInstalledTui } from './lib/installed-tui.mjs';
import { atExit } from './lib/stop.mjs';

const D = Number(process.env.BENCH_SECONDS ?? 6);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
const PORT = Number(process.env.BENCH_PORT ?? 8490);
const WATCH_ARGS = (process.env.WATCH_ARGS ?? '--json').split(' ').filter(Boolean);
const MODES = (process.env.BENCH_WITH ?? 'watch,tui').split(',').filter(Boolean);
/** Length of the run after each attached one that measures what the BPF programs cost (bpf_stats on). */
const BPF_SECONDS = 2;
const bad = MODES.find((m) => m !== 'watch' && m !== 'tui');
if (bad) throw new Error(`BENCH_WITH: ${bad} is neither watch nor tui`);
const CLI = process.env.KA_TOP_CLI ?? fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

for (const cmd of ['nginx', 'wrk']) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    console.log(`probe-overhead: skipped, ${cmd} is not installed (scripts/setup.sh installs it)`);
    process.exit(0);
  }
}
if (process.getuid?.() !== 0) {
  console.log('probe-overhead: skipped, needs root (ka-top watch traces with bpftrace)');
  process.exit(0);
}

const dir = mkdtempSync(`${tmpdir()}/ka-bench-nginx-`);
writeFileSync(`${dir}/nginx.conf`, `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_timeout 0;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${PORT} backlog=4096; location / { return 200 "ok\\n"; } } }
`);
const nginx = spawn('nginx', ['-p', dir, '-c', `${dir}/nginx.conf`], { stdio: 'ignore' });
// wrk's client ports recycle while TIME-WAIT sockets pile up; restored at exit.
const twReuse = readFileSync('/proc/sys/net/ipv4/tcp_tw_reuse', 'utf8').trim();
writeFileSync('/proc/sys/net/ipv4/tcp_tw_reuse', '1');
const BPF_STATS = '/proc/sys/kernel/bpf_stats_enabled';
const bpfStatsWere = readFileSync(BPF_STATS, 'utf8').trim(); // an interrupted cost run must not leave them on
/** The ka-top under measurement and the last wrk (killed if the benchmark is interrupted). */
let running = null;
let load = null;
let cleaned = false;
const cleanup = () => {
  if (cleaned) return;
  cleaned = true;
  if (running) {
    try {
      process.kill(running.pid, 'SIGKILL');
    } catch {}
  }
  load?.kill('SIGKILL');
  nginx.kill('SIGTERM');
  writeFileSync('/proc/sys/net/ipv4/tcp_tw_reuse', twReuse);
  writeFileSync(BPF_STATS, bpfStatsWere);
  rmSync(dir, { recursive: true, force: true });
};
atExit(cleanup);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const wrk = (seconds = D) => new Promise((resolve) => {
  const c = (load = spawn('wrk', ['-t1', '-c32', `-d${seconds}s`, `http://127.0.0.1:${PORT}/`]));
  let out = '';
  c.stdout.on('data', (b) => (out += b));
  c.on('close', () => resolve(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)));
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** 95% interval of the median ratio, by bootstrap over the rounds (seeded: the same rounds give the same interval).
 *  Rounds of this machine differ by 10-30%: the interval says which differences the run can resolve. */
function medianInterval(xs, resamples = 4000) {
  let seed = 0x6b61746f;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const medians = Array.from({ length: resamples }, () => median(xs.map(() => xs[Math.floor(random() * xs.length)])));
  medians.sort((a, b) => a - b);
  return [medians[Math.floor(resamples * 0.025)], medians[Math.floor(resamples * 0.975)]];
}

/** The pause before each compared run, attached or not: a run after an idle pause differs from one right after
 *  another (~2% here), so both sides get the same. */
const SETTLE_MS = 2000;

/** ka-top running: `watch` with its output counted, or the TUI in a pty. `stop()` ends it and waits. */
async function startKaTop(mode) {
  if (mode === 'watch') {
    const w = spawn(process.execPath, [CLI, 'watch', ...WATCH_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const out = { pid: w.pid, lines: 0 };
    w.stderr.on('data', (b) => (err += b));
    w.stdout.on('data', (b) => (out.lines += b.toString().split('\n').length - 1));
    const closed = new Promise((r) => w.on('close', r));
    out.stop = async () => {
      w.kill('SIGINT');
      await closed;
    };
    for (let i = 0; i < 300 && !/watching/.test(err); i++) await sleep(100);
    if (!/watching/.test(err)) throw new Error(`ka-top watch did not start: ${err}`);
    return out;
  }
  const t = spawnInstalledTui(fileURLToPath(new URL('../../bin/ka-top', pathToFileURL(CLI))));
  let screen = '';
  t.onData((d) => (screen = (screen + d).slice(-8192)));
  const exited = new Promise((r) => t.onExit(r));
  const out = { pid: t.pid, lines: null };
  out.stop = async () => {
    t.write('q');
    if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) t.kill('SIGKILL');
  };
  // The status line's key help appears with the first inventory; the tracer is attached by then or soon after.
  for (let i = 0; i < 300 && !/q quit/.test(screen); i++) await sleep(100);
  if (!/q quit/.test(screen)) throw new Error(`the TUI did not draw its table: ${screen.slice(-300)}`);
  return out;
}

async function attached(mode) {
  const k = await startKaTop(mode);
  running = k;
  // The TUI's first seconds (its first inventories read every socket's options, code warms up) are not its steady
  // cost; watch takes an inventory only every 30 s.
  await sleep(mode === 'tui' ? 10_000 : SETTLE_MS);
  const c0 = treeCpuSeconds(k.pid);
  const rps = await wrk();
  const cpu = treeCpuSeconds(k.pid) - c0;
  const printed = k.lines;
  // The BPF programs' own cost in a short run of its own: counting it (kernel.bpf_stats_enabled) takes two clock
  // reads per program run, ~250k runs/s here, which would slow the run whose throughput is compared.
  const bpf = await withBpfStats(async () => {
    const b0 = bpfRunStats(k.pid);
    await wrk(BPF_SECONDS);
    const before = new Map(b0.map((p) => [p.tag, p]));
    const ran = bpfRunStats(k.pid).map((p) => ({ ns: p.ns - (before.get(p.tag)?.ns ?? 0), runs: p.runs - (before.get(p.tag)?.runs ?? 0) }));
    const hottest = ran.reduce((a, b) => (b.runs > a.runs ? b : a), { ns: 0, runs: 0 });
    return { core: ran.reduce((t, p) => t + p.ns, 0) / 1e9 / BPF_SECONDS, runsPerSec: hottest.runs / BPF_SECONDS, nsPerRun: hottest.runs ? hottest.ns / hottest.runs : 0 };
  });
  await k.stop();
  running = null;
  return { rps, cpu, lines: printed, bpf };
}

const label = (mode) => (mode === 'watch' ? `watch ${WATCH_ARGS.join(' ')}` : 'the TUI');

try {
  await sleep(500);
  const base = [];
  const runs = Object.fromEntries(MODES.map((m) => [m, { rps: [], ratios: [], cores: [], bpf: [] }]));
  for (let i = 1; i <= PAIRS; i++) {
    // The order turns every other round (without first, then last): the machine's drift within a round (its
    // throughput wanders by a quarter here) then weighs on both sides alike, not always on the later runs.
    const order = i % 2 ? [null, ...MODES] : [...MODES].reverse().concat(null);
    const seen = new Map();
    for (const mode of order) seen.set(mode, mode === null ? await sleep(SETTLE_MS).then(async () => ({ rps: await wrk() })) : await attached(mode));
    const without = seen.get(null).rps;
    base.push(without);
    console.log(`round ${i} (${order.map((m) => m ?? 'without').join(', ')}): without ${without.toFixed(0)} req/s`);
    for (const mode of MODES) {
      const a = seen.get(mode);
      runs[mode].rps.push(a.rps);
      runs[mode].ratios.push(a.rps / without);
      runs[mode].cores.push(a.cpu / D);
      runs[mode].bpf.push(a.bpf.core);
      console.log(`  with ${label(mode)}: ${a.rps.toFixed(0)} req/s (${(a.rps / without).toFixed(3)}); ka-top ${a.cpu.toFixed(2)} CPU-s over ${D} s (${(a.cpu / D).toFixed(3)} core); its BPF programs ${(a.bpf.core * 100).toFixed(2)}% of a core in the kernel (hottest ${a.bpf.runsPerSec.toFixed(0)} runs/s at ${a.bpf.nsPerRun.toFixed(0)} ns)${a.lines === null ? '' : `; ${a.lines} lines printed`}`);
    }
  }
  for (const mode of MODES) {
    const r = runs[mode];
    const [lo, hi] = medianInterval(r.ratios);
    console.log(`probe overhead (${label(mode)}): ratio ${median(r.ratios).toFixed(3)} (median of the rounds' ratios, 95% interval ${lo.toFixed(3)}–${hi.toFixed(3)} over ${r.ratios.length} rounds; target ≥ 0.95), median without ${median(base).toFixed(0)} req/s, with ${median(r.rps).toFixed(0)} req/s (${(median(r.rps) / median(base)).toFixed(3)}); ka-top median ${median(r.cores).toFixed(3)} core (target ≤ 0.10), its BPF programs ${(median(r.bpf) * 100).toFixed(2)}% of a core`);
  }
} finally {
  cleanup();
}
