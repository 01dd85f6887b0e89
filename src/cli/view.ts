// `ka-top view FILE`: a recorded snapshot in the interactive view, read-only, with the live view's keys.
import { basename } from 'node:path';
import { SnapshotFeed } from '../engine/snapshot-feed.js';
import { showTui } from '../ui/screen.js';
import { recordedTracer } from '../ui/tracer-view.js';
import { packageVersion } from '../sources/exec.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFromArgs, parse } from './args.js';
import { UsageError } from './errors.js';
import { loadForCommand } from './load-snapshot.js';

export const VIEW_HELP = [
  'Usage: ka-top view FILE [options]',
  '',
  'Opens a snapshot written by `ka-top snapshot --format json` (plain or gzipped) in the interactive view,',
  'read-only: the same table, sorting, text filter, detail (with each connection\'s recorded events), resets view,',
  'the findings the file holds (f) and help as the live view. The header says it is a recording: file, time',
  'taken, host. Nothing is refreshed; pause and `e` (write a snapshot) only say it is read-only. Needs a terminal,',
  'not root.',
  '',
  'Options:',
  ...FILTER_HELP,
  '  -h, --help           this help',
  '',
  'Exit status: 0 after q; 1 when FILE is not a readable ka-top snapshot (one line on stderr); 2 on bad usage.',
].join('\n');

export async function viewCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...FILTER_OPTIONS, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(VIEW_HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('expected one snapshot file: ka-top view FILE (see ka-top view --help)');
  const file = positionals[0]!;
  const filter = filterFromArgs(values);
  // The file is checked before the terminal, so a bad file is reported the same way everywhere.
  const doc = await loadForCommand(file, 1);
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    process.stderr.write('ka-top: view needs a terminal; read the JSON directly, or compare snapshots with `ka-top diff`\n');
    return 2;
  }
  const tracer = recordedTracer(doc);
  await showTui({
    feed: new SnapshotFeed(doc),
    version: packageVersion(),
    host: doc.host,
    filter,
    tracer: () => tracer,
    findings: () => doc.findings ?? [],
    recorded: { file: basename(file), takenAt: doc.takenAt, warnings: doc.warnings },
  });
  return 0;
}
