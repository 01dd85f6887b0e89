// Lab lifecycle: bring scenarios up (namespaces + detached ka-peer processes + a loop supervisor), report their
// status, and tear everything down. Every process runs inside a `kalab-` namespace, so `down` finds and kills it
// by prefix even when `up` crashed before it could record it; the state file only adds roles, pids and logs.
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../output/atomic-write.js';
import { nativeBinary, packagePath } from '../sources/exec.js';
import { addNetns, delNetns, delNetnsPrefix, listNetns, setSilent, startIn } from './topology.js';
import { CONTROL_NS, LAB_PREFIX, SCENARIOS, type LoopSpec, type Scenario } from './scenarios.js';

export const STATE_DIR = '/run/ka-top-lab';
const STATE_FILE = join(STATE_DIR, 'state.json');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LabProcess {
  role: string;
  ns: string;
  pid: number;
  log: string;
  argv: string[];
}

export interface LabScenarioState {
  name: string;
  namespaces: string[];
  processes: LabProcess[];
  startedAt: string;
}

export interface LabState {
  scenarios: Record<string, LabScenarioState>;
  /** The loop supervisor (silences and restores peers), when any scenario loops. */
  supervisor: (LabProcess & { scenarios: string[] }) | null;
}

export function readState(): LabState {
  try {
    const s = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LabState;
    if (s && typeof s.scenarios === 'object') return { scenarios: s.scenarios, supervisor: s.supervisor ?? null };
  } catch {
    // missing or torn by a crash: `down` still finds everything by prefix
  }
  return { scenarios: {}, supervisor: null };
}

function writeState(state: LabState): void {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  writeFileAtomic(STATE_FILE, JSON.stringify(state, null, 2) + '\n');
}

/** Inode of a named namespace, or null when it does not exist. */
function netnsInode(name: string): number | null {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return null;
  }
}

/** Alive and still inside the namespace it was started in (guards against pid reuse). */
export function processAlive(p: { pid: number; ns: string }): boolean {
  const ino = netnsInode(p.ns);
  if (ino === null) return false;
  try {
    if (readlinkSync(`/proc/${p.pid}/ns/net`) !== `net:[${ino}]`) return false;
    // A zombie (exited, not yet reaped by its parent) still has /proc entries.
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${p.pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Starts `cmd args` inside `ns`, detached from us (own session, output appended to `log`). */
function spawnDetached(role: string, ns: string, cmd: string, args: string[], log: string): LabProcess {
  const fd = openSync(log, 'a', 0o600);
  try {
    const child = startIn(ns, cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${cmd} in ${ns}`);
    child.unref();
    return { role, ns, pid: child.pid, log, argv: [cmd, ...args] };
  } finally {
    closeSync(fd);
  }
}

/** Waits (≤ 3 s) until the process's log, past byte `from`, has a line matching `re`. */
async function waitForLine(p: LabProcess, from: number, re: RegExp): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (re.test(readFileSync(p.log).subarray(from).toString('utf8'))) return;
    if (!processAlive(p) && i > 2) break;
    await sleep(50);
  }
  throw new LabError(`${p.role} in ${p.ns} did not start (see ${p.log})`);
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new LabError('the lab needs root (it creates network namespaces and nft rules): run it with sudo');
  }
}

export class LabError extends Error {}

function scenarioUp(st: LabScenarioState | undefined): boolean {
  return !!st && st.namespaces.every((n) => netnsInode(n) !== null) && st.processes.every(processAlive);
}

export interface UpResult {
  started: string[];
  alreadyUp: string[];
}

/** Brings the scenarios up; ones already fully up are left alone, half-made ones are rebuilt. */
export async function labUp(scenarios: readonly Scenario[]): Promise<UpResult> {
  requireRoot();
  const peer = nativeBinary('ka-peer');
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const state = readState();
  const result: UpResult = { started: [], alreadyUp: [] };
  for (const sc of scenarios) {
    if (scenarioUp(state.scenarios[sc.name])) {
      result.alreadyUp.push(sc.name);
      continue;
    }
    for (const ns of sc.namespaces) await delNetns(ns);
    delete state.scenarios[sc.name];
    writeState(state);
    const processes: LabProcess[] = [];
    for (const p of await sc.build()) {
      const log = join(STATE_DIR, `${sc.name}.${p.role}.log`);
      const from = existsSync(log) ? statSync(log).size : 0;
      const proc = spawnDetached(p.role, p.ns, peer, p.args, log);
      processes.push(proc);
      // Clients start once their server listens, so the first thing they log is a connection, not ECONNREFUSED.
      if (p.args[0] === 'server') await waitForLine(proc, from, /^LISTEN /m);
    }
    state.scenarios[sc.name] = {
      name: sc.name, namespaces: sc.namespaces, processes, startedAt: new Date().toISOString(),
    };
    writeState(state);
    result.started.push(sc.name);
  }
  await ensureSupervisor(state);
  return result;
}

/** One supervisor runs the loops of every scenario that is up; restarted when that set changes. */
async function ensureSupervisor(state: LabState): Promise<void> {
  const loops = Object.keys(state.scenarios).filter((n) => SCENARIOS.find((s) => s.name === n)?.loop).sort();
  const sup = state.supervisor;
  if (sup && processAlive(sup) && sup.scenarios.join(',') === loops.join(',')) return;
  await delNetns(CONTROL_NS);
  state.supervisor = null;
  if (loops.length) {
    await addNetns(CONTROL_NS);
    const main = packagePath('dist/cli/main.js');
    const args = [main, 'lab', 'loop', '--scenario', loops.join(',')];
    const p = spawnDetached('supervisor', CONTROL_NS, process.execPath, args, join(STATE_DIR, 'supervisor.log'));
    state.supervisor = { ...p, scenarios: loops };
  }
  writeState(state);
}

export interface DownResult {
  namespaces: string[];
  killed: number;
}

/** Kills every lab process and deletes every `kalab-` namespace (with its veths and nft tables) and the state. */
export async function labDown(): Promise<DownResult> {
  requireRoot();
  const state = readState();
  let killed = 0;
  const recorded = [...Object.values(state.scenarios).flatMap((s) => s.processes), ...(state.supervisor ? [state.supervisor] : [])];
  // The supervisor first, so it stops re-silencing namespaces while they go away.
  for (const p of recorded.reverse()) {
    if (!processAlive(p)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
      killed++;
    } catch {
      // exited meanwhile
    }
  }
  // Whatever was not recorded (crash during `up`) is still inside a lab namespace: delNetns kills it.
  const namespaces = await delNetnsPrefix(LAB_PREFIX);
  rmSync(STATE_DIR, { recursive: true, force: true });
  return { namespaces, killed };
}

export interface ScenarioStatus {
  name: string;
  summary: string;
  status: 'up' | 'partial' | 'down';
  namespaces: { name: string; present: boolean }[];
  processes: { role: string; ns: string; pid: number; alive: boolean; log: string }[];
}

export interface LabStatus {
  stateDir: string;
  scenarios: ScenarioStatus[];
  supervisor: { pid: number; alive: boolean; scenarios: string[]; log: string } | null;
  /** `kalab-` namespaces that belong to no scenario (e.g. left by a crash). */
  strayNamespaces: string[];
}

export async function labStatus(): Promise<LabStatus> {
  const state = readState();
  const present = new Set(await listNetns(LAB_PREFIX));
  const known = new Set<string>([CONTROL_NS]);
  const scenarios = SCENARIOS.map((sc): ScenarioStatus => {
    const st = state.scenarios[sc.name];
    sc.namespaces.forEach((n) => known.add(n));
    const namespaces = sc.namespaces.map((n) => ({ name: n, present: present.has(n) }));
    const processes = (st?.processes ?? []).map((p) => ({
      role: p.role, ns: p.ns, pid: p.pid, alive: processAlive(p), log: p.log,
    }));
    const anything = namespaces.some((n) => n.present) || processes.some((p) => p.alive);
    const all = !!st && namespaces.every((n) => n.present) && processes.length > 0 && processes.every((p) => p.alive);
    return { name: sc.name, summary: sc.summary, status: all ? 'up' : anything ? 'partial' : 'down', namespaces, processes };
  });
  const sup = state.supervisor;
  return {
    stateDir: STATE_DIR,
    scenarios,
    supervisor: sup ? { pid: sup.pid, alive: processAlive(sup), scenarios: sup.scenarios, log: sup.log } : null,
    strayNamespaces: [...present].filter((n) => !known.has(n)),
  };
}

function logLine(text: string): void {
  process.stdout.write(`${new Date().toISOString()} ${text}\n`);
}

async function loopForever(name: string, spec: LoopSpec): Promise<never> {
  for (;;) {
    await setSilent(spec.ns, false);
    logLine(`${name}: ${spec.ns} reachable for ${spec.reachableMs} ms`);
    await sleep(spec.reachableMs);
    await setSilent(spec.ns, true);
    logLine(`${name}: ${spec.ns} silent for ${spec.silentMs} ms`);
    await sleep(spec.silentMs);
  }
}

/** The supervisor's body (`ka-top lab loop`): alternates each looping scenario's peer between reachable and silent. */
export async function runLoops(scenarios: readonly Scenario[]): Promise<never> {
  const loops = scenarios.filter((s) => s.loop);
  if (!loops.length) throw new LabError('none of these scenarios loops');
  return Promise.race(loops.map((s) => loopForever(s.name, s.loop!)));
}
