#!/usr/bin/env node
// Benchmark: `ka-top snapshot` and the native inventory (`ka-sockinfo inventory`) vs `ss -tien` (and `ss -tiepn`)
// on N real loopback sockets held by ka-peer in a scratch network namespace, measured in the same run; plus peak
// RSS, and the bytes per connection the inventory holds in Node's heap (after GC), native and ss path. Root.
//   node scripts/bench/snapshot.mjs [SOCKETS,…]   (default 10000,50000,100000)
// Reports ratios, never asserts: speed targets live here, not in tests (issue 10 target: snapshot JSON <= 2.0x
// ss -tien at 100k sockets, goal 1.3x). ka-top runs as installed (bin/ka-top, its node flags) on the Node running
// this script: `/path/to/node scripts/bench/snapshot.mjs` measures that Node.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { scratchNamespace, sh } from './lib/loopback-sockets.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

// `snapshot.mjs --heap NETNS native|ss` (run with --expose-gc by the benchmark itself): heap bytes per connection.
if (process.argv[2] === '--heap') {
  const { collectInventory } = await import(`${root}dist/engine/inventory.js`);
  const { liveInventory } = await import(`${root}dist/sources/live.js`);
  const [, , , ns, via] = process.argv;
  const src = liveInventory({ native: via === 'native' });
  const only = { netns: (n) => n.name === ns };
  // After the event loop turned (the helper's streams let go of their last chunks), with a full GC.
  const settled = async () => {
    await new Promise((r) => setTimeout(r, 200));
    globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  await collectInventory(src, only); // warm: process facts cached, code compiled, as in a refresh loop
  const before = await settled();
  const inv = await collectInventory(src, only);
  const held = (await settled()) - before;
  console.log(JSON.stringify({ connections: inv.connections.length, bytesPerConnection: Math.round(held / inv.connections.length), via: inv.socketSource.via }));
  process.exit(0);
}
const cli = `${root}bin/ka-top`;
const RUNS = 3;

const sizes = (process.argv[2] ?? '10000,50000,100000').split(',').map(Number);
const scratch = scratchNamespace(`kat-bench-snap-${process.pid}`);
const ns = scratch.name;

/**
 * Runs a command to completion under GNU time: wall ms, CPU seconds (user + system, children included: ka-top's
 * helpers count) and peak RSS (kB). CPU is the steadier figure when other work shares the machine.
 */
function measure(cmd, args, env = {}) {
  const out = `${tmpdir()}/kat-bench-time-${process.pid}`;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', out, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KA_TOP_NODE: process.execPath, ...env } });
    let err = '';
    c.stderr.on('data', (b) => (err += b));
    c.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      const [user, sys, rssKb] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      resolve({ ms, cpu: user + sys, hwmKb: rssKb });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function bench(sockets) {
  await scratch.hold(sockets);
  const nsPath = scratch.path;
  const cases = {
    'ss -tien': ['nsenter', [`--net=${nsPath}`, 'ss', '-tien']],
    'ss -tiepn': ['nsenter', [`--net=${nsPath}`, 'ss', '-tiepn']],
    'ka-sockinfo inventory': [`${root}dist/bin/${process.arch}/ka-sockinfo`, ['inventory', nsPath]],
    'ka-top snapshot --netns': [cli, ['snapshot', '--format', 'json', '--netns', ns]],
    'ka-top snapshot (all netns)': [cli, ['snapshot', '--format', 'json']],
    'snapshot --netns, ss path': [cli, ['snapshot', '--format', 'json', '--netns', ns], { KA_TOP_SOCKETS: 'ss' }],
  };
  const results = Object.fromEntries(Object.keys(cases).map((k) => [k, { ms: [], cpu: [], hwm: [] }]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, [cmd, args, env]] of Object.entries(cases)) {
      const r = await measure(cmd, args, env);
      results[name].ms.push(r.ms);
      results[name].cpu.push(r.cpu);
      results[name].hwm.push(r.hwmKb);
    }
  }
  const base = median(results['ss -tien'].ms);
  const baseCpu = median(results['ss -tien'].cpu);
  const found = (sh('nsenter', [`--net=${nsPath}`, 'ss', '-Htan']).match(/\n/g) ?? []).length;
  console.log(`\n${found} TCP sockets in ${ns} (median of ${RUNS} runs, same run; ratios against ss -tien):`);
  for (const [name, r] of Object.entries(results)) {
    const ms = median(r.ms);
    const cpu = median(r.cpu);
    console.log(`  ${name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms ${(ms / base).toFixed(2).padStart(6)}x   CPU ${cpu.toFixed(2).padStart(6)} s ${(cpu / baseCpu).toFixed(2).padStart(6)}x   peak RSS ${(Math.max(...r.hwm) / 1024).toFixed(0)} MiB`);
  }
  for (const via of ['native', 'ss']) {
    const h = JSON.parse(sh(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--heap', ns, via]));
    console.log(`  heap held by the inventory (${h.via} path): ${h.bytesPerConnection} bytes per connection (${h.connections} connections)`);
  }
  scratch.release();
  await new Promise((r) => setTimeout(r, 500));
}

for (const n of sizes) await bench(n);
