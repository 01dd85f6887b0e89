// Writes a file so that readers see either the old content or the whole new one, never a torn file.
import { closeSync, fstatSync, fsyncSync, linkSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** A hidden name beside `path` for the file being written. */
const tmpFor = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);

/**
 * Writes `chunks` to a new file, never over an existing one: `.tmp` first, then linked to the first free name of
 * `nameFor(0)`, `nameFor(1)`, … (link(2) fails on an existing name where rename(2) would replace it: an earlier file
 * is never lost). Yields to the event loop between chunks: an interactive view stays live while a large snapshot
 * is produced and written. Returns the path written.
 */
export async function writeNewFileAsync(nameFor: (attempt: number) => string, chunks: Iterable<string | Uint8Array>, mode = 0o600): Promise<string> {
  const tmp = tmpFor(nameFor(0));
  const fd = openSync(tmp, 'wx', mode);
  let open = true;
  try {
    for (const chunk of chunks) {
      writeAllSync(fd, [chunk]);
      await new Promise((r) => setImmediate(r));
    }
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    for (let attempt = 0; ; attempt++) {
      const path = nameFor(attempt);
      try {
        linkSync(tmp, path);
        return path;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 99) throw e;
      }
    }
  } finally {
    if (open) closeSync(fd);
    unlinkSync(tmp);
  }
}

/**
 * Throws now the error writing `path` with writeFileAtomic would meet later (no such directory, no permission, a
 * read-only file system, a directory by that name), by creating and removing its temporary file: a capture of many
 * minutes must not be lost to a mistyped file name. A device or FIFO is written in place and not opened here.
 */
export function checkWritable(path: string): void {
  let existing;
  try {
    existing = statSync(path);
  } catch {
    existing = null;
  }
  if (existing?.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
  if (existing && !existing.isFile()) return;
  const tmp = tmpFor(path);
  closeSync(openSync(tmp, 'wx', 0o600));
  unlinkSync(tmp);
}

export function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<string | Uint8Array>, mode = 0o600): void {
  // A device or FIFO (/dev/stdout, a pipe) is written in place: renaming over it would replace the node itself.
  let existing;
  try {
    existing = statSync(path);
  } catch {
    existing = null;
  }
  if (existing && !existing.isFile()) {
    const fd = openSync(path, 'w');
    try {
      writeAllSync(fd, data);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const tmp = tmpFor(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeAllSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
}

/** Whether `fd` is a regular file (`> file`); false when it is closed. */
export function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/** Writes all of `data` to `fd`, each partial write(2) followed by the next: on a full disk the next one fails. */
export function writeAllSync(fd: number, data: string | Uint8Array | Iterable<string | Uint8Array>): void {
  const chunks = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
  for (const chunk of chunks) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off); // writes may be partial
  }
}

/**
 * Gzip, one member per chunk: concatenated members are one valid gzip file (RFC 1952; gunzip, zcat and node read
 * them whole), so a large snapshot is compressed as it is produced instead of in one piece in memory.
 */
export function* gzipChunks(chunks: Iterable<string | Uint8Array>, minBytes = 1 << 20): Generator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let size = 0;
  let members = 0;
  for (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.byteLength;
    if (size >= minBytes) {
      yield gzipSync(pending.length ? Buffer.concat([...pending, bytes]) : bytes);
      members++;
      pending = [];
      size = 0;
    } else {
      pending.push(Buffer.from(bytes)); // kept past the next chunk: a copy (a producer may reuse a chunk's memory)
    }
  }
  if (pending.length || members === 0) yield gzipSync(Buffer.concat(pending));
}

/**
 * Writes chunks to a stream, each one written before the next is asked for: a large snapshot never sits in memory
 * twice, and a producer may reuse a chunk's memory (jsonChunks does). A write error comes as the stream's 'error'.
 */
export async function writeStream(out: NodeJS.WritableStream, chunks: Iterable<string | Uint8Array>): Promise<void> {
  for (const chunk of chunks) await new Promise<void>((resolve) => out.write(chunk, () => resolve()));
}
