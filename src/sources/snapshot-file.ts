// Reads a snapshot document written by `ka-top snapshot --format json` (plain or gzipped) for `view` and `diff`.
// Only the envelope is checked (schema name and major version, the arrays every reader walks): validating each of
// 100k connections against the JSON schema would cost more than parsing them.
import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ROW_LISTS, SNAPSHOT_SCHEMA, type SnapshotDocument } from '../domain/snapshot.js';

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

/** The file's bytes, gunzipped if need be. */
async function fileBytes(path: string, fail: (why: string) => never): Promise<Buffer> {
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
  return raw;
}

/**
 * Connection rows read from a file share what repeats, as the live inventory's do (model/keepalive.ts,
 * apps/recognise.ts): equal small objects (a namespace, the keepalive sources, an application, linger, no idle
 * times, the flags) are one frozen object, equal strings (addresses, cgroups, command lines) one string, and a row's
 * `processes` entry equal to its `process` that object. JSON.parse makes each anew: 1650 bytes of heap a row,
 * 919 shared.
 */
class RowSharing {
  private readonly strings = new Map<string, string>();
  private readonly objects = new Map<string, object>();

  /** `o[key]`, a string, made the one held copy (any other value stays as it is, an absent key absent). */
  private str(o: Record<string, unknown> | null | undefined, key: string): void {
    const v = o?.[key];
    if (typeof v !== 'string') return;
    const held = this.strings.get(v);
    if (held !== undefined) o![key] = held;
    else this.strings.set(v, v);
  }

  /** The one frozen object for `key`, `v` itself the first time. `key` names `fields` fields: an object with more (a
   *  newer minor version's) is left alone. */
  private obj<T extends object>(v: T, fields: number, key: string): T {
    if (Object.keys(v).length !== fields) return v;
    const held = this.objects.get(key);
    if (held) return held as T;
    this.objects.set(key, Object.freeze(v));
    return v;
  }

  private owner(p: Record<string, unknown>): void {
    for (const k of ['comm', 'cmdline', 'user', 'exe']) this.str(p, k);
  }

  connection(c: Record<string, any>): void {
    const { netns, local, peer, process, processes, keepalive, linger, idleMs, tcp, application } = c;
    if (netns) c.netns = this.obj(netns, 3, `n${netns.inode}\0${netns.name}\0${JSON.stringify(netns.container)}`);
    this.str(local, 'address');
    this.str(peer, 'address');
    this.str(c, 'cgroup');
    if (process) this.owner(process);
    if (Array.isArray(processes)) {
      processes.forEach((p: Record<string, unknown>, i: number) => {
        if (process && sameOwner(p, process)) processes[i] = process;
        else if (p) this.owner(p);
      });
    }
    const src = keepalive?.sources;
    if (src) keepalive.sources = this.obj(src, 3, `s${src.idle}\0${src.interval}\0${src.probes}`);
    if (linger) c.linger = this.obj(linger, 2, `l${linger.enabled}\0${linger.seconds}`);
    if (idleMs && idleMs.send === null && idleMs.recv === null && idleMs.ack === null) c.idleMs = this.obj(idleMs, 3, 'i');
    if (Array.isArray(tcp?.flags)) tcp.flags = this.obj(tcp.flags, tcp.flags.length, `f${tcp.flags.join('\0')}`);
    if (application) {
      const a = application;
      c.application = this.obj(a, 5, `a${a.id}\0${a.name}\0${a.recognisedBy}\0${a.keepalive}\0${a.keepaliveRule}`);
    }
  }
}

/** Two owners written alike, field by field. */
const sameOwner = (a: Record<string, unknown>, b: Record<string, unknown>): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length
    && keys.every((k) => a[k] === b[k] || (typeof a[k] === 'object' && JSON.stringify(a[k]) === JSON.stringify(b[k])));
};
/** The row lists whose items are connections. */
const CONNECTION_LISTS: ReadonlySet<string> = new Set(['connections', 'closedConnections']);

/** `  "connections": [` on a line of its own: a top-level row list as jsonChunks writes it (two spaces; a nested
 *  list, such as a finding's `connections`, is indented further), one item per line after it. */
const ROW_LIST_OPEN = /^ {2}"(\w+)": \[$/;
const NEWLINE = 0x0a, SPACE = 0x20, COMMA = 0x2c, CLOSE = 0x5d;

/**
 * The document as ka-top writes it: the header parsed as one small text, each row of a row list on its own. No text
 * of the whole file is made: V8 strings end at 512 MB (~330k connections), and a whole-text parse kept the text
 * alive under its values (160k connections: 497 MiB of heap after the parse, 257 MiB read row by row). Null when
 * the file is laid out otherwise (reformatted by another tool): it is then parsed whole.
 */
function parseRowByRow(bytes: Buffer, sharing: RowSharing): unknown {
  let header = '';
  const lists = new Map<string, unknown[]>();
  let rows: unknown[] | null = null;
  let connections = false;
  for (let at = 0; at < bytes.length;) {
    let nl = bytes.indexOf(NEWLINE, at);
    if (nl < 0) nl = bytes.length;
    let first = at;
    while (first < nl && bytes[first] === SPACE) first++;
    if (rows && bytes[first] === CLOSE) {
      header += `[]${bytes.toString('utf8', first + 1, nl)}\n`;
      rows = null;
    } else if (rows) {
      const end = bytes[nl - 1] === COMMA ? nl - 1 : nl;
      let row: unknown;
      try {
        row = JSON.parse(bytes.toString('utf8', at, end));
      } catch {
        return null; // an item spread over lines
      }
      if (connections && row && typeof row === 'object') sharing.connection(row as Record<string, any>);
      rows.push(row);
    } else {
      const line = bytes.toString('utf8', at, nl);
      const list = ROW_LIST_OPEN.exec(line)?.[1];
      if (list && ROW_LISTS.has(list)) {
        rows = [];
        connections = CONNECTION_LISTS.has(list);
        lists.set(list, rows);
        header += line.slice(0, -1);
      } else {
        header += `${line}\n`;
      }
    }
    at = nl + 1;
  }
  if (rows || lists.size === 0) return null; // cut off inside a list, or none laid out row by row
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(header) as Record<string, unknown>;
  } catch {
    return null; // the whole text's parse says where it breaks, in the file's own terms
  }
  for (const [list, items] of lists) doc[list] = items;
  return doc;
}

export async function loadSnapshot(path: string): Promise<SnapshotDocument> {
  const fail = (why: string): never => {
    throw new SnapshotFileError(`${path}: ${why}`);
  };
  const bytes = await fileBytes(path, fail);
  if (bytes.length === 0) return fail('empty file');
  let doc: unknown;
  const sharing = new RowSharing();
  let rowByRow = false;
  try {
    doc = parseRowByRow(bytes, sharing);
    rowByRow = doc !== null;
    doc ??= JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    // A cut-off write (disk full, copy interrupted) ends inside the document.
    const head = bytes.toString('utf8', 0, 64).trimStart();
    const tail = bytes.toString('utf8', Math.max(0, bytes.length - 64)).trimEnd();
    if (head.startsWith('{') && !tail.endsWith('}')) return fail(`not JSON: truncated, the file ends inside the document after ${bytes.length} bytes`);
    if ((e as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG') return fail(`too large (${bytes.length} bytes) to read other than row by row, as ka-top writes it`);
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
  if (!rowByRow) {
    for (const list of CONNECTION_LISTS) {
      const rows = (d as Record<string, unknown>)[list];
      if (Array.isArray(rows)) for (const c of rows) if (isObject(c)) sharing.connection(c);
    }
  }
  return doc as SnapshotDocument;
}
