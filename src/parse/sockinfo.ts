// Pure parsers for the line format of the ka-sockinfo helper (see src/native/ka-sockinfo.c).
import type { NetnsSysctl, ScannedSocket, SockOpts, SockScan } from '../domain/connection.js';
import { ParseError } from './parse-error.js';

export interface ScanSummary {
  /** Scan number in `serve` mode; null for the one-shot `scan`. */
  seq: number | null;
  pids: number;
  denied: number;
  sockets: number;
  elapsedUs: number;
}

export type SockinfoLine =
  | { kind: 'socket'; socket: ScannedSocket }
  | { kind: 'gone'; pid: number; fd: number }
  | { kind: 'summary'; summary: ScanSummary };

const INT = /^\d+$/;

function ints(tokens: string[]): number[] | null {
  return tokens.every((t) => INT.test(t)) ? tokens.map(Number) : null;
}

function parseSummary(fields: string[], seq: number | null): ScanSummary | null {
  const kv = new Map(fields.map((f) => f.split('=') as [string, string]));
  const get = (k: string) => (INT.test(kv.get(k) ?? '') ? Number(kv.get(k)) : null);
  const pids = get('pids'), denied = get('denied'), sockets = get('sockets'), elapsedUs = get('elapsed_us');
  if (pids === null || denied === null || sockets === null || elapsedUs === null) return null;
  return { seq, pids, denied, sockets, elapsedUs };
}

/** One output line; null for lines that are not part of the format (acks, blank lines). */
export function parseSockinfoLine(line: string): SockinfoLine | null {
  const t = line.trim().split(' ');
  switch (t[0]) {
    case 'S': {
      const n = t.length === 11 ? ints(t.slice(1)) : null;
      if (!n) return null;
      const [pid, fd, inode, ka, idle, intvl, cnt, ut, lon, lsec] = n as [
        number, number, number, number, number, number, number, number, number, number,
      ];
      const opts: SockOpts = {
        keepalive: ka === 1, keepIdleSec: idle, keepIntvlSec: intvl, keepCnt: cnt, userTimeoutMs: ut,
        lingerOn: lon === 1, lingerSec: lsec,
      };
      return { kind: 'socket', socket: { pid, fd, inode, opts, error: null } };
    }
    case 'U': {
      const n = t.length === 5 ? ints(t.slice(1, 4)) : null;
      if (!n || !/^E[A-Z0-9]+$/.test(t[4]!)) return null;
      return { kind: 'socket', socket: { pid: n[0]!, fd: n[1]!, inode: n[2]!, opts: null, error: t[4]! } };
    }
    case '-': {
      const n = t.length === 3 ? ints(t.slice(1)) : null;
      return n ? { kind: 'gone', pid: n[0]!, fd: n[1]! } : null;
    }
    case '#': {
      const s = parseSummary(t.slice(1), null);
      return s ? { kind: 'summary', summary: s } : null;
    }
    case '.': {
      const s = INT.test(t[1] ?? '') ? parseSummary(t.slice(2), Number(t[1])) : null;
      return s ? { kind: 'summary', summary: s } : null;
    }
    default:
      return null;
  }
}

/** Output of `ka-sockinfo scan`. Throws ParseError when the summary line is missing (the helper died mid-scan). */
export function parseSockScan(text: string): SockScan {
  const sockets: ScannedSocket[] = [];
  let summary: ScanSummary | null = null;
  for (const line of text.split('\n')) {
    const p = parseSockinfoLine(line);
    if (p?.kind === 'socket') sockets.push(p.socket);
    else if (p?.kind === 'summary') summary = p.summary;
  }
  if (!summary) throw new ParseError('ka-sockinfo output has no summary line');
  return { sockets, deniedPids: summary.denied, elapsedUs: summary.elapsedUs };
}

export function socketKey(pid: number, fd: number): string {
  return `${pid}:${fd}`;
}

export interface SockinfoDiff {
  summary: ScanSummary | null;
  /** New, replaced or re-read sockets, in output order. */
  changed: ScannedSocket[];
  gone: Array<{ pid: number; fd: number }>;
}

/** Applies the lines of one `serve` scan to the current set (keyed by socketKey). */
export function applySockinfoDiff(current: Map<string, ScannedSocket>, lines: readonly string[]): SockinfoDiff {
  const diff: SockinfoDiff = { summary: null, changed: [], gone: [] };
  for (const line of lines) {
    const p = parseSockinfoLine(line);
    if (p?.kind === 'socket') {
      current.set(socketKey(p.socket.pid, p.socket.fd), p.socket);
      diff.changed.push(p.socket);
    } else if (p?.kind === 'gone') {
      current.delete(socketKey(p.pid, p.fd));
      diff.gone.push({ pid: p.pid, fd: p.fd });
    } else if (p?.kind === 'summary') {
      diff.summary = p.summary;
    }
  }
  return diff;
}

export type NetnsSysctlResult = { inode: number; sysctl: NetnsSysctl } | { error: string };

/** Output of `ka-sockinfo sysctl PATH...`. Paths may contain spaces, so fields are taken from the right. */
export function parseNetnsSysctls(text: string): Map<string, NetnsSysctlResult> {
  const out = new Map<string, NetnsSysctlResult>();
  for (const line of text.split('\n')) {
    const t = line.split(' ');
    if (t[0] === 'N' && t.length >= 8) {
      const n = ints(t.slice(-6));
      if (!n) continue;
      const [inode, time, intvl, probes, retries2, fin] = n as [number, number, number, number, number, number];
      out.set(t.slice(1, -6).join(' '), {
        inode,
        sysctl: {
          tcp_keepalive_time: time, tcp_keepalive_intvl: intvl, tcp_keepalive_probes: probes, tcp_retries2: retries2,
          tcp_fin_timeout: fin,
        },
      });
    } else if (t[0] === 'E' && t.length >= 3) {
      out.set(t.slice(1, -1).join(' '), { error: t[t.length - 1]! });
    }
  }
  return out;
}
