#!/usr/bin/env node
// Soak (not in CI, not in `make bench`'s default run): ka-top left running for a long time on a busy host must not
// grow. Holds SOCKETS loopback sockets in a scratch namespace, churns ~RATE new connections/s there (half closed
// with FIN, leaving TIME-WAIT; half reset by a health checker with SO_LINGER {1,0}: one rst_sent event each), runs
// the scenario lab, and watches the long-running modes asked for: the TUI (in a pty), `watch --json`, `exporter`
// (scraped every 15 s). Every 10 s it samples each one's RSS (node + bpftrace + helpers), CPU, and the sockets of the
// scratch namespace (the workload must stay level for the RSS to mean anything). On 2 cores, run one mode at a time:
// three observers, the churn and the lab starve each other and the churn's server, and the sockets pile up.
// Reports RSS growth after warm-up (issue 10 target: <= 10% over 30 min at 10k sockets, 500 new connections/s).
// Root. Run after `make build`:
//   node scripts/bench/soak.mjs [--modes tui,watch,exporter] [--minutes 30] [--warmup 5] [--sockets 10000]
//                               [--rate 500] [--json FILE]
// KAT_PROF=DIR: the TUI runs with --cpu-prof and is quit with `q` at the end (its profile lands in DIR).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pty from 'node-pty';
import { processTree, treeCpuSeconds } from './lib/ka-top-cpu.mjs';
import { scratchNamespace } from './lib/loopback-sockets.mjs';
import { atExit } from './lib/stop.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}dist/cli/main.js`;
const peer = `${root}dist/bin/${process.arch}/ka-peer`;
const { values: opt } = parseArgs({
  options: {
    modes: { type: 'string', default: 'tui' },
    minutes: { type: 'string', default: '30' }, warmup: { type: 'string', default: '5' },
    sockets: { type: 'string', default: '10000' }, rate: { type: 'string', default: '500' }, json: { type: 'string' },
  },
});
const MINUTES = Number(opt.minutes), WARMUP = Number(opt.warmup), SOCKETS = Number(opt.sockets), RATE = Number(opt.rate);
const MODES = opt.modes.split(',');
if (!(MINUTES > WARMUP && WARMUP >= 0 && SOCKETS >= 2 && RATE > 0) || !MODES.every((m) => ['tui', 'watch', 'exporter'].includes(m))) {
  console.error('soak: want --modes of tui,watch,exporter, --minutes > --warmup >= 0, --sockets >= 2, --rate > 0');
  process.exit(2);
}
const SAMPLE_MS = 10_000;
const children = [];
let tui = null;

function cleanup() {
  tui?.kill('SIGTERM');
  for (const c of children) c.kill('SIGTERM');
  spawnSync(process.execPath, [cli, 'lab', 'down'], { stdio: 'ignore' });
}
atExit(cleanup); // registered before the namespace's own: observers and churn end first
const scratch = scratchNamespace(`kat-soak-${process.pid}`);
const ns = scratch.name;

const inNs = (args, stdio = ['ignore', 'ignore', 'inherit']) => {
  const c = spawn('ip', ['netns', 'exec', ns, ...args], { stdio });
  children.push(c);
  return c;
};
/** Waits for n lines matching `re`, then lets the rest of the output go unread (a churn server prints a line
 *  per connection: kept and searched, it took most of a core here). */
const lines = (c, re, n) => new Promise((resolve, reject) => {
  let buf = '';
  const onData = (b) => {
    buf += b;
    if ((buf.match(re) ?? []).length < n) return;
    c.stdout.off('data', onData);
    c.stdout.resume();
    resolve(buf);
  };
  c.stdout.on('data', onData);
  c.on('exit', (code) => reject(new Error(`ka-peer exited ${code} before ${n} lines`)));
});
/** TCP sockets of the scratch namespace (`ss -s`: the kernel's count, no dump). */
const socketCount = () => Number(/^TCP:\s+(\d+)/m.exec(spawnSync('ip', ['netns', 'exec', ns, 'ss', '-s'], { encoding: 'utf8' }).stdout)?.[1] ?? NaN);
const nstat = (name) => {
  const out = spawnSync('ip', ['netns', 'exec', ns, 'nstat', '-az', name], { encoding: 'utf8' }).stdout;
  return Number(new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(out)?.[1] ?? NaN);
};

/** RSS (kB) of a process and every descendant (bpftrace, ka-sockinfo). */
function treeRssKb(rootPid) {
  const rss = (pid) => {
    try {
      return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0; // exited
    }
  };
  return processTree(rootPid).reduce((kb, p) => kb + rss(p.pid), 0);
}

// 1. The load: held sockets, churn, the lab.
await scratch.hold(SOCKETS);
const sink = inNs([peer, 'server', '--listen', '127.0.0.1:7000', '--mode', 'sink'], ['ignore', 'pipe', 'inherit']);
await lines(sink, /^LISTEN/gm, 1);
// ~220 connections/s per ka-peer at --every 2 here (connect + close + the timer); enough of them for RATE.
const perChurner = 220;
for (let i = 0; i < Math.max(2, Math.ceil(RATE / perChurner)); i++) {
  inNs(i % 2 === 0
    ? [peer, 'client', '--connect', '127.0.0.1:7000', '--close-after', '1', '--reconnect', '--every', '2']
    : [peer, 'checker', '--connect', '127.0.0.1:7000', '--every', '2']);
}
spawnSync(process.execPath, [cli, 'lab', 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });

// 2. The observers.
const observers = {};
if (MODES.includes('tui')) {
  const prof = process.env.KAT_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.KAT_PROF}`] : [];
  tui = pty.spawn(process.execPath, [...prof, cli], { cols: 160, rows: 45, env: process.env });
  tui.onData(() => {}); // a terminal that reads what it is sent
  observers.tui = tui.pid;
}
if (MODES.includes('watch')) {
  const watch = spawn(process.execPath, [cli, 'watch', '--json'], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(watch);
  observers.watch = watch.pid;
}
let scrape = null;
if (MODES.includes('exporter')) {
  const port = 19_000 + (process.pid % 900);
  const exporter = spawn(process.execPath, [cli, 'exporter', '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(exporter);
  observers.exporter = exporter.pid;
  scrape = setInterval(() => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => {}), 15_000);
}

// 3. Samples.
const t0 = Date.now();
const opens0 = nstat('TcpActiveOpens');
const samples = [];
while (Date.now() - t0 < MINUTES * 60_000) {
  await new Promise((r) => setTimeout(r, SAMPLE_MS));
  const min = (Date.now() - t0) / 60_000;
  const row = { min: +min.toFixed(2), sockets: socketCount() };
  for (const [name, pid] of Object.entries(observers)) row[name] = { rssMb: treeRssKb(pid) / 1024, cpuS: treeCpuSeconds(pid) };
  samples.push(row);
  process.stderr.write(`\r${min.toFixed(1)} min  ${row.sockets} sockets  ${Object.keys(observers).map((k) => `${k} ${row[k].rssMb.toFixed(0)} MiB`).join('  ')}   `);
}
const rate = (nstat('TcpActiveOpens') - opens0) / ((Date.now() - t0) / 1000);
if (scrape) clearInterval(scrape);
process.stderr.write('\n');
if (tui && process.env.KAT_PROF) {
  const exited = new Promise((r) => tui.onExit(r));
  tui.write('q');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
}

// 4. Report: RSS over the first minute after warm-up against the last minute; peak; CPU per second after warm-up.
const after = samples.filter((s) => s.min >= WARMUP);
const perMin = 60_000 / SAMPLE_MS;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const report = { minutes: MINUTES, warmupMinutes: WARMUP, sockets: SOCKETS, newConnectionsPerSec: +rate.toFixed(0), observers: {} };
const level = (xs) => `${Math.min(...xs)}–${Math.max(...xs)}`;
console.log(`soak: ${MINUTES} min, ${SOCKETS} held sockets, ${rate.toFixed(0)} new connections/s measured (TcpActiveOpens), lab running; namespace sockets after warm-up ${level(after.map((s) => s.sockets))}`);
console.log('| mode | RSS after warm-up | RSS last minute | growth | peak RSS | CPU after warm-up |');
console.log('|---|---|---|---|---|---|');
for (const name of Object.keys(observers)) {
  const first = mean(after.slice(0, perMin).map((s) => s[name].rssMb));
  const last = mean(after.slice(-perMin).map((s) => s[name].rssMb));
  const peak = Math.max(...samples.map((s) => s[name].rssMb));
  const cpu = (after.at(-1)[name].cpuS - after[0][name].cpuS) / ((after.at(-1).min - after[0].min) * 60);
  report.observers[name] = { rssAfterWarmupMb: first, rssLastMinuteMb: last, growth: last / first - 1, peakMb: peak, cpuCores: cpu };
  console.log(`| ${name} | ${first.toFixed(0)} MiB | ${last.toFixed(0)} MiB | ${((last / first - 1) * 100).toFixed(1)}% | ${peak.toFixed(0)} MiB | ${(cpu * 100).toFixed(1)}% of a core |`);
}
if (opt.json) writeFileSync(opt.json, JSON.stringify({ ...report, samples }, null, 1));
process.exit(0);
