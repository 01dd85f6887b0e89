// Enter on a row: every field of the connection and its event timeline, scrollable.
import { Box, Text } from 'ink';
import type { DetailLine } from './detail-lines.js';

interface Props {
  title: string;
  lines: readonly DetailLine[];
  top: number;
  height: number;
  /** The connection is gone: the title says so in red. */
  closed?: boolean;
}

export function DetailView({ title, lines, top, height, closed }: Props) {
  const width = Math.max(...lines.map((l) => l.label.length), 0) + 2;
  return (
    <Box flexDirection="column">
      <Text inverse color={closed ? 'red' : undefined} bold={closed} wrap="truncate">{title}</Text>
      {lines.slice(top, top + Math.max(0, height - 1)).map((l, i) =>
        l.section ? (
          <Text key={i} bold wrap="truncate">{l.label}</Text>
        ) : (
          <Text key={i} wrap="truncate">
            <Text color="cyan">{`  ${l.label.padEnd(width)}`}</Text>
            {l.value}
          </Text>
        ),
      )}
    </Box>
  );
}
