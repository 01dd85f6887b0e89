// `ka-top snapshot`: one complete, truthful dump of every TCP connection (table or JSON).
import { matchesFilter, type ConnectionFilter } from '../model/filter.js';
import { collectInventory, type Inventory } from '../engine/inventory.js';
import type { Capabilities } from '../model/capabilities.js';
import type { Connection } from '../model/types.js';
import { writeFileAtomic, writeStream } from '../output/atomic-write.js';
import { renderTable } from '../output/table.js';
import { SNAPSHOT_SCHEMA, jsonChunks, summarize, warningsFor, type SnapshotDocument } from '../output/snapshot-json.js';
import { capabilitiesFrom } from '../sources/capabilities.js';
import { probeTracingHost } from '../sources/tracing-host.js';
import { liveSources } from '../sources/live.js';
import { hostFacts, readOwnSysctls } from '../sources/procfs.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFromArgs, parse } from './args.js';
import { CliError, UsageError, version } from './commands.js';

export const SNAPSHOT_HELP = [
  'Usage: ka-top snapshot [options]',
  '',
  'Dumps every TCP connection of every network namespace with its owner, effective keepalive settings',
  '(socket option or namespace sysctl), keepalive timer, outstanding probes and idle times.',
  '',
  'Options:',
  '  --format table|json  output form (default: table on a terminal, json otherwise)',
  '  --output FILE        write to FILE atomically, mode 0600 (default: stdout)',
  ...FILTER_HELP,
  '  -h, --help           this help',
  '',
  'JSON follows schema/snapshot.schema.json (`schema` field: ' + SNAPSHOT_SCHEMA + ').',
  'Run as root to see every process, socket option and namespace; without root ka-top says what it cannot see.',
].join('\n');

export async function buildSnapshot(filter: Parameters<typeof matchesFilter>[1]): Promise<SnapshotDocument> {
  const netnsFilter = filter.netns?.length
    ? (ns: { inode: number; name: string | null }) => filter.netns!.some((n) => n === String(ns.inode) || n === ns.name)
    : undefined;
  // The tracing-host probe reads kallsyms and BTF: run it alongside the inventory, not after it.
  const host = probeTracingHost();
  const inv = await collectInventory(liveSources(), { netns: netnsFilter });
  const capabilities = capabilitiesFrom(await host, inv.sockoptReads);
  return snapshotDocument(inv, capabilities, filter);
}

/** The document for one collected inventory: `snapshot`, and the TUI's `e` key with the rows it shows. */
export function snapshotDocument(
  inv: Inventory,
  capabilities: Capabilities,
  filter: ConnectionFilter,
  connections: Connection[] = inv.connections.filter((c) => matchesFilter(c, filter)),
): SnapshotDocument {
  const ownSysctl = readOwnSysctls();
  return {
    schema: SNAPSHOT_SCHEMA,
    takenAt: inv.takenAt,
    kaTopVersion: version(),
    host: hostFacts(),
    sysctl: typeof ownSysctl === 'string' ? null : ownSysctl,
    capabilities,
    namespaces: inv.namespaces,
    summary: summarize(connections),
    ...(Object.keys(filter).length ? { filters: filter } : {}),
    warnings: warningsFor(capabilities, inv.namespaces, inv.ownersComplete, inv.parseErrors),
    connections,
  };
}

export async function snapshotCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    ...FILTER_OPTIONS,
    format: { type: 'string' },
    output: { type: 'string', short: 'o' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(SNAPSHOT_HELP + '\n');
    return 0;
  }
  const format = values.format ?? (process.stdout.isTTY && !values.output ? 'table' : 'json');
  if (format !== 'table' && format !== 'json') throw new UsageError(`invalid --format '${format}': expected table or json`);
  const filter = filterFromArgs(values);

  const doc = await buildSnapshot(filter);
  const text = format === 'json' ? jsonChunks(doc) : [renderTable(doc)];
  if (values.output) {
    try {
      writeFileAtomic(values.output, text);
    } catch (e) {
      throw new CliError(`cannot write ${values.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    process.stderr.write(`ka-top: wrote ${doc.connections.length} connections to ${values.output}\n`);
  } else {
    await writeStream(process.stdout, text);
  }
  for (const w of doc.warnings) if (format === 'json' || values.output) process.stderr.write(`ka-top: warning: ${w}\n`);
  return 0;
}
