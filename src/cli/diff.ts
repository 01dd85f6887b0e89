// `ka-top diff A B`: what changed between two snapshot files, as text or JSON (schema/diff.schema.json).
import { diffSnapshots } from '../model/snapshot-diff.js';
import { renderDiffText } from '../output/diff-text.js';
import { writeStream } from '../output/atomic-write.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFromArgs, parse, positiveInt } from './args.js';
import { UsageError } from './errors.js';
import { loadForCommand } from './load-snapshot.js';

export const DIFF_HELP = [
  'Usage: ka-top diff A B [options]',
  '',
  'Compares two snapshots written by `ka-top snapshot --format json` (plain or gzipped): connections new in B and',
  'gone since A (matched by connection id, else by namespace + 4-tuple), changed settings (state, keepalive',
  'on/idle/interval/probes/source, TCP_USER_TIMEOUT, SO_LINGER, owner pid/comm), keepalive probes outstanding',
  '(and sent, from the events of snapshots taken with --capture), resets by cause seen during each capture, how',
  'connections ended during each capture (the kernel\'s counts), namespace sysctl changes and capability changes.',
  '',
  'Options:',
  '  --json               the diff as JSON (schema/diff.schema.json) instead of text',
  '  --exit-code          exit 1 when the snapshots differ, 0 when not (like git diff --exit-code)',
  '  --limit N            lines per list in the text output (default 20; 0 = all); JSON lists are complete',
  ...FILTER_HELP,
  '  -h, --help           this help',
  '',
  'Filters apply to both snapshots. Exit status: 0 (also when they differ, unless --exit-code); 1 with --exit-code',
  'when they differ; 2 when a file is not a readable ka-top snapshot or on bad usage.',
].join('\n');

export async function diffCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...FILTER_OPTIONS,
    json: { type: 'boolean' },
    'exit-code': { type: 'boolean' },
    limit: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(DIFF_HELP + '\n');
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError('expected two snapshot files: ka-top diff A B (see ka-top diff --help)');
  const limit = values.limit === undefined ? 20 : values.limit === '0' ? 0 : positiveInt(values.limit, '--limit');
  const filter = filterFromArgs(values);
  const [fileA, fileB] = positionals as [string, string];
  // Exit 2 for unreadable files keeps 1 unambiguous for "they differ".
  // One after the other: parsing is all on this thread anyway, and the first file's text is gone before the second's is read.
  const a = await loadForCommand(fileA, 2);
  const b = await loadForCommand(fileB, 2);
  const diff = diffSnapshots(a, b, { filter, files: [fileA, fileB] });
  await writeStream(process.stdout, [values.json ? JSON.stringify(diff, null, 2) + '\n' : renderDiffText(diff, limit)]);
  return values['exit-code'] && diff.differ ? 1 : 0;
}
