// `ka-top doctor`: what ka-top can and cannot see on this host, in words.
import { collectInventory } from '../engine/inventory.js';
import { toJson } from '../output/snapshot-json.js';
import { capabilitiesFrom } from '../engine/capabilities.js';
import { liveInventory } from '../sources/live.js';
import { renderCapabilities, renderTracing } from '../output/capabilities-text.js';
import { generateBpfProgram } from '../model/bpf-program.js';
import { bpfFilesProblem, loadBpfFragments } from '../sources/bpf-fragments.js';
import { MIN_BPFTRACE, probeTracingHost } from '../sources/tracing-host.js';
import { renderPartChecks } from '../output/self-check-text.js';
import { checkOwnParts } from '../engine/self-check.js';
import { packageVersion } from '../sources/exec.js';
import { parse } from './args.js';
import { CliError } from './errors.js';

/** The assembled program for this host, with what it cannot see as comments and how to run it. */
async function printBpfProgram(): Promise<number> {
  const files = bpfFilesProblem();
  if (files) throw new CliError(files);
  const p = generateBpfProgram(await probeTracingHost(), loadBpfFragments());
  const env = Object.entries(p.env).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stdout.write(`// Run by hand: ${env} bpftrace -f json <this file>\n`);
  for (const m of p.missing) process.stdout.write(`// not traced here: ${m}\n`);
  process.stdout.write(p.text);
  return 0;
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' }, bpf: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(
      'Usage: ka-top doctor [--json] [--bpf]\n\nChecks ka-top\'s own parts (Node version, the native helpers for this architecture), then root,\n' +
        `bpftrace (${MIN_BPFTRACE.join('.')} or newer), tracefs, kprobes, tracepoints, BTF, pidfd_getfd and namespaces, and says for each what\n` +
        'ka-top can or cannot show because of it, with the fix for a broken part. Exit 0 when everything needed is there,\n' +
        '1 otherwise. Then, for the tracer, each probe with its attach point on this host, why there and what it costs\n' +
        'the host, and what cannot be traced here.\n' +
        '  --bpf   print the bpftrace program ka-top runs on this host (as `watch` runs it), to read or run by hand\n',
    );
    return 0;
  }
  if (values.bpf) return printBpfProgram();
  // The inventory tells whether socket options can really be read here (pidfd_getfd).
  const [inv, parts, host] = await Promise.all([collectInventory(liveInventory()), checkOwnParts(), probeTracingHost()]);
  const caps = capabilitiesFrom(host, inv.sockoptReads);
  // The program `watch` runs by default (every event): where each probe attaches on this host, and why there.
  const program = host.usable.ok ? generateBpfProgram(host, loadBpfFragments()) : null;
  const tracing = { attached: program?.attached ?? [], missing: program?.missing ?? [host.usable.reason ?? 'the tracer cannot run'] };
  if (values.json) process.stdout.write(toJson({ ...caps, parts, tracing }));
  else {
    process.stdout.write(`ka-top ${packageVersion()}\n${renderPartChecks(parts)}\n\nThis host:\n${renderCapabilities(caps)}\n`);
    process.stdout.write(`\nHow ka-top traces here (\`ka-top doctor --bpf\` prints the program):\n${renderTracing(tracing.attached, tracing.missing)}\n`);
    // The Tracer does it (sources/sockinfo.ts switchOffTracepointSampling).
    if (tracing.attached.some((a) => /(^|, )tracepoint:/.test(a.attach))) {
      process.stdout.write('  Once attached, perf sampling of these tracepoints is switched off: bpftrace asks perf to see each hit, nobody reads it.\n');
    }
    process.stdout.write(`\n${inv.connections.length} TCP sockets in ${inv.namespaces.length} network namespace(s), inventory took ${Math.round(inv.timings.totalMs)} ms.\n`);
  }
  const essential = caps.root.available && caps.bpftrace.available && caps.tracefs.available && caps.pidfdGetfd.available;
  return essential && parts.every((p) => p.ok) ? 0 : 1;
}
