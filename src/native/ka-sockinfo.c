// ka-sockinfo: socket owner scan and per-socket option reader for ka-top.
//
// `ss -p` walks every /proc/<pid>/fd too, but it cannot read per-socket options (TCP_KEEPIDLE, SO_LINGER, ...)
// and costs ~5x the socket dump itself. Here the walk is readdir + readlink only, and options are read from a
// duplicate of the owner's fd (pidfd_open + pidfd_getfd, then getsockopt on the copy, then close the copy).
//
//   ka-sockinfo scan                 one full scan: S/U lines, then `# pids=.. denied=.. sockets=.. elapsed_us=..`
//   ka-sockinfo serve                incremental scans driven by stdin commands (scan | reread INODE... | full)
//   ka-sockinfo sysctl NSPATH...     keepalive-related sysctls as seen from inside each network namespace
//
// Processes come and go during a scan: every failure caused by that (ENOENT, ESRCH, EBADF) is normal and silent
// or reported per socket, never fatal.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 // x86-64 (and every arch using the generic table)
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

static const char *errname(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "EUNKNOWN";
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fputs("ka-sockinfo: out of memory\n", stderr);
    exit(1);
  }
  return p;
}

// Reads a small file relative to `dirfd` into buf (NUL-terminated). Returns bytes read or -1 (errno set).
static ssize_t read_small(int dirfd, const char *path, char *buf, size_t len) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t got = 0;
  while (got < len - 1) {
    ssize_t n = read(fd, buf + got, len - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  buf[got] = 0;
  return (ssize_t)got;
}

// Parses a decimal unsigned number; returns false unless the whole string [s, end) is digits.
static bool parse_u64(const char *s, const char *end, uint64_t *out) {
  uint64_t v = 0;
  if (s == end) return false;
  for (; s < end; s++) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Socket entries and the (pid, fd) cache used by `serve`

enum kind { K_TCP = 'S', K_UNREAD = 'U', K_OTHER = 'O' /* not TCP: remembered, never printed */ };

struct entry {
  int pid, fd;
  uint64_t starttime; // /proc/<pid>/stat field 22: tells a reused pid from the old one
  uint64_t inode;
  char kind;
  bool seen;  // found again by the current scan
  bool stale; // `reread`: read the options again even if nothing else changed
  int err;    // K_UNREAD: why
  int keepalive, idle, intvl, cnt, linger_on, linger_sec;
  unsigned int user_timeout;
};

struct table {
  struct entry *v;
  size_t n, cap;
  int32_t *slots; // open addressing, -1 = empty; indexes into v
  size_t nslots;  // power of two, >= 2n
};

static size_t hash_key(int pid, int fd) {
  uint64_t h = (uint64_t)(uint32_t)pid * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uint32_t)fd * 0xC2B2AE3D27D4EB4FULL;
  return (size_t)(h ^ (h >> 29));
}

static void table_index(struct table *t) {
  size_t want = 64;
  while (want < t->n * 2) want *= 2;
  if (want != t->nslots) {
    t->slots = xrealloc(t->slots, want * sizeof *t->slots);
    t->nslots = want;
  }
  memset(t->slots, 0xff, t->nslots * sizeof *t->slots);
  for (size_t i = 0; i < t->n; i++) {
    size_t s = hash_key(t->v[i].pid, t->v[i].fd) & (t->nslots - 1);
    while (t->slots[s] >= 0) s = (s + 1) & (t->nslots - 1);
    t->slots[s] = (int32_t)i;
  }
}

static struct entry *table_find(struct table *t, int pid, int fd) {
  if (!t->nslots) return NULL;
  size_t s = hash_key(pid, fd) & (t->nslots - 1);
  for (; t->slots[s] >= 0; s = (s + 1) & (t->nslots - 1)) {
    struct entry *e = &t->v[t->slots[s]];
    if (e->pid == pid && e->fd == fd) return e;
  }
  return NULL;
}

static struct entry *table_push(struct table *t) {
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 1024;
    t->v = xrealloc(t->v, t->cap * sizeof *t->v);
  }
  return &t->v[t->n++];
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the options of one socket through a duplicate of the owner's fd

// Fills e->kind and the option fields. `pidfd` < 0 means pidfd_open failed with `pidfd_err`.
static void read_options(struct entry *e, int pidfd, int pidfd_err) {
  if (pidfd < 0) {
    e->kind = K_UNREAD;
    e->err = pidfd_err;
    return;
  }
  int s = (int)syscall(SYS_pidfd_getfd, pidfd, e->fd, 0);
  if (s < 0) {
    e->kind = K_UNREAD; // EPERM without root, EBADF/ESRCH when the fd or process went away meanwhile
    e->err = errno;
    return;
  }
  // TCP_KEEPIDLE answers only on TCP sockets (unix: EOPNOTSUPP, UDP/raw: ENOPROTOOPT): it doubles as the type check,
  // one syscall instead of SO_DOMAIN + SO_PROTOCOL on every socket.
  socklen_t l2 = sizeof(int);
  if (getsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &e->idle, &l2) < 0) {
    if (errno == EOPNOTSUPP || errno == ENOPROTOOPT) {
      e->kind = K_OTHER;
      close(s);
      return;
    }
    goto fail;
  }
  struct linger lg = {0, 0};
  socklen_t ll = sizeof lg, lu = sizeof e->user_timeout, l1 = sizeof(int), l3 = sizeof(int), l4 = sizeof(int);
  if (getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &e->keepalive, &l1) < 0 ||
      getsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &e->intvl, &l3) < 0 ||
      getsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &e->cnt, &l4) < 0 ||
      getsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &e->user_timeout, &lu) < 0 ||
      getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &ll) < 0)
    goto fail;
  e->kind = K_TCP;
  e->linger_on = lg.l_onoff != 0;
  e->linger_sec = lg.l_linger;
  close(s);
  return;
fail:
  e->kind = K_UNREAD;
  e->err = errno;
  close(s);
}

static void print_entry(const struct entry *e) {
  if (e->kind == K_TCP)
    printf("S %d %d %llu %d %d %d %d %u %d %d\n", e->pid, e->fd, (unsigned long long)e->inode, e->keepalive != 0,
           e->idle, e->intvl, e->cnt, e->user_timeout, e->linger_on, e->linger_sec);
  else if (e->kind == K_UNREAD)
    printf("U %d %d %llu %s\n", e->pid, e->fd, (unsigned long long)e->inode, errname(e->err));
}

// ---------------------------------------------------------------------------------------------------------------
// The /proc walk

struct stats {
  unsigned long pids, denied, sockets;
  int64_t elapsed_us;
};

// Start time of a process (field 22 of /proc/<pid>/stat), 0 if unreadable. comm may hold spaces and ')'.
static uint64_t start_time(int procfd, int pid) {
  char path[64], buf[2048];
  snprintf(path, sizeof path, "%d/stat", pid);
  if (read_small(procfd, path, buf, sizeof buf) < 0) return 0;
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  // After ") " comes field 3; skip to field 22.
  for (int field = 3; field < 22 && p; field++) p = strchr(p + 1, ' ');
  if (!p) return 0;
  return strtoull(p + 1, NULL, 10);
}

// Walks every process's fds. `old` is the previous scan's table (may be empty); the result goes to `cur`.
// Prints S/U lines for sockets new or changed relative to `old` (all of them when `old` is empty).
static void scan(int procfd, struct table *old, struct table *cur, bool track_start, struct stats *st) {
  int64_t t0 = now_us();
  memset(st, 0, sizeof *st);
  cur->n = 0;
  int pdfd = dup(procfd); // fdopendir takes ownership; keep procfd for openat
  DIR *proc = pdfd >= 0 ? fdopendir(pdfd) : NULL;
  if (!proc) {
    fprintf(stderr, "ka-sockinfo: /proc: %s\n", strerror(errno));
    exit(1);
  }
  rewinddir(proc); // the dup shares procfd's offset, which the previous scan left at the end
  struct dirent *de;
  while ((de = readdir(proc))) {
    uint64_t pid64;
    if (!parse_u64(de->d_name, de->d_name + strlen(de->d_name), &pid64) || pid64 > INT32_MAX) continue;
    int pid = (int)pid64;
    char path[64];
    snprintf(path, sizeof path, "%d/fd", pid);
    int dfd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
      if (errno == EACCES || errno == EPERM) {
        st->pids++;
        st->denied++;
      } // ENOENT: the process exited since readdir
      continue;
    }
    DIR *fds = fdopendir(dfd);
    if (!fds) {
      close(dfd);
      continue;
    }
    st->pids++;
    uint64_t stime = track_start ? start_time(procfd, pid) : 0;
    int pidfd = -2, pidfd_err = 0; // opened lazily: most processes hold no socket that needs reading
    struct dirent *fe;
    while ((fe = readdir(fds))) {
      uint64_t fd64;
      if (!parse_u64(fe->d_name, fe->d_name + strlen(fe->d_name), &fd64) || fd64 > INT32_MAX) continue;
      // Socket links are short ("socket:[123]"); a longer target is cut, which only matters for non-sockets.
      char link[64];
      ssize_t n = readlinkat(dfd, fe->d_name, link, sizeof link - 1);
      if (n < 9 || memcmp(link, "socket:[", 8) != 0 || link[n - 1] != ']') continue;
      uint64_t inode;
      if (!parse_u64(link + 8, link + n - 1, &inode)) continue;

      struct entry *prev = table_find(old, pid, (int)fd64);
      struct entry *e = table_push(cur);
      if (prev && prev->inode == inode && prev->starttime == stime && !prev->stale) {
        *e = *prev; // unchanged: no syscalls beyond the readlink
        prev->seen = true;
      } else {
        // A changed (pid, fd) is reported as a replacement (new S/U line), never as gone.
        if (prev) prev->seen = true;
        memset(e, 0, sizeof *e);
        e->pid = pid;
        e->fd = (int)fd64;
        e->inode = inode;
        e->starttime = stime;
        if (pidfd == -2) {
          pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
          pidfd_err = pidfd < 0 ? errno : 0;
        }
        read_options(e, pidfd, pidfd_err);
        if (e->kind != K_OTHER) print_entry(e);
        // A TCP socket replaced by a non-TCP socket under the same number is gone for our purposes.
        else if (prev && prev->kind != K_OTHER) printf("- %d %d\n", pid, (int)fd64);
      }
      e->seen = false;
      e->stale = false;
      if (e->kind != K_OTHER) st->sockets++;
    }
    if (pidfd >= 0) close(pidfd);
    closedir(fds); // closes dfd
  }
  closedir(proc);
  st->elapsed_us = now_us() - t0;
}

// Prints `- pid fd` for TCP entries of the previous scan that this scan did not find.
static void print_gone(const struct table *old) {
  for (size_t i = 0; i < old->n; i++) {
    const struct entry *e = &old->v[i];
    if (!e->seen && e->kind != K_OTHER) printf("- %d %d\n", e->pid, e->fd);
  }
}

static int open_proc(void) {
  int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "ka-sockinfo: /proc: %s\n", strerror(errno));
    exit(1);
  }
  return fd;
}

static int cmd_scan(void) {
  static char obuf[1 << 20]; // full buffering: tens of thousands of lines
  setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
  int procfd = open_proc();
  struct table old = {0}, cur = {0};
  struct stats st;
  scan(procfd, &old, &cur, false, &st);
  printf("# pids=%lu denied=%lu sockets=%lu elapsed_us=%lld\n", st.pids, st.denied, st.sockets,
         (long long)st.elapsed_us);
  return fflush(stdout) == 0 ? 0 : 1;
}

// serve: `scan` prints the diff since the previous scan, `reread INODE...` marks those sockets for re-reading,
// `full` forgets everything (the next scan prints the whole set). Exits 0 on stdin EOF.
static int cmd_serve(void) {
  static char obuf[1 << 20];
  setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
  int procfd = open_proc();
  struct table a = {0}, b = {0}, *old = &a, *cur = &b;
  unsigned long seq = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  for (;;) {
    errno = 0;
    len = getline(&line, &cap, stdin);
    if (len < 0) {
      if (errno == EINTR) {
        clearerr(stdin);
        continue;
      }
      break;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    if (!strcmp(line, "scan")) {
      struct stats st;
      for (size_t i = 0; i < old->n; i++) old->v[i].seen = false;
      scan(procfd, old, cur, true, &st);
      print_gone(old);
      printf(". %lu pids=%lu denied=%lu sockets=%lu elapsed_us=%lld\n", ++seq, st.pids, st.denied, st.sockets,
             (long long)st.elapsed_us);
      struct table *t = old;
      old = cur;
      cur = t;
      table_index(old);
    } else if (!strncmp(line, "reread", 6) && (line[6] == ' ' || line[6] == 0)) {
      char *save = NULL;
      for (char *tok = strtok_r(line + 6, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        uint64_t ino;
        if (!parse_u64(tok, tok + strlen(tok), &ino)) continue;
        for (size_t i = 0; i < old->n; i++)
          if (old->v[i].inode == ino) old->v[i].stale = true;
      }
      printf("ok reread\n");
    } else if (!strcmp(line, "full")) {
      old->n = 0;
      table_index(old);
      printf("ok full\n");
    } else {
      printf("error unknown command\n");
    }
    if (fflush(stdout) != 0) break; // the reader went away
  }
  free(line);
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// sysctl: net sysctls under /proc/sys resolve against the network namespace of the process opening them, so
// enter each namespace, open the files there, and come back.

static const char *const SYSCTLS[] = {"tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes",
                                      "tcp_retries2", "tcp_fin_timeout"};

static int cmd_sysctl(int argc, char **argv) {
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    fprintf(stderr, "ka-sockinfo: /proc/self/ns/net: %s\n", strerror(errno));
    return 1;
  }
  for (int i = 0; i < argc; i++) {
    const char *path = argv[i];
    int ns = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (ns < 0 || fstat(ns, &sb) < 0) {
      printf("E %s %s\n", path, errname(errno));
      if (ns >= 0) close(ns);
      continue;
    }
    if (setns(ns, CLONE_NEWNET) < 0) {
      printf("E %s %s\n", path, errname(errno));
      close(ns);
      continue;
    }
    close(ns);
    long vals[5];
    int err = 0;
    for (size_t k = 0; k < 5 && !err; k++) {
      char p[96], buf[64];
      snprintf(p, sizeof p, "/proc/sys/net/ipv4/%s", SYSCTLS[k]);
      if (read_small(AT_FDCWD, p, buf, sizeof buf) < 0) err = errno;
      else vals[k] = strtol(buf, NULL, 10);
    }
    if (err) printf("E %s %s\n", path, errname(err));
    else
      printf("N %s %llu %ld %ld %ld %ld %ld\n", path, (unsigned long long)sb.st_ino, vals[0], vals[1], vals[2],
             vals[3], vals[4]);
    if (setns(self, CLONE_NEWNET) < 0) {
      // Cannot come back: later paths would be read from the wrong namespace, so stop here.
      fprintf(stderr, "ka-sockinfo: cannot return to the original netns: %s\n", strerror(errno));
      return 1;
    }
  }
  close(self);
  return fflush(stdout) == 0 ? 0 : 1;
}

static void usage(FILE *f) {
  fputs("Usage:\n"
        "  ka-sockinfo scan              one scan of every process's TCP socket fds\n"
        "  ka-sockinfo serve             incremental scans; stdin commands: scan | reread INODE... | full\n"
        "  ka-sockinfo sysctl NSPATH...  keepalive sysctls inside each network namespace (e.g. /proc/1/ns/net)\n"
        "Lines: S pid fd inode keepalive idle intvl cnt user_timeout_ms linger_on linger_sec\n"
        "       U pid fd inode ERRNAME | - pid fd | # or . <seq>: pids= denied= sockets= elapsed_us=\n"
        "       N path netns_inode time intvl probes retries2 fin_timeout | E path ERRNAME\n",
        f);
}

int main(int argc, char **argv) {
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    usage(stdout);
    return 0;
  }
  if (argc == 2 && !strcmp(argv[1], "scan")) return cmd_scan();
  if (argc == 2 && !strcmp(argv[1], "serve")) return cmd_serve();
  if (argc >= 3 && !strcmp(argv[1], "sysctl")) return cmd_sysctl(argc - 2, argv + 2);
  fprintf(stderr, "ka-sockinfo: expected scan, serve or sysctl NSPATH...; see --help\n");
  return 2;
}
