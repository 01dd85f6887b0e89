// Pure logic behind the connection table: text filter, sort, visible slice, selection/scroll math, row text and
// row styles. Nothing here touches ink, so it is unit-tested directly and stays fast at 100k rows.
import { matchesFilter } from '../model/filter.js';
import type { ConnectionFilter } from '../domain/filter.js';
import type { Connection } from '../domain/connection.js';
import { formatDuration, formatEndpoint, formatKeepalive, formatOwner } from '../output/format.js';
import type { ConnectionActivity as EventActivity } from '../model/event-activity.js';
import type { Move } from './keymap.js';

/** What the event stream knows about one connection (absent while the tracer is off). */
export type ConnectionActivity = Pick<EventActivity, 'probesSent' | 'resets'>;

export type ActivityLookup = (id: string) => ConnectionActivity | undefined;

export interface Row {
  c: Connection;
  /** Gone since the last refresh: still shown, highlighted, for a moment. */
  closed: boolean;
}

export type RowStyle = 'normal' | 'new' | 'closed' | 'probing' | 'dying';

// ---- columns -------------------------------------------------------------------------------------------------

export type ColumnId = 'state' | 'local' | 'peer' | 'owner' | 'keepalive' | 'timer' | 'probes' | 'sent' | 'idleRecv' | 'idleSend' | 'resets';

interface ColumnDef {
  id: ColumnId;
  title: string;
  /** Fixed width, or the minimum for the flexible endpoint columns. */
  width: number;
  right?: boolean;
  /** Endpoint columns share the space left over, up to maxWidth. */
  flex?: { maxWidth: number };
  /** Columns dropped first on narrow terminals (higher drops first); absent = always shown. */
  dropRank?: number;
  text: (c: Connection, a: ConnectionActivity | undefined) => string;
  /** Sort key: numbers sort numerically, strings lexically; null sorts last. */
  sortKey: (c: Connection, a: ConnectionActivity | undefined) => number | string | null;
}

/** Probes outstanding now / the probe count, as the kernel has them (ss's count drops to 0 on every ACK). */
function probesText(c: Connection): string {
  if (!c.keepalive.enabled) return '-';
  return `${c.keepalive.timer?.probesOutstanding ?? 0}/${c.keepalive.probes ?? '?'}`;
}

function timerText(c: Connection): string {
  const t = c.keepalive.timer;
  if (t) return `${c.keepalive.estimated ? '~' : ''}${formatDuration(t.remainingMs)}`;
  // Another timer (retransmit, TIME-WAIT…) is pending: show its kind so the gap is explained.
  return c.timer ? `${c.timer.kind.slice(0, 2)} ${formatDuration(c.timer.remainingMs)}` : '-';
}

const endpointKey = (e: Connection['local']): string => `${e.address}\u0000${String(e.port).padStart(5, '0')}`;

export const COLUMNS: readonly ColumnDef[] = [
  { id: 'state', title: 'STATE', width: 10, text: (c) => c.state, sortKey: (c) => c.state },
  { id: 'local', title: 'LOCAL', width: 16, flex: { maxWidth: 47 }, text: (c) => formatEndpoint(c.local), sortKey: (c) => endpointKey(c.local) },
  { id: 'peer', title: 'PEER', width: 16, flex: { maxWidth: 47 }, text: (c) => formatEndpoint(c.peer), sortKey: (c) => endpointKey(c.peer) },
  {
    id: 'owner', title: 'PID/COMM', width: 18,
    text: (c) => formatOwner(c) + (c.process?.container ? ` [${c.process.container.id.slice(0, 6)}]` : ''),
    sortKey: (c) => (c.process ? c.process.pid : null),
  },
  { id: 'keepalive', title: 'KEEPALIVE', width: 14, text: formatKeepalive, sortKey: (c) => (c.keepalive.enabled ? c.keepalive.idleSec : null) },
  { id: 'timer', title: 'TIMER', width: 9, right: true, text: timerText, sortKey: (c) => c.keepalive.timer?.remainingMs ?? c.timer?.remainingMs ?? null },
  { id: 'probes', title: 'PROBES', width: 6, right: true, text: probesText, sortKey: (c) => (c.keepalive.enabled ? c.keepalive.timer?.probesOutstanding ?? 0 : null) },
  // Running count of probes sent while observed (tracer), whether or not they were answered.
  { id: 'sent', title: 'SENT', width: 5, right: true, dropRank: 3, text: (_c, a) => (a ? String(a.probesSent) : '-'), sortKey: (_c, a) => a?.probesSent ?? null },
  { id: 'idleRecv', title: 'IDLE-RCV', width: 8, right: true, dropRank: 2, text: (c) => formatDuration(c.idleMs.recv), sortKey: (c) => c.idleMs.recv },
  { id: 'idleSend', title: 'IDLE-SND', width: 8, right: true, dropRank: 4, text: (c) => formatDuration(c.idleMs.send), sortKey: (c) => c.idleMs.send },
  { id: 'resets', title: 'RST', width: 4, right: true, dropRank: 1, text: (_c, a) => (a ? String(a.resets) : '-'), sortKey: (_c, a) => a?.resets ?? null },
];

export const SORT_ORDER: readonly ColumnId[] = COLUMNS.map((c) => c.id);

export interface LayoutColumn {
  def: ColumnDef;
  width: number;
}

const GAP = 1;

/** Which columns fit in `width` terminal columns, and how wide each is. */
export function layoutColumns(width: number): LayoutColumn[] {
  let cols = [...COLUMNS];
  const need = (cs: readonly ColumnDef[]) => cs.reduce((n, c) => n + c.width, 0) + GAP * (cs.length - 1);
  const droppable = COLUMNS.filter((c) => c.dropRank !== undefined).sort((a, b) => b.dropRank! - a.dropRank!);
  for (const d of droppable) {
    if (need(cols) <= width) break;
    cols = cols.filter((c) => c !== d);
  }
  const flex = cols.filter((c) => c.flex);
  let spare = Math.max(0, width - need(cols));
  const widths = new Map(cols.map((c) => [c, c.width]));
  // Share spare space between endpoint columns, each up to its max.
  while (spare > 0) {
    const grow = flex.filter((c) => widths.get(c)! < c.flex!.maxWidth);
    if (!grow.length) break;
    const each = Math.max(1, Math.floor(spare / grow.length));
    for (const c of grow) {
      const add = Math.min(each, c.flex!.maxWidth - widths.get(c)!, spare);
      widths.set(c, widths.get(c)! + add);
      spare -= add;
    }
  }
  return cols.map((def) => ({ def, width: widths.get(def)! }));
}

function fit(text: string, width: number, right: boolean | undefined): string {
  if (text.length > width) return width > 1 ? text.slice(0, width - 1) + '…' : text.slice(0, width);
  return right ? text.padStart(width) : text.padEnd(width);
}

export function headerText(layout: readonly LayoutColumn[], sort: ColumnId, inverted: boolean): string {
  return layout
    .map(({ def, width }) => {
      const title = def.id === sort ? `${def.title}${inverted ? '▲' : '▼'}` : def.title;
      return fit(title, width, def.right);
    })
    .join(' ');
}

export function rowText(c: Connection, a: ConnectionActivity | undefined, layout: readonly LayoutColumn[]): string {
  return layout.map(({ def, width }) => fit(def.text(c, a), width, def.right)).join(' ');
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

export function rowStyle(row: Row, fresh: ReadonlyMap<string, number>): RowStyle {
  if (row.closed) return 'closed';
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
  sort: ColumnId;
  inverted: boolean;
  text: string;
  /** Filters given on the command line (--port, --pid…). */
  filter: ConnectionFilter;
}

export function sortRows(rows: Row[], sort: ColumnId, inverted: boolean, activity: ActivityLookup): Row[] {
  const col = COLUMNS.find((c) => c.id === sort)!;
  // Decorate once: key functions run n times, not n·log n. Unknown keys go last in both directions; ties keep
  // inventory order (index tie-break), so rows do not jump between refreshes.
  const n = rows.length;
  const keys: (number | string | null)[] = new Array(n);
  const known: number[] = [];
  const unknown: number[] = [];
  let numeric = true;
  for (let i = 0; i < n; i++) {
    const k = col.sortKey(rows[i]!.c, activity(rows[i]!.c.id));
    keys[i] = k;
    if (k === null) unknown.push(i);
    else {
      known.push(i);
      if (typeof k !== 'number') numeric = false;
    }
  }
  const dir = inverted ? -1 : 1;
  if (numeric) {
    const f = new Float64Array(n);
    for (const i of known) f[i] = keys[i] as number;
    known.sort((a, b) => (f[a]! - f[b]!) * dir || a - b);
  } else {
    known.sort((a, b) => {
      const x = keys[a]!;
      const y = keys[b]!;
      return x < y ? -dir : x > y ? dir : a - b;
    });
  }
  const out: Row[] = new Array(n);
  let o = 0;
  for (const i of known) out[o++] = rows[i]!;
  for (const i of unknown) out[o++] = rows[i]!;
  return out;
}

/**
 * Filter + sort, recomputed only when their inputs changed: moving the selection over 100k rows costs nothing, a
 * new sort order sorts once, and typing a filter never re-sorts. Search keys are built once per sorted list, so
 * each keystroke of a filter is a plain substring scan.
 */
export class ViewCache {
  private sortKey: unknown[] = [];
  private sorted: Row[] = [];
  private searchKeys: string[] | null = null;
  private text = '';
  /** Positions in `sorted` that match `text` (null: no text filter). */
  private matches: number[] | null = null;
  private rows: Row[] = [];

  compute(
    connections: readonly Connection[],
    closed: readonly Connection[],
    query: ViewQuery,
    activity: ActivityLookup,
  ): Row[] {
    const key = [connections, closed, activity, query.sort, query.inverted, query.filter];
    const resort = !(key.length === this.sortKey.length && key.every((k, i) => k === this.sortKey[i]));
    if (resort) {
      const hasFilter = Object.keys(query.filter).length > 0;
      const rows: Row[] = [];
      for (const c of connections) if (!hasFilter || matchesFilter(c, query.filter)) rows.push({ c, closed: false });
      for (const c of closed) if (!hasFilter || matchesFilter(c, query.filter)) rows.push({ c, closed: true });
      this.sorted = sortRows(rows, query.sort, query.inverted, activity);
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
