// Owner scan and per-socket options through the ka-sockinfo helper (pidfd_getfd + getsockopt), one-shot or as a
// long-running incremental daemon for the refresh loop; and the keepalive sysctls of network namespaces.
import type { ChildProcess } from 'node:child_process';
import type { ScannedSocket, SockScan } from '../domain/connection.js';
import { LineSplitter } from '../domain/lines.js';
import { applySockinfoDiff, parseNetnsSysctls, parseSockScan, type NetnsSysctlResult, type SockinfoDiff } from '../parse/sockinfo.js';
import { nativeBinary, run, start } from './exec.js';

export class SockinfoError extends Error {}

const HELPER = 'ka-sockinfo';

function failure(what: string, r: { code: number | null; signal: string | null; stderr: string }): SockinfoError {
  const why = r.stderr.trim().split('\n')[0] || `exit ${r.code ?? r.signal}`;
  return new SockinfoError(`${HELPER} ${what} failed: ${why}`);
}

/** One full scan of every process's TCP socket fds. */
export async function scanSockets(): Promise<SockScan> {
  const r = await run(nativeBinary(HELPER), ['scan'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw failure('scan', r);
  return parseSockScan(r.stdout);
}

/** Keepalive sysctls as seen from inside each namespace (paths like /proc/<pid>/ns/net or /run/netns/NAME). */
export async function readNetnsSysctls(paths: string[]): Promise<Map<string, NetnsSysctlResult>> {
  if (paths.length === 0) return new Map();
  const r = await run(nativeBinary(HELPER), ['sysctl', ...paths], { timeoutMs: 30_000 });
  if (r.code !== 0) throw failure('sysctl', r);
  return parseNetnsSysctls(r.stdout);
}

/** Switches off perf's sampling of bpftrace `pid`'s tracepoints, its programs still attached (why: ka-sockinfo.c,
 *  cmd_tracepoint_events). Resolves the number of tracepoint events switched off. */
export async function switchOffTracepointSampling(pid: number): Promise<number> {
  const r = await run(nativeBinary(HELPER), ['tracepoint-events', String(pid), 'off'], { timeoutMs: 10_000 });
  const n = /^\. events=(\d+)$/m.exec(r.stdout);
  if (r.code !== 0 || !n) throw failure('tracepoint-events', { ...r, stderr: r.stderr || r.stdout });
  return Number(n[1]);
}

interface Pending {
  /** True for the line that ends this command's answer. */
  last: (line: string) => boolean;
  lines: string[];
  /** Streams the answer's lines here instead of collecting them. */
  sink?: (line: string) => void;
  resolve: (lines: string[]) => void;
  reject: (e: Error) => void;
}

/**
 * `ka-sockinfo serve`: after the first scan, a refresh costs only readdir + readlink per fd, and only new or
 * changed sockets are read with getsockopt. Commands are answered in order; the child never outlives us.
 */
export class SockinfoDaemon {
  private child: ChildProcess | null = null;
  private readonly current = new Map<string, ScannedSocket>();
  private readonly queue: Pending[] = [];
  private stderr = '';
  /** Why the helper cannot be started on this host, if so. */
  private unavailable: string | null = null;
  /** What the last scan changed: lets a caller skip work when nothing did. */
  lastDiff: SockinfoDiff = { summary: null, changed: [], gone: [] };
  private readonly killOnExit = () => this.child?.kill('SIGKILL');
  private lastFull = Date.now();
  /** An inventory command rescanned without reporting changes: the next `scan` must start from a full one. */
  private scanDiffBroken = false;

  private closed = false;
  private startedAt = 0;

  /** Since when every keepalive/linger setsockopt has been traced without loss (each re-reads its socket); null: not. */
  private tracedSince: number | null = null;

  /**
   * @param fullRescanMs every this long a scan re-reads every socket's options: a change made without a traced
   *   setsockopt (no tracer, lost events) is picked up within that time.
   * @param tracedFullRescanMs the same while every setsockopt has been traced since the last full re-read: what is
   *   left to catch (an io_uring or BPF setsockopt) does not cost a re-read of every socket each 30 s (1.3 s of
   *   CPU at 100k sockets).
   * @param restartAfterMs a helper that died is started again by the next command, at most this often.
   */
  constructor(
    private readonly fullRescanMs = 30_000,
    private readonly restartAfterMs = 5000,
    private readonly tracedFullRescanMs = 5 * 60_000,
  ) {}

  /** Whether every keepalive/linger setsockopt on the host is traced now (the tracer runs, nothing filtered out). */
  setsockoptsTraced(on: boolean): void {
    if (!on) this.tracedSince = null;
    else this.tracedSince ??= Date.now();
  }

  /** The tracer lost records, setsockopts among them maybe: the short period applies until the next full re-read. */
  setsockoptsMissed(): void {
    if (this.tracedSince !== null) this.tracedSince = Date.now();
  }

  private fullDue(): boolean {
    const traced = this.tracedSince !== null && this.tracedSince <= this.lastFull;
    return Date.now() - this.lastFull >= (traced ? this.tracedFullRescanMs : this.fullRescanMs);
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): void {
    if (this.child) return;
    this.startedAt = Date.now();
    // A new helper knows nothing: its first scan reports every socket.
    this.current.clear();
    this.lastFull = Date.now();
    this.scanDiffBroken = false;
    let bin: string;
    try {
      bin = nativeBinary(HELPER);
    } catch (e) {
      this.unavailable = (e as Error).message; // every scan rejects with it: the inventory goes on without owners
      return;
    }
    const child = start(bin, ['serve']);
    this.child = child;
    process.on('exit', this.killOnExit);
    child.stderr!.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-4096)));
    child.stdin!.on('error', () => {}); // reported through 'exit' instead
    // Split here rather than by readline: at a churning host's refresh, tens of thousands of lines, and readline's
    // regular expression allocated more than the parser of those lines.
    const lines = new LineSplitter();
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) this.answer(line);
    });
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = null;
      process.off('exit', this.killOnExit);
      const err = new SockinfoError(`${HELPER} serve ${why}${this.stderr ? `: ${this.stderr.trim()}` : ''}`);
      for (const p of this.queue.splice(0)) p.reject(err);
    };
    child.on('error', (e) => gone(`could not start (${e.message})`));
    child.on('exit', (code, signal) => gone(`exited (${code ?? signal})`));
  }

  /** One line of the helper's output, for the command at the head of the queue. */
  private answer(line: string): void {
    const p = this.queue[0];
    if (!p) return;
    if (p.sink) p.sink(line);
    else p.lines.push(line);
    if (p.last(line)) {
      this.queue.shift();
      p.resolve(p.lines);
    }
  }

  private send(cmd: string, last: (line: string) => boolean, sink?: (line: string) => void): Promise<string[]> {
    // A long-running view outlives a helper that died (killed, out of memory): without it every later inventory
    // would fall back to ss and lose owners and options for good.
    if (!this.child && !this.unavailable && !this.closed && Date.now() - this.startedAt >= this.restartAfterMs) this.start();
    const child = this.child;
    if (!child) return Promise.reject(new SockinfoError(this.unavailable ?? `${HELPER} serve is not running`));
    return new Promise((resolve, reject) => {
      this.queue.push({ last, lines: [], sink, resolve, reject });
      child.stdin!.write(`${cmd}\n`);
    });
  }

  /** Rescans and returns the full current set (the helper sends only the changes). */
  async scan(): Promise<SockScan> {
    if (this.scanDiffBroken || this.fullDue()) await this.full();
    const lines = await this.send('scan', (l) => l.startsWith('. '));
    const diff = applySockinfoDiff(this.current, lines);
    const summary = diff.summary;
    this.lastDiff = diff;
    if (!summary) throw new SockinfoError(`${HELPER} serve: scan answer without summary`);
    return { sockets: [...this.current.values()], deniedPids: summary.denied, elapsedUs: summary.elapsedUs };
  }

  /**
   * The native inventory of these namespaces (see sources/native-inventory.ts), streamed line by line to `sink`.
   * The helper's owner scan is incremental here too: options are read only for new or changed fds.
   */
  async inventory(paths: readonly string[], sink: (line: string) => void): Promise<void> {
    if (this.fullDue()) await this.full();
    this.scanDiffBroken = true;
    await this.send(`inventory\t${paths.join('\t')}`, (l) => l.startsWith('. ') || l.startsWith('error'), sink);
  }

  /** What changed in these namespaces since the previous `changes` call (see parse/native-inventory.ts), streamed
   *  line by line to `sink`; the first answer, and every one after `forget`, is complete. A path written `!PATH` is
   *  dumped even when its TCP counters stand (the helper's QUIET_DUMP_EVERY_MS). */
  async changes(paths: readonly string[], sink: (line: string) => void): Promise<void> {
    if (this.fullDue()) await this.full();
    this.scanDiffBroken = true;
    await this.send(`changes\t${paths.join('\t')}`, (l) => l.startsWith('. ') || l.startsWith('error'), sink);
  }

  /** The namespaces' keepalive sysctls, as `readNetnsSysctls` reads them, without a process per refresh. */
  async sysctls(paths: readonly string[]): Promise<Map<string, NetnsSysctlResult>> {
    if (paths.length === 0) return new Map();
    const lines = await this.send(`sysctl\t${paths.join('\t')}`, (l) => l.startsWith('ok ') || l.startsWith('error'));
    if (lines.at(-1) !== 'ok sysctl') throw new SockinfoError(`${HELPER} serve: sysctl: ${lines.at(-1) ?? 'no answer'}`);
    return parseNetnsSysctls(lines.join('\n'));
  }

  /** The next `changes` answer is complete. */
  async forget(): Promise<void> {
    await this.send('forget', (l) => l.startsWith('ok ') || l.startsWith('error'));
  }

  /** The next scan re-reads (and re-reports) these sockets' options, e.g. after a traced setsockopt. */
  async reread(inodes: readonly number[]): Promise<void> {
    if (inodes.length === 0) return;
    await this.send(`reread ${inodes.join(' ')}`, (l) => l.startsWith('ok ') || l.startsWith('error'));
  }

  /** Forgets everything: the next scan reads every socket again, and the next `changes` answer dumps every
   *  namespace (a capture's end inventory is read whole). */
  async full(): Promise<void> {
    if (this.unavailable) return; // nothing was read, nothing to forget
    await this.send('full', (l) => l.startsWith('ok ') || l.startsWith('error'));
    this.current.clear();
    this.lastFull = Date.now();
    this.scanDiffBroken = false;
  }

  /** Ends the helper (EOF on stdin, SIGKILL if it does not exit within 1 s). */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(timer);
  }
}
