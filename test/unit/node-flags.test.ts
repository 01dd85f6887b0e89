// The node flags ka-top runs with are written twice: in bin/ka-top (as installed: it finds node itself) and in the
// shebang of dist/cli/main.js (run directly). They must not drift apart, this node must accept them, and they must
// leave the heap bound of the long-running modes working.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { growthPercentFor, limitTooHigh } from '../../src/cli/heap.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('node flags', () => {
  const shebang = read('src/cli/main.ts').split('\n')[0]!;
  const fromShebang = shebang.replace('#!/usr/bin/env -S node', '').trim().split(/\s+/);
  const execLine = read('bin/ka-top').split('\n').find((l) => l.trim().startsWith('exec "$node"'))!;
  const words = execLine.trim().split(/\s+/).slice(2); // after `exec "$node"`: the flags, then the script
  const fromBin = words.slice(0, words.findIndex((w) => !/^--\S/.test(w)));

  it('bin/ka-top passes the same flags as the shebang of main.js', () => {
    expect(fromShebang.length).toBeGreaterThan(0);
    expect(fromShebang.every((f) => f.startsWith('--'))).toBe(true);
    expect(fromBin).toEqual(fromShebang);
  });

  it('this node accepts them', () => {
    const r = spawnSync(process.execPath, [...fromShebang, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok');
  });

  // The long-running modes' bound on heap growth (src/cli/heap.ts), on a real heap under these flags: with it, V8
  // collects old garbage once the heap grew by a quarter (32 MiB at least) over what its last full collection left;
  // without it (the control), it lets the heap grow to about twice that. Here ~40 MiB live: 73 vs 104–112 MiB.
  // GC flags can undo it: with --single-threaded-gc, Node 22 and 24 kept the bound's peak at the control's.
  it('with them V8 still keeps the heap near its live set once ka-top bounds its growth', () => {
    const run = (mode: string) => {
      const r = spawnSync(process.execPath, [...fromShebang, fileURLToPath(new URL('test/helpers/heap-growth.mjs', root)), mode], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as { majors: number; peakMiB: number };
    };
    const control = run('control');
    const bounded = run('bounded');
    expect(bounded.majors).toBeGreaterThan(control.majors);
    expect(bounded.peakMiB).toBeLessThan(control.peakMiB * 0.8);
  });

  it('the bound leaves 32 MiB of headroom at least, a quarter of a large live set', () => {
    const MiB = 2 ** 20;
    expect(growthPercentFor(400 * MiB)).toBe(25);
    expect(growthPercentFor(128 * MiB)).toBe(25);
    expect(growthPercentFor(40 * MiB)).toBe(80);
    expect(growthPercentFor(64 * MiB)).toBe(50);
    expect(growthPercentFor(MiB)).toBe(100);
  });

  it('one collection more only when the live set jumped past what the last percent was chosen for', () => {
    const MiB = 2 ** 20;
    // A large host's first inventories: 66 MiB live (50%), then 151 MiB with that 50% (+75 MiB instead of +38).
    expect(limitTooHigh(151 * MiB, 50)).toBe(true);
    expect(limitTooHigh(66 * MiB, 100)).toBe(true);
    expect(limitTooHigh(151 * MiB, 25)).toBe(false);
    // Churn moves a live set of ~40 MiB a little: never.
    expect(limitTooHigh(45 * MiB, 80)).toBe(false);
    expect(limitTooHigh(35 * MiB, 80)).toBe(false);
  });
});
