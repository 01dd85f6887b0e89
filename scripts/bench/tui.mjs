#!/usr/bin/env node
// TUI responsiveness at scale: key -> frame latency and refresh -> frame time with 10k and 100k connections,
// rendered by the real App through ink (maxFps 20, as `ka-top` runs it) into a 120x40 fake terminal.
// Rows are cloned from the captured snapshot in test/fixtures/tui. Run after `make build`:
//   node scripts/bench/tui.mjs [N…]
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { render } from 'ink';
import { createElement } from 'react';
import { App } from '../../dist/ui/App.js';

const doc = JSON.parse(readFileSync(new URL('../../test/fixtures/tui/snapshot-ka-peer.json', import.meta.url), 'utf8'));
const sizes = process.argv.slice(2).map(Number).filter(Boolean);

class Term extends EventEmitter {
  isTTY = true;
  columns = 120;
  rows = 40;
  writes = [];
  write = (s) => {
    this.writes.push(performance.now());
    this.emit('wrote');
    return true;
  };
}

class Keys extends EventEmitter {
  isTTY = true;
  data = null;
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  press(s) {
    this.data = s;
    this.emit('readable');
  }
}

function connections(n, gen) {
  const base = doc.connections;
  return Array.from({ length: n }, (_, i) => {
    const c = base[i % base.length];
    return { ...c, id: `${c.id}#${i}`, local: { ...c.local, port: 1024 + (i % 64000) }, idleMs: { ...c.idleMs, recv: ((i + gen) * 7919) % 100000 } };
  });
}

function stateFor(conns) {
  return {
    inventory: {
      takenAt: doc.takenAt, namespaces: doc.namespaces, connections: conns, ownersComplete: true,
      sockoptReads: { ok: 1, errors: [] }, parseErrors: [], timings: { totalMs: 0, dumpMs: 0, scanMs: 0, joinMs: 0 },
    },
    capabilities: doc.capabilities, fresh: new Map(), closed: [],
    refresh: { intervalMs: 2000, lastCostMs: 0, count: 1, error: null },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms`;
};

/** Frames that never came (within 5 s): the bench then fails instead of reporting the timeout as a latency. */
let missed = 0;

/** Time from `act()` to the next terminal write. */
async function timeToFrame(out, act) {
  const t0 = performance.now();
  let onWrite;
  const wrote = new Promise((resolve) => out.once('wrote', (onWrite = () => resolve(true))));
  act();
  const framed = await Promise.race([wrote, sleep(5000).then(() => false)]);
  out.off('wrote', onWrite);
  if (!framed) missed++;
  return performance.now() - t0;
}

async function bench(n) {
  const out = new Term();
  const keys = new Keys();
  const listeners = new Set();
  const feed = { state: stateFor(connections(n, 0)), subscribe: (fn) => (listeners.add(fn), () => listeners.delete(fn)) };
  const renderTimes = [];
  const t0 = performance.now();
  const app = render(createElement(App, { feed, version: 'bench', host: { hostname: 'bench', kernel: '6.18' } }), {
    stdout: out, stdin: keys, stderr: out, exitOnCtrlC: false, patchConsole: false, maxFps: 20,
    onRender: ({ renderTime }) => renderTimes.push(renderTime),
  });
  const first = performance.now() - t0;
  await sleep(200);
  const press = async (k, count) => {
    const xs = [];
    for (let i = 0; i < count; i++) {
      xs.push(await timeToFrame(out, () => keys.press(k)));
      await sleep(60); // beyond the 50 ms frame cap: each key gets its own frame
    }
    return xs;
  };
  const down = await press('j', 30);
  const page = await press('\x1b[6~', 10);
  const sort = await press('>', 10);
  const refresh = [];
  for (let g = 1; g <= 5; g++) {
    const s = stateFor(connections(n, g));
    refresh.push(await timeToFrame(out, () => { feed.state = s; for (const fn of listeners) fn(s); }));
    await sleep(60);
  }
  await timeToFrame(out, () => keys.press('/'));
  await sleep(60);
  const filter = await press('1', 3);
  app.unmount();
  console.log(`${n} connections: first frame ${first.toFixed(0)} ms (incl. sort)`);
  console.log(`  key j -> frame:        ${stats(down)}`);
  console.log(`  PgDn -> frame:         ${stats(page)}`);
  console.log(`  sort change -> frame:  ${stats(sort)}  (re-sorts all rows)`);
  console.log(`  filter key -> frame:   ${stats(filter)}  (re-filters the sorted rows)`);
  console.log(`  new inventory -> frame: ${stats(refresh)}  (new identity: filter + sort again)`);
  console.log(`  ink render (layout+output) per frame: ${stats(renderTimes)}`);
}

for (const n of sizes.length ? sizes : [10_000, 100_000]) await bench(n);
if (missed) {
  console.error(`tui.mjs: ${missed} actions drew no frame within 5 s: the figures above are not latencies`);
  process.exitCode = 1;
}
