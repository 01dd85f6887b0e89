// ka-peer: a small real TCP client/server for tests, the scenario lab and benchmarks.
//
// Everything is driven by argv flags; every event is one machine-readable line on stdout (line-buffered, so a
// reader sees it at once). One single-threaded poll loop serves the listener and every connection, so errors
// (RST, keepalive/user-timeout death) are noticed promptly even on connections that never send or read.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum role { ROLE_SERVER, ROLE_CLIENT, ROLE_CHECKER };
enum mode { M_HOLD, M_ECHO, M_STREAM, M_SINK, M_UNREAD, M_SEND_ONCE };
static const char *const MODE_NAMES[] = {"hold", "echo", "stream", "sink", "unread", "send-once"};

// Cap on simultaneous non-blocking connects, so --conns 10000 does not overflow the listener's SYN backlog.
#define MAX_CONNECTING 256

struct opts {
  enum role role;
  enum mode mode;
  struct sockaddr_storage addr;
  socklen_t addrlen;
  long every_ms;       // stream period, reconnect delay, checker period
  long conns;          // client connections
  long count;          // checker iterations (0 = forever)
  long duration_ms;    // 0 = until signalled
  long close_after_ms; // -1 = never
  long sockopts_after_ms; // -1 = apply SOCKOPTS before connect/at accept; else this long after the connection opens
  bool keepalive;
  int keepidle, keepintvl, keepcnt; // 0 = leave the kernel default
  long user_timeout_ms;             // -1 = leave unset
  int linger_sec;                   // -1 = leave unset
  bool fork_share, reconnect;
  const char *send_text; // checker: line to send before the reset
};

enum cstate { C_FREE, C_WAITING, C_CONNECTING, C_OPEN };

struct conn {
  enum cstate state;
  int fd;
  int64_t retry_at;   // C_WAITING: when to (re)connect
  int64_t next_send;  // stream mode: next line
  int64_t close_at;   // --close-after deadline, 0 = none
  int64_t opts_at;    // --sockopts-after deadline, 0 = none (or done)
  uint16_t lport, pport;
  uint64_t seq;
};

static volatile sig_atomic_t g_stop;
static struct opts O;
static struct conn *g_conns;
static size_t g_nconns, g_capconns;
static int g_listen_fd = -1;
static int64_t g_accept_paused_until; // after EMFILE: the listener stays readable, so stop polling it a while
static size_t g_connecting;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *errname(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "EUNKNOWN";
}

static void usage(FILE *f) {
  fputs("Usage:\n"
        "  ka-peer server --listen ADDR:PORT [--mode hold|echo|stream|sink|unread] [SOCKOPTS] [--every MS]\n"
        "  ka-peer client --connect ADDR:PORT [--conns N] [--mode hold|echo|stream|sink|unread|send-once]\n"
        "                 [--every MS] [SOCKOPTS] [--fork-share] [--reconnect]\n"
        "  ka-peer checker --connect ADDR:PORT --every MS [--count N] [--send TEXT]\n"
        "SOCKOPTS: --keepalive --keepidle S --keepintvl S --keepcnt N --user-timeout MS --linger SEC\n"
        "          --close-after MS  --sockopts-after MS (set SOCKOPTS on the live connection MS after it opens)\n"
        "Common: --duration MS (exit after MS; default: until SIGTERM/SIGINT)\n"
        "ADDR:PORT is 198.18.0.2:80 or [::1]:8080; port 0 listens on any free port.\n"
        "Output lines: LISTEN addr port pid=P | CONN laddr lport paddr pport fd=F pid=P | SHARED pid=P |\n"
        "  CLOSED lport pport REASON (eof, closed, rst or an errno name) | FAILED addr port ERRNAME |\n"
        "  SOCKOPTS lport pport (after --sockopts-after)\n",
        f);
}

static _Noreturn void bad(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "ka-peer: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  exit(2);
}

static long parse_num(const char *flag, const char *s, long min, long max) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) bad("bad value for %s: '%s'", flag, s);
  return v;
}

// Parses `198.18.0.2:80` or `[::1]:8080`.
static void parse_addr(const char *flag, const char *s) {
  char host[INET6_ADDRSTRLEN + 1];
  const char *port;
  size_t hl;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':') bad("bad address for %s: '%s' (want [v6]:port)", flag, s);
    hl = (size_t)(close - s - 1);
    if (hl >= sizeof host) bad("bad address for %s: '%s'", flag, s);
    memcpy(host, s + 1, hl);
    port = close + 2;
  } else {
    const char *colon = strrchr(s, ':');
    if (!colon) bad("bad address for %s: '%s' (want addr:port)", flag, s);
    hl = (size_t)(colon - s);
    if (hl >= sizeof host) bad("bad address for %s: '%s'", flag, s);
    memcpy(host, s, hl);
    port = colon + 1;
  }
  host[hl] = 0;
  uint16_t p = (uint16_t)parse_num(flag, port, 0, 65535);
  memset(&O.addr, 0, sizeof O.addr);
  struct sockaddr_in *a4 = (struct sockaddr_in *)&O.addr;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&O.addr;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(p);
    O.addrlen = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(p);
    O.addrlen = sizeof *a6;
  } else {
    bad("bad address for %s: '%s'", flag, s);
  }
}

static void parse_args(int argc, char **argv) {
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    usage(stdout);
    exit(0);
  }
  if (argc < 2) bad("missing role (server, client or checker)%s%s; see --help", "", "");
  if (!strcmp(argv[1], "server")) O.role = ROLE_SERVER;
  else if (!strcmp(argv[1], "client")) O.role = ROLE_CLIENT;
  else if (!strcmp(argv[1], "checker")) O.role = ROLE_CHECKER;
  else bad("unknown role '%s'%s; want server, client or checker", argv[1], "");

  O.mode = M_HOLD;
  O.every_ms = -1;
  O.conns = 1;
  O.close_after_ms = -1;
  O.sockopts_after_ms = -1;
  O.user_timeout_ms = -1;
  O.linger_sec = -1;
  bool have_addr = false;
  for (int i = 2; i < argc; i++) {
    const char *f = argv[i];
    bool has_val = i + 1 < argc;
    const char *v = has_val ? argv[i + 1] : NULL;
#define NEED_VAL() do { if (!has_val) bad("%s needs a value%s", f, ""); i++; } while (0)
    if (!strcmp(f, "--help") || !strcmp(f, "-h")) { usage(stdout); exit(0); }
    else if (!strcmp(f, "--listen") && O.role == ROLE_SERVER) { NEED_VAL(); parse_addr(f, v); have_addr = true; }
    else if (!strcmp(f, "--connect") && O.role != ROLE_SERVER) { NEED_VAL(); parse_addr(f, v); have_addr = true; }
    else if (!strcmp(f, "--mode") && O.role != ROLE_CHECKER) {
      NEED_VAL();
      size_t m;
      for (m = 0; m < sizeof MODE_NAMES / sizeof *MODE_NAMES; m++)
        if (!strcmp(v, MODE_NAMES[m])) break;
      if (m == sizeof MODE_NAMES / sizeof *MODE_NAMES || (O.role == ROLE_SERVER && m == M_SEND_ONCE))
        bad("bad --mode '%s'%s", v, "");
      O.mode = (enum mode)m;
    }
    else if (!strcmp(f, "--every")) { NEED_VAL(); O.every_ms = parse_num(f, v, 1, INT_MAX); }
    else if (!strcmp(f, "--conns") && O.role == ROLE_CLIENT) { NEED_VAL(); O.conns = parse_num(f, v, 1, 1000000); }
    else if (!strcmp(f, "--count") && O.role == ROLE_CHECKER) { NEED_VAL(); O.count = parse_num(f, v, 1, LONG_MAX); }
    else if (!strcmp(f, "--send") && O.role == ROLE_CHECKER) { NEED_VAL(); O.send_text = v; }
    else if (!strcmp(f, "--duration")) { NEED_VAL(); O.duration_ms = parse_num(f, v, 1, LONG_MAX / 2); }
    else if (!strcmp(f, "--close-after")) { NEED_VAL(); O.close_after_ms = parse_num(f, v, 0, LONG_MAX / 2); }
    else if (!strcmp(f, "--sockopts-after")) { NEED_VAL(); O.sockopts_after_ms = parse_num(f, v, 0, LONG_MAX / 2); }
    else if (!strcmp(f, "--keepalive")) O.keepalive = true;
    else if (!strcmp(f, "--keepidle")) { NEED_VAL(); O.keepidle = (int)parse_num(f, v, 1, 32767); O.keepalive = true; }
    else if (!strcmp(f, "--keepintvl")) { NEED_VAL(); O.keepintvl = (int)parse_num(f, v, 1, 32767); O.keepalive = true; }
    else if (!strcmp(f, "--keepcnt")) { NEED_VAL(); O.keepcnt = (int)parse_num(f, v, 1, 127); O.keepalive = true; }
    else if (!strcmp(f, "--user-timeout")) { NEED_VAL(); O.user_timeout_ms = parse_num(f, v, 0, INT_MAX); }
    else if (!strcmp(f, "--linger")) { NEED_VAL(); O.linger_sec = (int)parse_num(f, v, 0, INT_MAX); }
    else if (!strcmp(f, "--fork-share") && O.role != ROLE_CHECKER) O.fork_share = true;
    else if (!strcmp(f, "--reconnect") && O.role == ROLE_CLIENT) O.reconnect = true;
    else bad("unknown flag '%s' for this role%s; see --help", f, "");
#undef NEED_VAL
  }
  if (!have_addr) bad("%s is required%s", O.role == ROLE_SERVER ? "--listen" : "--connect", "");
  if (O.role == ROLE_CHECKER && O.every_ms < 0) bad("checker needs --every MS%s%s", "", "");
  if (O.every_ms < 0) O.every_ms = 1000;
  // A server that never reads must close at some point for the unread data to turn into a RST.
  if (O.role == ROLE_SERVER && O.mode == M_UNREAD && O.close_after_ms < 0) O.close_after_ms = 1000;
}

static void apply_sockopts(int fd) {
  int one = 1;
  // Failures are reported but not fatal: the caller still gets a connection to observe.
  if (O.keepalive && setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) < 0) perror("ka-peer: SO_KEEPALIVE");
  if (O.keepidle && setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &O.keepidle, sizeof(int)) < 0) perror("ka-peer: TCP_KEEPIDLE");
  if (O.keepintvl && setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &O.keepintvl, sizeof(int)) < 0) perror("ka-peer: TCP_KEEPINTVL");
  if (O.keepcnt && setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &O.keepcnt, sizeof(int)) < 0) perror("ka-peer: TCP_KEEPCNT");
  if (O.user_timeout_ms >= 0) {
    unsigned int ut = (unsigned int)O.user_timeout_ms;
    if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut) < 0) perror("ka-peer: TCP_USER_TIMEOUT");
  }
  if (O.linger_sec >= 0) {
    struct linger l = {.l_onoff = 1, .l_linger = O.linger_sec};
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0) perror("ka-peer: SO_LINGER");
  }
}

// Formats a socket address as "addr port" pieces.
static uint16_t addr_str(const struct sockaddr_storage *ss, char *buf, size_t len) {
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, buf, (socklen_t)len);
    return ntohs(a->sin6_port);
  }
  const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
  inet_ntop(AF_INET, &a->sin_addr, buf, (socklen_t)len);
  return ntohs(a->sin_port);
}

// Prints CONN for a freshly established socket and remembers its ports for the CLOSED line. `peer` is the
// address accept4 returned: a connection reset while still queued has one, but getpeername says ENOTCONN.
static void announce(struct conn *c, const struct sockaddr_storage *peer) {
  struct sockaddr_storage l, p;
  socklen_t ll = sizeof l, pl = sizeof p;
  char la[INET6_ADDRSTRLEN] = "?", pa[INET6_ADDRSTRLEN] = "?";
  memset(&l, 0, sizeof l);
  memset(&p, 0, sizeof p);
  getsockname(c->fd, (struct sockaddr *)&l, &ll);
  if (peer) p = *peer;
  else getpeername(c->fd, (struct sockaddr *)&p, &pl);
  c->lport = addr_str(&l, la, sizeof la);
  c->pport = addr_str(&p, pa, sizeof pa);
  printf("CONN %s %u %s %u fd=%d pid=%d\n", la, c->lport, pa, c->pport, c->fd, (int)getpid());
}

// --fork-share: a child that holds the same socket until the parent dies (then PDEATHSIG ends it).
static void fork_share(int fd) {
  pid_t parent = getpid();
  fflush(stdout); // the child must not replay buffered output
  pid_t child = fork();
  if (child < 0) {
    perror("ka-peer: fork");
    return;
  }
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0); // the parent died before prctl took effect
    // Keep only stdio and the shared socket, so the child does not pin the listener or other connections.
    if (fd > 3) syscall(SYS_close_range, 3, fd - 1, 0);
    syscall(SYS_close_range, fd + 1, ~0U, 0);
    for (;;) pause();
  }
  printf("SHARED pid=%d\n", (int)child);
}

static struct conn *new_slot(void) {
  for (size_t i = 0; i < g_nconns; i++)
    if (g_conns[i].state == C_FREE) return &g_conns[i];
  if (g_nconns == g_capconns) {
    g_capconns = g_capconns ? g_capconns * 2 : 64;
    g_conns = realloc(g_conns, g_capconns * sizeof *g_conns);
    if (!g_conns) {
      perror("ka-peer: realloc");
      exit(1);
    }
  }
  struct conn *c = &g_conns[g_nconns++];
  memset(c, 0, sizeof *c);
  c->fd = -1;
  return c;
}

static bool send_line(struct conn *c, const char *text, int *err) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, "%s\n", text);
  if (n < 0 || (size_t)n >= sizeof buf) n = sizeof buf - 1;
  if (send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != EINTR) {
    *err = errno;
    return false;
  }
  return true;
}

// Called once a socket is established (accepted or connect completed).
static void opened(struct conn *c, const struct sockaddr_storage *peer, int64_t now) {
  c->state = C_OPEN;
  announce(c, peer);
  if (O.fork_share) fork_share(c->fd);
  c->close_at = O.close_after_ms >= 0 ? now + O.close_after_ms : 0;
  c->opts_at = O.sockopts_after_ms >= 0 ? now + O.sockopts_after_ms : 0;
  c->next_send = now; // stream: the first line goes out at once
  if (O.mode == M_SEND_ONCE) {
    int err;
    send_line(c, "hello from ka-peer", &err);
  }
}

// Ends a connection: closes it, then prints CLOSED (after the close: whoever reads the line may look at the socket's
// next state at once) and, for a reconnecting client, schedules the next attempt.
static void finish(struct conn *c, const char *reason, int64_t now) {
  // With --linger SEC > 0 and unsent data this close blocks up to SEC seconds even on a non-blocking socket:
  // that is what SO_LINGER does, and what the lab wants to show.
  close(c->fd);
  c->fd = -1;
  printf("CLOSED %u %u %s\n", c->lport, c->pport, reason);
  if (O.role == ROLE_CLIENT && O.reconnect) {
    c->state = C_WAITING;
    c->retry_at = now + O.every_ms;
  } else {
    c->state = C_FREE;
  }
}

static void start_connect(struct conn *c, int64_t now) {
  int fd = socket(O.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    printf("FAILED - - %s\n", errname(errno));
    c->state = O.reconnect ? C_WAITING : C_FREE;
    c->retry_at = now + O.every_ms;
    return;
  }
  if (O.sockopts_after_ms < 0) apply_sockopts(fd); // before connect, so the options hold from the first segment
  c->fd = fd;
  c->lport = c->pport = 0;
  if (connect(fd, (struct sockaddr *)&O.addr, O.addrlen) == 0) {
    opened(c, NULL, now);
  } else if (errno == EINPROGRESS) {
    c->state = C_CONNECTING;
    g_connecting++;
  } else {
    char a[INET6_ADDRSTRLEN];
    uint16_t p = addr_str(&O.addr, a, sizeof a);
    printf("FAILED %s %u %s\n", a, p, errname(errno));
    close(fd);
    c->fd = -1;
    c->state = O.reconnect ? C_WAITING : C_FREE;
    c->retry_at = now + O.every_ms;
  }
}

static bool mode_reads(void) {
  return O.mode == M_ECHO || O.mode == M_SINK;
}

static bool mode_streams(void) {
  // A client in unread mode feeds the server that never reads.
  return O.mode == M_STREAM || (O.mode == M_UNREAD && O.role == ROLE_CLIENT);
}

// Handles poll results for one open connection.
static void service(struct conn *c, short rev, int64_t now) {
  if (c->state == C_CONNECTING) {
    if (!(rev & (POLLOUT | POLLERR | POLLHUP))) return;
    g_connecting--;
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
      char a[INET6_ADDRSTRLEN];
      uint16_t p = addr_str(&O.addr, a, sizeof a);
      printf("FAILED %s %u %s\n", a, p, errname(err));
      close(c->fd);
      c->fd = -1;
      c->state = O.reconnect ? C_WAITING : C_FREE;
      c->retry_at = now + O.every_ms;
      return;
    }
    opened(c, NULL, now);
    return;
  }
  if (rev & POLLERR) {
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err) {
      finish(c, errname(err), now);
      return;
    }
  }
  if (mode_reads() && (rev & (POLLIN | POLLRDHUP | POLLHUP))) {
    char buf[65536];
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) {
      finish(c, "eof", now);
    } else if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) finish(c, errname(errno), now);
    } else if (O.mode == M_ECHO) {
      // Best effort: a full send buffer drops the echo rather than blocking the whole loop.
      if (send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != EINTR)
        finish(c, errname(errno), now);
    }
    return;
  }
  if (!mode_reads() && (rev & (POLLRDHUP | POLLHUP))) finish(c, "eof", now);
}

// Timers: stream lines, --close-after, reconnects. Returns the next deadline (or INT64_MAX).
static int64_t run_timers(int64_t now) {
  int64_t next = INT64_MAX;
  for (size_t i = 0; i < g_nconns; i++) {
    struct conn *c = &g_conns[i];
    if (c->state == C_WAITING && c->retry_at <= now) {
      if (g_connecting < MAX_CONNECTING) start_connect(c, now);
      else if (now + 10 < next) next = now + 10; // waiting for a free connect slot
    }
    if (c->state == C_WAITING) {
      if (c->retry_at > now && c->retry_at < next) next = c->retry_at;
      continue;
    }
    if (c->state != C_OPEN) continue;
    if (c->close_at && c->close_at <= now) {
      finish(c, O.linger_sec == 0 ? "rst" : "closed", now);
      if (c->state == C_WAITING && c->retry_at < next) next = c->retry_at;
      continue;
    }
    if (c->close_at && c->close_at < next) next = c->close_at;
    // An application changing its options on a live connection (what ka-top must notice).
    if (c->opts_at && c->opts_at <= now) {
      apply_sockopts(c->fd);
      printf("SOCKOPTS %u %u\n", c->lport, c->pport);
      c->opts_at = 0;
    }
    if (c->opts_at && c->opts_at < next) next = c->opts_at;
    if (mode_streams()) {
      if (c->next_send <= now) {
        char line[64];
        int err = 0;
        snprintf(line, sizeof line, "ka-peer %llu", (unsigned long long)c->seq++);
        if (!send_line(c, line, &err)) {
          finish(c, errname(err), now);
          // A reconnecting client must wake for its retry, or poll sleeps forever with no socket.
          if (c->state == C_WAITING && c->retry_at < next) next = c->retry_at;
          continue;
        }
        c->next_send = now + O.every_ms;
      }
      if (c->next_send < next) next = c->next_send;
    }
  }
  return next;
}

static void raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

static void setup_listener(void) {
  int fd = socket(O.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0) {
    fprintf(stderr, "ka-peer: socket: %s\n", strerror(errno));
    exit(1);
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (O.addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&O.addr, O.addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
    fprintf(stderr, "ka-peer: listen: %s\n", strerror(errno));
    exit(1);
  }
  struct sockaddr_storage l;
  socklen_t ll = sizeof l;
  char a[INET6_ADDRSTRLEN];
  getsockname(fd, (struct sockaddr *)&l, &ll);
  uint16_t p = addr_str(&l, a, sizeof a);
  printf("LISTEN %s %u pid=%d\n", a, p, (int)getpid());
  g_listen_fd = fd;
}

static void accept_all(int64_t now) {
  for (;;) {
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    int fd = accept4(g_listen_fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        fprintf(stderr, "ka-peer: accept: %s (pausing accepts for 100 ms)\n", strerror(errno));
        g_accept_paused_until = now + 100;
      } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        fprintf(stderr, "ka-peer: accept: %s\n", strerror(errno));
      }
      return;
    }
    if (O.sockopts_after_ms < 0) apply_sockopts(fd);
    struct conn *c = new_slot();
    c->fd = fd;
    opened(c, &peer, now);
  }
}

static short events_for(const struct conn *c) {
  if (c->state == C_CONNECTING) return POLLOUT;
  return (short)(POLLRDHUP | (mode_reads() ? POLLIN : 0));
}

// Waits for events or the next deadline; signals only interrupt here (they are blocked elsewhere).
static int wait_events(struct pollfd *pfd, nfds_t n, int64_t deadline, const sigset_t *waitmask) {
  struct timespec ts, *tp = NULL;
  if (deadline != INT64_MAX) {
    int64_t d = deadline - now_ms();
    if (d < 0) d = 0;
    ts.tv_sec = d / 1000;
    ts.tv_nsec = (d % 1000) * 1000000;
    tp = &ts;
  }
  int r = ppoll(pfd, n, tp, waitmask);
  if (r < 0 && errno != EINTR) {
    perror("ka-peer: ppoll");
    exit(1);
  }
  return r;
}

static int run_peer(const sigset_t *waitmask, int64_t end) {
  if (O.role == ROLE_SERVER) {
    setup_listener();
  } else {
    for (long i = 0; i < O.conns; i++) {
      struct conn *c = new_slot();
      c->state = C_WAITING;
      c->retry_at = 0;
    }
  }
  struct pollfd *pfd = NULL;
  size_t pcap = 0;
  while (!g_stop) {
    int64_t now = now_ms();
    if (now >= end) break;
    int64_t next = run_timers(now);
    if (end < next) next = end;

    size_t need = g_nconns + 1, n = 0;
    if (need > pcap) {
      pcap = need * 2;
      pfd = realloc(pfd, pcap * sizeof *pfd);
      if (!pfd) {
        perror("ka-peer: realloc");
        return 1;
      }
    }
    bool alive = false;
    if (g_listen_fd >= 0) {
      bool paused = g_accept_paused_until > now;
      if (paused && g_accept_paused_until < next) next = g_accept_paused_until;
      pfd[n++] = (struct pollfd){.fd = paused ? -1 : g_listen_fd, .events = POLLIN};
    }
    for (size_t i = 0; i < g_nconns; i++) {
      struct conn *c = &g_conns[i];
      if (c->state != C_FREE) alive = true;
      // fd -1 is ignored by poll and keeps pfd[i + off] aligned with g_conns[i].
      pfd[n++] = (struct pollfd){.fd = (c->state == C_OPEN || c->state == C_CONNECTING) ? c->fd : -1,
                                 .events = events_for(c)};
    }
    if (O.role == ROLE_CLIENT && !alive) break; // every connection ended and none will come back
    if (wait_events(pfd, (nfds_t)n, next, waitmask) <= 0) continue;
    now = now_ms();
    size_t off = 0;
    if (g_listen_fd >= 0) {
      if (pfd[0].fd >= 0 && pfd[0].revents) accept_all(now);
      off = 1;
    }
    size_t limit = n - off; // slots added by accept_all have no pollfd yet
    for (size_t i = 0; i < limit; i++)
      if (pfd[i + off].revents && pfd[i + off].fd >= 0) service(&g_conns[i], pfd[i + off].revents, now);
  }
  free(pfd);
  // Exit without closing: the kernel closes the fds at exit without waiting for SO_LINGER.
  return 0;
}

// checker: connect, optionally send a line, close with SO_LINGER {1,0} (RST); repeat every --every ms.
static int run_checker(const sigset_t *waitmask, int64_t end) {
  for (long iter = 0; !g_stop && (O.count == 0 || iter < O.count); iter++) {
    int64_t started = now_ms();
    if (started >= end) break;
    struct conn c = {.fd = socket(O.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (c.fd < 0) {
      printf("FAILED - - %s\n", errname(errno));
    } else {
      int err = 0;
      if (connect(c.fd, (struct sockaddr *)&O.addr, O.addrlen) < 0) {
        err = errno;
        if (err == EINPROGRESS) {
          struct pollfd p = {.fd = c.fd, .events = POLLOUT};
          int64_t dl = started + (O.every_ms > 3000 ? O.every_ms : 3000);
          if (dl > end) dl = end;
          while (!g_stop && (p.revents = 0, wait_events(&p, 1, dl, waitmask)) == 0 && now_ms() < dl) {}
          socklen_t el = sizeof err;
          err = ETIMEDOUT;
          if (p.revents) getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &el);
        }
      }
      if (err) {
        char a[INET6_ADDRSTRLEN];
        uint16_t port = addr_str(&O.addr, a, sizeof a);
        printf("FAILED %s %u %s\n", a, port, errname(err));
        close(c.fd);
      } else {
        announce(&c, NULL);
        if (O.send_text) send_line(&c, O.send_text, &err);
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(c.fd);
        printf("CLOSED %u %u rst\n", c.lport, c.pport);
      }
    }
    if (O.count && iter + 1 >= O.count) break;
    int64_t next = started + O.every_ms;
    if (next > end) next = end;
    while (!g_stop && now_ms() < next) wait_events(NULL, 0, next, waitmask);
  }
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  parse_args(argc, argv);
  raise_nofile();

  // Signals are blocked except inside ppoll, so a SIGTERM can never slip in between a check and the wait.
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigset_t block, waitmask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &waitmask);
  sigdelset(&waitmask, SIGTERM);
  sigdelset(&waitmask, SIGINT);

  int64_t end = O.duration_ms ? now_ms() + O.duration_ms : INT64_MAX;
  return O.role == ROLE_CHECKER ? run_checker(&waitmask, end) : run_peer(&waitmask, end);
}
