// Kernel ABI facts that are stable across versions (UAPI and long-unchanged enums). Anything that does change
// between kernels (struct offsets, tracepoint layouts, TCP state and reset reason enums) is read at run time.

/** enum sock_flags bit of SO_LINGER (include/net/sock.h; unchanged since 2.6). */
export const SOCK_LINGER_BIT = 4;

/** The errors a TCP connection can end with in sk_err (asm-generic/errno.h, the values on x86_64 and aarch64, the
 *  architectures ka-top runs on): a timer that gave up on the peer (ETIMEDOUT, tcp_write_err), an ICMP error
 *  (icmp_err_convert: unreachable, filtered, fragmentation needed), a reset. */
const TCP_ERRNOS: Readonly<Record<number, string>> = {
  32: 'EPIPE', 64: 'ENONET', 71: 'EPROTO', 90: 'EMSGSIZE', 92: 'ENOPROTOOPT', 95: 'EOPNOTSUPP', 101: 'ENETUNREACH',
  104: 'ECONNRESET', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 112: 'EHOSTDOWN', 113: 'EHOSTUNREACH',
};

/** `ETIMEDOUT` for 110; `errno 5` for one a TCP close does not leave. */
export const errnoName = (n: number): string => TCP_ERRNOS[n] ?? `errno ${n}`;

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
