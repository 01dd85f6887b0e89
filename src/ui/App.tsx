// The interactive view: header, connection table, detail/resets/help screens and a status line. State comes from
// the Monitor (and, when wired, the event stream); every decision is made by keymap.ts and view-model.ts.
import { Box, Text, useApp, useInput, useStdout, type Key } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { MonitorState } from '../engine/monitor.js';
import type { ConnectionFilter } from '../domain/filter.js';
import type { Connection } from '../domain/connection.js';
import { formatEndpoint, formatOwner } from '../output/format.js';
import { summarize, warningsFor } from '../model/snapshot-summary.js';
import { ConnectionTable } from './ConnectionTable.js';
import { detailLines } from './detail-lines.js';
import { DetailView } from './DetailView.js';
import { Header, headerLines, type RecordedInfo } from './Header.js';
import { HelpView } from './HelpView.js';
import { keyToActions, type Action, type Mode } from './keymap.js';
import { ResetsView } from './ResetsView.js';
import { tracerOffReason, type TracerStatus } from './tracer-view.js';
import { SORT_ORDER, ViewCache, clamp, layoutColumns, moveSelection, scrollFor, visibleSlice, type ActivityLookup } from './view-model.js';

export interface StateSource {
  readonly state: MonitorState;
  subscribe(fn: (s: MonitorState) => void): () => void;
}

export interface AppProps {
  source: StateSource;
  version: string;
  host: { hostname: string; kernel: string };
  /** Command-line filters (--port, --pid…), applied before the text filter. */
  filter?: ConnectionFilter;
  /** The event stream's view; absent or off -> the UI says why there are no events. */
  tracer?: () => TracerStatus | null;
  /** Writes a snapshot of these rows; returns the file path (throws with a reason). */
  onSnapshot?: (rows: readonly Connection[], state: MonitorState) => string;
  /** Called once when the user quits (before ink unmounts). */
  onQuit?: () => void;
  /** A recorded snapshot is shown (`ka-top view`): the header says so; pause and `e` are read-only. */
  recorded?: RecordedInfo;
}

const NO_FILTER: ConnectionFilter = {};
const NO_ACTIVITY: ActivityLookup = () => undefined;
const NO_CLOSED: readonly Connection[] = [];

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

export function App({ source, version, host, filter = NO_FILTER, tracer, onSnapshot, onQuit, recorded }: AppProps) {
  const { exit } = useApp();
  const { columns, rows: termRows } = useTerminalSize();
  const [live, setLive] = useState<MonitorState>(source.state);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  const [mode, setModeState] = useState<Mode>('table');
  // Keys can arrive faster than renders (a paste, a busy machine): `/` then text must see the filter mode at once.
  const modeRef = useRef<Mode>('table');
  const setMode = (m: Mode) => {
    modeRef.current = m;
    setModeState(m);
  };
  const [text, setText] = useState('');
  const [sortIdx, setSortIdx] = useState(SORT_ORDER.indexOf('state'));
  const [inverted, setInverted] = useState(false);
  const [sel, setSel] = useState<{ id: string | null; index: number }>({ id: null, index: 0 });
  const [detailTop, setDetailTop] = useState(0);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [, setTick] = useState(0);
  const topRef = useRef(0);
  const cache = useRef(new ViewCache()).current;

  useEffect(() => source.subscribe((s) => (pausedRef.current ? undefined : setLive(s))), [source]);
  // Event counts and rates change between refreshes: redraw once a second while a tracer runs.
  useEffect(() => {
    if (!tracer || recorded) return;
    const t = setInterval(() => pausedRef.current || setTick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [tracer, recorded]);

  const state = live;
  const inv = state.inventory;
  const status: TracerStatus = tracer?.() ?? { on: false, reason: tracerOffReason(state.capabilities) };
  const activity = status.on ? status.view.activity : NO_ACTIVITY;
  const sort = SORT_ORDER[sortIdx]!;
  const closed = useMemo(() => (state.closed.length ? state.closed.map((c) => c.connection) : NO_CLOSED), [state.closed]);
  const connections = inv?.connections ?? NO_CLOSED;
  const rows = cache.compute(connections, closed, { sort, inverted, text, filter }, activity);
  const summary = useMemo(() => (inv ? summarize(inv.connections) : null), [inv]);
  const warnings = useMemo(
    () => recorded?.warnings ?? (inv && state.capabilities ? warningsFor(state.capabilities, inv.namespaces, inv.ownersMissing, inv.parseErrors) : []),
    [inv, state.capabilities, recorded],
  );

  const head = headerLines(
    {
      version, host, capabilities: state.capabilities, summary, warnings, tracer: status,
      sysctl: inv?.namespaces.find((n) => n.self)?.sysctl ?? null,
      namespaces: inv?.namespaces.length ?? 0,
      refresh: state.refresh,
      maxMissing: termRows >= 30 ? 3 : 1,
      recorded,
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
  const top = scrollFor(selected, topRef.current, tableHeight, rows.length);
  topRef.current = top;
  const view = visibleSlice(rows, top, tableHeight);
  const current = rows[selected] ?? null;

  const detail = useMemo(
    () => (mode === 'detail' && current ? detailLines(current.c, status.on ? status.view.timeline(current.c.id) : null, current.closed, !!recorded) : []),
    // Recomputed when the connection object (a refresh) or the view changes.
    [mode, current?.c, current?.closed, status.on, recorded],
  );

  const select = (index: number) => {
    const i = clamp(index, 0, Math.max(0, rows.length - 1));
    setSel({ id: rows[i]?.c.id ?? null, index: i });
  };

  const run = (a: Action) => {
    switch (a.type) {
      case 'quit':
        onQuit?.();
        exit();
        return;
      case 'move':
        if (modeRef.current === 'detail') {
          const max = Math.max(0, detail.length - (bodyHeight - 1));
          setDetailTop((t) => moveSelection(t, a.move, max + 1, bodyHeight - 2));
        } else if (modeRef.current === 'table' || modeRef.current === 'filter') {
          select(moveSelection(selected, a.move, rows.length, tableHeight));
        }
        return;
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
        setMode('table');
        return;
      case 'sortNext':
      case 'sortPrev':
        setSortIdx((i) => (i + (a.type === 'sortNext' ? 1 : SORT_ORDER.length - 1)) % SORT_ORDER.length);
        return;
      case 'invert':
        setInverted((v) => !v);
        return;
      case 'detail':
        if (current) {
          setSel({ id: current.c.id, index: selected });
          setDetailTop(0);
          setMode('detail');
        }
        return;
      case 'resets':
        setMode('resets');
        return;
      case 'help':
        setMode('help');
        return;
      case 'back':
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
        if (!next) setLive(source.state);
        return;
      }
      case 'snapshot': {
        if (recorded) {
          setMessage({ text: `read-only: this is already a snapshot (${recorded.file})`, error: false });
          return;
        }
        if (!onSnapshot) return;
        const shown = rows.filter((r) => !r.closed).map((r) => r.c);
        try {
          const path = onSnapshot(shown, state);
          setMessage({ text: `wrote ${shown.length} connections to ${path}`, error: false });
        } catch (e) {
          setMessage({ text: `snapshot failed: ${e instanceof Error ? e.message : String(e)}`, error: true });
        }
        return;
      }
    }
  };

  // ink re-subscribes a new handler in an effect after each render; a key arriving before that effect ran would
  // see the previous render's mode and rows. The stable handler always calls the latest one.
  const onKey = useRef<(input: string, key: Key) => void>(() => {});
  onKey.current = (input, key) => {
    for (const a of keyToActions(modeRef.current, input, key)) {
      if (a.type !== 'snapshot') setMessage(null);
      run(a);
    }
  };
  const stableOnKey = useCallback((input: string, key: Key) => onKey.current(input, key), []);
  useInput(stableOnKey);

  let body;
  if (mode === 'detail' && current) {
    const c = current.c;
    const title = `${c.state} ${formatEndpoint(c.local)} -> ${formatEndpoint(c.peer)} ${formatOwner(c)} — Esc back, ↑/↓ scroll`;
    body = <DetailView title={title} lines={detail} top={Math.min(detailTop, Math.max(0, detail.length - (bodyHeight - 1)))} height={bodyHeight} />;
  } else if (mode === 'resets') {
    body = <ResetsView tracer={status} height={bodyHeight} width={columns} />;
  } else if (mode === 'help') {
    body = <HelpView capabilities={state.capabilities} height={bodyHeight} />;
  } else {
    body = (
      <ConnectionTable
        rows={view.rows} top={view.top} selected={selected} layout={layoutColumns(columns)} sort={sort}
        inverted={inverted} fresh={state.fresh} activity={activity}
        empty={inv ? (text || Object.keys(filter).length ? 'no connection matches the filter' : 'no TCP connections') : 'collecting…'}
      />
    );
  }

  let statusText: string;
  if (mode === 'filter') statusText = `/${text}▏  Enter keep · Esc clear`;
  else if (message) statusText = message.text;
  else {
    const pos = rows.length ? `${selected + 1}/${rows.length}` : '0/0';
    const filt = text ? ` · filter "${text}"` : '';
    statusText = `${pos}${filt} · sort ${sort}${inverted ? ' ▲' : ' ▼'} · ? help · q quit`;
  }

  return (
    <Box flexDirection="column" width={columns} height={Math.max(1, termRows - 1)} overflow="hidden">
      <Header lines={head} />
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {body}
      </Box>
      <Text wrap="truncate">
        {paused ? <Text inverse color="yellow" bold>{' PAUSED '}</Text> : null}
        {paused ? ' ' : ''}
        <Text color={message?.error ? 'red' : undefined}>{statusText}</Text>
      </Text>
    </Box>
  );
}
