// A pipe for a child's output that ka-top reads in batches. bpftrace writes (and flushes) one line per record; a
// Node stream reads whatever is there as soon as it is there, so each record cost ka-top a wake-up, a read and a
// stream event, and bpftrace a wake-up of its reader (under a health checker's resets, ~2k records/s: `watch`
// 0.27–0.32 → 0.23–0.24 core). Here the read end is polled: everything gathered in the pipe is taken at once every
// BATCH_MS, sooner as the output comes faster, so that the writer does not wait on a full pipe.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** How long output gathers between two reads on a stream that is writing; tracer events are held 300 ms anyway to
 *  be put in order (event-stream.ts). */
const BATCH_MS = 25;
/** The longest wait between two reads of a quiet stream: each read that finds nothing doubles the wait, up to this.
 *  Every read is a wake-up of ka-top: 40 a second cost 0.005-0.009 core on their own on an idle host. The first
 *  output after a quiet spell waits this long at most; bpftrace's perf buffers hold what the pipe cannot meanwhile. */
const QUIET_MAX_MS = 100;
/** Linux's pipe capacity (the writer waits once it is full), and what one read takes. */
const PIPE_BYTES = 64 * 1024;

export class BatchedPipe {
  /** The write end, for the child's stdio; closeWriteEnd() once the child has it. */
  writeFd: number | null;
  private readFd: number | null;
  private readonly buf = Buffer.allocUnsafe(PIPE_BYTES);
  private readonly decoder = new StringDecoder('utf8');
  private timer: NodeJS.Timeout | null = null;
  private batchMs = BATCH_MS;
  /** The wait after a read that found nothing (doubling up to QUIET_MAX_MS; back to batchMs at the next output). */
  private quietMs = BATCH_MS;
  private lastPoll = performance.now();

  /** `onText` gets the output in chunks of any size, `onEnd` once, when every writer has closed it. */
  constructor(private readonly onText: (text: string) => void, private readonly onEnd: () => void) {
    // Node makes no anonymous pipe with a file descriptor to poll; a FIFO in a private directory, removed at once
    // (the two ends stay open), is one.
    const dir = mkdtempSync(join(tmpdir(), 'ka-top-pipe-'));
    try {
      const path = join(dir, 'out');
      execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
      this.readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      this.writeFd = openSync(path, constants.O_WRONLY); // blocking: the child writes as to any pipe
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    this.schedule(BATCH_MS);
  }

  /** From now on reads every millisecond: the writer is about to print its last words (a stopping bpftrace its
   *  maps) and must not wait on a full pipe meanwhile. */
  hurry(): void {
    this.batchMs = 1;
    this.quietMs = 1;
    if (this.timer && this.readFd !== null) {
      clearTimeout(this.timer);
      this.schedule(0);
    }
  }

  closeWriteEnd(): void {
    if (this.writeFd !== null) closeSync(this.writeFd);
    this.writeFd = null;
  }

  /** Reads everything there is now; at the end of the output (its writers gone) calls onEnd and closes. */
  drain(): number {
    let total = 0;
    while (this.readFd !== null) {
      let n: number;
      try {
        n = readSync(this.readFd, this.buf, 0, PIPE_BYTES, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        n = 0; // an error ends the output like its end
      }
      if (n === 0) {
        this.close();
        const rest = this.decoder.end();
        if (rest) this.onText(rest);
        this.onEnd();
        break;
      }
      total += n;
      this.onText(this.decoder.write(this.buf.subarray(0, n)));
      if (total >= 16 * PIPE_BYTES) break; // let the event loop turn; the next poll comes at once
    }
    return total;
  }

  /** Stops reading and closes both ends (what is unread is dropped). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closeWriteEnd();
    if (this.readFd !== null) closeSync(this.readFd);
    this.readFd = null;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      const now = performance.now();
      const read = this.drain();
      // The next read comes before the pipe is half full at the rate just seen (so the writer never waits on a
      // full pipe while we sleep), BATCH_MS after this one at the latest; at once after a full pipe's worth. A read
      // that found nothing waits longer each time.
      const halfFullMs = read ? ((now - this.lastPoll) * PIPE_BYTES) / 2 / read : Infinity;
      this.lastPoll = now;
      this.quietMs = read ? this.batchMs : Math.min(this.batchMs < BATCH_MS ? this.batchMs : QUIET_MAX_MS, this.quietMs * 2);
      if (this.readFd !== null) this.schedule(read >= PIPE_BYTES ? 0 : read ? Math.min(this.batchMs, Math.floor(halfFullMs)) : this.quietMs);
    }, ms);
    this.timer.unref(); // the child keeps the process alive while it runs, not this poll
  }
}
