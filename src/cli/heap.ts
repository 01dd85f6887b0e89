// Keeping a long-running process's memory near what it holds. Every inventory replaces tens of thousands of
// objects, and V8 lets the heap grow to several times the live set before it collects: the TUI at 18k sockets
// under churn held 130 MB and used 665–1000 MiB of RSS. A full collection after each new inventory keeps it at
// 300–365 MiB there, for a few ms per refresh.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { InventoryFeed } from '../engine/live-tracing.js';


let collect: (() => void) | null = null;

/** A full garbage collection after each new inventory (once the previous one is garbage). */
export function collectAfterEachInventory(feed: Pick<InventoryFeed, 'state' | 'subscribe'>): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  const gc = collect;
  let seen = feed.state.inventory;
  feed.subscribe((s) => {
    if (s.inventory === seen) return;
    seen = s.inventory;
    setImmediate(gc);
  });
}
