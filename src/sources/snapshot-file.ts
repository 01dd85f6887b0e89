// Reads a snapshot document written by `ka-top snapshot --format json` (plain or gzipped) for `view` and `diff`.
// Only the envelope is checked (schema name and major version, the arrays every reader walks): validating each of
// 100k connections against the JSON schema would cost more than parsing them.
import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { SNAPSHOT_SCHEMA, type SnapshotDocument } from '../domain/snapshot.js';

/** A file that is not a readable snapshot; the message is one line and names the file. */
export class SnapshotFileError extends Error {}

const gunzipAsync = promisify(gunzip);
/** `ka-top/snapshot/v<major>[.<minor>]`: a newer minor version only adds fields, a newer major one may not be read. */
const SCHEMA_RE = /^ka-top\/snapshot\/v(\d+)(?:\.\d+)?$/;
const MAJOR = Number(SCHEMA_RE.exec(SNAPSHOT_SCHEMA)![1]);

const isGzip = (b: Buffer): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** An error, or text taken from the file, as one short line (JSON.parse quotes the input, newlines included). */
function oneLine(e: unknown): string {
  const text = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  return text.length > 120 ? text.slice(0, 119) + '…' : text;
}

/** The file's text, gunzipped if need be. Its bytes are let go before the caller parses it: a 100k-connection
 *  snapshot is ~160 MB, and holding the buffer beside its text and the parsed rows costs that much again. */
async function fileText(path: string, fail: (why: string) => never): Promise<string> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : oneLine(e));
  }
  if (isGzip(raw)) {
    try {
      raw = await gunzipAsync(raw);
    } catch (e) {
      return fail(`not a complete gzip file (${oneLine(e)})`);
    }
  }
  return raw.toString('utf8');
}

export async function loadSnapshot(path: string): Promise<SnapshotDocument> {
  const fail = (why: string): never => {
    throw new SnapshotFileError(`${path}: ${why}`);
  };
  const text = await fileText(path, fail);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    if (text.length === 0) return fail('empty file');
    // A cut-off write (disk full, copy interrupted) ends inside the document.
    const end = text.trimEnd();
    if (end.startsWith('{') && !end.endsWith('}')) return fail(`not JSON: truncated, the file ends inside the document after ${Buffer.byteLength(text)} bytes`);
    return fail(`not JSON (${oneLine(e)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('not a ka-top snapshot (not a JSON object)');
  const schema = (doc as { schema?: unknown }).schema;
  const version = typeof schema === 'string' ? SCHEMA_RE.exec(schema) : null;
  if (!version) return fail(`not a ka-top snapshot (schema ${oneLine(JSON.stringify(schema ?? null))}, expected ${SNAPSHOT_SCHEMA})`);
  if (Number(version[1]) !== MAJOR) return fail(`unsupported snapshot version ${oneLine(schema)} (this ka-top reads ${SNAPSHOT_SCHEMA})`);
  const d = doc as Partial<SnapshotDocument> & { events?: unknown; findings?: unknown };
  for (const key of ['connections', 'namespaces', 'warnings'] as const) if (!Array.isArray(d[key])) fail(`malformed snapshot: "${key}" is not a list`);
  if (d.events !== undefined && !Array.isArray(d.events)) fail('malformed snapshot: "events" is not a list');
  const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;
  if (typeof d.takenAt !== 'string' || !isObject(d.host) || !isObject(d.capabilities)) {
    fail('malformed snapshot: takenAt, host or capabilities missing');
  }
  return doc as SnapshotDocument;
}
