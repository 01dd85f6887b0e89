// `?`: every key, what the colours and marks mean, and the full capability list with reasons.
import { Box, Text } from 'ink';
import { CAPABILITY_LABELS, type Capabilities } from '../domain/capabilities.js';
import { KEY_HELP } from './keymap.js';

export function HelpView({ capabilities, height }: { capabilities: Capabilities | null; height: number }) {
  const width = Math.max(...KEY_HELP.map(([k]) => k.length)) + 2;
  const lines: { text: string; color?: string; bold?: boolean }[] = [
    { text: 'Keys', bold: true },
    ...KEY_HELP.map(([k, what]) => ({ text: `  ${k.padEnd(width)}${what}` })),
    { text: 'Rows', bold: true },
    { text: '  KEEPALIVE idle/interval/probes: * = set on the socket, no mark = namespace sysctl default' },
    { text: '  yellow: keepalive probes outstanding', color: 'yellow' },
    { text: '  red: the next unanswered probe (or TCP_USER_TIMEOUT) kills the connection', color: 'red' },
    { text: '  green: new since the last refresh; grey struck through: just closed', color: 'green' },
    { text: '  ~ before a time: estimated (another timer hides the keepalive timer)' },
    { text: 'What ka-top can see here', bold: true },
    ...(capabilities
      ? (Object.keys(CAPABILITY_LABELS) as (keyof Capabilities)[]).map((k) => ({
          text: `  ${capabilities[k].available ? '✓' : '✗'} ${CAPABILITY_LABELS[k]}: ${capabilities[k].detail}`,
          color: capabilities[k].available ? undefined : 'yellow',
        }))
      : [{ text: '  (still checking)' }]),
  ];
  return (
    <Box flexDirection="column">
      <Text inverse>Help — Esc to go back</Text>
      {lines.slice(0, Math.max(0, height - 1)).map((l, i) => (
        <Text key={i} color={l.color} bold={l.bold} wrap="truncate">{l.text}</Text>
      ))}
    </Box>
  );
}
