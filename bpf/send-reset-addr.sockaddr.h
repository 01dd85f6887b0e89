// tcp:tcp_send_reset since Linux 6.10: skbaddr, skaddr, state, reason, saddr[28], daddr[28] (struct sockaddr_in
// or sockaddr_in6: the port is bytes 2-3, big-endian). reason is enum sk_rst_reason.
#define SEND_RESET_REASON ((int64)args->reason)
#define SEND_RESET_LPORT (((uint16)args->saddr[2] << 8) | args->saddr[3])
#define SEND_RESET_RPORT (((uint16)args->daddr[2] << 8) | args->daddr[3])
#define SEND_RESET_REC KA_REC_RST
#define SEND_RESET_ARGS KA_ARGS_RST
