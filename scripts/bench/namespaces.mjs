#!/usr/bin/env node
// Benchmark: what a refresh costs per network namespace. The kernel answers a namespace's socket dump by walking
// its whole socket hash, every namespace's sockets included: each namespace dumped costs about the same however
// few sockets it holds, and more the more sockets the host has. ka-sockinfo skips the dump of a namespace whose
// counters (sockstat, sockstat6) say it holds no TCP socket, and of one whose TCP counters did not move since its
// last dump (up to 10 s after it). Holds SOCKETS loopback sockets in one scratch namespace, makes K empty
// namespaces, K with one idle connection each and K with one connection carrying a line every 100 ms, and times
// the helper's `changes` answers over each group (its serve daemon, asked as the refresh loop asks it, every
// 0.5 s) against `ss -tn` in one empty namespace, in the same run. Reports, never asserts. Root; after `make build`:
//   node scripts/bench/namespaces.mjs [SOCKETS] [K]     (default 100000 10)
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
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
const quiet = Array.from({ length: K }, (_, i) => scratchNamespace(`${base}-q${i}`));
for (const ns of quiet) await ns.hold(2);
const busy = Array.from({ length: K }, (_, i) => scratchNamespace(`${base}-b${i}`));
for (const ns of busy) await ns.stream(100);

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
    await sleep(500);
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
const quietMs = await answerMs(quiet);
const busyMs = await answerMs(busy);
const all = await answerMs([held, ...empty, ...quiet, ...busy]);
console.log(`namespaces: ${SOCKETS} sockets held in one namespace, ${K} empty namespaces, ${K} with one idle connection each, ${K} with one busy connection each`);
console.log('| what | ms |');
console.log('|---|---|');
const per = (ms) => `${ms.toFixed(1)} (${(ms / K).toFixed(2)} per namespace)`;
console.log(`| \`ss -tn\` in one empty namespace (a process, one dump) | ${ss.toFixed(1)} |`);
console.log(`| \`changes\` answer over the ${K} empty namespaces (no dump: their counters say no TCP socket) | ${per(emptyMs)} |`);
console.log(`| \`changes\` answer over the ${K} namespaces with one idle connection (their counters stand: a dump each at most every 10 s) | ${per(quietMs)} |`);
console.log(`| \`changes\` answer over the ${K} namespaces with one busy connection (a dump each) | ${per(busyMs)} |`);
console.log(`| \`changes\` answer over all ${3 * K + 1} namespaces | ${all.toFixed(1)} |`);
for (const ns of [held, ...empty, ...quiet, ...busy]) ns.close();
