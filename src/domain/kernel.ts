// Kernel ABI facts that are stable across versions (UAPI and long-unchanged enums). Anything that does change
// between kernels (struct offsets, tracepoint layouts, enum sk_rst_reason) is read at run time instead.

/** include/net/tcp_states.h: the fallback when a tracepoint's print fmt does not name the states. */
export const TCP_STATE_NUMBERS: Readonly<Record<string, number>> = {
  TCP_ESTABLISHED: 1, TCP_SYN_SENT: 2, TCP_SYN_RECV: 3, TCP_FIN_WAIT1: 4, TCP_FIN_WAIT2: 5, TCP_TIME_WAIT: 6,
  TCP_CLOSE: 7, TCP_CLOSE_WAIT: 8, TCP_LAST_ACK: 9, TCP_LISTEN: 10, TCP_CLOSING: 11, TCP_NEW_SYN_RECV: 12,
};

/** Kernel state number -> name (`TCP_CLOSE`), or null when unknown. */
export function tcpStateName(n: number): string | null {
  for (const [name, v] of Object.entries(TCP_STATE_NUMBERS)) if (v === n) return name;
  return null;
}

/** enum sock_flags bit of SO_LINGER (include/net/sock.h; unchanged since 2.6). */
export const SOCK_LINGER_BIT = 4;

/** setsockopt levels/names (UAPI, stable ABI) that change keepalive or close behaviour. */
export const WATCHED_SOCKOPTS: Readonly<Record<string, { level: number; optname: number }>> = {
  SO_KEEPALIVE: { level: 1, optname: 9 },
  SO_LINGER: { level: 1, optname: 13 },
  TCP_KEEPIDLE: { level: 6, optname: 4 },
  TCP_KEEPINTVL: { level: 6, optname: 5 },
  TCP_KEEPCNT: { level: 6, optname: 6 },
  TCP_USER_TIMEOUT: { level: 6, optname: 18 },
};

/** `SO_KEEPALIVE` for level 1 / optname 9; `level:optname` for an option not watched. */
export function sockoptName(level: number, optname: number): string {
  for (const [name, o] of Object.entries(WATCHED_SOCKOPTS)) if (o.level === level && o.optname === optname) return name;
  return `${level}:${optname}`;
}
