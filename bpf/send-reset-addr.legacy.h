// tcp:tcp_send_reset before Linux 6.10: sport, dport, family, saddr[4], daddr[4], saddr_v6[16], daddr_v6[16]
// and no reason (-1: the cause is inferred from the socket's state and flags).
#define SEND_RESET_REASON ((int64)-1)
#define SEND_RESET_LPORT (args->sport)
#define SEND_RESET_RPORT (args->dport)
#define SEND_RESET_REC KA_REC_RST_LEGACY
#define SEND_RESET_ARGS KA_ARGS_RST_LEGACY
