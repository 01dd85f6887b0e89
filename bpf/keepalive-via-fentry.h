// Keepalive timer through fentry/fexit on tcp_keepalive_timer(struct timer_list *t) (named kfunc/kretfunc before
// bpftrace 0.20): the cheapest attach point; needs BPF tracing programs and BTF. args->t is sk->sk_timer.
// attach-entry: fentry:tcp_keepalive_timer
// attach-exit: fexit:tcp_keepalive_timer /@ka_sk[cpu] != 0/
#define KEEPALIVE_TIMER_SOCK ((uint64)args->t - SOCK_SK_TIMER)
