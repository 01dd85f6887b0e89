// Line: the same frame as ink's <Text wrap="truncate">, without keeping every distinct text for good.
import chalk from 'chalk';
import { Box, Text, render as renderInk } from 'ink';
import { EventEmitter } from 'node:events';
import { setImmediate } from 'node:timers/promises';
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullCollection as gc } from '../../src/cli/heap.js';
import { Line } from '../../src/ui/Line.js';

function frameOf(node: ReactElement, width: number): string {
  const r = render(<Box width={width} flexDirection="column">{node}</Box>);
  const f = r.lastFrame() ?? '';
  r.unmount();
  return f;
}

describe('Line', () => {
  const level = chalk.level;
  beforeAll(() => void (chalk.level = 1)); // colours on, as in a terminal: the escape codes are compared too
  afterAll(() => void (chalk.level = level));

  const text = 'ESTAB  127.0.0.1:42575 127.0.0.1:41908 21647/ka-peer off   -   -   6m41s';
  it.each([
    ['fits', 100, {}],
    ['truncated with …', 30, {}],
    ['coloured, bold, inverse', 100, { color: 'red', bold: true, inverse: true }],
    ['dim grey, truncated', 20, { color: 'gray', dimColor: true }],
    ['one column', 1, { color: 'yellow' }],
  ] as const)('%s: the frame of <Text wrap="truncate">', (_name, width, style) => {
    expect(frameOf(<Line {...style}>{text}</Line>, width)).toBe(frameOf(<Text {...style} wrap="truncate">{text}</Text>, width));
  });

  it('segments are styled each on their own, truncated as one line', () => {
    for (const width of [80, 12]) {
      const line = <Line segments={[{ text: '  keepalive  ', color: 'cyan' }, { text: 'on (SO_KEEPALIVE set by the process)' }]} />;
      const nested = (
        <Text wrap="truncate">
          <Text color="cyan">{'  keepalive  '}</Text>
          {'on (SO_KEEPALIVE set by the process)'}
        </Text>
      );
      // Same text and colours; the escape codes may be split differently at the truncation point.
      const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
      expect(plain(frameOf(line, width))).toBe(plain(frameOf(nested, width)));
      expect(frameOf(line, width)).toContain('\x1b[36m  keepalive');
    }
  });

  it('an empty text renders nothing', () => {
    expect(frameOf(<Line>{''}</Line>, 10)).toBe('');
  });
});

describe('distinct texts over time (a TUI left running)', () => {
  const rows = 45;
  const frames = 800; // 36,000 distinct lines, ~30 minutes of a 45-row table whose idle times move every 2 s

  async function heapGrowth(line: (text: string, i: number) => ReactElement): Promise<number> {
    const tick = (f: number) => (
      <Box flexDirection="column" width={160}>
        {Array.from({ length: rows }, (_, i) => line(`ESTAB  127.0.0.1:${40000 + i} 127.0.0.1:42575 21647/ka-peer off  ${f}s  ${f}s  kat-prof`.padEnd(150, '.'), i))}
      </Box>
    );
    // A terminal that keeps nothing (ink-testing-library keeps every frame).
    const stdout = Object.assign(new EventEmitter(), { columns: 160, rows: 50, write: () => true });
    const r = renderInk(tick(0), { stdout: stdout as unknown as NodeJS.WriteStream, patchConsole: false, exitOnCtrlC: false });
    await setImmediate();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let f = 1; f <= frames; f++) {
      r.rerender(tick(f));
      await setImmediate();
    }
    r.unmount();
    gc();
    return (process.memoryUsage().heapUsed - before) / (rows * frames);
  }

  it('ink keeps what <Text> rendered; Line keeps (almost) nothing', async () => {
    // The less of two runs: what the worker holds for a moment under a loaded machine only adds (85 B once in CI,
    // 23–33 otherwise); what Line kept for good would show in both.
    const line = Math.min(await heapGrowth((t, i) => <Line key={i}>{t}</Line>), await heapGrowth((t, i) => <Line key={i}>{t}</Line>));
    // The control: if this fails, ink stopped keeping every text (ink 7 bounds its caches) and Line can go.
    const text = await heapGrowth((t, i) => <Text key={i} wrap="truncate">{t}</Text>);
    // Bytes per distinct line: at least its 150 characters, kept for good (196–266 measured, depending on where
    // ink's cache Maps are in their doubling).
    expect(text).toBeGreaterThan(150);
    expect(line).toBeLessThan(60); // what is left is a fixed ~0.8 MB (React, ink), not per line: 33 B at 400 frames, 23 at 800
  });
});
