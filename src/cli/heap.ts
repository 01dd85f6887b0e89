// Keeping a long-running process's memory near what it holds. Every inventory replaces tens of thousands of
// objects, and V8 lets the heap grow to several times the live set before it collects: the TUI at 18k sockets
// under churn held 130 MB and used 665–1000 MiB of RSS. A full collection once the heap has grown by a quarter over
// what the last one left keeps it near the live set. Collecting after every inventory did that too, but a full
// collection of a 100k-socket heap costs ~0.4 s, and a refresh that only aged its connections leaves almost no
// garbage.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { InventoryFeed } from '../engine/live-tracing.js';

/** Growth over the heap left by the last full collection that triggers the next one. */
const GROWTH = 1.25;

let collect: (() => void) | null = null;

/** After each new inventory (once the previous one is garbage), a full garbage collection if the heap grew. */
export function collectAfterEachInventory(feed: Pick<InventoryFeed, 'state' | 'subscribe'>): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  const gc = collect;
  let seen = feed.state.inventory;
  let live = 0; // heap used after the last full collection (0: none yet)
  const collectIfGrown = () => {
    if (getHeapStatistics().used_heap_size <= live * GROWTH) return;
    gc();
    live = getHeapStatistics().used_heap_size;
  };
  feed.subscribe((s) => {
    if (s.inventory === seen) return;
    seen = s.inventory;
    setImmediate(collectIfGrown);
  });
}
