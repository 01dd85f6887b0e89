// JSON text of a document, streamed as bytes (ASCII: other characters escaped): the header indented, the items of
// the row lists one per line (several times faster than indenting tens of thousands of nested objects).
import { ROW_LISTS } from '../domain/snapshot.js';

const CHUNK_BYTES = 1 << 20;
const NONE: readonly Uint8Array[] = [];
const SPACE = 0x20, COMMA = 0x2c, NEWLINE = 0x0a;

/**
 * Packs strings into UTF-8 chunks of about `chunkBytes`. TextEncoder.encodeInto is SIMD-encoded in place; joining
 * rows and Buffer.from(string) cost 3x more at 100k rows (1.5 s of the snapshot on Node 20) and copy twice.
 * A chunk's memory is reused once the consumer is done with it: fresh memory costs a page fault per 4 KiB on first
 * touch (150 fresh MiB took 316 ms here, one reused MiB 1 ms), and a 100k snapshot is 156 MB.
 */
class Utf8Chunks {
  private readonly encoder = new TextEncoder();
  private buf: Uint8Array;
  private used = 0;
  private readonly ready: Uint8Array[] = [];
  /** Chunk-sized buffers free for the next chunks. */
  private readonly spare: Uint8Array[] = [];

  constructor(private readonly chunkBytes: number) {
    this.buf = new Uint8Array(chunkBytes);
  }

  add(text: string): void {
    let rest = text;
    for (;;) {
      const { read, written } = this.encoder.encodeInto(rest, this.buf.subarray(this.used));
      this.used += written;
      if (read === rest.length) return;
      rest = rest.slice(read);
      this.cut(Math.max(this.chunkBytes, rest.length)); // the text is ASCII: a byte a character (any other just takes more turns)
    }
  }

  /** One row line: `    ROW,` (the indent and separator written as bytes: a third of the encoder calls). */
  addRow(json: string, last: boolean): void {
    if (this.used + 4 > this.buf.length) this.cut(this.chunkBytes);
    this.buf.fill(SPACE, this.used, this.used + 4);
    this.used += 4;
    // The usual row is ASCII and fits: one encode, which also tells (bytes written = characters read) that no
    // escape was needed. Otherwise it is written again from here, escaped.
    const { read, written } = this.encoder.encodeInto(json, this.buf.subarray(this.used));
    if (read === json.length && written === read) this.used += written;
    else this.add(asciiJson(json));
    if (this.used + 2 > this.buf.length) this.cut(this.chunkBytes);
    if (!last) this.buf[this.used++] = COMMA;
    this.buf[this.used++] = NEWLINE;
  }

  get filled(): boolean {
    return this.ready.length > 0;
  }

  /** The chunks filled so far; the caller writes them while later rows are encoded into other memory. */
  take(): readonly Uint8Array[] {
    return this.ready.length ? this.ready.splice(0) : NONE;
  }

  /** Chunks the consumer is done with: their memory takes later rows. */
  reuse(chunks: readonly Uint8Array[]): void {
    for (const c of chunks) if (c.buffer.byteLength === this.chunkBytes) this.spare.push(new Uint8Array(c.buffer));
  }

  end(): readonly Uint8Array[] {
    this.cut(0);
    return this.take();
  }

  private cut(nextSize: number): void {
    if (this.used) this.ready.push(this.buf.subarray(0, this.used));
    this.buf = (nextSize === this.chunkBytes && this.spare.pop()) || new Uint8Array(nextSize);
    this.used = 0;
  }
}

/**
 * JSON text with every non-ASCII character as a `\uXXXX` escape (they occur only inside strings). One such
 * character anywhere makes a reader's whole text two bytes a character: a 250 MB snapshot then took 2 s more to
 * load in `ka-top diff` and 250 MB more memory.
 */
export function asciiJson(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The JSON text in byte chunks (header indented, one row per line): a large document streams without one huge
 * string. Each chunk is valid until the next one is asked for (its memory then takes later rows): write it, or copy
 * what you keep. `chunkBytes` is for tests.
 */
export function* jsonChunks(doc: object, chunkBytes = CHUNK_BYTES): Generator<Uint8Array> {
  const out = new Utf8Chunks(chunkBytes);
  /** Yields the filled chunks; once the consumer asks for the next one after them, they are free again. */
  function* flush(): Generator<Uint8Array> {
    const chunks = out.take();
    yield* chunks;
    out.reuse(chunks);
  }
  let first = true;
  out.add('{\n');
  for (const [key, value] of Object.entries(doc)) {
    if (value === undefined) continue;
    out.add(`${first ? '' : ',\n'}  ${JSON.stringify(key)}: `);
    first = false;
    if (ROW_LISTS.has(key) && Array.isArray(value) && value.length) {
      out.add('[\n');
      for (let i = 0; i < value.length; i++) {
        out.addRow(JSON.stringify(value[i]), i + 1 === value.length);
        if (out.filled) yield* flush();
      }
      out.add('  ]');
    } else {
      out.add(asciiJson(JSON.stringify(value, null, 2)).replace(/\n/g, '\n  '));
    }
    yield* flush();
  }
  out.add('\n}\n');
  yield* out.end();
}

export function toJson(doc: object): string {
  return Buffer.concat(Array.from(jsonChunks(doc), (c) => Buffer.from(c))).toString('utf8');
}
