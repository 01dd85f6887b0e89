// TCP state changes through the raw tracepoint (bpftrace 0.23 and newer, where ka-top's use of it is tested): the
// program gets the tracepoint's own arguments as its prototype declares them (const struct sock *sk, const int
// oldstate, const int newstate) and nothing is copied for it; the few closes that are printed read their
// endpoints from the socket by its offsets. The local port is inet_sport: tcp_set_state() has released the bound
// port (skc_num = 0) before a move to TCP_CLOSE is traced. Ports are stored in network order.
// attach: rawtracepoint:inet_sock_set_state /(*(uint16*)(arg0 + SOCK_SK_PROTOCOL)) == IPPROTO_TCP/
#define STATE_SK ((uint64)arg0)
#define STATE_OLD ((int64)arg1)
#define STATE_NEW ((int64)arg2)
#define STATE_FAMILY (*(uint16*)(arg0 + SOCK_SKC_FAMILY))
#define STATE_SPORT ((*(uint16*)(arg0 + INET_SOCK_INET_SPORT) & 0xff) << 8 | *(uint16*)(arg0 + INET_SOCK_INET_SPORT) >> 8)
#define STATE_DPORT ((*(uint16*)(arg0 + SOCK_SKC_DPORT) & 0xff) << 8 | *(uint16*)(arg0 + SOCK_SKC_DPORT) >> 8)
#define STATE_S4 ntop(2, *(uint32*)(arg0 + SOCK_SKC_RCV_SADDR))
#define STATE_D4 ntop(2, *(uint32*)(arg0 + SOCK_SKC_DADDR))
#define STATE_S6 ntop(10, *(uint8[16]*)(arg0 + SOCK_SKC_V6_RCV_SADDR))
#define STATE_D6 ntop(10, *(uint8[16]*)(arg0 + SOCK_SKC_V6_DADDR))
