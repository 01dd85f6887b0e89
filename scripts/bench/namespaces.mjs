#!/usr/bin/env node
// Benchmark: what a refresh costs per network namespace. The kernel answers a namespace's socket dump by walking
// its whole socket hash, every namespace's sockets included: each namespace dumped costs about the same however
// few sockets it holds, and more the more sockets the host has. ka-sockinfo skips a namespace whose counters
// (sockstat, sockstat6) say it holds no TCP socket. Holds SOCKETS loopback sockets in one scratch namespace, makes
// K empty namespaces and K with one connection each, and times the helper's `changes` answers over each group (its
// serve daemon, asked as the refresh loop asks it) against `ss -tn` in one empty namespace, in the same run.
// Reports, never asserts. Root; after `make build`:
//   node scripts/bench/namespaces.mjs [SOCKETS] [K]     (default 100000 10)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scratchNamespace } from './lib/loopback-sockets.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SOCKETS = Number(process.argv[2] ?? 100000);
const K = Number(process.argv[3] ?? 10);
const ANSWERS = 7; // timed, after two untimed ones (the first is complete, the second walks the owners once more)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const base = `kat-bench-ns-${process.pid}`;
const held = scratchNamespace(base);
await held.hold(SOCKETS);
const empty = Array.from({ length: K }, (_, i) => scratchNamespace(`${base}-e${i}`));
const used = Array.from({ length: K }, (_, i) => scratchNamespace(`${base}-u${i}`));
for (const ns of used) await ns.hold(2);

/** Median ms of a `changes` answer over these namespaces, from a fresh serve daemon. */
async function answerMs(namespaces) {
  const helper = spawn(`${root}dist/bin/${process.arch}/ka-sockinfo`, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let text = '';
  let done = null;
  helper.stdout.on('data', (b) => {
    text += b;
    if (done && /\n[#.] [^\n]*\n$/.test(text)) done();
  });
  const ask = () => new Promise((resolve) => {
    text = '';
    done = resolve;
    helper.stdin.write(`changes\t${namespaces.map((n) => n.path).join('\t')}\n`);
  });
  const times = [];
  for (let i = 0; i < ANSWERS + 2; i++) {
    const t0 = performance.now();
    await ask();
    if (i >= 2) times.push(performance.now() - t0);
  }
  helper.stdin.end();
  return median(times);
}

/** Median ms of `ss -tn` (one dump, no tcp_info) in a namespace. */
async function ssMs(ns) {
  const times = [];
  for (let i = 0; i < ANSWERS; i++) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => {
      const c = spawn('nsenter', [`--net=${ns.path}`, 'ss', '-tn'], { stdio: 'ignore' });
      c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ss -tn exited ${code}`))));
    });
    times.push(performance.now() - t0);
  }
  return median(times);
}

const ss = await ssMs(empty[0]);
const emptyMs = await answerMs(empty);
const usedMs = await answerMs(used);
const all = await answerMs([held, ...empty, ...used]);
console.log(`namespaces: ${SOCKETS} sockets held in one namespace, ${K} empty namespaces, ${K} with one connection each`);
console.log('| what | ms |');
console.log('|---|---|');
console.log(`| \`ss -tn\` in one empty namespace (a process, one dump) | ${ss.toFixed(1)} |`);
console.log(`| \`changes\` answer over the ${K} empty namespaces (no dump: their counters say no TCP socket) | ${emptyMs.toFixed(1)} (${(emptyMs / K).toFixed(2)} per namespace) |`);
console.log(`| \`changes\` answer over the ${K} namespaces with one connection (a dump each) | ${usedMs.toFixed(1)} (${(usedMs / K).toFixed(2)} per namespace) |`);
console.log(`| \`changes\` answer over all ${2 * K + 1} namespaces | ${all.toFixed(1)} |`);
for (const ns of [held, ...empty, ...used]) ns.close();
