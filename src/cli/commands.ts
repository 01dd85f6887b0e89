// Command registry. Each command lives in its own module and is loaded lazily, so `ka-top snapshot` never
// pays for ink/React and a helper command cannot break another.
import { packageVersion } from '../sources/exec.js';
import { UsageError } from './errors.js';

type CommandFn = (argv: string[]) => Promise<number>;

interface CommandEntry {
  summary: string;
  load: () => Promise<CommandFn>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  top: {
    summary: 'interactive view, the default when no command is given (needs a terminal)',
    load: async () => (await import('./top.js')).topCommand,
  },
  snapshot: {
    summary: 'dump every TCP connection with its keepalive state and findings; --capture records events (table, json, md)',
    load: async () => (await import('./snapshot.js')).snapshotCommand,
  },
  doctor: {
    summary: 'say what ka-top can and cannot see on this host, and why',
    load: async () => (await import('./doctor.js')).doctorCommand,
  },
  watch: {
    summary: 'stream keepalive probes/timeouts, resets with causes and closes, per owner (text, --json; root)',
    load: async () => (await import('./watch.js')).watchCommand,
  },
  exporter: {
    summary: 'serve Prometheus/OpenMetrics metrics: resets by cause, keepalive, findings, per pod/container (root)',
    load: async () => (await import('./exporter.js')).exporterCommand,
  },
  view: {
    summary: 'open a recorded snapshot file in the interactive view, read-only (needs a terminal)',
    load: async () => (await import('./view.js')).viewCommand,
  },
  diff: {
    summary: 'compare two snapshot files: new/gone connections, changed settings, probes, resets, sysctls',
    load: async () => (await import('./diff.js')).diffCommand,
  },
  lab: {
    summary: 'scenario lab: real keepalive/reset cases in kalab-* namespaces (up, down, status; root)',
    load: async () => (await import('./lab.js')).labCommand,
  },
  completion: {
    summary: 'print the bash or zsh completion script',
    load: async () => (await import('./completion.js')).completionCommand,
  },
};

export function mainHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'Usage: ka-top [command] [options]',
    '',
    'Live TCP connection inspector: effective keepalive settings, keepalive timers and probes, and resets with',
    'their causes, per connection and attributed to the owning process.',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`),
    '',
    'Run `ka-top <command> --help` for its options (`ka-top top --help` for the interactive view, which also takes',
    'them without the command). Most views need root (sudo) to see every process.',
  ].join('\n');
}

export async function runCommand(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(packageVersion() + '\n');
    return 0;
  }
  const defaultView = async (args: string[]) => {
    const view = async () => (await COMMANDS.top!.load())(args.filter((a) => a !== '--lab'));
    // --lab (anywhere among the view's options): the scenario lab is up for as long as the view runs.
    return args.includes('--lab') ? (await import('./lab.js')).withLab(view) : view();
  };
  if (first === undefined || first.startsWith('-')) return withHelpPointer('ka-top', () => defaultView(argv));
  if (first === 'top') return withHelpPointer('ka-top', () => defaultView(rest));
  const entry = COMMANDS[first];
  if (!entry) throw new UsageError(`unknown command '${first}' (see ka-top --help)`);
  return withHelpPointer(`ka-top ${first}`, async () => (await entry.load())(rest));
}

/** Bad usage says where the usage is explained. */
async function withHelpPointer(command: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof UsageError && !/--help\)?$/.test(e.message)) throw new UsageError(`${e.message} (see ${command} --help)`);
    throw e;
  }
}
