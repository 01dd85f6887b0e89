// Runs the one bpftrace process of a ka-top: NDJSON out, a ready marker after attach, restart with backoff when
// it dies, and no orphan ever: bpftrace runs under `setpriv --pdeathsig KILL` (the kernel kills it when ka-top
// dies, even by SIGKILL) and every exit path of ka-top stops it.
import type { ChildProcess } from 'node:child_process';
import { start } from './exec.js';
import { LineSplitter } from '../domain/lines.js';
import { isBenignStderr, parseBpftraceLine, parseKaRecord, type BpftraceRecord } from '../parse/bpftrace-json.js';

export type TracerState = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopped';

export interface TracerOptions {
  bpftrace: string;
  program: string;
  onRecord: (rec: BpftraceRecord) => void;
  onState?: (state: TracerState, detail: string | null) => void;
  /** Give up waiting for the ready marker after this long. */
  readyTimeoutMs?: number;
  maxRestarts?: number;
  /** Prefix command that makes the kernel kill bpftrace when we die; null to run bpftrace directly. */
  pdeathsig?: string[] | null;
}

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

export class Tracer {
  private child: ChildProcess | null = null;
  private restarts = 0;
  private stopping = false;
  private timer: NodeJS.Timeout | null = null;
  private stderrTail: string[] = [];

  constructor(private readonly opts: TracerOptions) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Resolves once bpftrace has attached every probe (BEGIN printed the marker); rejects if it fails first. */
  start(): Promise<void> {
    hookProcessExit();
    live.add(this);
    return this.spawn();
  }

  private spawn(): Promise<void> {
    this.opts.onState?.('starting', null);
    const prefix = this.opts.pdeathsig === undefined ? ['setpriv', '--pdeathsig', 'KILL', '--'] : this.opts.pdeathsig ?? [];
    const argv = [...prefix, this.opts.bpftrace, '-f', 'json', '-e', this.opts.program];
    const child = start(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BPFTRACE_STRLEN: '64' } });
    this.child = child;
    this.stderrTail = [];
    const out = new LineSplitter();
    const err = new LineSplitter();
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const readyTimer = setTimeout(() => {
        if (!ready) {
          child.kill('SIGKILL');
          reject(new Error(`bpftrace did not attach within ${this.opts.readyTimeoutMs ?? 15000} ms`));
        }
      }, this.opts.readyTimeoutMs ?? 15000);
      const onLine = (line: string) => {
        const rec = parseBpftraceLine(line);
        if (!rec) return;
        if (!ready && rec.type === 'printf' && parseKaRecord(rec.data)?.kind === 'ready') {
          ready = true;
          clearTimeout(readyTimer);
          this.opts.onState?.('ready', null);
          resolve();
        }
        this.opts.onRecord(rec);
      };
      child.stdout!.setEncoding('utf8').on('data', (s: string) => out.push(s).forEach(onLine));
      child.stdout!.on('end', () => out.end().forEach(onLine));
      child.stderr!.setEncoding('utf8').on('data', (s: string) => {
        for (const l of err.push(s)) if (!isBenignStderr(l)) this.stderrTail = [...this.stderrTail.slice(-9), l];
      });
      child.on('error', (e) => {
        clearTimeout(readyTimer);
        if (!ready) reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(readyTimer);
        if (this.child === child) this.child = null;
        const why = this.stderrTail[0] ?? `bpftrace exited (${signal ?? code})`;
        if (!ready) {
          live.delete(this);
          this.opts.onState?.('failed', why);
          reject(new Error(why));
          return;
        }
        if (this.stopping) {
          live.delete(this);
          this.opts.onState?.('stopped', null);
          return;
        }
        if (this.restarts >= (this.opts.maxRestarts ?? 5)) {
          live.delete(this);
          this.opts.onState?.('failed', `${why}; gave up after ${this.restarts} restarts`);
          return;
        }
        const delay = Math.min(30_000, 500 * 2 ** this.restarts++);
        this.opts.onState?.('restarting', `${why}; restarting in ${delay} ms`);
        this.timer = setTimeout(() => {
          this.timer = null;
          this.spawn().catch(() => {}); // reported through onState
        }, delay);
      });
    });
  }

  /** Clean stop: SIGINT lets bpftrace print its final maps; SIGKILL after `graceMs`. */
  stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      live.delete(this);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      // setpriv execs bpftrace, so this pid is bpftrace itself.
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
