// TCP state changes through the tracepoint (any bpftrace): before the program runs, the kernel copies the
// socket's ports and addresses into the tracepoint's record, at every state change of every socket (~10 a
// connection), whether the program reads them or not.
// attach: tracepoint:sock:inet_sock_set_state /args->protocol == IPPROTO_TCP/
#define STATE_SK ((uint64)args->skaddr)
#define STATE_OLD args->oldstate
#define STATE_NEW args->newstate
#define STATE_FAMILY args->family
#define STATE_SPORT args->sport
#define STATE_DPORT args->dport
#define STATE_S4 ntop(2, args->saddr)
#define STATE_D4 ntop(2, args->daddr)
#define STATE_S6 ntop(10, args->saddr_v6)
#define STATE_D6 ntop(10, args->daddr_v6)
