// The interactive view: header, connection table, detail/resets/findings/help screens and a status line. State
// comes from the Monitor (and, when wired, the event stream and the findings); every decision is made by keymap.ts,
// view-model.ts and the line builders.
import { Box, useApp, useInput, useStdout, type Key } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { MonitorState } from '../engine/monitor.js';
import type { ConnectionFilter } from '../domain/filter.js';
import type { Finding } from '../domain/finding.js';
import type { Connection } from '../domain/connection.js';
import { formatEndpoint, formatOwner } from '../output/format.js';
import { findingConnectionCount, findingConnectionIds } from '../model/findings/rule-kit.js';
import { summarize, warningsFor } from '../model/snapshot-summary.js';
import { ConnectionTable } from './ConnectionTable.js';
import { closedText, detailLines } from './detail-lines.js';
import { DetailView } from './DetailView.js';
import { FindingsView } from './FindingsView.js';
import { Header, headerLines, shownSysctl, type RecordedInfo } from './Header.js';
import { HelpView, helpLines } from './HelpView.js';
import { keyToAction, splitKeys, type Action, type Mode } from './keymap.js';
import { Line } from './Line.js';
import { ResetsView } from './ResetsView.js';
import { countedResetsText, tracerOffReason, type TracerStatus } from './tracer-view.js';
import {
  SORT_ORDER, ViewCache, clamp, closedAtOf, contentWidths, layoutColumns, moveSelection, orderEpoch, scrollFor, sortTitle, visibleSlice,
  type ActivityLookup, type Row,
} from './view-model.js';

/** Where the view's state comes from: a live Monitor, or a recorded snapshot (SnapshotFeed). */
export interface StateFeed {
  readonly state: MonitorState;
  subscribe(fn: (s: MonitorState) => void): () => void;
}

export interface AppProps {
  feed: StateFeed;
  version: string;
  host: { hostname: string; kernel: string };
  /** Command-line filters (--port, --pid…), applied before the text filter. */
  filter?: ConnectionFilter;
  /** The event stream's view; absent or off -> the UI says why there are no events. */
  tracer?: () => TracerStatus | null;
  /** The findings for this state (live: a sliding window of events; recorded: the file's). */
  findings?: (state: MonitorState) => readonly Finding[];
  /** Writes a snapshot of these rows, the view live meanwhile; resolves with the file path (rejects with a reason). */
  onSnapshot?: (rows: readonly Connection[], state: MonitorState) => Promise<string>;
  /** The namespace (inode) of the connection open in the detail view, null when none is: the live view has it
   *  inventoried at every refresh. */
  onNetnsInView?: (inode: number | null) => void;
  /** Called once when the user quits (before ink unmounts). */
  onQuit?: () => void;
  /** A recorded snapshot is shown (`ka-top view`): the header says so; pause and `e` are read-only. */
  recorded?: RecordedInfo;
}

const NO_FILTER: ConnectionFilter = {};
const NO_ACTIVITY: ActivityLookup = () => undefined;
const NO_ROWS: readonly Connection[] = [];
const NO_FINDINGS: readonly Finding[] = [];

/** The tracer's part of the table's frame that changes without a new inventory: its state, events, reset rates. */
function tracerKey(status: TracerStatus | null): string {
  if (!status) return '';
  if (!status.on) return `off ${status.reason}`;
  const { eventsSeen, lostEvents, heldBackEvents, resets } = status.view;
  return `${eventsSeen} ${lostEvents} ${heldBackEvents} ${resets.rate} ${countedResetsText(status.view)}`;
}

function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 100, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);
  return size;
}

export function App({ feed, version, host, filter = NO_FILTER, tracer, findings: findingsOf, onSnapshot, onNetnsInView, onQuit, recorded }: AppProps) {
  const { exit } = useApp();
  const { columns, rows: termRows } = useTerminalSize();
  const [live, setLive] = useState<MonitorState>(feed.state);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  const [mode, setModeState] = useState<Mode>('table');
  // Keys of one chunk are handled before React renders again: each must see what the previous one did (mode,
  // selection), so those live in refs too.
  const modeRef = useRef<Mode>('table');
  const setMode = (m: Mode) => {
    modeRef.current = m;
    setModeState(m);
  };
  const [text, setText] = useState('');
  const [sortIdx, setSortIdx] = useState(0);
  const [inverted, setInverted] = useState(false);
  const [sel, setSel] = useState<{ id: string | null; index: number }>({ id: null, index: 0 });
  const selRef = useRef(0);
  const [detailTop, setDetailTop] = useState(0);
  const [helpTop, setHelpTop] = useState(0);
  const [findingSel, setFindingSel] = useState(0);
  const findingSelRef = useRef(0);
  // `total`: how many connections the finding concerns; a recorded one names at most MAX_IDS of them.
  const [chosen, setChosen] = useState<{ rule: string; ids: ReadonlySet<string>; total: number } | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  /** A snapshot (`e`) is being written. */
  const writing = useRef(false);
  const [, setTick] = useState(0);
  const topRef = useRef(0);
  /** The detail's connection, kept when it leaves the table (closed long ago, filtered out). */
  const pinned = useRef<Row | null>(null);
  const cache = useRef(new ViewCache()).current;

  /** What the last frame showed of the tracer (tracerKey): the clock redraws the table only when that changed. */
  const tracerShown = useRef('');

  useEffect(() => feed.subscribe((s) => (pausedRef.current ? undefined : setLive(s))), [feed]);
  // Event counts, rates and "closed 3s ago" change between refreshes: once a second, redraw if they did. The table
  // alone shows nothing else that moves with the clock; at 100k sockets each frame costs ink ~15 ms, for nothing
  // when the host is quiet.
  useEffect(() => {
    if (recorded) return;
    const t = setInterval(() => {
      if (pausedRef.current) return;
      const tableOnly = modeRef.current === 'table' || modeRef.current === 'filter';
      if (tableOnly && tracerKey(tracer?.() ?? null) === tracerShown.current) return;
      setTick((n) => n + 1);
    }, 1000);
    return () => clearInterval(t);
  }, [recorded, tracer]);

  const state = live;
  const inv = state.inventory;
  const now = Date.now();
  const reported = tracer?.() ?? null;
  tracerShown.current = tracerKey(reported);
  const status: TracerStatus = reported ?? { on: false, reason: tracerOffReason(state.capabilities) };
  const activity = status.on ? status.view.activity : NO_ACTIVITY;
  const sort = SORT_ORDER[sortIdx]!;
  const connections = inv?.connections ?? NO_ROWS;
  const rows = cache.compute(connections, state.closed, { sort, inverted, text, filter, ids: chosen?.ids ?? null, epoch: orderEpoch(now) }, activity);
  // On the connections, not the inventory: a refresh that changed no connection hands on the same array.
  const hasInventory = inv !== null;
  const summary = useMemo(() => (hasInventory ? summarize(connections) : null), [connections, hasInventory]);
  const keepaliveNa = useMemo(() => connections.filter((c) => c.state === 'TIME-WAIT' && c.keepalive.enabled === null).length, [connections]);
  const warnings = useMemo(
    () => recorded?.warnings ?? (inv && state.capabilities ? warningsFor(state.capabilities, inv.namespaces, inv.ownersMissing, inv.parseErrors) : []),
    [inv, state.capabilities, recorded],
  );
  const findings = findingsOf?.(state) ?? NO_FINDINGS;

  const compact = termRows < 30;
  const head = headerLines(
    {
      version, host, capabilities: state.capabilities, summary, warnings, tracer: status,
      sysctl: shownSysctl(inv?.namespaces ?? []),
      namespaces: inv?.namespaces.length ?? 0,
      refresh: state.refresh,
      maxMissing: termRows >= 40 ? 3 : 1,
      recorded, findings, keepaliveNa, compact,
    },
    columns,
  );
  // Frame = header + body + status line, never taller than rows - 1 (a full-height frame makes ink clear the
  // screen on every update).
  const bodyHeight = Math.max(1, termRows - 1 - head.length - 1);
  const tableHeight = Math.max(1, bodyHeight - 1);

  // Keep the selection on the same connection across refreshes, re-sorts and filtering.
  const found = sel.id === null ? -1 : cache.indexOf(sel.id, sel.index);
  const selected = rows.length ? (found >= 0 ? found : clamp(sel.index, 0, rows.length - 1)) : 0;
  selRef.current = selected;
  const top = scrollFor(selected, topRef.current, tableHeight, rows.length);
  topRef.current = top;
  const view = visibleSlice(rows, top, tableHeight);
  const layout = layoutColumns(columns, contentWidths(view.rows));

  // The detail follows its connection through death: found in the rows, else the last row seen of it.
  if (mode === 'detail' && pinned.current) {
    if (found >= 0 && rows[found]!.c.id === pinned.current.c.id) pinned.current = rows[found]!;
    else if (!pinned.current.closed) pinned.current = { ...pinned.current, closed: true, closedAt: now };
  }
  const detailRow = mode === 'detail' ? pinned.current : null;
  const netnsInView = detailRow && !detailRow.closed ? detailRow.c.netns.inode : null;
  useEffect(() => {
    onNetnsInView?.(netnsInView);
  }, [onNetnsInView, netnsInView]);
  const detailActivity = detailRow ? activity(detailRow.c.id) : undefined;
  const detailClosedAt = detailRow ? closedAtOf(detailRow, detailActivity) : null;
  const detail = detailRow
    ? detailLines(detailRow.c, status.on ? (detailActivity?.timeline ?? status.view.timeline(detailRow.c.id)) : null, detailClosedAt, !!recorded, now)
    : [];
  const help = mode === 'help' ? helpLines(state.capabilities, layout.hidden, warnings) : [];

  const select = (index: number) => {
    const i = clamp(index, 0, Math.max(0, rows.length - 1));
    selRef.current = i;
    setSel({ id: rows[i]?.c.id ?? null, index: i });
  };

  const run = (a: Action) => {
    switch (a.type) {
      case 'quit':
        onQuit?.();
        exit();
        return;
      case 'move': {
        const m = modeRef.current;
        if (m === 'detail') {
          const max = Math.max(0, detail.length - (bodyHeight - 1));
          setDetailTop((t) => moveSelection(t, a.move, max + 1, bodyHeight - 2));
        } else if (m === 'help') {
          const max = Math.max(0, help.length - (bodyHeight - 1));
          setHelpTop((t) => moveSelection(t, a.move, max + 1, bodyHeight - 2));
        } else if (m === 'findings') {
          findingSelRef.current = moveSelection(findingSelRef.current, a.move, findings.length, 1);
          setFindingSel(findingSelRef.current);
        } else if (m === 'table' || m === 'filter') {
          select(moveSelection(selRef.current, a.move, rows.length, tableHeight));
        }
        return;
      }
      case 'filterStart':
        setMode('filter');
        return;
      case 'filterInput':
        setText((t) => t + a.text);
        return;
      case 'filterBackspace':
        setText((t) => t.slice(0, -1));
        return;
      case 'filterAccept':
        setMode('table');
        return;
      case 'filterClear':
        setText('');
        setChosen(null);
        setMode('table');
        return;
      case 'sortNext':
      case 'sortPrev':
        setSortIdx((i) => (i + (a.type === 'sortNext' ? 1 : SORT_ORDER.length - 1)) % SORT_ORDER.length);
        return;
      case 'invert':
        setInverted((v) => !v);
        return;
      case 'detail': {
        const row = rows[selRef.current];
        if (row) {
          pinned.current = row;
          setSel({ id: row.c.id, index: selRef.current });
          setDetailTop(0);
          setMode('detail');
        }
        return;
      }
      case 'resets':
        setMode('resets');
        return;
      case 'findings':
        setMode('findings');
        return;
      case 'findingApply': {
        const f = findings[findingSelRef.current];
        // Found from events of connections already gone (a health checker's short ones): no table to filter to.
        if (f && findingConnectionCount(f) === 0) {
          setMessage({ text: `${f.rule} names no connection to show (found from events of connections gone by now)`, error: false });
          return;
        }
        if (f) {
          setChosen({ rule: f.rule, ids: new Set(findingConnectionIds(f)), total: findingConnectionCount(f) });
          select(0);
        }
        setMode('table');
        return;
      }
      case 'help':
        setHelpTop(0);
        setMode('help');
        return;
      case 'back':
        pinned.current = null;
        setMode('table');
        return;
      case 'pause': {
        if (recorded) {
          setMessage({ text: 'read-only: a recorded snapshot does not change', error: false });
          return;
        }
        const next = !pausedRef.current;
        pausedRef.current = next;
        setPaused(next);
        if (!next) setLive(feed.state);
        return;
      }
      case 'snapshot': {
        if (recorded) {
          setMessage({ text: `read-only: this is already a snapshot (${recorded.file})`, error: false });
          return;
        }
        if (!onSnapshot) return;
        // One at a time: a second key while 100k rows are being written would only write them again.
        if (writing.current) {
          setMessage({ text: 'still writing the last snapshot…', error: false });
          return;
        }
        const shown = rows.filter((r) => !r.closed).map((r) => r.c);
        writing.current = true;
        setMessage({ text: `writing ${shown.length} connections…`, error: false });
        onSnapshot(shown, state).then(
          (path) => setMessage({ text: `wrote ${shown.length} connections to ${path}`, error: false }),
          (e: unknown) => setMessage({ text: `snapshot failed: ${e instanceof Error ? e.message : String(e)}`, error: true }),
        ).finally(() => (writing.current = false));
        return;
      }
    }
  };

  // ink re-subscribes a new handler in an effect after each render; a key arriving before that effect ran would
  // see the previous render's rows. The stable handler always calls the latest one, key by key.
  const onKey = useRef<(input: string, key: Key) => void>(() => {});
  onKey.current = (input, key) => {
    for (const k of splitKeys(input, key)) {
      const a = keyToAction(modeRef.current, k.input, k.key);
      if (!a) continue;
      if (a.type !== 'snapshot') setMessage(null);
      run(a);
    }
  };
  const stableOnKey = useCallback((input: string, key: Key) => onKey.current(input, key), []);
  useInput(stableOnKey);

  let body;
  if (mode === 'detail' && detailRow) {
    const c = detailRow.c;
    const what = detailClosedAt !== null ? closedText(detailClosedAt, detailActivity?.timeline ?? null, now) : c.state;
    const title = `${what} ${formatEndpoint(c.local)} -> ${formatEndpoint(c.peer)} ${formatOwner(c)} — Esc back, ↑/↓ scroll`;
    body = (
      <DetailView
        title={title} lines={detail} closed={detailClosedAt !== null} height={bodyHeight}
        top={Math.min(detailTop, Math.max(0, detail.length - (bodyHeight - 1)))}
      />
    );
  } else if (mode === 'resets') {
    body = <ResetsView tracer={status} height={bodyHeight} width={columns} />;
  } else if (mode === 'findings') {
    const origin = recorded ? `recorded in ${recorded.file}` : status.on ? 'live, events of the last 10 min' : 'live, inventory only (tracer off)';
    body = <FindingsView findings={findings} selected={Math.min(findingSel, Math.max(0, findings.length - 1))} height={bodyHeight} width={columns} origin={origin} />;
  } else if (mode === 'help') {
    body = <HelpView lines={help} top={Math.min(helpTop, Math.max(0, help.length - (bodyHeight - 1)))} height={bodyHeight} />;
  } else {
    body = (
      <ConnectionTable
        rows={view.rows} top={view.top} selected={selected} layout={layout.columns} sort={sort}
        inverted={inverted} fresh={state.fresh} activity={activity}
        empty={inv ? (text || chosen || Object.keys(filter).length ? 'no connection matches the filter' : 'no TCP connections') : 'collecting…'}
      />
    );
  }

  let statusText: string;
  if (mode === 'filter') statusText = `/${text}▏  Enter keep · Esc clear`;
  else if (message) statusText = message.text;
  else {
    const pos = rows.length ? `${selected + 1}/${rows.length}` : '0/0';
    const filt = text ? ` · filter "${text}"` : '';
    const listed = chosen && chosen.total > chosen.ids.size ? `: the ${chosen.ids.size} it lists of ${chosen.total}` : '';
    const fnd = chosen ? ` · finding ${chosen.rule}${listed} (Esc all)` : '';
    const order = sort === 'attention' ? `sort ATTENTION ${inverted ? 'last' : 'first'}` : `sort ${sortTitle(sort)}${inverted ? '▼' : '▲'}`;
    const hidden = layout.hidden.length ? ` · ${layout.hidden.length} cols hidden` : '';
    statusText = `${pos}${filt}${fnd} · ${order}${hidden} · f findings · ? help · q quit`;
  }

  return (
    // Clipped by height only: every line is truncated to the width already, and a horizontal clip would make ink
    // slice every line of every frame again (a fifth of its frame time, measured under churn).
    <Box flexDirection="column" width={columns} height={Math.max(1, termRows - 1)} overflowY="hidden">
      <Header lines={head} />
      <Box flexDirection="column" height={bodyHeight} overflowY="hidden">
        {body}
      </Box>
      <Line segments={[...(paused ? [{ text: ' PAUSED ', inverse: true, color: 'yellow', bold: true } as const, { text: ' ' }] : []), { text: statusText, color: message?.error ? 'red' : undefined }]} />
    </Box>
  );
}
