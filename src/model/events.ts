// The pure rules that turn the tracer's record fields into events: address decoding, reset causes, give-up times.
import { normaliseIpv6 } from '../parse/ss.js';
import { decodeHexBuf } from '../parse/bpftrace-json.js';
import type { Endpoint } from '../domain/connection.js';
import type { RstCause } from '../domain/event.js';

// ---- decoding of the program's fields ----

/** IPv4 address from a u32 read from kernel memory (network byte order stored, printed as a host integer). */
export function ipv4FromWord(hex: string): string {
  const n = parseInt(hex, 16) >>> 0;
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

function hexWordsLE(words: string[]): number[] {
  const bytes: number[] = [];
  for (const w of words) {
    let v = BigInt(`0x${w || '0'}`);
    for (let i = 0; i < 8; i++) {
      bytes.push(Number(v & 255n));
      v >>= 8n;
    }
  }
  return bytes;
}

export function ipv6FromBytes(b: ArrayLike<number>): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return normaliseIpv6(groups.join(':'));
}

/** `l6=<u64 hex>:<u64 hex>` (two little-endian reads of an in6_addr). */
export function ipv6FromWords(pair: string): string {
  return ipv6FromBytes(hexWordsLE(pair.split(':')));
}

export const swap16 = (n: number): number => ((n & 255) << 8) | ((n >> 8) & 255);

/** A 28-byte sockaddr printed with %rx. */
export function endpointFromSockaddr(text: string): Endpoint | null {
  const b = decodeHexBuf(text);
  if (b.length < 8) return null;
  const family = b[0]! | (b[1]! << 8);
  const port = (b[2]! << 8) | b[3]!;
  if (family === 2) return { address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port };
  if (family === 10 && b.length >= 24) return { address: ipv6FromBytes(b.subarray(8, 24)), port };
  return null;
}

/** Endpoints from the tracepoint fields family/sport/dport/s4/d4/s6/d6 (sport is the local side). */
export function endpointsFromTp(f: { family: number; sport: number; dport: number; s4: string; d4: string; s6: string; d6: string }): { local: Endpoint; peer: Endpoint } {
  const v6 = f.family === 10;
  return {
    local: { address: v6 ? normaliseIpv6(f.s6) : f.s4, port: f.sport },
    peer: { address: v6 ? normaliseIpv6(f.d6) : f.d4, port: f.dport },
  };
}

/** Endpoints read from the socket itself (timer records): IPv4 words, IPv6 as two u64 each, the remote port in
 *  network byte order. */
export function endpointsFromSock(f: {
  family: number; la: string | null; ra: string | null; l6a: string | null; l6b: string | null; r6a: string | null;
  r6b: string | null; lport: number; rportBe: number;
}): { local: Endpoint; peer: Endpoint } {
  const v6 = f.family === 10;
  const w = (x: string | null) => x ?? '0';
  return {
    local: { address: v6 ? ipv6FromWords(`${w(f.l6a)}:${w(f.l6b)}`) : ipv4FromWord(w(f.la)), port: f.lport },
    peer: { address: v6 ? ipv6FromWords(`${w(f.r6a)}:${w(f.r6b)}`) : ipv4FromWord(w(f.ra)), port: swap16(f.rportBe) },
  };
}

// ---- classification ----

export interface RstFacts {
  /** Kernel reason name, or null when the tracepoint has none. */
  reason: string | null;
  /** TCP state name of the socket when it sent the reset (TCP_CLOSE after close()), or null. */
  state: string | null;
  hasSocket: boolean;
  /** Sent from inside this socket's keepalive timer. */
  inKeepaliveTimer: boolean;
  lingerZero: boolean;
}

/** Why a reset was sent. With the kernel's reason the cause is read from it; without one it is inferred from
 *  socket state and flags (`inferred: true`). SO_LINGER{1,0} resets carry TCP_STATE (tcp_disconnect). */
export function classifyRst(r: RstFacts): { cause: RstCause; inferred: boolean } {
  if (r.reason !== null) {
    if (r.reason === 'TCP_KEEPALIVE_TIMEOUT') return { cause: 'keepalive_timeout', inferred: false };
    if (r.reason === 'TCP_ABORT_ON_CLOSE') return { cause: 'unread_data', inferred: false };
    if (r.reason === 'NO_SOCKET' || !r.hasSocket) return { cause: 'no_socket', inferred: false };
    if (r.reason === 'TCP_TIMEWAIT_SOCKET' || r.state === 'TCP_TIME_WAIT') return { cause: 'timewait', inferred: false };
    if (r.reason === 'TCP_ABORT_ON_LINGER') return { cause: 'linger', inferred: false };
    if (r.reason === 'TCP_STATE' && r.lingerZero) return { cause: 'linger', inferred: false };
    return { cause: 'other', inferred: false };
  }
  if (!r.hasSocket) return { cause: 'no_socket', inferred: true };
  if (r.inKeepaliveTimer) return { cause: 'keepalive_timeout', inferred: true };
  if (r.state === 'TCP_TIME_WAIT') return { cause: 'timewait', inferred: true };
  if (r.lingerZero) return { cause: 'linger', inferred: true };
  if (r.state === 'TCP_CLOSE') return { cause: 'unread_data', inferred: true };
  return { cause: 'other', inferred: true };
}

/** Time until the kernel gives up after `sent` outstanding probes (the peer stays silent), from tcp_keepalive_timer:
 *  without TCP_USER_TIMEOUT the fire after the last allowed probe kills; with it, idle ≥ user timeout kills. */
export function giveUpInMs(outstanding: number, maxProbes: number, intervalMs: number, userTimeoutMs: number, keepIdleMs: number): number {
  if (userTimeoutMs > 0) {
    const idleNow = keepIdleMs + (outstanding - 1) * intervalMs;
    return Math.max(intervalMs, Math.ceil((userTimeoutMs - idleNow) / intervalMs) * intervalMs);
  }
  return Math.max(0, maxProbes - outstanding + 1) * intervalMs;
}

