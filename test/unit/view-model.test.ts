import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COLUMNS, ViewCache, attentionKey, closedAtOf, contentWidths, headerText, keepaliveHealth, layoutColumns, matchesText, moveSelection,
  rowStyle, rowText, scrollFor, sortOrder, sortTitle, visibleSlice, type ActivityView, type ActivityLookup, type Row, type SortId, type ViewQuery,
} from '../../src/ui/view-model.js';
import type { CloseHow, KaEvent } from '../../src/domain/event.js';
import type { Connection } from '../../src/domain/connection.js';
import { idleOf, shortenEndpoint } from '../../src/output/format.js';
import { TABLE_COLUMNS } from '../../src/output/table.js';
import { keepaliveClient, loadSnapshot, manyConnections } from '../helpers/tui-fixture.js';

const doc = loadSnapshot();
const none = () => undefined;
const q = (over: Partial<ViewQuery> = {}): ViewQuery => ({ sort: 'state', inverted: false, text: '', filter: {}, ...over });
const rows = (cs: readonly Connection[]): Row[] => cs.map((c) => ({ c, closed: false }));
const sortRows = (rs: Row[], sort: SortId, inverted: boolean, activity: ActivityLookup): Row[] => sortOrder(rs, sort, inverted, activity).map((i) => rs[i]!);
/** The layout the App would use for the captured rows. */
const lay = (w: number) => layoutColumns(w, contentWidths(rows(doc.connections)));

/** The captured connection with `n` keepalive probes outstanding (what ss shows while the peer is silent). */
function probing(n: number): Connection {
  const c = keepaliveClient(doc);
  return { ...c, keepalive: { ...c.keepalive, timer: { remainingMs: 7000, probesOutstanding: n } } };
}

describe('columns and row text', () => {
  it('fits 80, 100, 120 and 200 columns by priority and says what it left out', () => {
    const want = contentWidths(rows(doc.connections));
    for (const w of [80, 100, 120, 200]) {
      const layout = layoutColumns(w, want);
      const line = rowText(keepaliveClient(doc), undefined, layout.columns);
      expect(line.length).toBeLessThanOrEqual(w);
      expect(line).toContain('37s*/7s*/4*');
      expect(line).toMatch(/ESTAB +127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+ +\d+\/ka-peer/);
      const shown = layout.columns.map((l) => l.def.id);
      expect([...shown, ...layout.hidden.map((d) => d.id)].sort()).toEqual(COLUMNS.map((c) => c.id).sort());
      // the most important columns are never the ones dropped
      for (const id of ['state', 'peer', 'local', 'owner', 'keepalive', 'probes']) expect(shown).toContain(id);
    }
    expect(layoutColumns(80, want).hidden.map((d) => d.id)).toContain('idleSend');
    // 200 columns: every column, and no padding of addresses beyond their content
    const wide = layoutColumns(200, { local: 15, peer: 15, owner: 12, netns: 10 });
    expect(wide.hidden).toEqual([]);
    expect(wide.columns.find((l) => l.def.id === 'local')!.width).toBeLessThan(20);
  });

  it('columns keep their order on screen and the snapshot table uses the same model', () => {
    const ids = layoutColumns(200).columns.map((l) => l.def.id);
    expect(ids).toEqual(COLUMNS.map((c) => c.id));
    const c = keepaliveClient(doc);
    for (const col of TABLE_COLUMNS) {
      const def = COLUMNS.find((d) => d.title === col.title)!;
      expect(col.value(c)).toBe(def.text(c));
    }
    expect(TABLE_COLUMNS.map((t) => t.title)).toEqual(expect.arrayContaining(['PROBES', 'DEAD-IN', 'USER-TO', 'LINGER', 'NETNS']));
  });

  it('an address never loses its port: the host part loses its middle', () => {
    expect(shortenEndpoint('198.18.10.2:7004', 20)).toBe('198.18.10.2:7004');
    const v4 = shortenEndpoint('198.18.10.200:45678', 14);
    expect(v4).toHaveLength(14);
    expect(v4).toMatch(/^198.*….*200:45678$/);
    const v6 = shortenEndpoint('[fd6b:6174:0:1:2:3:4:5]:7004', 20);
    expect(v6).toHaveLength(20);
    expect(v6).toMatch(/^\[fd6b.*….*:5\]:7004$/);
    expect(shortenEndpoint('[fd6b:6174::1]:65535', 9)).toBe('…:65535'.padStart(7));
    // 80 columns of IPv6 rows: addresses are shortened before KEEPALIVE is dropped
    const narrow = layoutColumns(80, { local: 23, peer: 23, owner: 13 });
    expect(narrow.columns.map((l) => l.def.id)).toEqual(expect.arrayContaining(['keepalive', 'probes']));
    const v6row = { ...keepaliveClient(doc), local: { address: 'fd6b:6174:90::1', port: 40040 }, peer: { address: 'fd6b:6174:90::2', port: 7005 } };
    const text = rowText(v6row, undefined, narrow.columns);
    expect(text.length).toBeLessThanOrEqual(80);
    expect(text).toMatch(/\[fd\S*…\S*\]:40040 +\[fd6b:\S*\]:7005 /);
    const layout = layoutColumns(70, { local: 30, peer: 30, state: 5, keepalive: 11 });
    const far = { ...keepaliveClient(doc), peer: { address: 'fd6b:6174:aaaa:bbbb:cccc:dddd:eeee:ffff', port: 7004 } };
    expect(rowText(far, undefined, layout.columns)).toMatch(/\[fd6\S*…\S*ffff\]:7004/);
  });

  it('headers are never cut by the sort arrow; ▲ ascending, ▼ descending', () => {
    for (const w of [80, 120, 200]) {
      const layout = layoutColumns(w).columns;
      for (const { def } of layout) {
        expect(headerText(layout, def.id, false)).toContain(`${def.title}▲`);
        expect(headerText(layout, def.id, true)).toContain(`${def.title}▼`);
      }
      expect(headerText(layout, 'attention', false)).not.toMatch(/[▲▼]/);
    }
    expect(sortTitle('idleRecv')).toBe('IDLE-RCV');
    expect(sortTitle('attention')).toBe('ATTENTION');
  });

  it('shows namespace defaults without a mark and the timer remaining', () => {
    const c = doc.connections.find((x) => x.keepalive.enabled && x.keepalive.idleSec === 7200 && x.keepalive.timer)!;
    const line = rowText(c, undefined, lay(160).columns);
    expect(line).toContain('7200s/75s/9 ');
    expect(line).toMatch(/1h5\dm/); // ss: keepalive timer at ~7140 s
  });

  it('probes column: outstanding probes from the kernel; sent and resets from the tracer', () => {
    const layout = lay(200).columns;
    expect(rowText(probing(2), undefined, layout)).toMatch(/ 2\/4 +- +- /);
    expect(rowText(probing(2), { probesSent: 3, resets: 1 }, layout)).toMatch(/ 2\/4 +3 +1 /);
  });

  it('idle is "-" where the state has no flow (SYN-SENT, LISTEN, TIME-WAIT), a closed row says CLOSED', () => {
    const c = keepaliveClient(doc);
    const synSent: Connection = { ...c, state: 'SYN-SENT', idleMs: { send: 570_000, recv: 570_000, ack: 570_000 } };
    const layout = layoutColumns(200).columns;
    const cell = (conn: Connection, id: string) => COLUMNS.find((d) => d.id === id)!.text(conn);
    expect(cell(synSent, 'idleRecv')).toBe('-');
    expect(cell(synSent, 'idleSend')).toBe('-');
    expect(cell({ ...synSent, state: 'ESTAB' }, 'idleRecv')).toBe('9m30s');
    expect(rowText(c, undefined, layout, true)).toMatch(/^CLOSED /);
    // a listener with SO_KEEPALIVE (inherited by accepted sockets) probes nothing and cannot die of it
    const listener: Connection = { ...c, state: 'LISTEN' };
    expect(cell(listener, 'keepalive')).toBe('37s*/7s*/4*');
    expect(cell(listener, 'probes')).toBe('-');
    expect(cell(listener, 'deadIn')).toBe('-');
  });
});

describe('sort order', () => {
  it('addresses sort numerically, IPv4 and IPv6', () => {
    const c = keepaliveClient(doc);
    const at = (address: string, port = 80): Row => ({ c: { ...c, peer: { address, port } }, closed: false });
    const list = ['198.18.10.1', '198.18.2.1', 'fd6b:6174::10', 'fd6b:6174::2', '198.18.2.1', '::1', '127.0.0.1'];
    const sorted = sortRows(list.map((a, i) => at(a, 100 - i)), 'peer', false, none).map((r) => `${r.c.peer.address}:${r.c.peer.port}`);
    expect(sorted).toEqual(['::1:95', '127.0.0.1:94', '198.18.2.1:96', '198.18.2.1:99', '198.18.10.1:100', 'fd6b:6174::2:97', 'fd6b:6174::10:98']);
  });

  it('attention first: dying/probing, recent resets, idle without keepalive, the rest; listeners and TIME-WAIT last', () => {
    const c = keepaliveClient(doc);
    const now = Date.now();
    const r = (conn: Connection, id: string): Row => ({ c: { ...conn, id }, closed: false });
    const rowsIn = [
      r({ ...c, state: 'TIME-WAIT' }, 'timewait'),
      r({ ...c, state: 'LISTEN' }, 'listen'),
      r(c, 'plain'),
      r({ ...c, keepalive: { ...c.keepalive, enabled: false }, idleMs: { send: 1000, recv: 1000, ack: 1000 } }, 'nokeepalive'),
      r(c, 'reset'),
      r(probing(1), 'probing'),
      r({ ...probing(3), keepalive: { ...probing(3).keepalive, deadInMs: 1000 } }, 'dying'),
    ];
    const act = new Map<string, ActivityView>([['reset', {
      probesSent: 0, resets: 1,
      timeline: [{ type: 'rst_received', ts: new Date(now - 5000).toISOString(), inferredCause: 'x', local: null, peer: null, netns: null, pid: null, comm: null, process: null, connection: 'reset', sk: null }],
    }]]);
    const order = sortRows(rowsIn, 'attention', false, (id) => act.get(id)).map((x) => x.c.id);
    expect(order).toEqual(['dying', 'probing', 'reset', 'nokeepalive', 'plain', 'timewait', 'listen']);
    expect(attentionKey(c, { probesSent: 0, resets: 1, timeline: [] }, now)).toBeLessThan(attentionKey({ ...c, state: 'LISTEN' }, undefined, now));
  });
});

describe('rows of closed connections', () => {
  it('the traced close marks a row closed before the inventory notices', () => {
    const c = keepaliveClient(doc);
    const ts = new Date(Date.now() - 2000).toISOString();
    const close: KaEvent = { type: 'close', ts, how: 'timeout', lifetimeMs: 10, probesSent: 3, local: c.local, peer: c.peer, netns: null, pid: null, comm: null, process: null, connection: c.id, sk: null };
    const a: ActivityView = { probesSent: 3, resets: 1, timeline: [close] };
    expect(closedAtOf({ c, closed: false }, a)).toBe(Date.parse(ts));
    expect(rowStyle({ c, closed: false }, new Map(), a)).toBe('closed');
    expect(closedAtOf({ c, closed: true, closedAt: 5 }, undefined)).toBe(5);
    expect(closedAtOf({ c, closed: false }, undefined)).toBeNull();
  });

  it('a closed row counts down to nothing: no timer, and how it ended where DEAD-IN was', () => {
    const c = keepaliveClient(doc);
    const layout = layoutColumns(200, contentWidths(rows(doc.connections))).columns;
    const at = (id: string, text: string) => text.slice(...((): [number, number] => {
      let from = 0;
      for (const l of layout) {
        if (l.def.id === id) return [from, from + l.width];
        from += l.width + 1;
      }
      throw new Error(id);
    })()).trim();
    const live = rowText(c, undefined, layout);
    expect(at('timer', live)).toMatch(/^\d+s$/);
    expect(at('deadIn', live)).toMatch(/^1m\d\ds$/);
    const ended = (how: CloseHow): ActivityView => ({ probesSent: 4, resets: 0, timeline: [
      { type: 'close', ts: new Date().toISOString(), how, lifetimeMs: 10, probesSent: 4, local: c.local, peer: c.peer, netns: null, pid: null, comm: null, process: null, connection: c.id, sk: null },
    ] });
    const dead = rowText(c, ended('timeout'), layout, true);
    expect([at('state', dead), at('timer', dead), at('deadIn', dead)]).toEqual(['CLOSED', '-', 'timeout']);
    expect(at('keepalive', dead)).toBe(at('keepalive', live)); // the rest as last seen
    expect(at('deadIn', rowText(c, ended('rst_sent'), layout, true))).toBe('rst out');
    expect(at('deadIn', rowText(c, ended('rst_received'), layout, true))).toBe('rst in');
    expect(at('deadIn', rowText(c, ended('retransmit_timeout'), layout, true))).toBe('rto');
    expect(at('deadIn', rowText(c, ended('connect_failed'), layout, true))).toBe('no conn');
    expect(at('deadIn', rowText(c, undefined, layout, true))).toBe('closed');
    // No close record (close() had closed the socket before its reset, unread data): the reset it sent says how.
    const rst: KaEvent = { type: 'rst_sent', ts: new Date().toISOString(), local: c.local, peer: c.peer, netns: null, pid: null, comm: null, process: null, connection: c.id, sk: null, reason: 'TCP_ABORT_ON_CLOSE', cause: 'unread_data', causeInferred: false, state: 'TCP_CLOSE' };
    expect(at('deadIn', rowText(c, { probesSent: 0, resets: 1, timeline: [rst] }, layout, true))).toBe('rst out');
  });
});

describe('row styles', () => {
  it('probing is yellow, the last probe out is dying, new and closed rows are marked', () => {
    expect(keepaliveHealth(keepaliveClient(doc))).toBe('ok');
    expect(keepaliveHealth(probing(1))).toBe('probing');
    expect(keepaliveHealth(probing(3))).toBe('dying'); // keepcnt 4: one more unanswered probe kills it
    const c = keepaliveClient(doc);
    expect(rowStyle({ c, closed: false }, new Map([[c.id, 0]]))).toBe('new');
    expect(rowStyle({ c, closed: true }, new Map())).toBe('closed');
    expect(rowStyle({ c: probing(1), closed: false }, new Map([[c.id, 0]]))).toBe('probing');
    // answered probes (a healthy connection's running count) never make a row red
    expect(rowStyle({ c, closed: false }, new Map())).toBe('normal');
  });

  it('PROBES shows what is outstanding now, SENT the running count, answered or not', () => {
    const text = rowText(keepaliveClient(doc), { probesSent: 7, resets: 0 }, lay(200).columns);
    expect(text).toMatch(/ 0\/4 +7 /);
    expect(rowText(keepaliveClient(doc), undefined, lay(200).columns)).toMatch(/ 0\/4 +- /);
  });
});

describe('filter and sort', () => {
  it('text filter matches address, port, process and state', () => {
    const c = keepaliveClient(doc);
    expect(matchesText(c, String(c.local.port))).toBe(true);
    expect(matchesText(c, 'KA-PEER')).toBe(true);
    expect(matchesText(c, `${c.process!.pid}/`)).toBe(true);
    expect(matchesText(c, 'estab')).toBe(true);
    expect(matchesText(c, '198.18.')).toBe(false);
  });

  it('sorts by column, inverts, keeps unknowns last', () => {
    const byTimer = sortRows(rows(doc.connections), 'timer', false, none).map((r) => r.c.keepalive.timer?.remainingMs ?? r.c.timer?.remainingMs ?? null);
    const known = byTimer.filter((v) => v !== null) as number[];
    expect(known).toEqual([...known].sort((a, b) => a - b));
    expect(byTimer.slice(known.length).every((v) => v === null)).toBe(true);
    const inv = sortRows(rows(doc.connections), 'timer', true, none).map((r) => r.c.keepalive.timer?.remainingMs ?? r.c.timer?.remainingMs ?? null);
    expect(inv.filter((v) => v !== null)).toEqual([...known].reverse());
  });

  it('sorts by resets from the activity lookup', () => {
    const act = new Map<string, ActivityView>(doc.connections.map((c, i) => [c.id, { probesSent: 0, resets: i % 3 }]));
    const r = sortRows(rows(doc.connections), 'resets', true, (id) => act.get(id));
    expect(act.get(r[0]!.c.id)!.resets).toBe(2);
  });

  it('sorts to the same order whatever last order it starts from (the hint only saves work)', () => {
    const base = rows(manyConnections(300, doc));
    const act = new Map<string, ActivityView>(base.map((r, i) => [r.c.id, { probesSent: 0, resets: i % 4 }]));
    const lookup = (id: string) => act.get(id);
    fc.assert(fc.property(
      fc.constantFrom('attention', 'state', 'timer', 'peer', 'resets', 'idleRecv'),
      fc.boolean(),
      fc.array(fc.integer({ min: -1, max: 320 }), { minLength: base.length, maxLength: base.length }),
      (sort, inverted, lastPos) => {
        const plain = sortOrder(base, sort as never, inverted, lookup);
        expect(sortOrder(base, sort as never, inverted, lookup, lastPos)).toEqual(plain);
        expect(sortOrder(base, sort as never, inverted, lookup, plain.map((_, i) => plain.indexOf(i)))).toEqual(plain);
      },
    ), { numRuns: 60 });
  });

  it('sorts as the plain definition does: known keys by the order asked, ties by index, unknown keys last by index', () => {
    const base = rows(manyConnections(200, doc));
    fc.assert(fc.property(
      fc.constantFrom('resets', 'state', 'timer', 'peer', 'idleRecv'),
      fc.boolean(),
      // Activity (the resets column's key): few distinct values and many unknown, so ties and runs are common.
      fc.array(fc.option(fc.integer({ min: 0, max: 4 })), { minLength: base.length, maxLength: base.length }),
      fc.array(fc.integer({ min: -1, max: 220 }), { minLength: base.length, maxLength: base.length }),
      (sort, inverted, resets, lastPos) => {
        const act = new Map(base.map((r, i) => [r.c.id, resets[i] === null ? undefined : { probesSent: 0, resets: resets[i]! }]));
        const lookup = (id: string) => act.get(id);
        const column = COLUMNS.find((c) => c.id === sort)!;
        const key = (i: number) => column.sortKey(base[i]!.c, lookup(base[i]!.c.id));
        const dir = inverted ? -1 : 1;
        const idx = base.map((_, i) => i);
        const known = idx.filter((i) => key(i) !== null).sort((a, b) => (key(a)! < key(b)! ? -dir : key(a)! > key(b)! ? dir : a - b));
        const expected = [...known, ...idx.filter((i) => key(i) === null)];
        expect(sortOrder(base, sort as SortId, inverted, lookup)).toEqual(expected);
        expect(sortOrder(base, sort as SortId, inverted, lookup, lastPos)).toEqual(expected);
        expect(sortOrder(base, sort as SortId, inverted, lookup, expected.map((_, i) => expected.indexOf(i)))).toEqual(expected);
      },
    ), { numRuns: 150 });
  });

  it('a re-sort after a refresh reuses the rows and gives what a fresh cache gives', () => {
    const many = manyConnections(2000, doc);
    const cache = new ViewCache();
    const first = cache.compute(many, [], q({ sort: 'idleRecv' }), none);
    const next = [...many.slice(0, 1500), ...manyConnections(100, doc)]; // some gone, some new
    const again = cache.compute(next, [], q({ sort: 'idleRecv' }), none);
    expect(again.map((r) => r.c)).toEqual(new ViewCache().compute(next, [], q({ sort: 'idleRecv' }), none).map((r) => r.c));
    const kept = new Set(first);
    expect(again.filter((r) => kept.has(r)).length).toBe(1500);
  });

  it('one cache over refreshes of any size, sort and filter gives what a fresh cache gives, and the last result stays intact while the next is computed', () => {
    const pool = manyConnections(600, doc);
    const act = new Map<string, ActivityView>(pool.map((c, i) => [c.id, { probesSent: 0, resets: i % 5 }]));
    const lookup = (id: string) => act.get(id);
    const ports = [...new Set(pool.map((c) => c.local.port))].slice(0, 40);
    fc.assert(fc.property(
      fc.array(fc.record({
        from: fc.integer({ min: 0, max: 599 }),
        size: fc.integer({ min: 0, max: 600 }),
        closed: fc.integer({ min: 0, max: 30 }),
        // peer: string keys; timer: unknown (null) keys; attention and resets: numbers
        sort: fc.constantFrom('attention', 'peer', 'timer', 'resets', 'idleRecv'),
        inverted: fc.boolean(),
        filtered: fc.boolean(),
      }), { minLength: 2, maxLength: 6 }),
      (refreshes) => {
        const cache = new ViewCache();
        let last: { rows: readonly Row[]; shown: Row[] } | null = null;
        for (const r of refreshes) {
          const conns = pool.slice(r.from, r.from + r.size);
          const closed = pool.slice(0, r.closed).map((connection) => ({ connection, closedAt: 1 }));
          const query = q({ sort: r.sort as SortId, inverted: r.inverted, filter: r.filtered ? { ports } : {} });
          const rows = cache.compute(conns, closed, query, lookup);
          expect(rows.map((x) => [x.c, x.closed])).toEqual(new ViewCache().compute(conns, closed, query, lookup).map((x) => [x.c, x.closed]));
          if (last) expect(last.rows).toEqual(last.shown); // the screen may still show it
          last = { rows, shown: [...rows] };
        }
      },
    ), { numRuns: 60 });
  });

  it('a refresh in which connections changed (new objects, same ids) shows the new ones, as a fresh cache does', () => {
    const many = manyConnections(2000, doc);
    const cache = new ViewCache();
    const first = cache.compute(many, [], q({ sort: 'idleRecv' }), none);
    // Every other connection changed: its idle time moved, so its place in the order too.
    const next = many.map((c, i) => (i % 2 ? { ...c, idleMs: { ...c.idleMs, recv: (c.idleMs.recv ?? 0) + 50_000 * (i % 3) } } : c));
    const again = cache.compute(next, [], q({ sort: 'idleRecv' }), none);
    expect(again.map((r) => r.c)).toEqual(new ViewCache().compute(next, [], q({ sort: 'idleRecv' }), none).map((r) => r.c));
    const shown = new Set(again.map((r) => r.c));
    expect(next.every((c) => shown.has(c))).toBe(true); // never the previous version of a changed connection
    const kept = new Set(first);
    expect(again.filter((r) => kept.has(r)).length).toBe(1000); // the unchanged ones keep their rows
  });

  it('applies the command-line filter and the text filter; closed rows stay visible', () => {
    const cache = new ViewCache();
    const c = keepaliveClient(doc);
    const out = cache.compute(doc.connections, [], q({ filter: { ports: [c.peer.port] }, text: 'ka-peer' }), none);
    expect(out.length).toBeGreaterThan(2);
    expect(out.every((r) => r.c.local.port === c.peer.port || r.c.peer.port === c.peer.port)).toBe(true);
    const withClosed = cache.compute(doc.connections.filter((x) => x !== c), [{ connection: c, closedAt: 1 }], q({ text: String(c.local.port) }), none);
    expect(withClosed.map((r) => [r.c.id, r.closed])).toContainEqual([c.id, true]);
  });

  it('the same connections array (aged in place) is sorted again only when the order epoch turns', () => {
    const conns = manyConnections(50, doc);
    const cache = new ViewCache();
    const query = q({ sort: 'idleRecv', epoch: 1 });
    const closed: { connection: Connection; closedAt: number }[] = [];
    const a = cache.compute(conns, closed, query, none);
    const last = a.filter((r) => idleOf(r.c, 'recv') !== null).at(-1)!.c; // the longest idle
    expect(a[0]!.c).not.toBe(last);
    (last.idleMs as { recv: number | null }).recv = 0; // changed in place: it now sorts first
    expect(cache.compute(conns, closed, { ...query }, none)).toBe(a);
    const b = cache.compute(conns, closed, { ...query, epoch: 2 }, none);
    expect(b[0]!.c).toBe(last);
    expect(b.map((r) => r.c)).toEqual(new ViewCache().compute(conns, [], query, none).map((r) => r.c));
  });

  it('memoises on inventory identity and query; 100k rows filter, sort and slice', () => {
    const many = manyConnections(100_000, doc);
    const cache = new ViewCache();
    const closed: { connection: Connection; closedAt: number }[] = [];
    const query = q({ sort: 'idleRecv' });
    const a = cache.compute(many, closed, query, none);
    expect(a).toHaveLength(100_000);
    expect(cache.compute(many, closed, { ...query }, none) === a).toBe(true);
    expect(cache.compute([...many], closed, query, none) === a).toBe(false);
    const recv = a.map((r) => idleOf(r.c, 'recv') ?? Infinity);
    expect(recv.every((v, i) => i === 0 || v >= recv[i - 1]!)).toBe(true);
    const filtered = cache.compute(many, closed, { ...query, text: ':1025 ' }, none);
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((r) => r.c.local.port === 1025 || r.c.peer.port === 1025)).toBe(true);
    expect(cache.indexOf(filtered[1]!.c.id)).toBe(1);
    const view = visibleSlice(a, 99_990, 30);
    expect(view.top).toBe(100_000 - 30);
    expect(view.rows).toHaveLength(30);
    expect(view.rows[29] === a[99_999]).toBe(true);
  });
});

describe('selection and scrolling', () => {
  it('moves and clamps', () => {
    expect(moveSelection(0, 'up', 10, 5)).toBe(0);
    expect(moveSelection(0, 'pageDown', 10, 5)).toBe(5);
    expect(moveSelection(8, 'pageDown', 10, 5)).toBe(9);
    expect(moveSelection(4, 'end', 10, 5)).toBe(9);
    expect(moveSelection(4, 'home', 10, 5)).toBe(0);
    expect(moveSelection(3, 'down', 0, 5)).toBe(0);
  });

  it('scrolls just enough to keep the selection visible', () => {
    expect(scrollFor(0, 0, 10, 100)).toBe(0);
    expect(scrollFor(10, 0, 10, 100)).toBe(1);
    expect(scrollFor(5, 8, 10, 100)).toBe(5);
    expect(scrollFor(99, 0, 10, 100)).toBe(90);
    // the list shrank under the scroll position: no empty screen
    expect(scrollFor(3, 50, 10, 12)).toBe(2);
    expect(scrollFor(0, 5, 10, 3)).toBe(0);
  });
});
