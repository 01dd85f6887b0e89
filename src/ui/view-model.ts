// Pure logic behind the connection table: which columns fit the width, text filter, sort (the default puts what
// needs attention first), visible slice, selection/scroll math, row text and row styles (closed rows included).
// Nothing here touches ink, so it is unit-tested directly and stays fast at 100k rows.
import { matchesFilter } from '../model/filter.js';
import type { ConnectionFilter } from '../domain/filter.js';
import type { Connection } from '../domain/connection.js';
import { closeHowOfReset, type CloseHow, type KaEvent } from '../domain/event.js';
import { DEFAULT_IDLE_TIMEOUTS } from '../model/findings/index.js';
import { formatEndpoint } from '../output/format.js';
import { COLUMNS, type ColumnDef, type ColumnId, type RowActivity } from '../output/table.js';
import type { Move } from './keymap.js';

/** What the event stream knows about one connection (absent while the tracer is off). */
export interface ActivityView extends RowActivity {
  /** Its events, oldest first (absent in tests that only count). */
  timeline?: readonly KaEvent[];
}

export type ActivityLookup = (id: string) => ActivityView | undefined;

export interface Row {
  c: Connection;
  /** Gone from the inventory: still shown (dimmed) for a while, so a death can be followed. */
  closed: boolean;
  /** When it went (ms epoch), when known. */
  closedAt?: number;
}

export type RowStyle = 'normal' | 'new' | 'closed' | 'probing' | 'dying';

// ---- columns -------------------------------------------------------------------------------------------------

export { COLUMNS, type ColumnDef, type ColumnId };

/** The default order (what needs the SRE first), then every column. */
export type SortId = 'attention' | ColumnId;
export const SORT_ORDER: readonly SortId[] = ['attention', ...COLUMNS.map((c) => c.id)];

/** The sort's name as the screen shows it: the column's own title. */
export function sortTitle(sort: SortId): string {
  return sort === 'attention' ? 'ATTENTION' : COLUMNS.find((c) => c.id === sort)!.title;
}

export interface LayoutColumn {
  def: ColumnDef;
  width: number;
}

export interface Layout {
  columns: LayoutColumn[];
  /** Columns left out for lack of width, most important first. */
  hidden: ColumnDef[];
}

const GAP = 1;
/** The title and a sort arrow always fit: a header is never cut by the arrow. */
export const minWidth = (d: ColumnDef): number => Math.max(d.width, d.title.length + 1);
const BY_PRIORITY = [...COLUMNS].sort((a, b) => a.priority - b.priority);

/** Columns at least this important are placed before any address grows beyond its minimum. */
const CORE_PRIORITY = 5;

/**
 * Which columns fit in `width` terminal columns, by priority, and how wide each is. The core columns come first at
 * their narrowest; then flexible columns (addresses, owner, namespace) grow to `want` (the widest value on screen,
 * up to their maximum); then the other columns are added while they fit; what is left widens the flexible ones.
 * So a narrow terminal shortens addresses before it drops KEEPALIVE, and a wide one shows more columns instead of
 * padding addresses.
 */
export function layoutColumns(width: number, want: Partial<Record<ColumnId, number>> = {}): Layout {
  const widths = new Map<ColumnDef, number>();
  let used = -GAP;
  const add = (d: ColumnDef) => {
    if (widths.has(d) || (used + GAP + minWidth(d) > width && widths.size > 0)) return;
    const w = Math.max(1, Math.min(minWidth(d), width));
    widths.set(d, w);
    used += GAP + w;
  };
  const to = (d: ColumnDef) => Math.min(d.flex!.maxWidth, want[d.id] ?? 0);
  const grow = () => {
    // Short values first, each to its content; then the addresses share what is left evenly.
    for (const d of BY_PRIORITY) {
      if (!d.flex || d.shorten || !widths.has(d)) continue;
      const by = Math.max(0, Math.min(to(d) - widths.get(d)!, width - used));
      widths.set(d, widths.get(d)! + by);
      used += by;
    }
    const addresses = BY_PRIORITY.filter((d) => d.flex && d.shorten && widths.has(d));
    for (let grew = true; grew && used < width; ) {
      grew = false;
      for (const d of addresses) {
        if (used >= width || widths.get(d)! >= to(d)) continue;
        widths.set(d, widths.get(d)! + 1);
        used++;
        grew = true;
      }
    }
  };
  for (const d of BY_PRIORITY) if (d.priority <= CORE_PRIORITY) add(d);
  grow();
  for (const d of BY_PRIORITY) add(d);
  grow();
  return {
    columns: COLUMNS.filter((d) => widths.has(d)).map((def) => ({ def, width: widths.get(def)! })),
    hidden: BY_PRIORITY.filter((d) => !widths.has(d)),
  };
}

/** The widest value of each flexible column among `rows` (the visible ones: cheap, and what the screen needs). */
export function contentWidths(rows: readonly Row[]): Partial<Record<ColumnId, number>> {
  const out: Partial<Record<ColumnId, number>> = {};
  for (const d of COLUMNS) {
    if (!d.flex) continue;
    let w = 0;
    for (const r of rows) w = Math.max(w, r.closed && d.id === 'state' ? 6 : d.text(r.c).length);
    out[d.id] = w;
  }
  return out;
}

function fit(text: string, width: number, def: ColumnDef): string {
  if (text.length > width) {
    if (def.shorten) return def.shorten(text, width).padEnd(width);
    return width > 1 ? text.slice(0, width - 1) + '…' : text.slice(0, width);
  }
  return def.right ? text.padStart(width) : text.padEnd(width);
}

/** Column titles; the sort column carries ▲ (ascending: smallest first) or ▼ (descending). */
export function headerText(layout: readonly LayoutColumn[], sort: SortId, inverted: boolean): string {
  return layout
    .map(({ def, width }) => {
      const title = def.id === sort ? `${def.title}${inverted ? '▼' : '▲'}` : def.title;
      return def.right ? title.padStart(width) : title.padEnd(width);
    })
    .join(' ');
}

/** How a closed row's connection ended, in its DEAD-IN column (the close event's `how`; `closed` when untraced). */
const ENDED: Readonly<Record<CloseHow, string>> = {
  timeout: 'timeout', retransmit_timeout: 'rto', connect_failed: 'no conn', rst_sent: 'rst out', rst_received: 'rst in', fin: 'fin',
};

/** The columns a closed row shows otherwise: it is no longer counting down to anything. */
function closedText(id: ColumnId, a: ActivityView | undefined): string | null {
  if (id === 'state') return 'CLOSED';
  if (id === 'timer') return '-';
  if (id === 'deadIn') {
    const how = endedBy(a);
    return how ? ENDED[how] : 'closed';
  }
  return null;
}

/** How a connection ended: its close record's `how`, else the reset or timeout among its last events (a reset sent
 *  after close() already closed the socket, unread data or zero linger, leaves no close record). */
function endedBy(a: ActivityView | undefined): CloseHow | null {
  const close = closeEventOf(a);
  if (close) return close.how;
  const tl = a?.timeline ?? [];
  for (let i = tl.length - 1; i >= 0 && i >= tl.length - 4; i--) {
    const e = tl[i]!;
    if (e.type === 'keepalive_timeout') return 'timeout';
    if (e.type === 'rst_sent') return closeHowOfReset(e.cause);
    if (e.type === 'rst_received') return 'rst_received';
  }
  return null;
}

/** One row's text; a closed row says CLOSED, no timer, and how it ended where it would count down to its death. */
export function rowText(c: Connection, a: ActivityView | undefined, layout: readonly LayoutColumn[], closed = false): string {
  return layout.map(({ def, width }) => fit((closed ? closedText(def.id, a) : null) ?? def.text(c, a), width, def)).join(' ');
}

// ---- styles --------------------------------------------------------------------------------------------------

/** Probing: keepalive probes are out now. Dying: the next unanswered probe (or the user timeout) kills it. */
export function keepaliveHealth(c: Connection): 'ok' | 'probing' | 'dying' {
  const k = c.keepalive;
  const out = k.timer?.probesOutstanding ?? 0;
  if (out === 0) return 'ok';
  if (k.giveUpRule === 'user_timeout') {
    return k.deadInMs !== null && k.intervalSec !== null && k.deadInMs <= k.intervalSec * 1000 ? 'dying' : 'probing';
  }
  return k.probes !== null && out >= k.probes - 1 ? 'dying' : 'probing';
}

/** The close event of a connection's timeline, if the tracer saw it end (often before the inventory notices). */
export function closeEventOf(a: ActivityView | undefined): Extract<KaEvent, { type: 'close' }> | null {
  const tl = a?.timeline;
  if (!tl) return null;
  // The close is the last event or nearly (a late reset can follow it).
  for (let i = tl.length - 1; i >= 0 && i >= tl.length - 4; i--) {
    const e = tl[i]!;
    if (e.type === 'close') return e;
  }
  return null;
}

/** When the row's connection ended (ms epoch): the traced close, else when the inventory lost it; null if alive. */
export function closedAtOf(row: Row, a: ActivityView | undefined): number | null {
  const e = closeEventOf(a);
  if (e) return Date.parse(e.ts);
  return row.closed ? (row.closedAt ?? null) : null;
}

export function rowStyle(row: Row, fresh: Pick<ReadonlySet<string>, 'has'>, a?: ActivityView): RowStyle {
  if (row.closed || closeEventOf(a)) return 'closed';
  const health = keepaliveHealth(row.c);
  if (health !== 'ok') return health;
  return fresh.has(row.c.id) ? 'new' : 'normal';
}

// ---- filter + sort (memoised) --------------------------------------------------------------------------------

/** The text `/` searches: endpoints, ports, owners (pid/comm/container), state, namespace name; lower case. */
export function searchKey(c: Connection): string {
  let owners = '';
  for (const p of c.processes) owners += ` ${p.pid}/${p.comm} ${p.container?.id ?? ''}`;
  return `${formatEndpoint(c.local)} ${formatEndpoint(c.peer)}${owners} ${c.state} ${c.netns.name ?? ''}`.toLowerCase();
}

/** Not trimmed: a trailing space ends a port (`:80 ` does not match :8080). */
export function matchesText(c: Connection, text: string): boolean {
  return text.trim() === '' || searchKey(c).includes(text.toLowerCase());
}

export interface ViewQuery {
  sort: SortId;
  inverted: boolean;
  text: string;
  /** Filters given on the command line (--port, --pid…). */
  filter: ConnectionFilter;
  /** Only these connections (a finding chosen in the findings panel); null = all. */
  ids?: ReadonlySet<string> | null;
  /** Changes when the order may have moved with the clock alone (see orderEpoch). */
  epoch?: number;
}

/**
 * How long the order may lag behind the clock. Connections are aged in place, and a refresh that changed none hands
 * on the same array: the order is then sorted again only when the epoch turns, not at each refresh (at 100k idle
 * sockets a sort's pass over every row is a third of the refresh). Time alone moves rows across the default
 * order's thresholds (idle past a middlebox timeout, a reset no longer recent) and ties timers at 0, nothing else:
 * uniform aging keeps the order of the other rows.
 */
export const ORDER_EPOCH_MS = 10_000;
export const orderEpoch = (now: number): number => Math.floor(now / ORDER_EPOCH_MS);

/** A reset within this long counts as recent for the default order. */
export const RECENT_RESET_MS = 10 * 60_000;
const MIDDLEBOX_MS = Math.min(...DEFAULT_IDLE_TIMEOUTS.map((t) => t.seconds)) * 1000;
const RANK = 1e13;

function lastResetAt(a: ActivityView): number | null {
  const tl = a.timeline;
  if (!tl) return null;
  for (let i = tl.length - 1; i >= 0; i--) {
    const e = tl[i]!;
    if (e.type === 'rst_sent' || e.type === 'rst_received') return Date.parse(e.ts);
  }
  return null;
}

/**
 * The default order, smallest first: dying or probing (soonest death first), then recent resets (latest first),
 * then idle beyond the shortest middlebox timeout or without keepalive (longest idle first), then the rest;
 * listeners and TIME-WAIT last.
 */
export function attentionKey(c: Connection, a: ActivityView | undefined, now = Date.now()): number {
  if (c.state === 'LISTEN' || c.state === 'TIME-WAIT') return 4 * RANK;
  if (keepaliveHealth(c) !== 'ok') return Math.min(RANK - 1, c.keepalive.deadInMs ?? 0);
  if (a && a.resets > 0) {
    const at = lastResetAt(a);
    if (at === null || now - at < RECENT_RESET_MS) return RANK + (RANK - 1 - Math.min(RANK - 1, at ?? 0));
  }
  if (c.state === 'ESTAB') {
    // flowIdleMs without its array: this runs for every row of a 100k-row sort.
    const { send, recv, ack } = c.idleMs;
    const idle = Math.min(send ?? Infinity, recv ?? Infinity, ack ?? Infinity);
    if (c.keepalive.enabled === false || (idle !== Infinity && idle >= MIDDLEBOX_MS)) return 2 * RANK + (RANK - 1 - Math.min(RANK - 1, idle === Infinity ? 0 : idle));
  }
  return 3 * RANK;
}

function sortKeyFn(sort: SortId): (c: Connection, a: ActivityView | undefined) => number | string | null {
  if (sort === 'attention') {
    const now = Date.now();
    return (c, a) => attentionKey(c, a, now);
  }
  return COLUMNS.find((c) => c.id === sort)!.sortKey;
}

/**
 * The order of `rows` (their indexes) by `sort`. `lastPos`: each row's place in the previous order (-1: none), a
 * hint only: the sort starts from that order, which at a refresh is nearly the new one, and TimSort then takes it
 * in long runs (a few comparisons per row instead of ~17 at 100k rows). The result is the same with or without it.
 * `into`: an array to write the order into (its contents are replaced), else a new one.
 */
export function sortOrder(rows: readonly Row[], sort: SortId, inverted: boolean, activity: ActivityLookup, lastPos?: ArrayLike<number>, into?: number[]): number[] {
  const key = sortKeyFn(sort);
  // Decorate once: key functions run n times, not n·log n. Numeric keys go to a typed array (no boxed number per
  // row). Unknown keys go last in both directions; ties keep inventory order (index tie-break), so rows do not
  // jump between refreshes.
  const n = rows.length;
  const num = new Float64Array(n);
  let keys: (number | string | null)[] | null = null; // only when some key is not a number
  const isNull = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = key(rows[i]!.c, activity(rows[i]!.c.id));
    if (k === null) {
      isNull[i] = 1;
      if (keys) keys[i] = null;
    } else if (typeof k === 'number' && keys === null) num[i] = k;
    else {
      keys ??= Array.from(num, (v, j) => (isNull[j] ? null : v));
      keys[i] = k;
    }
  }
  // One array of a known size, filled by index (`into`, reused, when given): at 100k rows each new array costs about
  // as much as the sort (growing one by push, more). Known keys first in the start order, then the unknown ones; the
  // comparators keep the unknown last, in index order.
  const order: number[] = into ?? new Array(n);
  order.length = n;
  const start = startOrder(n, lastPos);
  let o = 0;
  for (let s = 0; s < n; s++) if (!isNull[start[s]!]) order[o++] = start[s]!;
  for (let s = 0; s < n; s++) if (isNull[start[s]!]) order[o++] = start[s]!;
  const dir = inverted ? -1 : 1;
  const ks = keys;
  const compare = ks === null
    ? (a: number, b: number) => isNull[a]! - isNull[b]! || (num[a]! - num[b]!) * dir || a - b
    : (a: number, b: number) => {
      if (isNull[a]! !== isNull[b]!) return isNull[a]! - isNull[b]!;
      const x = ks[a]!;
      const y = ks[b]!;
      return x === null ? a - b : x < y! ? -dir : x > y! ? dir : a - b;
    };
  // At a refresh the last order usually still holds: one pass finds that, where sort() would first copy 100k
  // indexes into a work array of its own.
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = compare(order[i - 1]!, order[i]!) < 0;
  if (!sorted) order.sort(compare);
  return order;
}

/** Row indexes by their place in the last order, then the rows that had none (in index order). */
function startOrder(n: number, lastPos: ArrayLike<number> | undefined): Int32Array {
  const order = new Int32Array(n);
  if (!lastPos) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }
  const at = new Int32Array(n).fill(-1);
  const placed = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = lastPos[i]!;
    if (p >= 0 && p < n && at[p] === -1) {
      at[p] = i;
      placed[i] = 1;
    }
  }
  let o = 0;
  for (let p = 0; p < n; p++) if (at[p]! >= 0) order[o++] = at[p]!;
  for (let i = 0; i < n; i++) if (!placed[i]) order[o++] = i;
  return order;
}

/** The arrays one sort fills (ViewCache): the rows before sorting (by connection index when none is filtered out),
 *  the rows by connection index otherwise, and the order, which becomes the sorted rows. */
interface SortArrays {
  rows: Row[];
  rowOf: (Row | null)[];
  order: number[];
}

const newSortArrays = (): SortArrays => ({ rows: [], rowOf: [], order: [] });

/** A connection gone from the inventory, with when (the Monitor's ClosedConnection). */
export interface ClosedRow {
  connection: Connection;
  closedAt: number;
}

/** How far ahead in the last inventory a connection is looked for before an index of it is built. */
const LOOKAHEAD = 16;

/**
 * Finds connections in the last inventory by id (a connection that changed is a new object with the same id), asked
 * in the new inventory's order: that is the old order less the gone plus the new, so a cursor finds most a step or a
 * few ahead. New connections are misses too (a refresh's are a block at the end of their namespace); once the misses
 * pass an eighth of the last inventory the cursor has lost the thread (a namespace gone at once), and one index of
 * the last inventory answers the rest.
 */
function previousIndex(last: readonly Connection[]): (c: Connection) => number {
  let cursor = 0;
  let misses = 0;
  let index: Map<string, number> | null = null;
  return (c) => {
    if (index) return index.get(c.id) ?? -1;
    const end = Math.min(cursor + LOOKAHEAD, last.length);
    for (let k = cursor; k < end; k++) {
      const x = last[k]!;
      if (x === c || x.id === c.id) { // most are the same object, aged in place: no id to read
        cursor = k + 1;
        return k;
      }
    }
    if (++misses > LOOKAHEAD + last.length / 8) index = new Map(last.map((x, k) => [x.id, k]));
    return index?.get(c.id) ?? -1;
  };
}

/**
 * Filter + sort, recomputed only when their inputs changed: moving the selection over 100k rows costs nothing, a
 * new sort order sorts once, and typing a filter never re-sorts. Search keys are built once per sorted list, so
 * each keystroke of a filter is a plain substring scan.
 */
export class ViewCache {
  /** The last sort's connections, and by their index: the row (null: filtered out) and its place in the order. A
   *  refresh reuses the rows (not 100k new objects that live into the old generation) and starts the sort from the
   *  last order. */
  private last: { connections: readonly Connection[]; rows: (Row | null)[]; pos: Int32Array } | null = null;
  /** The arrays of a sort, two sets used in turn: a sort fills the set of the sort before last while the last one's
   *  are still read (its rows by connection here, its sorted rows by the screen). At 100k rows a new JS array is
   *  fresh large-object memory, ~3 ms to fill on this VM (page faults), that lives until a full GC. */
  private readonly arrays: [SortArrays, SortArrays] = [newSortArrays(), newSortArrays()];
  private turn = 0;
  private sortKey: unknown[] = [];
  private sorted: Row[] = [];
  private searchKeys: string[] | null = null;
  private text = '';
  /** Positions in `sorted` that match `text` (null: no text filter). */
  private matches: number[] | null = null;
  private rows: Row[] = [];

  compute(
    connections: readonly Connection[],
    closed: readonly ClosedRow[],
    query: ViewQuery,
    activity: ActivityLookup,
  ): Row[] {
    const ids = query.ids ?? null;
    const key = [connections, closed, activity, query.sort, query.inverted, query.filter, ids, query.epoch];
    const resort = !(key.length === this.sortKey.length && key.every((k, i) => k === this.sortKey[i]));
    if (resort) {
      const hasFilter = Object.keys(query.filter).length > 0;
      const keep = (c: Connection) => (!hasFilter || matchesFilter(c, query.filter)) && (!ids || ids.has(c.id));
      const n = connections.length;
      const most = n + closed.length;
      this.turn ^= 1;
      const arrays = this.arrays[this.turn]!;
      // Written from the start; a length set once they are filled keeps their memory for the next sort.
      const rows = arrays.rows;
      // By connection index: `rows` itself when every connection is kept (one 100k-element array fewer to fill).
      const rowOf = hasFilter || ids ? arrays.rowOf : rows;
      const connOfRow = new Int32Array(most);
      const lastPos = new Int32Array(most);
      const prevIndex = this.last ? previousIndex(this.last.connections) : null;
      let count = 0;
      for (let i = 0; i < n; i++) {
        const c = connections[i]!;
        const j = prevIndex ? prevIndex(c) : -1;
        if (!keep(c)) {
          rowOf[i] = null;
          continue;
        }
        // The last row when its connection did not change; its place in the last order either way (the sort's hint).
        const row = (j >= 0 && this.last!.connections[j] === c ? this.last!.rows[j] : null) ?? { c, closed: false };
        rowOf[i] = row;
        connOfRow[count] = i;
        lastPos[count] = j >= 0 ? this.last!.pos[j]! : -1;
        rows[count++] = row;
      }
      const live = count;
      for (const x of closed) {
        if (!keep(x.connection)) continue;
        lastPos[count] = -1;
        rows[count++] = { c: x.connection, closed: true, closedAt: x.closedAt };
      }
      rows.length = count;
      if (rowOf !== rows) rowOf.length = n;
      const order = sortOrder(rows, query.sort, query.inverted, activity, lastPos.subarray(0, count), arrays.order);
      const pos = new Int32Array(n).fill(-1);
      // The order array becomes the sorted rows, each index replaced by its row once read (one array fewer).
      const sorted = order as unknown as Row[];
      for (let o = 0; o < order.length; o++) {
        const r = order[o]!;
        if (r < live) pos[connOfRow[r]!] = o;
        sorted[o] = rows[r]!;
      }
      this.sorted = sorted;
      this.last = { connections, rows: rowOf, pos };
      this.searchKeys = null;
      this.sortKey = key;
    } else if (query.text === this.text) {
      return this.rows;
    }
    const text = query.text.toLowerCase();
    if (query.text.trim() === '') {
      this.matches = null;
      this.rows = this.sorted;
    } else {
      this.searchKeys ??= this.sorted.map((r) => searchKey(r.c));
      const keys = this.searchKeys;
      // Narrowing (one more character typed): only the positions that matched before can match now.
      const from = !resort && this.matches && text.startsWith(this.text.toLowerCase()) ? this.matches : null;
      const matches: number[] = [];
      if (from) {
        for (const i of from) if (keys[i]!.includes(text)) matches.push(i);
      } else {
        for (let i = 0; i < keys.length; i++) if (keys[i]!.includes(text)) matches.push(i);
      }
      this.matches = matches;
      this.rows = matches.map((i) => this.sorted[i]!);
    }
    this.text = query.text;
    return this.rows;
  }

  /**
   * Position of a connection id in the last result (for keeping the selection on the same connection). `hint` is
   * where it was: checked first, since moving the selection does not change the rows; else one linear scan,
   * cheaper than indexing 100k ids after every re-sort.
   */
  indexOf(id: string, hint = -1): number {
    if (this.rows[hint]?.c.id === id) return hint;
    return this.rows.findIndex((r) => r.c.id === id);
  }
}

// ---- selection and scrolling ---------------------------------------------------------------------------------

export function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

export function moveSelection(selected: number, move: Move, count: number, pageSize: number): number {
  if (count === 0) return 0;
  const page = Math.max(1, pageSize);
  const next = {
    up: selected - 1,
    down: selected + 1,
    pageUp: selected - page,
    pageDown: selected + page,
    home: 0,
    end: count - 1,
  }[move];
  return clamp(next, 0, count - 1);
}

/** First visible row: the least scrolling that keeps `selected` on screen and the screen full. */
export function scrollFor(selected: number, top: number, height: number, count: number): number {
  if (height <= 0 || count === 0) return 0;
  let t = top;
  if (selected < t) t = selected;
  if (selected >= t + height) t = selected - height + 1;
  return clamp(t, 0, Math.max(0, count - height));
}

export interface Viewport {
  top: number;
  rows: Row[];
}

export function visibleSlice(rows: readonly Row[], top: number, height: number): Viewport {
  const t = clamp(top, 0, Math.max(0, rows.length - height));
  return { top: t, rows: rows.slice(t, t + Math.max(0, height)) };
}
