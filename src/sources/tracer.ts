// The live implementation of the tracer port (ports.ts). A TraceSource delivers decoded records (bpftrace's NDJSON, ka-top's
// records already typed) and its state; Tracer is the live one: the one bpftrace process of a ka-top, a ready
// marker after attach, restart with backoff when it dies, and no orphan ever: bpftrace runs under
// `setpriv --pdeathsig KILL` (the kernel kills it when ka-top dies, even by SIGKILL) and every exit path of ka-top
// stops it. RecordedTracer (recorded-tracer.ts) replays a captured run through the same port.
import type { ChildProcess } from 'node:child_process';
import { BatchedPipe } from './batched-pipe.js';
import { start } from './exec.js';
import { LineSplitter } from '../domain/lines.js';
import { isBenignStderr, parseBpftraceLine } from '../parse/bpftrace-json.js';
import type { RecordSink, StateSink, TraceSource } from './ports.js';

export interface TracerOptions {
  bpftrace: string;
  program: string;
  /** Extra environment for bpftrace (map sizes). */
  env?: Record<string, string>;
  onRecord?: RecordSink;
  onState?: StateSink;
  /** Give up waiting for the ready marker after this long. */
  readyTimeoutMs?: number;
  maxRestarts?: number;
  /** Prefix command that makes the kernel kill bpftrace when we die; null to run bpftrace directly. */
  pdeathsig?: string[] | null;
  /** Run on bpftrace's pid once it has attached, before it counts as ready (each restart too): switches off perf's
   *  sampling of its tracepoints, resolving how many (see sockinfo.ts). */
  switchOffSampling?: (pid: number) => Promise<number>;
}

/** bpftrace compiles the program with clang/LLVM before it attaches: ~6 s on a loaded 2-core machine, more
 *  while the first inventory runs beside it. */
const READY_TIMEOUT_MS = 30_000;

const live = new Set<Tracer>();
let hooked = false;

/** Kills every running tracer now (synchronous: usable from 'exit' and crash handlers). */
export function killAllTracers(): void {
  for (const t of live) t.kill();
}

function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllTracers);
}

export class Tracer implements TraceSource {
  private child: ChildProcess | null = null;
  /** The running child's output (batched-pipe.ts). */
  private pipe: BatchedPipe | null = null;
  private restarts = 0;
  private stopping = false;
  private timer: NodeJS.Timeout | null = null;
  private stderrTail: string[] = [];
  /** Tracepoints of the running bpftrace whose perf sampling is off (TraceSource.samplingOff). */
  samplingOff: number | null = null;

  private onRecord: RecordSink;
  private onState: StateSink;

  constructor(private readonly opts: TracerOptions) {
    this.onRecord = opts.onRecord ?? (() => {});
    this.onState = opts.onState ?? (() => {});
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Resolves once bpftrace has attached every probe (BEGIN printed the marker); rejects if it fails first. */
  start(onRecord?: RecordSink, onState?: StateSink): Promise<void> {
    if (onRecord) this.onRecord = onRecord;
    if (onState) this.onState = onState;
    hookProcessExit();
    live.add(this);
    return this.spawn();
  }

  private spawn(): Promise<void> {
    this.onState('starting', null);
    const prefix = this.opts.pdeathsig === undefined ? ['setpriv', '--pdeathsig', 'KILL', '--'] : this.opts.pdeathsig ?? [];
    const argv = [...prefix, this.opts.bpftrace, '-f', 'json', '-e', this.opts.program];
    const out = new LineSplitter();
    const err = new LineSplitter();
    let onLine: (line: string) => void = () => {};
    let pipe: BatchedPipe | undefined;
    let child: ChildProcess;
    try {
      pipe = new BatchedPipe((s) => out.push(s).forEach((l) => onLine(l)), () => out.end().forEach((l) => onLine(l)));
      try {
        child = start(argv[0]!, argv.slice(1), { stdio: ['ignore', pipe.writeFd!, 'pipe'], env: { ...process.env, BPFTRACE_STRLEN: '64', ...this.opts.env } });
      } finally {
        pipe.closeWriteEnd(); // the child has its copy: the output ends when the child's is closed
      }
    } catch (e) {
      // No pipe (no mkfifo, no temporary directory) or no process: a failed start, as when bpftrace exits at once.
      pipe?.close();
      live.delete(this);
      this.onState('failed', (e as Error).message);
      return Promise.reject(e as Error);
    }
    this.child = child;
    this.pipe = pipe;
    this.stderrTail = [];
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const readyTimer = setTimeout(() => {
        if (!ready) {
          child.kill('SIGKILL');
          reject(new Error(`bpftrace did not attach within ${this.opts.readyTimeoutMs ?? READY_TIMEOUT_MS} ms`));
        }
      }, this.opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
      onLine = (line: string) => {
        const rec = parseBpftraceLine(line);
        if (!rec) return;
        if (!ready && rec.type === 'ka' && rec.rec.kind === 'ready') {
          ready = true;
          clearTimeout(readyTimer);
          const isReady = () => {
            if (this.child === child) this.onState('ready', null); // else it died meanwhile: restarting says so
            resolve();
          };
          const off = this.opts.switchOffSampling;
          this.samplingOff = null;
          // Its failure costs only the perf path it would have saved: the tracer is ready either way.
          if (off) off(child.pid!).then((n) => (this.samplingOff = n), () => {}).finally(isReady);
          else isReady();
        }
        this.onRecord(rec);
      };
      child.stderr!.setEncoding('utf8').on('data', (s: string) => {
        for (const l of err.push(s)) if (!isBenignStderr(l)) this.stderrTail = [...this.stderrTail.slice(-9), l];
      });
      child.on('error', (e) => {
        clearTimeout(readyTimer);
        pipe.close();
        if (!ready) reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(readyTimer);
        pipe.drain(); // the child is gone: the rest of its output, to the end
        pipe.close();
        if (this.child === child) {
          this.child = null;
          this.pipe = null;
        }
        const why = this.stderrTail[0] ?? `bpftrace exited (${signal ?? code})`;
        if (!ready) {
          live.delete(this);
          this.onState('failed', why);
          reject(new Error(why));
          return;
        }
        if (this.stopping) {
          live.delete(this);
          this.onState('stopped', null);
          return;
        }
        if (this.restarts >= (this.opts.maxRestarts ?? 5)) {
          live.delete(this);
          this.onState('failed', `${why}; gave up after ${this.restarts} restarts`);
          return;
        }
        const delay = Math.min(30_000, 500 * 2 ** this.restarts++);
        this.onState('restarting', `${why}; restarting in ${delay} ms`);
        this.timer = setTimeout(() => {
          this.timer = null;
          this.spawn().catch(() => {}); // reported through onState
        }, delay);
      });
    });
  }

  /** Clean stop: SIGINT lets bpftrace print its final maps (the exact counts: in a flood the periodic prints can
   *  be dropped with the records); SIGKILL after `graceMs`. */
  stop(graceMs = 5000): Promise<boolean> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      live.delete(this);
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('close', (code) => {
        clearTimeout(t);
        resolve(code === 0);
      });
      // setpriv execs bpftrace, so this pid is bpftrace itself.
      this.pipe?.hurry();
      child.kill('SIGINT');
    });
  }

  /** Immediate SIGKILL (crash paths). */
  kill(): void {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      this.child?.kill('SIGKILL');
    } catch {
      /* already gone */
    }
    live.delete(this);
  }
}
