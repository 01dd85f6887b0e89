// `ka-top doctor`: what ka-top can and cannot see on this host, in words.
import { collectInventory } from '../engine/inventory.js';
import { toJson } from '../output/snapshot-json.js';
import { detectCapabilities } from '../engine/capabilities.js';
import { liveInventory } from '../sources/live.js';
import { renderCapabilities } from '../output/capabilities-text.js';
import { parse } from './args.js';

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(
      'Usage: ka-top doctor [--json]\n\nChecks root, bpftrace, tracefs, kprobes, tracepoints, BTF, pidfd_getfd and namespaces,\n' +
        'and says for each what ka-top can or cannot show because of it. Exit 0 when everything needed is there, 1 otherwise.\n',
    );
    return 0;
  }
  // The inventory tells whether socket options can really be read here (pidfd_getfd).
  const inv = await collectInventory(liveInventory());
  const caps = await detectCapabilities(inv.sockoptReads);
  if (values.json) process.stdout.write(toJson(caps));
  else {
    process.stdout.write(renderCapabilities(caps) + '\n');
    process.stdout.write(`\n${inv.connections.length} TCP sockets in ${inv.namespaces.length} network namespace(s), inventory took ${Math.round(inv.timings.totalMs)} ms.\n`);
  }
  const essential = caps.root.available && caps.bpftrace.available && caps.tracefs.available && caps.pidfdGetfd.available;
  return essential ? 0 : 1;
}
