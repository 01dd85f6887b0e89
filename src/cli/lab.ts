// `ka-top lab up|down|status` and `ka-top --lab`: the scenario lab (see README, Scenario lab).
import { constants } from 'node:os';
import { CliError, UsageError } from './errors.js';
import { parse } from './args.js';
import { LabError, labDown, labStatus, labUp, requireRoot, runLoops, type LabStatus } from '../lab/lab.js';
import { SCENARIOS, scenarioByName, type Scenario } from '../lab/scenarios.js';
import { TopologyError } from '../lab/topology.js';
import { HelperMissingError } from '../sources/exec.js';

export const LAB_HELP = [
  'Usage: ka-top lab up [--scenario NAME[,NAME…]]   start scenarios (default: all); idempotent',
  '       ka-top lab down                          stop every lab process, delete every kalab- namespace',
  '       ka-top lab status [--json]               per scenario: up/partial/down, namespaces, processes',
  '       ka-top --lab [options]                   start the lab, open ka-top, tear the lab down on exit',
  '',
  'Each scenario is a real client/server pair (ka-peer) in its own kalab-* network namespaces, on',
  '198.18.0.0/15 and fd6b:6174::/32. Processes outlive `lab up` and log under /run/ka-top-lab/. Needs root.',
  '',
  'Scenarios:',
  ...SCENARIOS.map((s) => `  ${s.name.padEnd(15)} ${s.summary}`),
].join('\n');

function pickScenarios(list: string | undefined): Scenario[] {
  if (list === undefined) return [...SCENARIOS];
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new UsageError('--scenario needs at least one name');
  return names.map((n) => {
    const s = scenarioByName(n);
    if (!s) throw new UsageError(`unknown scenario '${n}' (one of: ${SCENARIOS.map((x) => x.name).join(', ')})`);
    return s;
  });
}

/** Lab errors (not root, helper missing, a failing `ip`/`nft`) are one line, not a stack. */
async function labCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof LabError || e instanceof TopologyError || e instanceof HelperMissingError) throw new CliError(e.message);
    throw e;
  }
}

function statusText(st: LabStatus): string {
  const lines: string[] = [];
  for (const sc of st.scenarios) {
    const alive = sc.processes.filter((p) => p.alive).length;
    lines.push(`${sc.name.padEnd(15)} ${sc.status.padEnd(8)} ns ${sc.namespaces.filter((n) => n.present).length}/${sc.namespaces.length}` +
      `  processes ${alive}/${sc.processes.length}` +
      (sc.processes.length ? `  (${sc.processes.map((p) => `${p.role} ${p.pid}${p.alive ? '' : ' dead'}`).join(', ')})` : ''));
  }
  if (st.supervisor) {
    lines.push(`supervisor      pid ${st.supervisor.pid} ${st.supervisor.alive ? 'alive' : 'dead'} (loops ${st.supervisor.scenarios.join(', ')})`);
  }
  if (st.strayNamespaces.length) lines.push(`stray namespaces: ${st.strayNamespaces.join(' ')} (ka-top lab down removes them)`);
  lines.push(`logs: ${st.stateDir}/`);
  return lines.join('\n');
}

export async function labCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(LAB_HELP + '\n');
    return sub === undefined ? 2 : 0;
  }
  switch (sub) {
    case 'up': {
      const { values } = parse(rest, { scenario: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
      if (values.help) return labCommand(['--help']);
      const r = await labCall(() => labUp(pickScenarios(values.scenario)));
      if (r.started.length) process.stderr.write(`lab: started ${r.started.join(', ')}\n`);
      if (r.alreadyUp.length) process.stderr.write(`lab: already up ${r.alreadyUp.join(', ')}\n`);
      return 0;
    }
    case 'down': {
      parse(rest, {});
      const r = await labCall(() => labDown());
      process.stderr.write(`lab: removed ${r.namespaces.length} namespaces, killed ${r.killed} recorded processes\n`);
      return 0;
    }
    case 'status': {
      const { values } = parse(rest, { json: { type: 'boolean' } });
      const st = await labCall(() => labStatus());
      process.stdout.write(values.json ? JSON.stringify(st, null, 2) + '\n' : statusText(st) + '\n');
      return 0;
    }
    case 'loop': {
      // Internal: the supervisor `lab up` starts inside kalab-ctl. Exits on SIGTERM/SIGKILL from `lab down`.
      const { values } = parse(rest, { scenario: { type: 'string' } });
      return labCall(() => runLoops(pickScenarios(values.scenario)));
    }
    default:
      throw new UsageError(`unknown lab command '${sub}' (up, down, status)`);
  }
}

/**
 * `ka-top --lab …`: starts every scenario, runs the default view with the remaining arguments, and tears the lab
 * down when the view ends or on SIGINT/SIGTERM/SIGHUP.
 */
export async function withLab(view: () => Promise<number>): Promise<number> {
  await labCall(async () => requireRoot());
  const up = labCall(() => labUp(SCENARIOS));
  let teardown: Promise<unknown> | null = null;
  // Down waits for a running `up`, so a signal during start-up still leaves nothing behind.
  const down = () => (teardown ??= up.catch(() => {}).then(() => labDown()));
  let viewDone: Promise<unknown> = Promise.resolve();
  // The view may handle the signal too (the TUI unmounts on SIGTERM/SIGHUP): give it a moment to restore the
  // terminal before exiting with the signal's code.
  const onSignal = (sig: NodeJS.Signals) => {
    void down()
      .then(() => Promise.race([viewDone, new Promise((r) => setTimeout(r, 3000))]))
      .finally(() => process.exit(128 + (constants.signals[sig] ?? 0)));
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, onSignal);
  try {
    await up;
    process.stderr.write(`lab: up (${SCENARIOS.map((s) => s.name).join(', ')}); it is torn down when ka-top exits\n`);
    const v = view();
    viewDone = v.catch(() => {});
    return await v;
  } finally {
    await down();
    for (const s of sigs) process.off(s, onSignal);
  }
}
