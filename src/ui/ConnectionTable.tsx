// The connection list: column titles and only the visible rows (one pre-formatted Line per row).
import { Box, Text } from 'ink';
import { Line, type LineStyle } from './Line.js';
import { headerText, rowStyle, rowText, type ActivityLookup, type RowStyle, type LayoutColumn, type Row, type SortId } from './view-model.js';

interface Props {
  rows: readonly Row[];
  /** Index (in the full list) of rows[0]. */
  top: number;
  selected: number;
  layout: readonly LayoutColumn[];
  sort: SortId;
  inverted: boolean;
  fresh: Pick<ReadonlySet<string>, 'has'>;
  activity: ActivityLookup;
  /** Shown instead of rows when there are none. */
  empty: string;
}

const STYLE: Record<RowStyle, LineStyle> = {
  normal: {},
  new: { color: 'green' },
  closed: { color: 'gray', dimColor: true },
  probing: { color: 'yellow' },
  dying: { color: 'red', bold: true },
};

export function ConnectionTable({ rows, top, selected, layout, sort, inverted, fresh, activity, empty }: Props) {
  return (
    <Box flexDirection="column">
      <Line inverse>{headerText(layout, sort, inverted)}</Line>
      {rows.length === 0 ? <Text color="gray">{empty}</Text> : null}
      {rows.map((r, i) => {
        const a = activity(r.c.id);
        const style = rowStyle(r, fresh, a);
        return (
          <Line key={r.c.id} {...STYLE[style]} inverse={top + i === selected}>
            {rowText(r.c, a, layout, style === 'closed')}
          </Line>
        );
      })}
    </Box>
  );
}
