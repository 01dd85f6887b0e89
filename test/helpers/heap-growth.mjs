// Batches of objects that live a few turns of the event loop (long enough to reach the old generation), as
// inventories and events do, then die, next to a live set of ~30 MB; prints the full collections V8 ran and the
// peak heap as JSON. `node [ka-top's flags] heap-growth.mjs bounded|control`: with or without ka-top's bound on heap
// growth (dist/cli/heap.js, as the long-running modes call it). A process per run: V8's flags are per process.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

if (process.argv[2] === 'bounded') (await import('../../dist/cli/heap.js')).boundHeapGrowth();
const live = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `live ${i}` }));
let majors = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
});
obs.observe({ entryTypes: ['gc'] });
let peak = 0;
const window = [];
for (let b = 0; b < 60; b++) {
  const batch = [];
  for (let i = 0; i < 20_000; i++) batch.push({ b, i, s: `row ${b} ${i}` });
  window.push(batch);
  if (window.length > 4) window.shift();
  await new Promise((r) => setImmediate(r));
  peak = Math.max(peak, getHeapStatistics().used_heap_size);
}
await new Promise((r) => setTimeout(r, 50)); // GC entries are delivered asynchronously
obs.disconnect();
process.stdout.write(JSON.stringify({ majors, peakMiB: peak / 2 ** 20, live: live.length }));
