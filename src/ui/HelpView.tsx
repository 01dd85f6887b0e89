// `?`: every key, every column and notation on screen, the colours, the default order, and the full capability
// list with reasons. Scrolls (↑/↓, PgUp/PgDn) so it is complete on 24 rows too.
import { Box, Text } from 'ink';
import { CAPABILITY_LABELS, type Capabilities } from '../domain/capabilities.js';
import { COLUMNS, TIMER_PREFIXES, type ColumnDef } from '../output/table.js';
import { KEY_HELP } from './keymap.js';
import { ORDER_EPOCH_MS } from './view-model.js';

export interface HelpLine {
  text: string;
  color?: string;
  bold?: boolean;
}

export function helpLines(capabilities: Capabilities | null, hidden: readonly ColumnDef[], warnings: readonly string[] = []): HelpLine[] {
  const kw = Math.max(...KEY_HELP.map(([k]) => k.length)) + 2;
  const cw = Math.max(...COLUMNS.map((c) => c.title.length)) + 2;
  const hiddenIds = new Set(hidden.map((c) => c.id));
  return [
    { text: 'Keys', bold: true },
    ...KEY_HELP.map(([k, what]) => ({ text: `  ${k.padEnd(kw)}${what}` })),
    { text: `Columns (narrow terminals drop the last ones first${hidden.length ? `; hidden now: ${hidden.map((c) => c.title).join(' ')}` : ''})`, bold: true },
    ...[...COLUMNS].sort((a, b) => a.priority - b.priority).map((c) => ({
      text: `  ${c.title.padEnd(cw)}${c.help}${hiddenIds.has(c.id) ? '  [hidden: widen the terminal]' : ''}`,
      color: hiddenIds.has(c.id) ? 'gray' : undefined,
    })),
    { text: 'Notation', bold: true },
    { text: '  -      does not apply (keepalive off, no such timer, a state without a flow such as SYN-SENT or LISTEN)' },
    { text: '  0      a measured zero (0/4: no probe unanswered now; USER-TO 0: TCP_USER_TIMEOUT unset)' },
    { text: '  ?      could not be read (not root, the owner exited); in KEEPALIVE: SO_KEEPALIVE itself unknown' },
    { text: '  *      after a KEEPALIVE value: set on the socket; no mark: the namespace sysctl default' },
    { text: '  ~      before a time: estimated (another timer hides the keepalive timer)' },
    { text: '  n/a    in the header: sockets without keepalive to speak of (TIME-WAIT)' },
    ...TIMER_PREFIXES.map((t) => ({ text: `  TIMER ${t}` })),
    { text: '  CLOSED the connection is gone; it stays (dimmed) for a minute, with its last figures and events' },
    { text: '  ▲ / ▼  sort ascending (smallest first) / descending; I inverts' },
    { text: 'Order', bold: true },
    { text: '  ATTENTION (the default): dying or probing first, then recent resets, then idle beyond a middlebox timeout or' },
    { text: '  without keepalive, then the rest; listeners and TIME-WAIT last. < > pick a column instead.' },
    { text: `  Rows move at a refresh that changed a connection; on a quiet host, every ${ORDER_EPOCH_MS / 1000} s (time alone moves few).` },
    { text: 'Colours', bold: true },
    { text: '  red: the next unanswered probe (or TCP_USER_TIMEOUT) kills the connection', color: 'red' },
    { text: '  yellow: keepalive probes unanswered now', color: 'yellow' },
    { text: '  green: new since the last refresh', color: 'green' },
    { text: '  grey: closed (CLOSED in STATE)', color: 'gray' },
    { text: '  header findings line: red critical, yellow warning, cyan info (f lists them)' },
    { text: 'What ka-top can see here', bold: true },
    ...(capabilities
      ? (Object.keys(CAPABILITY_LABELS) as (keyof Capabilities)[]).map((k) => ({
          text: `  ${capabilities[k].available ? '✓' : '✗'} ${CAPABILITY_LABELS[k]}: ${capabilities[k].detail}`,
          color: capabilities[k].available ? undefined : 'yellow',
        }))
      : [{ text: '  (still checking)' }]),
    ...(warnings.length ? [{ text: 'Warnings', bold: true }, ...warnings.map((w) => ({ text: `  ${w}`, color: 'yellow' }))] : []),
  ];
}

export function HelpView({ lines, top, height }: { lines: readonly HelpLine[]; top: number; height: number }) {
  const room = Math.max(0, height - 1);
  return (
    <Box flexDirection="column">
      <Text inverse wrap="truncate">{`Help — lines ${top + 1}-${Math.min(lines.length, top + room)} of ${lines.length} · ↑/↓ PgUp/PgDn scroll · Esc back`}</Text>
      {lines.slice(top, top + room).map((l, i) => (
        <Text key={top + i} color={l.color} bold={l.bold} wrap="truncate">{l.text}</Text>
      ))}
    </Box>
  );
}
