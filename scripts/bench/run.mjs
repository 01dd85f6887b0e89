#!/usr/bin/env node
// `make bench`: runs every benchmark in this folder in turn (ARGS are passed to each).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
let failed = 0;
// The soak runs for half an hour: on its own (`node scripts/bench/soak.mjs`).
const SEPARATE = new Set(['run.mjs', 'soak.mjs']);
for (const f of readdirSync(dir).sort()) {
  if (SEPARATE.has(f)) continue;
  const [cmd, cmdArgs] = f.endsWith('.mjs') ? [process.execPath, [dir + f, ...args]] : f.endsWith('.sh') ? ['bash', [dir + f, ...args]] : [null, null];
  if (!cmd) continue;
  console.log(`== ${f}`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
