// Keeping a long-running process's memory near what it holds. Every inventory replaces tens of thousands of
// objects, and V8 lets the heap grow to several times the live set before it collects: the TUI at 18k sockets
// under churn held 130 MB and used 665–1000 MiB of RSS (600–650 MiB again with no bound, measured after the later
// memory fixes). V8 is told to start its next full collection once the heap has grown by a quarter over what the
// last one left. ka-top used to force that collection itself (gc() after an inventory once the heap had grown by a
// quarter): the same bound, but a forced collection runs whole on the main thread — 110–270 ms at nearly every
// refresh under churn — where V8's own marks incrementally and on a helper thread. Same RSS (~400 MiB in the soak),
// 0.62 → 0.53–0.56 core for the TUI under churn.
import { setFlagsFromString } from 'node:v8';

/** The heap may grow this much (percent) over the live set of the last full collection before the next starts. */
const HEAP_GROWTH_PERCENT = 25;

/** For the long-running modes: bounds the heap of the rest of this process's life. */
export function boundHeapGrowth(): void {
  // Read by V8 each time it sets the next collection's limit, so it applies when set at run time.
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWTH_PERCENT}`);
}
