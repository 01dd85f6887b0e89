// Keeping a long-running process's memory near what it holds. Every inventory replaces tens of thousands of
// objects, and V8 lets the heap grow to several times the live set before it collects: the TUI at 18k sockets
// under churn held 130 MB and used 665–1000 MiB of RSS (600–650 MiB again with no bound, measured after the later
// memory fixes). V8 is told to start its next full collection once the heap has grown by a quarter over what the
// last one left. ka-top used to force that collection itself (gc() after an inventory once the heap had grown by a
// quarter): the same bound, but a forced collection runs whole on the main thread — 110–270 ms at nearly every
// refresh under churn — where V8's own marks incrementally and on a helper thread. Same RSS (~400 MiB in the soak),
// 0.62 → 0.53–0.56 core for the TUI under churn.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The heap may grow this much (percent) over the live set of the last full collection before the next starts… */
const HEAP_GROWTH_PERCENT = 25;
/** …and by this much at least: a quarter of a small live set is soon allocated. Under nginx's churn (14k sockets
 *  replaced at every refresh, ~40 MB live) the TUI ran a full collection every 2–3 s, its incremental marking all
 *  along: with this headroom 0.122–0.125 → 0.084–0.093 core (with the smaller gone memory of event-attribution.ts;
 *  RSS 220–230 → 179–186 MiB). */
const MIN_HEADROOM_BYTES = 32 * 2 ** 20;

/** The growth percent that leaves MIN_HEADROOM_BYTES over `liveBytes` (HEAP_GROWTH_PERCENT at least, 100 at most),
 *  in steps of 5 (each change is a flag V8 parses). */
export function growthPercentFor(liveBytes: number): number {
  const wanted = Math.ceil((100 * MIN_HEADROOM_BYTES) / Math.max(1, liveBytes) / 5) * 5;
  return Math.min(100, Math.max(HEAP_GROWTH_PERCENT, wanted));
}

/**
 * V8 sets a full collection's limit for the next one with the percent chosen after the collection before it. When
 * the live set grew a lot in between (a large host's first inventories: 66 → 151 MB at 100k sockets), that percent
 * leaves far more headroom than the new live set needs (+75 MB instead of +38), and the heap fills it before anything
 * is collected. Past this much excess, one more collection at once sets the limit with the right percent: the TUI's
 * peak RSS at 100k idle sockets 302–321 → 282–286 MiB on Node 22, 281/336 → 272/276 on Node 20 (old and new
 * alternated). A live set that moves a little (churn) never gets that far (none under nginx's churn); the
 * collection runs whole on the main thread (~0.1–0.2 s at 150 MB), so it is worth it only for a jump.
 */
const MAX_EXCESS_BYTES = 16 * 2 ** 20;
let collectNow: (() => void) | null = null;
/** A full collection now (`gc()` without --expose-gc on the command line: the flag is set for new contexts). */
export function fullCollection(): void {
  if (!collectNow) {
    setFlagsFromString('--expose-gc');
    collectNow = runInNewContext('gc') as () => void;
  }
  collectNow();
}

/** Whether the limit V8 set after a full collection that left `liveBytes`, with `usedPercent` (chosen for the live
 *  set before), leaves more than MAX_EXCESS_BYTES over the headroom growthPercentFor wants for this one. */
export function limitTooHigh(liveBytes: number, usedPercent: number): boolean {
  return (liveBytes * (usedPercent - growthPercentFor(liveBytes))) / 100 > MAX_EXCESS_BYTES;
}

let growth = 0;
function setGrowth(percent: number): void {
  // Read by V8 each time it sets the next collection's limit, so it applies when set at run time.
  if (percent !== growth) setFlagsFromString(`--heap-growing-percent=${percent}`);
  growth = percent;
}

/** For the long-running modes: bounds the heap of the rest of this process's life. */
export function boundHeapGrowth(): void {
  setGrowth(HEAP_GROWTH_PERCENT);
  // After each full collection, the percent for what it left (applies from the next one: V8 set this one's limit).
  new PerformanceObserver((list) => {
    const major = (e: PerformanceEntry & { detail?: { kind?: number } }) => e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
    if (list.getEntries().some(major)) {
      const live = getHeapStatistics().used_heap_size;
      const tooHigh = limitTooHigh(live, growth);
      setGrowth(growthPercentFor(live));
      if (tooHigh) setImmediate(fullCollection);
    }
  }).observe({ entryTypes: ['gc'] });
}
