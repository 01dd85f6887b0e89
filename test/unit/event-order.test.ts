import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KaEvent } from '../../src/domain/event.js';
import { HoldQueue, type Held } from '../../src/engine/event-order.js';

const ep = (port: number) => ({ address: '198.18.2.1', port });
function held(type: KaEvent['type'], ts: string, at: number, extra: Record<string, unknown> = {}): Held {
  const ev = {
    type, ts, local: ep(40000), peer: ep(7000), netns: 1, pid: null, comm: null, process: null, connection: null, sk: 'ffff1', ...extra,
  } as Held['ev'];
  return { ev, at, cookie: null, ctx: null };
}

describe('HoldQueue', () => {
  it('puts the keepalive timeout ahead of the reset and close it caused, keeping the lines in time order', () => {
    const q = new HoldQueue();
    q.push(held('rst_sent', '2026-01-01T00:00:00.100Z', 100, { cause: 'keepalive_timeout' }));
    q.push(held('close', '2026-01-01T00:00:00.101Z', 101, { how: 'timeout' }));
    q.push(held('keepalive_timeout', '2026-01-01T00:00:00.103Z', 103));
    const out = q.take(1000, 300, false, () => true).map((h) => h.ev);
    expect(out.map((e) => e.type)).toEqual(['keepalive_timeout', 'rst_sent', 'close']);
    const ts = out.map((e) => e.ts);
    expect(ts).toEqual([...ts].sort());
  });
});

/** The queue as it was before the index of findable events: every cause scans the last 256 held events. */
class ScanningQueue {
  held: Held[] = [];
  push(h: Held): void {
    const ev = h.ev;
    const recent = (match: (x: Held) => boolean) => {
      let found = -1;
      for (let i = this.held.length - 1; i >= Math.max(0, this.held.length - 256); i--) if (match(this.held[i]!)) found = i;
      return found;
    };
    const same = (a: Held['ev']['local'], b: Held['ev']['local']) => !!a && !!b && a.port === b.port && a.address === b.address;
    let i = -1;
    if (ev.type === 'keepalive_timeout') i = recent((x) => x.ev.sk === ev.sk && (x.ev.type === 'rst_sent' || x.ev.type === 'close'));
    else if (ev.type === 'rst_sent') {
      i = recent((x) =>
        (x.ev.type === 'close' && x.ev.sk === ev.sk && same(x.ev.local, ev.local) && same(x.ev.peer, ev.peer)) ||
        (x.ev.type === 'rst_received' && same(x.ev.local, ev.peer) && same(x.ev.peer, ev.local)));
    }
    if (i >= 0) {
      h.ev.ts = this.held[i]!.ev.ts;
      this.held.splice(i, 0, { ...h, at: this.held[i]!.at });
    } else this.held.push(h);
  }
  take(now: number, holdMs: number): Held[] {
    const out: Held[] = [];
    while (this.held.length > 0 && now - this.held[0]!.at >= holdMs) out.push(this.held.shift()!);
    return out;
  }
}

describe('HoldQueue finds effects as a scan of the last 256 held events would', () => {
  const types = ['close', 'rst_sent', 'rst_received', 'keepalive_timeout', 'keepalive_probe'] as const;
  // Few sockets and ports: causes meet several possible effects, and sockets come back (the kernel reuses them).
  const event = fc.record({
    type: fc.constantFrom(...types),
    sk: fc.constantFrom('ffff1', 'ffff2', 'ffff3', null),
    local: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
    peer: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
    gap: fc.integer({ min: 0, max: 3 }),
    take: fc.boolean(),
  });
  it('same events out, in the same order, with the same time stamps', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 700, size: 'max' }), (script) => {
        const q = new HoldQueue();
        const ref = new ScanningQueue();
        const out: string[] = [];
        const refOut: string[] = [];
        const show = (h: Held) => `${h.ev.type} ${h.ev.sk} ${h.ev.ts} ${h.at}`;
        let at = 0;
        script.forEach((e, n) => {
          at += e.gap;
          const make = (): Held =>
            held(e.type, `t${n}`, at, { sk: e.sk, local: e.local === null ? null : ep(e.local), peer: e.peer === null ? null : ep(e.peer) });
          q.push(make());
          ref.push(make());
          if (e.take && n % 50 === 0) {
            out.push(...q.take(at, 100, false, () => true).map(show));
            refOut.push(...ref.take(at, 100).map(show));
          }
        });
        out.push(...q.take(Infinity, 0, true, () => true).map(show));
        refOut.push(...ref.take(Infinity, 0).map(show));
        expect(out).toEqual(refOut);
      }),
      { numRuns: 300 },
    );
  });
});
