// `r`: resets by cause, by kernel reason, by process and by peer with counts and rates, so an RST storm shows at a
// glance. ka-top's causes (linger, keepalive_timeout…) and the kernel's reason names (TCP_STATE…, for resets no cause
// explains) are listed apart; received resets carry the cause inferred for the sender.
import { Box, Text } from 'ink';
import { Line } from './Line.js';
import { groupCauses, type ResetBucket } from '../model/reset-stats.js';
import { countedResetsByCause, countedResetsText, lossText, type TracerStatus } from './tracer-view.js';

interface Props {
  tracer: TracerStatus;
  height: number;
  width: number;
}

/**
 * Rows per section in `lines` (each section also takes a title line, and a "… N more" line when cut): one row each
 * first, then the rest in order, so the first lists are complete before the later ones grow.
 */
export function shareRows(lengths: readonly number[], lines: number): number[] {
  const rows = lengths.map((n) => Math.min(n, 1));
  const cost = () => rows.reduce((t, r, i) => t + 1 + Math.max(r, 1) + (r < lengths[i]! ? 1 : 0), 0);
  for (let i = 0; i < lengths.length; i++) {
    while (rows[i]! < lengths[i]!) {
      rows[i]!++;
      if (cost() > lines) {
        rows[i]!--;
        break;
      }
    }
  }
  return rows;
}

/** Rows sit under their section's title. */
const INDENT = '  ';

function Section({ title, buckets, rows, width }: { title: string; buckets: readonly ResetBucket[]; rows: number; width: number }) {
  // Totals sit next to the labels: the label column is as wide as the longest label shown, not the terminal.
  const shown = buckets.slice(0, Math.max(0, rows));
  const keyWidth = Math.min(Math.max(24, title.length, ...shown.map((b) => INDENT.length + b.key.length)), Math.max(10, width - 22));
  const fit = (s: string) => (s.length > keyWidth ? s.slice(0, keyWidth - 1) + '…' : s).padEnd(keyWidth);
  return (
    // Not shrunk when the sections do not all fit (a short terminal): yoga would squeeze the title lines away
    // first; the last sections are cut at the bottom instead.
    <Box flexDirection="column" flexShrink={0}>
      <Text bold wrap="truncate">{`${fit(title)} ${'total'.padStart(9)} ${'per sec'.padStart(9)}`}</Text>
      {buckets.length === 0 ? <Text color="gray">{`${INDENT}none`}</Text> : null}
      {shown.map((b) => (
        <Line key={b.key} color={b.rate >= 1 ? 'red' : b.rate > 0 ? 'yellow' : undefined}>
          {`${fit(`${INDENT}${b.key}`)} ${String(b.count).padStart(9)} ${b.rate.toFixed(1).padStart(9)}`}
        </Line>
      ))}
      {buckets.length > shown.length ? <Line color="gray">{`  … ${buckets.length - shown.length} more`}</Line> : null}
    </Box>
  );
}

export function ResetsView({ tracer, height, width }: Props) {
  if (!tracer.on) {
    return (
      <Box flexDirection="column">
        <Text inverse wrap="truncate">Resets</Text>
        <Text color="yellow" wrap="truncate">{`tracer off: ${tracer.reason}`}</Text>
        <Text color="gray" wrap="truncate">Resets are seen by tracing tcp:tcp_send_reset and tcp:tcp_receive_reset (root and bpftrace).</Text>
      </Box>
    );
  }
  const r = tracer.view.resets;
  const counted = countedResetsText(tracer.view);
  const g = groupCauses(r.byCause);
  const sections: [string, ResetBucket[]][] = [
    ['Sent, by cause (ka-top)', g.causes],
    ['Sent, kernel reason (no cause known)', g.reasons],
    ['Received, cause inferred', g.received],
    ['By process', r.byProcess],
    ['By peer', r.byPeer],
  ];
  // Empty lists are left out (all of them empty: the first says "none").
  const nonEmpty = sections.filter(([, b]) => b.length > 0);
  const used = nonEmpty.length ? nonEmpty : sections.slice(0, 1);
  const byCause = countedResetsByCause(tracer.view);
  const rows = shareRows(used.map(([, b]) => b.length), height - (byCause ? 2 : 1));
  return (
    <Box flexDirection="column">
      {/* In a flood the records are a sample: the kernel's rate comes first, then what it was. */}
      <Box flexDirection="column" flexShrink={0}>
        <Line inverse>{`Resets · ${counted ? `${counted} · recorded ` : ''}${r.total} seen (sent ${r.sent}, received ${r.received}) · ${r.rate.toFixed(1)}/s over the last ${r.windowMs / 1000}s · ${lossText(tracer.view)}`}</Line>
        {byCause && <Line>{byCause}</Line>}
      </Box>
      {used.map(([title, b], i) => <Section key={title} title={title} buckets={b} rows={rows[i]!} width={width} />)}
    </Box>
  );
}
