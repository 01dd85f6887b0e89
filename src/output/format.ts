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
