#!/usr/bin/env node
// Benchmark: `ka-top snapshot` vs `ss -tien` (and `ss -tiepn`) on N real loopback sockets held by ka-peer in a
// scratch network namespace, measured in the same run; plus ka-top's peak RSS. Root.
//   node scripts/bench/snapshot.mjs [SOCKETS,…]   (default 10000,50000)
// Reports ratios, never asserts: speed targets live here, not in tests (issue target: <= 1.5x ss -tien at 50k).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const peer = `${root}dist/bin/${process.arch}/ka-peer`;
const cli = `${root}dist/cli/main.js`;
const PER_PROCESS = 8000; // the fd hard limit is 20000 per process on the project's machines
const RUNS = 5;

const sizes = (process.argv[2] ?? '10000,50000').split(',').map(Number);
const ns = `kat-bench-snap-${process.pid}`;
const children = [];

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function cleanup() {
  for (const c of children) c.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', ns]);
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function startPeer(args) {
  const c = spawn('ip', ['netns', 'exec', ns, peer, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  let buf = '';
  const waiters = [];
  c.stdout.on('data', (b) => {
    buf += b;
    for (const w of [...waiters]) w();
  });
  const count = (re) => (buf.match(re) ?? []).length;
  const waitCount = (re, n) =>
    new Promise((resolve) => {
      const check = () => count(re) >= n && (waiters.splice(waiters.indexOf(check), 1), resolve());
      waiters.push(check);
      check();
    });
  return { c, text: () => buf, waitCount };
}

/** Runs a command to completion; returns wall ms and the peak RSS seen (VmHWM, kB). */
function measure(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let hwm = 0;
    c.stderr.on('data', (b) => (err += b));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch {
        /* exited */
      }
    }, 10);
    c.on('close', (code) => {
      clearInterval(poll);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      else resolve({ ms, hwmKb: hwm });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function bench(sockets) {
  const conns = Math.ceil(sockets / 2);
  let made = 0;
  while (made < conns) {
    const n = Math.min(PER_PROCESS, conns - made);
    const server = startPeer(['server', '--listen', '127.0.0.1:0', '--mode', 'hold']);
    await server.waitCount(/^LISTEN/gm, 1);
    const port = /^LISTEN \S+ (\d+)/m.exec(server.text())[1];
    const client = startPeer(['client', '--connect', `127.0.0.1:${port}`, '--conns', String(n), '--keepidle', '60']);
    await client.waitCount(/^CONN/gm, n);
    made += n;
  }
  const nsPath = `/run/netns/${ns}`;
  const cases = {
    'ss -tien': ['nsenter', [`--net=${nsPath}`, 'ss', '-tien']],
    'ss -tiepn': ['nsenter', [`--net=${nsPath}`, 'ss', '-tiepn']],
    'ka-top snapshot --netns': [cli, ['snapshot', '--format', 'json', '--netns', ns]],
    'ka-top snapshot (all netns)': [cli, ['snapshot', '--format', 'json']],
  };
  const results = Object.fromEntries(Object.keys(cases).map((k) => [k, { ms: [], hwm: [] }]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, [cmd, args]] of Object.entries(cases)) {
      const r = await measure(cmd, args);
      results[name].ms.push(r.ms);
      results[name].hwm.push(r.hwmKb);
    }
  }
  const base = median(results['ss -tien'].ms);
  const found = (sh('nsenter', [`--net=${nsPath}`, 'ss', '-Htan']).match(/\n/g) ?? []).length;
  console.log(`\n${found} TCP sockets in ${ns} (median of ${RUNS} runs, same run):`);
  for (const [name, r] of Object.entries(results)) {
    const ms = median(r.ms);
    console.log(`  ${name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / base).toFixed(2)}x ss -tien  peak RSS ${(Math.max(...r.hwm) / 1024).toFixed(0)} MiB`);
  }
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
}

sh('ip', ['netns', 'add', ns]);
sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
for (const n of sizes) await bench(n);
