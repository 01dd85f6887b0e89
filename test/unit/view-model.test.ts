import { describe, expect, it } from 'vitest';
import { COLUMNS, ViewCache, headerText, keepaliveHealth, layoutColumns, matchesText, moveSelection, rowStyle, rowText, scrollFor, sortRows, visibleSlice, type ConnectionActivity, type Row, type ViewQuery } from '../../src/ui/view-model.js';
import type { Connection } from '../../src/domain/connection.js';
import { keepaliveClient, loadSnapshot, manyConnections } from '../helpers/tui-fixture.js';

const doc = loadSnapshot();
const none = () => undefined;
const q = (over: Partial<ViewQuery> = {}): ViewQuery => ({ sort: 'state', inverted: false, text: '', filter: {}, ...over });
const rows = (cs: readonly Connection[]): Row[] => cs.map((c) => ({ c, closed: false }));

/** The captured connection with `n` keepalive probes outstanding (what ss shows while the peer is silent). */
function probing(n: number): Connection {
  const c = keepaliveClient(doc);
  return { ...c, keepalive: { ...c.keepalive, timer: { remainingMs: 7000, probesOutstanding: n } } };
}

describe('columns and row text', () => {
  it('fits 100 and 120 columns, keeps the keepalive marks, drops optional columns first', () => {
    for (const w of [100, 120, 200]) {
      const layout = layoutColumns(w);
      const line = rowText(keepaliveClient(doc), undefined, layout);
      expect(line.length).toBeLessThanOrEqual(w);
      expect(line).toContain('37s*/7s*/4*');
      expect(line).toMatch(/ESTAB +127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+ +\d+\/ka-peer/);
    }
    expect(layoutColumns(100).map((l) => l.def.id)).not.toContain('idleSend');
    expect(layoutColumns(200).map((l) => l.def.id)).toEqual(COLUMNS.map((c) => c.id));
  });

  it('shows namespace defaults without a mark and the timer remaining', () => {
    const c = doc.connections.find((x) => x.keepalive.enabled && x.keepalive.idleSec === 7200 && x.keepalive.timer)!;
    const line = rowText(c, undefined, layoutColumns(160));
    expect(line).toContain('7200s/75s/9 ');
    expect(line).toMatch(/1h5\dm/); // ss: keepalive timer at ~7140 s
  });

  it('marks the sort column and its direction', () => {
    const h = headerText(layoutColumns(120), 'timer', true);
    expect(h).toContain('TIMER▲');
    expect(h.length).toBeLessThanOrEqual(120);
  });

  it('probes column: outstanding probes from the kernel; sent and resets from the tracer', () => {
    const layout = layoutColumns(120);
    expect(rowText(probing(2), undefined, layout)).toMatch(/ 2\/4 +- /);
    expect(rowText(probing(2), { probesSent: 3, resets: 1 }, layout)).toMatch(/ 2\/4 +3 +.* 1$/);
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
    const text = rowText(keepaliveClient(doc), { probesSent: 7, resets: 0 }, layoutColumns(200));
    expect(text).toMatch(/ 0\/4 +7 /);
    expect(rowText(keepaliveClient(doc), undefined, layoutColumns(200))).toMatch(/ 0\/4 +- /);
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
    const act = new Map<string, ConnectionActivity>(doc.connections.map((c, i) => [c.id, { probesSent: 0, resets: i % 3 }]));
    const r = sortRows(rows(doc.connections), 'resets', true, (id) => act.get(id));
    expect(act.get(r[0]!.c.id)!.resets).toBe(2);
  });

  it('applies the command-line filter and the text filter; closed rows stay visible', () => {
    const cache = new ViewCache();
    const c = keepaliveClient(doc);
    const out = cache.compute(doc.connections, [], q({ filter: { ports: [c.peer.port] }, text: 'ka-peer' }), none);
    expect(out.length).toBeGreaterThan(2);
    expect(out.every((r) => r.c.local.port === c.peer.port || r.c.peer.port === c.peer.port)).toBe(true);
    const withClosed = cache.compute(doc.connections.filter((x) => x !== c), [c], q({ text: String(c.local.port) }), none);
    expect(withClosed.map((r) => [r.c.id, r.closed])).toContainEqual([c.id, true]);
  });

  it('memoises on inventory identity and query; 100k rows filter, sort and slice', () => {
    const many = manyConnections(100_000, doc);
    const cache = new ViewCache();
    const closed: Connection[] = [];
    const query = q({ sort: 'idleRecv' });
    const a = cache.compute(many, closed, query, none);
    expect(a).toHaveLength(100_000);
    expect(cache.compute(many, closed, { ...query }, none) === a).toBe(true);
    expect(cache.compute([...many], closed, query, none) === a).toBe(false);
    const recv = a.map((r) => r.c.idleMs.recv ?? Infinity);
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
