// Human formatting shared by the table, the TUI and watch's text lines.
import type { Connection, Endpoint } from '../domain/connection.js';

/** `850ms`, `4.2s`, `59s`, `12m57s`, `2h03m`, `3d04h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)}s`;
  const total = Math.floor(s);
  if (total < 60) return `${total}s`;
  const m = Math.floor(total / 60);
  if (m < 60) return `${m}m${String(total % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

export function formatEndpoint(e: Endpoint): string {
  const port = e.port === 0 ? '*' : String(e.port);
  const addr = e.scope ? `${e.address}%${e.scope}` : e.address;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** `7200s/75s/9` with `*` after each value set on the socket; `off`; `?` when unknown. */
export function formatKeepalive(c: Connection): string {
  const k = c.keepalive;
  if (k.enabled === null) return '?';
  if (!k.enabled) return 'off';
  const mark = (src: string): string => (src === 'socket' ? '*' : '');
  return `${k.idleSec}s${mark(k.sources.idle)}/${k.intervalSec}s${mark(k.sources.interval)}/${k.probes}${mark(k.sources.probes)}`;
}

export function formatOwner(c: Connection): string {
  if (!c.process) return '-';
  const more = c.processes.length > 1 ? `+${c.processes.length - 1}` : '';
  return `${c.process.pid}/${c.process.comm}${more}`;
}

/**
 * An endpoint in at most `width` characters: the port is always kept whole; the host part loses its middle
 * (`fd6b:6174:…:2`, `198.…10.2`), so both the network and the host end stay readable.
 */
export function shortenEndpoint(text: string, width: number): string {
  if (text.length <= width) return text;
  const colon = text.lastIndexOf(':');
  const port = text.slice(colon);
  const bracketed = text.startsWith('[');
  const host = bracketed ? text.slice(1, colon - 1) : text.slice(0, colon);
  const budget = width - port.length - (bracketed ? 2 : 0) - 1;
  if (budget < 2) return `…${port}`.slice(-width);
  const tail = Math.ceil(budget / 2);
  const short = `${host.slice(0, budget - tail)}…${host.slice(host.length - tail)}`;
  return bracketed ? `[${short}]${port}` : `${short}${port}`;
}

/**
 * An address as a string that sorts numerically (198.18.2.x before 198.18.10.x), IPv4 as its IPv4-mapped IPv6
 * form, so both families sort in one order; then the port.
 */
export function endpointSortKey(e: Endpoint): string {
  return `${addressHex(e.address)}${e.port.toString(16).padStart(4, '0')}`;
}

function ipv4Hex(a: string): string {
  return a.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
}

function addressHex(address: string): string {
  if (!address.includes(':')) return `00000000000000000000ffff${ipv4Hex(address)}`;
  let a = address;
  let v4 = '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) {
    v4 = ipv4Hex(dotted[1]!);
    a = a.slice(0, -dotted[1]!.length) + '0:0';
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, null];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = tail === null ? hs : [...hs, ...Array(Math.max(0, 8 - hs.length - ts.length)).fill('0'), ...ts];
  const hex = groups.map((g) => g.padStart(4, '0')).join('');
  return v4 ? hex.slice(0, 24) + v4 : hex;
}

/** States where ss's lastsnd/lastrcv/lastack measure the flow (before the handshake or after it they do not). */
const FLOW_STATES = new Set(['ESTAB', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSING']);

/** True when the socket carries a flow: idle times, keepalive probes and a death by keepalive mean something. */
export function hasFlow(c: Connection): boolean {
  return FLOW_STATES.has(c.state);
}

/** An idle time, or null where the figure is meaningless for the socket's state (SYN-SENT, LISTEN, TIME-WAIT…). */
export function idleOf(c: Connection, which: 'send' | 'recv' | 'ack'): number | null {
  return hasFlow(c) ? c.idleMs[which] : null;
}

/** `1 finding`, `2 findings`: a count with its noun (plural in -s). */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
