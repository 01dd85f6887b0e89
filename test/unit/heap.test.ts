// The long-running modes' collection policy, on this process's real heap: a full collection after an inventory
// only once the heap grew by a quarter over what the last one left (observed through V8's own GC entries).
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { collectAfterEachInventory } from '../../src/cli/heap.js';
import type { InventoryFeed } from '../../src/engine/live-tracing.js';

type FeedState = InventoryFeed['state'];

function feed() {
  const listeners = new Set<(s: FeedState) => void>();
  const state = { inventory: null } as unknown as FeedState;
  return {
    state,
    subscribe: (fn: (s: FeedState) => void) => (listeners.add(fn), () => listeners.delete(fn)),
    /** A new inventory, then the turn of the event loop the collection waits for. */
    async publish() {
      state.inventory = { connections: [] } as unknown as FeedState['inventory'];
      for (const fn of listeners) fn(state);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 20)); // GC entries are delivered asynchronously
    },
  };
}

async function fullCollectionsDuring(fn: () => Promise<void>): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) n++;
  });
  obs.observe({ entryTypes: ['gc'] });
  await fn();
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  return n;
}

describe('collection after each inventory', () => {
  it('collects when the heap grew, and not after an inventory that left little garbage', async () => {
    const f = feed();
    collectAfterEachInventory(f);
    expect(await fullCollectionsDuring(() => f.publish())).toBeGreaterThanOrEqual(1); // the first: nothing known yet
    const kept: object[] = [];
    expect(await fullCollectionsDuring(async () => {
      for (let i = 0; i < 3; i++) await f.publish(); // nothing allocated in between
    })).toBe(0);
    for (let i = 0; i < 400_000; i++) kept.push({ i, s: `row ${i}` }); // tens of MB: well over a quarter
    expect(await fullCollectionsDuring(() => f.publish())).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBe(400_000);
  });
});
