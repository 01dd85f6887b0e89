// One line of text that changes while the TUI runs (a table row, the header's counts, the status line), kept out of
// ink's text caches. ink 6 keeps every distinct string it measures or wraps in module-level caches that never evict
// (vadimdemedes/ink#986; bounded in ink 7, which needs Node 22): a row whose idle time moves is a new string at every
// refresh, ~260 B kept for good (measured: 45 rows changing every 2 s grow the heap ~20 MB an hour). Here ink lays out
// spaces as wide as the text — a few distinct strings, whatever the text — and the transform, which ink applies when
// it writes the frame and caches for that frame only, puts the styled text in their place.
import chalk from 'chalk';
import cliTruncate from 'cli-truncate';
import { createElement } from 'react';
import stringWidth from 'string-width';

export type LineColor = 'red' | 'green' | 'yellow' | 'cyan' | 'gray';

export interface LineStyle {
  color?: LineColor | undefined;
  bold?: boolean | undefined;
  dimColor?: boolean | undefined;
  inverse?: boolean | undefined;
}

interface Segment extends LineStyle {
  text: string;
}

/** `text` with the escape codes of `style`, in the order ink's <Text> applies them. */
function styled(text: string, style: LineStyle): string {
  let s = text;
  if (style.dimColor) s = chalk.dim(s);
  if (style.color) s = chalk[style.color](s);
  if (style.bold) s = chalk.bold(s);
  if (style.inverse) s = chalk.inverse(s);
  return s;
}

const placeholders: string[] = [];
function spaces(width: number): string {
  return (placeholders[width] ??= ' '.repeat(width));
}

/**
 * One line, truncated with "…" when wider than its box (as `<Text wrap="truncate">`): `children` in `style`, or
 * `segments` styled each on their own (a label in one colour, its value in another).
 */
export function Line({ children, segments, ...style }: LineStyle & { children?: string; segments?: readonly Segment[] }) {
  const parts: readonly Segment[] = segments ?? [{ text: children ?? '', ...style }];
  let width = 0;
  for (const p of parts) width += stringWidth(p.text);
  if (width === 0) return null;
  const transform = (laidOut: string) => {
    const room = stringWidth(laidOut);
    if (room >= width) return parts.map((p) => styled(p.text, p)).join('');
    let out = '';
    let left = room;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const w = stringWidth(p.text);
      if (w < left) {
        out += styled(p.text, p);
        left -= w;
        continue;
      }
      // The line is cut in this segment: the rest of it, truncated, in this segment's style.
      return out + styled(cliTruncate(parts.slice(i).map((q) => q.text).join(''), left), p);
    }
    return out;
  };
  // The element <Text wrap="truncate"> renders, with this transform instead of its styling one.
  return createElement(
    'ink-text',
    { style: { flexGrow: 0, flexShrink: 1, flexDirection: 'row', textWrap: 'truncate' }, internal_transform: transform },
    spaces(width),
  );
}
