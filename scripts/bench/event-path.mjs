#!/usr/bin/env node
// The event path's cost per record on a real record stream: a health checker's and a client's churn in a scratch
// namespace (~900 new connections/s: closes, SO_LINGER {1,0} resets, their receipt, the setsockopts), ka-top's own
// program (`ka-top doctor --bpf`) run by bpftrace for SECONDS, then the records replayed in this process through what
// the live modes run for each: the JSON line parse, decoding, the hold that orders causes before effects, attribution
// (against an empty inventory: every socket unknown, as for a churn's short connections), emission. Reports records
// per second of the capture, µs per record (median of 5 replays), and what that makes in share of a core.
// Root; after `make build`.
//   node scripts/bench/event-path.mjs [--seconds N]   (default 8; `make bench`'s ARGS, meant for others, are ignored)
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scratchNamespace } from './lib/loopback-sockets.mjs';
import { atExit } from './lib/stop.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}dist/cli/main.js`;
const peer = `${root}dist/bin/${process.arch}/ka-peer`;
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' } }, strict: false, allowPositionals: true });
const SECONDS = Number(values.seconds);
if (!(SECONDS > 0 && SECONDS <= 600)) throw new Error('--seconds: 1..600');
const { parseBpftraceLine } = await import(`${root}dist/parse/bpftrace-json.js`);
const { EventStream } = await import(`${root}dist/engine/event-stream.js`);

const program = spawnSync(process.execPath, [cli, 'doctor', '--bpf'], { encoding: 'utf8' });
if (program.status !== 0) throw new Error(`ka-top doctor --bpf: ${program.stderr}`);

const scratch = scratchNamespace(`kat-evpath-${process.pid}`);
const children = [];
atExit(() => children.forEach((c) => c.kill('SIGKILL')));
const inNs = (args) => {
  const c = spawn('ip', ['netns', 'exec', scratch.name, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(c);
  return c;
};
inNs([peer, 'server', '--listen', '127.0.0.1:7000', '--mode', 'sink']);
await sleep(500);
for (let i = 0; i < 4; i++) {
  inNs(i % 2 === 0
    ? [peer, 'client', '--connect', '127.0.0.1:7000', '--close-after', '1', '--reconnect', '--every', '2']
    : [peer, 'checker', '--connect', '127.0.0.1:7000', '--every', '2']);
}
await sleep(2000);

// The capture: bpftrace dies with this process (pdeathsig) and is stopped with SIGINT after SECONDS.
const tracer = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'bpftrace', '-f', 'json', '-e', program.stdout], {
  stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, BPFTRACE_STRLEN: '64' },
});
let out = '';
tracer.stdout.setEncoding('utf8').on('data', (s) => (out += s));
let started = 0;
while (!out.includes('KA ready')) {
  if (++started > 300) throw new Error('bpftrace did not attach within 30 s');
  await sleep(100);
}
const from = out.length;
await sleep(SECONDS * 1000);
const captured = out.slice(from);
tracer.kill('SIGINT');
await new Promise((r) => tracer.on('close', r));
children.forEach((c) => c.kill('SIGKILL'));
scratch.close();

const lines = captured.split('\n').filter((l) => l.includes('"KA '));
const kinds = {};
for (const l of lines) {
  const k = /"KA (\w+)/.exec(l)[1];
  kinds[k] = (kinds[k] ?? 0) + 1;
}

/** One replay at the capture's rate of simulated time, a flush every 50 ms as LiveTracing's tick. */
function replay() {
  let now = 0;
  let emitted = 0;
  const stream = new EventStream({ reasons: {}, tcpStates: {}, hz: 250, now: () => now, onUnknownSocket: () => false }, () => emitted++);
  stream.setInventory([]);
  const step = (SECONDS * 1000) / lines.length;
  let nextTick = 50;
  const t0 = performance.now();
  for (const l of lines) {
    stream.push(parseBpftraceLine(l));
    now += step;
    if (now >= nextTick) {
      stream.flush();
      nextTick += 50;
    }
  }
  stream.flush(true);
  const us = ((performance.now() - t0) * 1000) / lines.length;
  if (emitted !== lines.length) throw new Error(`${emitted} events out of ${lines.length} records`);
  return us;
}
replay(); // warm-up
const runs = Array.from({ length: 5 }, replay).sort((a, b) => a - b);
const perSecond = lines.length / SECONDS;
const us = runs[2];
console.log(`event path: ${lines.length} records in ${SECONDS} s (${perSecond.toFixed(0)}/s: ${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')})`);
console.log(`  ${us.toFixed(1)} µs a record (median of 5 replays; ${runs.map((r) => r.toFixed(1)).join(' ')}): ${((perSecond * us) / 1e4).toFixed(1)}% of a core at this rate`);
