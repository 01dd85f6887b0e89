// Keepalive timer through the generic timer tracepoints, for kernels without kprobes: every timer expiry on the
// host hits them, the predicate keeps tcp_keepalive_timer's (the callback's address, from /proc/kallsyms). The
// exit matches the entry by the timer_list pointer, which is sk->sk_timer.
// attach-entry: tracepoint:timer:timer_expire_entry /(uint64)args->function == KEEPALIVE_TIMER_FN/
// attach-exit: tracepoint:timer:timer_expire_exit /@ka_sk[cpu] != 0 && (uint64)args->timer == @ka_sk[cpu] + SOCK_SK_TIMER/
#define KEEPALIVE_TIMER_SOCK ((uint64)args->timer - SOCK_SK_TIMER)
