// The tracer port replayed from a captured bpftrace `-f json` run (test/fixtures/tracing/*.ndjson, captured by
// scripts/capture-tracing-fixtures.sh): the whole event path runs from a recording, without root or bpftrace.
import { parseBpftraceLine } from '../parse/bpftrace-json.js';
import type { RecordSink, StateSink, TraceSource } from './ports.js';

export interface RecordedTracerOptions {
  /** Called after each line is delivered (a test advances its clock here). */
  afterLine?: () => void;
}

export class RecordedTracer implements TraceSource {
  readonly pid = null;
  private stopped = false;

  constructor(private readonly ndjson: string, private readonly opts: RecordedTracerOptions = {}) {}

  /** Delivers every record of the recording in order, then resolves: a recording is ready once it is read. */
  async start(onRecord: RecordSink = () => {}, onState: StateSink = () => {}): Promise<void> {
    onState('starting', null);
    for (const line of this.ndjson.split('\n')) {
      if (this.stopped) break;
      const rec = parseBpftraceLine(line);
      if (rec) onRecord(rec);
      this.opts.afterLine?.();
    }
    onState('ready', null);
  }

  async stop(): Promise<boolean> {
    this.stopped = true;
    return true;
  }

  kill(): void {
    this.stopped = true;
  }
}
