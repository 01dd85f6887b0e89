// The long-running modes' bound on heap growth, on this process's real heap: with it, V8 collects old garbage once
// the heap grew by a quarter over what its last full collection left; without it (the control), it lets the heap
// grow to several times that. Flags are per process: vitest runs each test file in a process of its own.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { boundHeapGrowth } from '../../src/cli/heap.js';

/** Batches of objects that live a few turns of the event loop (long enough to reach the old generation), as
 *  inventories and events do, then die. Returns the full collections V8 ran meanwhile and the peak heap. */
async function oldGarbage(): Promise<{ majors: number; peakMiB: number }> {
  let majors = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  });
  obs.observe({ entryTypes: ['gc'] });
  let peak = 0;
  const window: object[][] = [];
  for (let b = 0; b < 60; b++) {
    const batch: object[] = [];
    for (let i = 0; i < 20_000; i++) batch.push({ b, i, s: `row ${b} ${i}` });
    window.push(batch);
    if (window.length > 4) window.shift();
    await new Promise((r) => setImmediate(r));
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
  }
  await new Promise((r) => setTimeout(r, 50)); // GC entries are delivered asynchronously
  obs.disconnect();
  return { majors, peakMiB: peak / 2 ** 20 };
}

describe('bound on heap growth', () => {
  it('V8 collects old garbage well before the heap doubles', async () => {
    const live = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `live ${i}` })); // a live set of ~30 MB
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // V8 sets the next limit at the end of a full collection: one after each setting.
    setFlagsFromString('--heap-growing-percent=0'); // V8's default
    gc();
    const control = await oldGarbage();
    boundHeapGrowth();
    gc();
    const bounded = await oldGarbage();
    expect(live.length).toBe(300_000);
    expect(bounded.majors).toBeGreaterThan(control.majors);
    expect(bounded.peakMiB).toBeLessThan(control.peakMiB * 0.75);
  });
});
