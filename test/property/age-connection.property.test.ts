// A connection the helper reports unchanged is aged in place (model/join.ts ageConnection) instead of being joined
// again: on every socket of the real native capture (test/fixtures/native), and any elapsed time, aging must give
// exactly the connection a join of the same socket read that much later would (ages grown, timers run down, the
// keepalive forecast recomputed), whatever its state, timer and options, and when it was read just after a segment.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SsSocket } from '../../src/domain/connection.js';
import { ownedSockets } from '../../src/engine/inventory.js';
import { ageConnection, joinSocket, netnsOf } from '../../src/model/join.js';
import { parseNativeInventory } from '../../src/parse/native-inventory.js';
import { replayInventory, type InventoryRecording } from '../../src/sources/recorded.js';
import { fixture } from './arbitraries.js';

const rec = JSON.parse(fixture('native/recording.json')) as InventoryRecording;
const parsed = parseNativeInventory((rec.inventory as { text: string }).text);
const src = replayInventory(rec);
const refs = await src.listNetns();
const sysctls = await src.readSysctls(refs);
const owned = await ownedSockets(src, parsed.scan.sockets);
const sockets = parsed.namespaces.flatMap((ns) => ns.sockets.map((s) => ({ ns: ns.inode!, s })));

/** The socket as it reads `dtMs` later when nothing but time moved. */
function later(s: SsSocket, dtMs: number): SsSocket {
  const c = structuredClone(s);
  // A listener's ages are not times (the kernel fills none); any other socket's are, 0 included.
  if (c.state !== 'LISTEN') {
    if (c.info.lastsndMs !== null) c.info.lastsndMs += dtMs;
    if (c.info.lastrcvMs !== null) c.info.lastrcvMs += dtMs;
    if (c.info.lastackMs !== null) c.info.lastackMs += dtMs;
  }
  if (c.timer) c.timer.remainingMs = Math.max(0, c.timer.remainingMs - dtMs);
  return c;
}

/** The socket as read within a jiffy of its last segment: every age it has reads 0. */
function justNow(s: SsSocket): SsSocket {
  const c = structuredClone(s);
  for (const k of ['lastsndMs', 'lastrcvMs', 'lastackMs'] as const) if (c.info[k] !== null) c.info[k] = 0;
  return c;
}

function join(ns: number, s: SsSocket) {
  const ref = refs.find((r) => r.inode === ns)!;
  const sysctl = sysctls.get(ns);
  return joinSocket(netnsOf({ inode: ns, name: ref.name, container: null }), typeof sysctl === 'object' ? sysctl : null, s,
    s.inode ? owned.get(s.inode) : undefined, null);
}

describe('ageConnection', () => {
  it('covers probing, estimated and idle keepalive, user timeouts, listeners, TIME-WAIT and SYN-SENT in the capture', () => {
    const conns = sockets.map(({ ns, s }) => join(ns, s));
    expect(conns.some((c) => c.keepalive.giveUpRule === 'probes' && c.keepalive.timer?.probesOutstanding)).toBe(true);
    expect(conns.some((c) => c.keepalive.giveUpRule === 'user_timeout')).toBe(true);
    for (const st of ['LISTEN', 'TIME-WAIT', 'SYN-SENT'] as const) expect(conns.some((c) => c.state === st)).toBe(true);
    // A connect in progress has no idle time: the kernel's ages count from a zero time stamp (since boot).
    const connecting = conns.filter((c) => c.state === 'SYN-SENT');
    expect(connecting.map((c) => c.idleMs)).toEqual(connecting.map(() => ({ send: null, recv: null, ack: null })));
    expect(connecting.some((c) => (c.tcp.lastrcvMs ?? 0) > 60_000)).toBe(true); // the kernel's figure, kept as read
  });

  it('equals joining the socket read later, for every socket and elapsed time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sockets.length - 1 }), fc.integer({ min: 0, max: 3_600_000 }), fc.integer({ min: 0, max: 4 }), fc.boolean(), (i, dt, steps, fresh) => {
        const { ns, s: read } = sockets[i]!;
        const s = fresh ? justNow(read) : read;
        const aged = join(ns, structuredClone(s));
        // Aged in several steps, as refreshes do, or at once.
        let done = 0;
        for (let k = 0; k < steps; k++) {
          const step = Math.floor(dt / (steps + 1));
          ageConnection(aged, step);
          done += step;
        }
        ageConnection(aged, dt - done);
        expect(aged).toEqual(join(ns, later(s, dt)));
      }),
      { numRuns: 20_000 },
    );
  });
});
