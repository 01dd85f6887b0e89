// Enter on a row: every field of the connection and its event timeline, scrollable.
import { Box, Text } from 'ink';
import type { DetailLine } from './detail-lines.js';
import { Line } from './Line.js';

interface Props {
  title: string;
  lines: readonly DetailLine[];
  top: number;
  height: number;
  /** The connection is gone: the title says so in red. */
  closed?: boolean;
}

/** Label width per section (the timeline's short time labels do not take the keepalive section's width). */
function labelWidths(lines: readonly DetailLine[]): number[] {
  const out: number[] = new Array(lines.length).fill(0);
  for (let i = 0; i < lines.length; ) {
    let j = i + 1;
    while (j < lines.length && !lines[j]!.section) j++;
    const w = Math.max(0, ...lines.slice(i, j).filter((l) => !l.section).map((l) => l.label.length)) + 2;
    out.fill(w, i, j);
    i = j;
  }
  return out;
}

export function DetailView({ title, lines, top, height, closed }: Props) {
  const widths = labelWidths(lines);
  return (
    <Box flexDirection="column">
      <Line inverse color={closed ? 'red' : undefined} bold={closed}>{title}</Line>
      {lines.slice(top, top + Math.max(0, height - 1)).map((l, i) =>
        l.section ? (
          <Text key={i} bold wrap="truncate">{l.label}</Text>
        ) : (
          <Line key={i} segments={[{ text: `  ${l.label.padEnd(widths[top + i]!)}`, color: 'cyan' }, { text: l.value }]} />
        ),
      )}
    </Box>
  );
}
