// The attribution's index follows the inventory by its changes (ConnectionIndex.update) instead of being built again
// each refresh. On the connections of a real lab capture, any sequence of refreshes (connections added, gone, and
// rejoined as new objects: owners changed, TIME-WAIT with inode 0) must leave an index that answers every query as
// one built from scratch on the same connections does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/domain/connection.js';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { tupleKey } from '../../src/domain/keys.js';
import { inventoryFromDocument } from '../../src/engine/snapshot-feed.js';
import { ConnectionIndex } from '../../src/model/connection-index.js';
import { fixture } from './arbitraries.js';

const doc = JSON.parse(fixture('capture/lab-capture-12s.json')) as SnapshotDocument;
// Distinct keys only: where two sockets share a 4-tuple, which one an index finds depends on the order they came in.
const seen = new Set<string>();
const pool = inventoryFromDocument(doc).connections.filter((c) => {
  const keys = [c.cookie && `c${c.netns.inode}:${c.cookie}`, c.inode && `i${c.inode}`, `t${tupleKey(c.netns.inode, c.local, c.peer)}`,
    ...c.processes.map((p) => `f${p.pid}:${p.fd}`)].filter((k): k is string => !!k);
  if (!c.cookie || keys.some((k) => seen.has(k))) return false;
  for (const k of keys) seen.add(k);
  return true;
});

/** The same socket rejoined as a new object: owners let go, or gone to TIME-WAIT (no inode, no owner). */
const rejoined = (c: Connection, how: number): Connection =>
  how === 0 ? { ...c, processes: [], process: null } : how === 1 ? { ...c, state: 'TIME-WAIT', inode: 0, processes: [], process: null } : { ...c };

function answers(idx: ConnectionIndex, c: Connection) {
  const q = { netns: c.netns.inode, local: c.local, peer: c.peer };
  return [
    idx.find({ netns: c.netns.inode, cookie: c.cookie }), idx.find({ netns: c.netns.inode, inode: c.inode }),
    idx.find({ ...q, cookie: null }), ...c.processes.map((p) => idx.findByFd(p.pid, p.fd)), idx.findListener(c.netns.inode, c.local),
  ];
}

describe('ConnectionIndex.update', () => {
  it('has a pool of real connections with listeners, owners and TIME-WAIT', () => {
    expect(pool.length).toBeGreaterThanOrEqual(20);
    expect(pool.some((c) => c.state === 'LISTEN')).toBe(true);
    expect(pool.some((c) => c.processes.length > 0)).toBe(true);
  });

  it('answers like an index built from scratch after any sequence of refreshes', () => {
    const step = fc.array(fc.tuple(fc.nat(pool.length - 1), fc.nat(4)), { maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.nat(pool.length - 1), { maxLength: pool.length }), fc.array(step, { maxLength: 6 }), (start, steps) => {
        const current = new Map<string, Connection>();
        for (const i of start) current.set(pool[i]!.id, pool[i]!);
        const idx = new ConnectionIndex([...current.values()]);
        for (const s of steps) {
          const added: Connection[] = [], gone: Connection[] = [], replaced: Connection[] = [];
          const touched = new Set<string>();
          for (const [i, op] of s) {
            const c = pool[i]!;
            if (touched.has(c.id)) continue;
            touched.add(c.id);
            const now = current.get(c.id);
            if (!now) added.push(c);
            else if (op === 3) gone.push(now);
            else replaced.push(rejoined(now, op));
          }
          for (const c of gone) current.delete(c.id);
          for (const c of [...added, ...replaced]) current.set(c.id, c);
          idx.update({ added, gone, replaced });
        }
        const fresh = new ConnectionIndex([...current.values()]);
        for (const c of [...pool, ...current.values()]) expect(answers(idx, c)).toEqual(answers(fresh, c));
      }),
      { numRuns: 3000 },
    );
  });
});
