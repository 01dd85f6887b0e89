// How ka-top reads bpftrace's output: a quiet stream is taken in batches (a read per record had cost a wake-up and
// a syscall each), a fast one without pauses, and either way every record arrives, in order, or is counted as lost.
// Real bpftrace printing numbered records.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { BpftraceRecord } from '../../src/parse/bpftrace-json.js';
import { BatchedPipe } from '../../src/sources/batched-pipe.js';
import { Tracer } from '../../src/sources/tracer.js';

/** A program printing `perMs` numbered records (`KA sockopt`, the number in its fd field) every millisecond. */
const numbered = (perMs: number) => [
  'BEGIN { printf("KA ready\\n"); }',
  `interval:ms:1 { ${'@seq = @seq + 1; printf("KA sockopt 1 %d 1 9 t\\n", @seq); '.repeat(perMs)}}`,
].join('\n');

interface Run {
  numbers: number[];
  lost: number;
  printed: number;
  /** Reads that delivered records (the records of one read are handled in one task). */
  reads: number;
}

async function runFor(perMs: number, ms: number): Promise<Run> {
  const run: Run = { numbers: [], lost: 0, printed: 0, reads: 0 };
  let inRead = false;
  const onRecord = (r: BpftraceRecord) => {
    if (r.type === 'lost_events') run.lost += r.events;
    if (r.type === 'map' && r.name === '@seq') run.printed = Number(r.data);
    if (r.type !== 'ka' || r.rec.kind !== 'sockopt') return;
    run.numbers.push(r.rec.fd);
    if (!inRead) {
      run.reads++;
      inRead = true;
      queueMicrotask(() => (inRead = false));
    }
  };
  const t = new Tracer({ bpftrace: 'bpftrace', program: numbered(perMs), onRecord, maxRestarts: 0 });
  await t.start();
  await new Promise((r) => setTimeout(r, ms));
  await t.stop(); // SIGINT: bpftrace prints @seq, the number of records printed, on its way out
  return run;
}

/** Every number from 1 on, none twice, none skipped. */
const consecutive = (xs: number[]) => xs.every((x, i) => x === i + 1);
const inOrder = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
/** Records printed in the last moments before SIGINT may still sit in bpftrace's perf buffer when it stops
 *  polling: ka-top counts those as lost (printed - received, EventStream.settleLoss); a few ms' worth at most. */
const inFlight = (perMs: number) => 20 * perMs;

describe('reading the tracer', () => {
  it('a quiet stream (1000 records/s) arrives whole, in order, many records a read', async () => {
    const r = await runFor(1, 1500);
    expect(r.printed).toBeGreaterThan(500);
    expect(r.lost).toBe(0);
    expect(consecutive(r.numbers)).toBe(true);
    expect(r.printed - r.numbers.length).toBeLessThanOrEqual(inFlight(1));
    // A read every 25 ms takes ~25 records; reading as records came took ~1.1-1.6 a read here.
    expect(r.numbers.length / r.reads).toBeGreaterThan(5);
  }, 60_000);

  it('a fast stream (20k records/s) is read on without pauses: nothing lost but what bpftrace counts', async () => {
    const r = await runFor(20, 1500);
    expect(r.printed).toBeGreaterThan(10_000);
    expect(inOrder(r.numbers)).toBe(true);
    if (r.lost === 0) expect(consecutive(r.numbers)).toBe(true);
    expect(r.printed - r.numbers.length - r.lost).toBeGreaterThanOrEqual(0);
    expect(r.printed - r.numbers.length - r.lost).toBeLessThanOrEqual(inFlight(20));
  }, 60_000);
});

describe('BatchedPipe', () => {
  it("hands over a child's whole output once it has exited, ends once, and leaves no FIFO behind", async () => {
    const pipesBefore = readdirSync(tmpdir()).filter((n) => n.startsWith('ka-top-pipe-'));
    let text = '';
    let ends = 0;
    const pipe = new BatchedPipe((t) => (text += t), () => ends++);
    // 200k lines (~1.3 MB): more than a pipe holds, so the child waits on the reader and reading must go on.
    const child = spawn('seq', ['1', '200000'], { stdio: ['ignore', pipe.writeFd!, 'ignore'] });
    pipe.closeWriteEnd();
    await new Promise((r) => child.on('close', r));
    pipe.drain();
    expect(ends).toBe(1);
    const lines = text.split('\n');
    expect(lines.length).toBe(200_001);
    expect(lines[199_999]).toBe('200000');
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('ka-top-pipe-'))).toEqual(pipesBefore);
    pipe.close();
  });
});
