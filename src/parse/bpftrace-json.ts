// Parses bpftrace `-f json` output (NDJSON) and ka-top's own `KA <kind> k=v … comm=…` printf records.

export type BpftraceRecord =
  | { type: 'printf'; data: string }
  | { type: 'map'; name: string; data: Record<string, number> | number }
  | { type: 'lost_events'; events: number }
  | { type: 'attached_probes'; probes: number }
  | { type: 'other'; raw: unknown };

/** One stdout line -> record; null for blank lines (0.17 prints two before the exit map dump) and non-JSON. */
export function parseBpftraceLine(line: string): BpftraceRecord | null {
  const t = line.trim();
  if (!t.startsWith('{')) return null;
  let obj: { type?: unknown; data?: unknown };
  try {
    obj = JSON.parse(t) as typeof obj;
  } catch {
    return null;
  }
  const data = obj.data as Record<string, unknown> | string | undefined;
  switch (obj.type) {
    case 'printf':
      return typeof data === 'string' ? { type: 'printf', data } : null;
    case 'map': {
      const [name, value] = Object.entries((data ?? {}) as Record<string, unknown>)[0] ?? [];
      if (!name) return null;
      return { type: 'map', name, data: value as Record<string, number> | number };
    }
    case 'lost_events':
      return { type: 'lost_events', events: counter((data as Record<string, unknown>)?.events) };
    case 'attached_probes':
      return { type: 'attached_probes', probes: counter((data as Record<string, unknown>)?.probes) };
    default:
      return { type: 'other', raw: obj };
  }
}

/** A record's count: 0 when absent, NaN for an object (Number() throws on one whose toString is no function). */
function counter(v: unknown): number {
  return typeof v === 'object' && v !== null ? NaN : Number(v ?? 0);
}

/** A `KA …` printf record: kind plus raw string fields. */
export interface KaRecord {
  kind: string;
  fields: Record<string, string>;
}

export function parseKaRecord(data: string): KaRecord | null {
  const text = data.replace(/\n$/, '');
  if (!text.startsWith('KA ')) return null;
  const commAt = text.indexOf(' comm=');
  const head = commAt >= 0 ? text.slice(0, commAt) : text;
  const [, kind, ...pairs] = head.split(' ');
  if (!kind) return null;
  const fields: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq > 0) fields[p.slice(0, eq)] = p.slice(eq + 1);
  }
  if (commAt >= 0) fields.comm = text.slice(commAt + 6);
  return { kind, fields };
}

/** bpftrace stderr lines that are not failures: the RLIMIT_MEMLOCK complaint (the kernel accounts BPF memory by
 *  cgroup), warnings and their source excerpts. */
export function isBenignStderr(line: string): boolean {
  const t = line.trim();
  return (
    t === '' ||
    /couldn't set RLIMIT_MEMLOCK/.test(t) ||
    /WARNING:/.test(t) ||
    /^[~^\s]+$/.test(t) ||
    /^(tracepoint|kprobe|kretprobe|fentry|fexit|kfunc|kretfunc|interval|BEGIN|END)\b.*\{$/.test(t) ||
    /not traceable/.test(t)
  );
}

/** Bytes of a `%rx` buffer (`\x02\x00…`). */
export function decodeHexBuf(text: string): Uint8Array {
  const out: number[] = [];
  const re = /\\x([0-9a-fA-F]{2})/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(parseInt(m[1]!, 16));
  return Uint8Array.from(out);
}
