// `f`: each finding with its fix; the selected one is highlighted and Enter filters the table to its connections.
import { Box, Text } from 'ink';
import type { Finding } from '../domain/finding.js';
import { findingsLines } from './findings-lines.js';
import { Line } from './Line.js';

interface Props {
  findings: readonly Finding[];
  selected: number;
  height: number;
  width: number;
  /** Where the findings come from (live window or the recorded file). */
  origin: string;
}

export function FindingsView({ findings, selected, height, width, origin }: Props) {
  const lines = findingsLines(findings, width);
  // Scroll so the selected finding's first line is on screen.
  const first = Math.max(0, lines.findIndex((l) => l.finding === selected));
  const room = Math.max(1, height - 1);
  const top = Math.max(0, Math.min(first, lines.length - room));
  return (
    <Box flexDirection="column">
      <Line inverse>{`Findings (${findings.length}, ${origin}) — ↑/↓ choose · Enter show its connections · Esc back`}</Line>
      {findings.length === 0 ? <Text color="gray">no findings: nothing the rules flag in what ka-top sees</Text> : null}
      {lines.slice(top, top + room).map((l, i) => (
        <Line key={top + i} color={l.color} bold={l.bold} inverse={l.bold && l.finding === selected}>{l.text}</Line>
      ))}
    </Box>
  );
}
