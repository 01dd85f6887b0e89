#!/usr/bin/env node
// Benchmark: `ka-top exporter` as installed (bin/ka-top, with bpftrace) on a node with N idle connections that
// cross an interface (two scratch namespaces joined by a veth pair, held by ka-peer; both ends are inventoried, as
// on a gateway or a Kubernetes node): CPU per inventory refresh (the exporter's Node alone, and with its helpers and
// bpftrace) against `ss -tien` over the same namespaces in the same run, CPU per second at the default 15 s
// interval, peak RSS, and what a scrape costs. Root; after `make build`.
//   node scripts/bench/exporter.mjs [SOCKETS] [REFRESHES]   (default 100000 6)
// Refreshes are every 5 s here (a third of the default) so that a run takes a minute; the per-refresh figures
// are what counts. Reports figures, never asserts: the exporter runs on every node of a fleet, all the time.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ownCpuSeconds, processTree, treeCpuSeconds } from './lib/ka-top-cpu.mjs';
import { scratchNamespace } from './lib/loopback-sockets.mjs';
import { atExit } from './lib/stop.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const INTERVAL_S = 5;
const DEFAULT_INTERVAL_S = 15;
const WARMUP_REFRESHES = 3;
const sockets = Number(process.argv[2] ?? 100_000);
const refreshes = Number(process.argv[3] ?? 6);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const scratch = scratchNamespace(`kat-bench-exp-${process.pid}`, { crossing: true });
await scratch.hold(sockets);

// The reference: one `ss -tien` of each namespace, CPU seconds (user + system) under GNU time, median of 3. Through
// nsenter: `ip netns exec` remounts /sys, and `ss -e` then complains once a socket that it finds no cgroup2 mount.
function ssCpuSeconds() {
  let cpu = 0;
  for (const ns of scratch.names) {
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', 'nsenter', `--net=/run/netns/${ns}`, 'ss', '-tien'], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`ss -tien in ${ns}: ${r.stderr}`);
    const [u, s] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    cpu += u + s;
  }
  return cpu;
}
const ssCpu = median([ssCpuSeconds(), ssCpuSeconds(), ssCpuSeconds()]);

const exporter = spawn(`${root}bin/ka-top`, ['exporter', '--listen', '127.0.0.1:0', '--interval', `${INTERVAL_S}s`], {
  stdio: ['ignore', 'ignore', 'pipe'],
  env: { ...process.env, KA_TOP_NODE: process.execPath },
});
atExit(() => exporter.kill('SIGKILL')); // a stopped benchmark (after a finished one: exited already, nothing happens)
let stderr = '';
exporter.stderr.on('data', (b) => (stderr += b));
const exited = new Promise((r) => exporter.on('exit', r));
try {
  let url = null;
  for (let i = 0; i < 300 && !url; i++) {
    url = /exporter on (http:\S+)/.exec(stderr)?.[1] ?? null;
    if (!url) await sleep(100);
  }
  if (!url) throw new Error(`the exporter did not start: ${stderr}`);
  const scrape = async () => {
    const t0 = performance.now();
    const text = await (await fetch(url)).text();
    return { ms: performance.now() - t0, bytes: text.length, text };
  };
  const inventories = async () => Number(/^katop_inventories_total (\d+)/m.exec((await scrape()).text)?.[1] ?? 0);
  const until = async (n) => {
    for (;;) {
      const got = await inventories();
      if (got >= n) return got;
      await sleep(250);
    }
  };
  const first = await until(WARMUP_REFRESHES);
  const t0 = performance.now();
  const tree0 = treeCpuSeconds(exporter.pid);
  const node0 = ownCpuSeconds(exporter.pid);
  const last = await until(first + refreshes);
  const wallS = (performance.now() - t0) / 1000;
  const n = last - first;
  const treeS = treeCpuSeconds(exporter.pid) - tree0;
  const nodeS = ownCpuSeconds(exporter.pid) - node0;
  const scrapes = [];
  for (let i = 0; i < 5; i++) scrapes.push(await scrape());
  const hwmMiB = Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${exporter.pid}/status`, 'utf8'))[1]) / 1024;
  const helpers = processTree(exporter.pid).filter((p) => p.pid !== exporter.pid).flatMap((p) => {
    try {
      return [readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim()];
    } catch {
      return []; // a child that exited meanwhile
    }
  });

  const perRefresh = treeS / n;
  console.log(`${sockets} sockets (${sockets / 2} connections) crossing a veth pair (${scratch.names.join(', ')}), ${n} refreshes every ${INTERVAL_S} s after ${first} of warm-up, ${wallS.toFixed(0)} s (load average ${loadavg()[0].toFixed(1)}):`);
  console.log(`  CPU per refresh: ${perRefresh.toFixed(3)} s with its children (${helpers.join(', ')}), ${(nodeS / n).toFixed(3)} s Node alone; \`ss -tien\` of the same sockets ${ssCpu.toFixed(3)} s: ratio ${(perRefresh / ssCpu).toFixed(2)}x`);
  console.log(`  at the default ${DEFAULT_INTERVAL_S} s interval: ~${(perRefresh / DEFAULT_INTERVAL_S).toFixed(3)} core (measured at ${INTERVAL_S} s: ${(treeS / wallS).toFixed(3)} core)`);
  console.log(`  peak RSS ${hwmMiB.toFixed(0)} MiB (Node); a scrape ${median(scrapes.map((s) => s.ms)).toFixed(1)} ms median, ${scrapes[0].bytes} bytes`);
} finally {
  exporter.kill('SIGINT');
  await Promise.race([exited, sleep(10_000)]);
  scratch.close();
}
