import { describe, expect, it } from 'vitest';
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
