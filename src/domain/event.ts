// What `watch` prints, the TUI shows and a capture keeps: one event of a traced socket, attributed to its owner.
import type { Endpoint } from './connection.js';

export const EVENT_TYPES = [
  'keepalive_probe', 'keepalive_timeout', 'rst_sent', 'rst_received', 'close', 'sockopt_changed', 'lost',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const RST_CAUSES = ['linger', 'keepalive_timeout', 'unread_data', 'no_socket', 'timewait', 'other'] as const;
export type RstCause = (typeof RST_CAUSES)[number];
/** How a connection ended: `timeout` = keepalive gave up (probes or TCP_USER_TIMEOUT), `retransmit_timeout` = the
 *  retransmission or zero-window-probe timer gave up on an established connection (unacknowledged data or FIN:
 *  tcp_retries2, tcp_orphan_retries, or TCP_USER_TIMEOUT through them), `connect_failed` = it never connected (no
 *  SYN-ACK within tcp_syn_retries or TCP_USER_TIMEOUT, an ICMP error, or the application closed it while
 *  connecting; a reset in answer to its SYN is `rst_received`). */
export const CLOSE_HOWS = ['fin', 'rst_sent', 'rst_received', 'timeout', 'retransmit_timeout', 'connect_failed'] as const;
export type CloseHow = (typeof CLOSE_HOWS)[number];
/** How a connection ends when it sends a reset: its keepalive timer's reset is the keepalive timeout's. */
export const closeHowOfReset = (cause: RstCause): CloseHow => (cause === 'keepalive_timeout' ? 'timeout' : 'rst_sent');
export type OwnerVia = 'inventory' | 'context' | 'connect' | 'listener';

export interface EventProcess {
  pid: number;
  comm: string;
  cmdline: string | null;
}

interface Base {
  ts: string;
  local: Endpoint | null;
  peer: Endpoint | null;
  /** Network namespace inode (0/null when the kernel gave none). */
  netns: number | null;
  /** The socket's owner: from the inventory, or the process in whose context the event ran when that is the owner. */
  pid: number | null;
  comm: string | null;
  process: EventProcess | null;
  /** Connection id in the inventory (`<netns>:<cookie>`), when matched. */
  connection: string | null;
  /** How the owner was found: the inventory, the syscall context it ran in (close, setsockopt), the process that
   *  called connect() on it (a client socket no inventory listed when it died), or — for a short-lived accepted
   *  socket no inventory saw — the process listening on its local port. */
  ownerVia?: OwnerVia | null;
  /** Kernel socket address (hex), to correlate events of one socket. */
  sk: string | null;
}

export type KaEvent =
  | (Base & { type: 'keepalive_probe'; probesSent: number; probesOutstanding: number; maxProbes: number; intervalMs: number | null; userTimeoutMs: number; giveUpInMs: number | null })
  | (Base & {
      type: 'keepalive_timeout'; probesSent: number; maxProbes: number;
      /** Unanswered when the timer gave up, and the socket's TCP_USER_TIMEOUT (absent in older recordings). */
      probesOutstanding?: number; userTimeoutMs?: number;
    })
  | (Base & { type: 'rst_sent'; reason: string | null; cause: RstCause; causeInferred: boolean; state: string | null })
  | (Base & { type: 'rst_received'; inferredCause: string })
  | (Base & {
      type: 'close'; how: CloseHow; lifetimeMs: number | null; probesSent: number;
      /** The error the kernel left for the application (`ETIMEDOUT`, `EHOSTUNREACH`), for a close no reset or
       *  keepalive timeout ended; null for none (absent in older recordings). */
      error?: string | null;
    })
  | (Base & { type: 'sockopt_changed'; option: string; fd: number })
  | { type: 'lost'; ts: string; events: number };

/** An event of a socket (every type but `lost`). */
export type SocketEvent = Exclude<KaEvent, { type: 'lost' }>;
