// `r`: resets by cause, by process and by peer with counts and rates, so an RST storm shows at a glance.
import { Box, Text } from 'ink';
import type { ResetBucket } from '../model/reset-stats.js';
import type { TracerStatus } from './tracer-view.js';

interface Props {
  tracer: TracerStatus;
  height: number;
  width: number;
}

function Section({ title, buckets, rows, width }: { title: string; buckets: readonly ResetBucket[]; rows: number; width: number }) {
  const keyWidth = Math.max(10, width - 24);
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">{`${title.padEnd(keyWidth)} ${'total'.padStart(10)} ${'per sec'.padStart(10)}`}</Text>
      {buckets.length === 0 ? <Text color="gray">  none</Text> : null}
      {buckets.slice(0, Math.max(0, rows)).map((b) => (
        <Text key={b.key} color={b.rate >= 1 ? 'red' : b.rate > 0 ? 'yellow' : undefined} wrap="truncate">
          {`${(b.key.length > keyWidth ? b.key.slice(0, keyWidth - 1) + '…' : b.key).padEnd(keyWidth)} ${String(b.count).padStart(10)} ${b.rate.toFixed(1).padStart(10)}`}
        </Text>
      ))}
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
  // Title + three section titles + summary line; the rest is shared by the three lists.
  const per = Math.max(1, Math.floor((height - 5) / 3));
  return (
    <Box flexDirection="column">
      <Text inverse wrap="truncate">{`Resets · ${r.total} seen (sent ${r.sent}, received ${r.received}) · ${r.rate.toFixed(1)}/s over the last ${r.windowMs / 1000}s · lost events ${tracer.view.lostEvents}`}</Text>
      <Section title="By cause" buckets={r.byCause} rows={per} width={width} />
      <Section title="By process" buckets={r.byProcess} rows={per} width={width} />
      <Section title="By peer" buckets={r.byPeer} rows={per} width={width} />
    </Box>
  );
}
