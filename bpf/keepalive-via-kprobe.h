// Keepalive timer through kprobe/kretprobe on tcp_keepalive_timer(struct timer_list *t): hit only by that
// function. arg0 is the timer embedded in the socket (sk->sk_timer).
// attach-entry: kprobe:tcp_keepalive_timer
// attach-exit: kretprobe:tcp_keepalive_timer /@ka_sk[cpu] != 0/
#define KEEPALIVE_TIMER_SOCK (arg0 - SOCK_SK_TIMER)
