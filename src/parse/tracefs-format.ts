// Parses tracefs `events/<sys>/<name>/format` files: the field layout and the symbolic tables of the print fmt.
import { ParseError } from './parse-error.js';

export interface TraceField {
  name: string;
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** Element count for array fields (`__u8 saddr[28]`), else null. */
  arrayLen: number | null;
}

export interface TraceFormat {
  name: string;
  id: number;
  /** Event fields, without the `common_*` header. */
  fields: TraceField[];
  printFmt: string;
}

export function parseTraceFormat(text: string): TraceFormat {
  const name = /^name:\s*(\S+)/m.exec(text)?.[1] ?? '';
  const id = Number(/^ID:\s*(\d+)/m.exec(text)?.[1] ?? NaN);
  const fields: TraceField[] = [];
  const re = /field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d);/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const decl = m[1]!.trim();
    const d = /^(.*?)\s*\b([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[(\d*)\])?$/.exec(decl);
    if (!d) continue;
    if (d[2]!.startsWith('common_')) continue;
    fields.push({
      name: d[2]!,
      type: d[1]!.trim(),
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] === '1',
      arrayLen: d[3] !== undefined ? Number(d[3] || 0) : null,
    });
  }
  const printFmt = /^print fmt:\s*(.*)$/m.exec(text)?.[1] ?? '';
  if (!name || Number.isNaN(id)) throw new ParseError('not a tracefs format file');
  return { name, id, fields, printFmt };
}

/** The `__print_symbolic(REC-><field>, { N, "NAME" }, …)` table of a print fmt as number -> name. Entries whose
 *  value is a symbol rather than a number (`{ TCP_ESTABLISHED, "…" }`) are skipped: they cannot be resolved here. */
export function printSymbolic(printFmt: string, field: string): Map<number, string> {
  const out = new Map<number, string>();
  const start = printFmt.indexOf(`__print_symbolic(REC->${field},`);
  if (start < 0) return out;
  // The table ends at the parenthesis that closes __print_symbolic; those inside a name's quotes do not count.
  let depth = 0;
  let end = start;
  for (let i = start; i < printFmt.length; i++) {
    const c = printFmt[i];
    if (c === '"') {
      i = printFmt.indexOf('"', i + 1);
      if (i < 0) break;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) {
      end = i;
      break;
    }
  }
  const body = printFmt.slice(start, end);
  // The sign apart: Number('-0x10') is NaN.
  const re = /\{\s*(-?)(0[xX][0-9a-fA-F]+|\d+)\s*,\s*"([^"]*)"\s*\}/g;
  for (let m = re.exec(body); m; m = re.exec(body)) out.set((m[1] ? -1 : 1) * Number(m[2]), m[3]!);
  return out;
}

export function field(fmt: TraceFormat, name: string): TraceField | undefined {
  return fmt.fields.find((f) => f.name === name);
}
