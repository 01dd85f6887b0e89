#!/usr/bin/env node
// Parser throughput: 50k ss lines built from the committed real capture, vs the time ss itself needs for as many
// sockets (reported by snapshot.mjs). Run after `make build`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSsOutput } from '../../dist/parse/ss.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/ss/ss-HtinaepO.txt', import.meta.url));
const lines = readFileSync(fixture, 'utf8').split('\n').filter(Boolean);
const big = [];
for (let i = 0; big.length < 50_000; i++) big.push(lines[i % lines.length]);
const text = big.join('\n');
parseSsOutput(text); // warm up
const times = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  parseSsOutput(text);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`ss parse: 50000 lines (${(text.length / 1e6).toFixed(1)} MB) median ${times[2].toFixed(0)} ms, ${((times[2] * 1000) / 50_000).toFixed(1)} µs/line`);
