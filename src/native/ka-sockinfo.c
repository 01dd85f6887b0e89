// ka-sockinfo: socket owner scan and per-socket option reader for ka-top.
//
// `ss -p` walks every /proc/<pid>/fd too, but it cannot read per-socket options (TCP_KEEPIDLE, SO_LINGER, ...)
// and costs ~5x the socket dump itself. Here the walk is readdir + readlink only, and options are read from a
// duplicate of the owner's fd (pidfd_open + pidfd_getfd, then getsockopt on the copy, then close the copy).
//
//   ka-sockinfo scan                 one full scan: S/U lines, then `# pids=.. denied=.. sockets=.. elapsed_us=..`
//   ka-sockinfo serve                incremental scans driven by stdin commands (scan | reread INODE... | full |
//                                    inventory / changes / sysctl<TAB>NSPATH... | forget)
//   ka-sockinfo sysctl NSPATH...     keepalive-related sysctls as seen from inside each network namespace
//   ka-sockinfo tracepoint-events PID [off]  ka-top's tracer's tracepoint perf events (their perf counts), or
//                                    switches off their perf sampling (see cmd_tracepoint_events)
//
// Processes come and go during a scan: every failure caused by that (ENOENT, ESRCH, EBADF) is normal and silent
// or reported per socket, never fatal.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/tcp.h> // not <netinet/tcp.h>: glibc's struct tcp_info lacks the newer fields the inventory reads
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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
#ifndef SYS_close_range
#define SYS_close_range 436
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

// Room for one more element in a growable array `v` of `n` used and `cap` allocated, doubling from `first`.
#define GROW(v, n, cap, first)                        \
  do {                                                \
    if ((n) == (cap)) {                               \
      (cap) = (cap) ? (cap) * 2 : (first);            \
      (v) = xrealloc((v), (cap) * sizeof *(v));       \
    }                                                 \
  } while (0)

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

enum kind {
  K_TCP = 'S',
  K_UNREAD = 'U',
  K_OTHER = 'O', // not TCP: remembered, never printed
  K_SKIPPED = '-', // not read: an inventory did not ask for this inode (read once one does)
  K_PENDING = 'P', // found by this walk, options not read yet (read_pending)
};

struct entry {
  int pid, fd;
  uint64_t starttime; // /proc/<pid>/stat field 22: tells a reused pid from the old one
  uint64_t inode;
  char kind;
  bool seen;  // found again by the current scan
  bool stale; // `reread`: read the options again even if nothing else changed
  bool fresh; // new or changed in this scan: printed by `scan`/`serve`
  bool replaced_tcp; // this (pid, fd) held a TCP socket before and now holds something else
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

// Open-addressing slots for n entries (a power of two, >= 2n), all empty (-1).
static void slots_reset(int32_t **slots, size_t *nslots, size_t n) {
  size_t want = 64;
  while (want < n * 2) want *= 2;
  if (want != *nslots) {
    *slots = xrealloc(*slots, want * sizeof **slots);
    *nslots = want;
  }
  memset(*slots, 0xff, *nslots * sizeof **slots);
}

static void table_index(struct table *t) {
  slots_reset(&t->slots, &t->nslots, t->n);
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
  GROW(t->v, t->n, t->cap, 1024);
  return &t->v[t->n++];
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the options of one socket through a duplicate of the owner's fd

// Fills e->kind and the option fields. `pidfd` < 0 means pidfd_open failed with `pidfd_err`. Returns the duplicate
// fd, still open (the caller closes its duplicates together, see dup_batch), or -1.
static int read_options(struct entry *e, int pidfd, int pidfd_err) {
  if (pidfd < 0) {
    e->kind = K_UNREAD;
    e->err = pidfd_err;
    return -1;
  }
  int s = (int)syscall(SYS_pidfd_getfd, pidfd, e->fd, 0);
  if (s < 0) {
    e->kind = K_UNREAD; // EPERM without root, EBADF/ESRCH when the fd or process went away meanwhile
    e->err = errno;
    return -1;
  }
  // TCP_KEEPIDLE answers only on TCP sockets (unix: EOPNOTSUPP, UDP/raw: ENOPROTOOPT): it doubles as the type check,
  // one syscall instead of SO_DOMAIN + SO_PROTOCOL on every socket.
  socklen_t l2 = sizeof(int);
  if (getsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &e->idle, &l2) < 0) {
    if (errno == EOPNOTSUPP || errno == ENOPROTOOPT) {
      e->kind = K_OTHER;
      return s;
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
  return s;
fail:
  e->kind = K_UNREAD;
  e->err = errno;
  return s;
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

// A set of socket inodes (open addressing, 0 = empty slot: socket inodes are never 0).
struct inode_set {
  uint64_t *slots;
  size_t nslots; // power of two
};

static size_t hash_inode(uint64_t ino) {
  uint64_t h = ino * 0x9E3779B97F4A7C15ULL;
  return (size_t)(h ^ (h >> 31));
}

static void inode_set_fill(struct inode_set *set, const uint64_t *v, size_t n) {
  size_t want = 64;
  while (want < n * 2) want *= 2;
  set->slots = xrealloc(set->slots, want * sizeof *set->slots);
  set->nslots = want;
  memset(set->slots, 0, want * sizeof *set->slots);
  for (size_t i = 0; i < n; i++) {
    size_t s = hash_inode(v[i]) & (want - 1);
    while (set->slots[s] && set->slots[s] != v[i]) s = (s + 1) & (want - 1);
    set->slots[s] = v[i];
  }
}

static bool inode_set_has(const struct inode_set *set, uint64_t ino) {
  for (size_t s = hash_inode(ino) & (set->nslots - 1); set->slots[s]; s = (s + 1) & (set->nslots - 1))
    if (set->slots[s] == ino) return true;
  return false;
}

// A list of socket inodes, growable.
struct inode_list {
  uint64_t *v;
  size_t n, cap;
};

// Adds `ino` to `l` when `of` has it.
static void inode_list_add(struct inode_list *l, const struct inode_set *of, uint64_t ino) {
  if (!inode_set_has(of, ino)) return;
  GROW(l->v, l->n, l->cap, 256);
  l->v[l->n++] = ino;
}

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

// Option reads are independent per socket: at 100k sockets they are ~85% of the helper's time (one pidfd_getfd,
// six getsockopt and a close each), so a second thread takes half of them. Work units are runs of one process's
// sockets, each with its own pidfd; two threads at most, and only for a process with thousands of sockets to read
// (a proxy, a balancer): an observer must not take the host's cores.
#define READ_UNIT 512
#define READ_THREADS_MIN_BATCH 2048

struct read_unit {
  size_t first, n; // entries cur->v[first .. first+n), all of one pid
};

struct read_work {
  struct table *t;
  struct read_unit *units;
  size_t nunits;
  atomic_size_t next;
};

// The duplicates a reading thread holds: closed together, a close_range per run of consecutive fds (a table hands
// out the lowest free fd, so a batch is nearly one run) instead of a close each: at 100k sockets 100k system calls
// fewer, and each costs ~1.5 us under a hypervisor.
#define DUP_BATCH 128

struct dup_batch {
  int fd[DUP_BATCH];
  int n;
};

static int cmp_int(const void *a, const void *b) {
  return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static void dup_batch_close(struct dup_batch *b) {
  qsort(b->fd, (size_t)b->n, sizeof b->fd[0], cmp_int);
  for (int i = 0, j; i < b->n; i = j) {
    for (j = i + 1; j < b->n && b->fd[j] == b->fd[j - 1] + 1; j++) {}
    if (j - i == 1 || syscall(SYS_close_range, b->fd[i], b->fd[j - 1], 0) != 0)
      for (int k = i; k < j; k++) close(b->fd[k]); // one fd, or a kernel before 5.9
  }
  b->n = 0;
}

static void dup_batch_add(struct dup_batch *b, int fd) {
  if (fd < 0) return;
  b->fd[b->n++] = fd;
  if (b->n == DUP_BATCH) dup_batch_close(b);
}

static void read_work_run(struct read_work *w) {
  struct dup_batch dups = {.n = 0};
  for (size_t u; (u = atomic_fetch_add(&w->next, 1)) < w->nunits;) {
    struct entry *e = &w->t->v[w->units[u].first];
    int pidfd = (int)syscall(SYS_pidfd_open, e->pid, 0);
    int err = pidfd < 0 ? errno : 0;
    for (size_t i = 0; i < w->units[u].n; i++) dup_batch_add(&dups, read_options(&e[i], pidfd, err));
    dup_batch_close(&dups);
    if (pidfd >= 0) close(pidfd);
  }
}

// Gives the calling thread an fd table of its own, holding only 0-2 of the inherited fds (it must keep no file, such
// as a namespace, open). A thread on its own table takes no other thread's table lock to get or close an fd, and
// the kernel looks its fds up without a reference count (fdget's fast path, for a table only one thread uses).
// False, on the shared table, where the kernel has no close_range (before 5.9).
static bool own_fd_table(void) {
  if (syscall(SYS_close_range, 1, 0, 0) == 0 || errno == ENOSYS) return false; // first > last: EINVAL where it exists
  return unshare(CLONE_FILES) == 0 && syscall(SYS_close_range, 3, ~0U, 0) == 0;
}

static void *read_units(void *arg) {
  own_fd_table();
  read_work_run(arg);
  return NULL;
}

// Reads the options of the K_PENDING entries of `t` from `from` on (one process's, just walked: read before the
// walk goes on, so that no socket waits for the rest of the host's walk and closes meanwhile).
static void read_pending(struct table *t, size_t from) {
  static struct read_unit *units;
  static size_t cap;
  size_t nunits = 0, pending = 0;
  for (size_t i = from; i < t->n; i++) {
    if (t->v[i].kind != K_PENDING) continue;
    pending++;
    struct read_unit *last = nunits ? &units[nunits - 1] : NULL;
    if (last && last->first + last->n == i && t->v[last->first].pid == t->v[i].pid && last->n < READ_UNIT) {
      last->n++;
      continue;
    }
    GROW(units, nunits, cap, 256);
    units[nunits++] = (struct read_unit){i, 1};
  }
  struct read_work w = {.t = t, .units = units, .nunits = nunits};
  atomic_init(&w.next, 0);
  pthread_t helper;
  bool two = pending >= READ_THREADS_MIN_BATCH && sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
             pthread_create(&helper, NULL, read_units, &w) == 0;
  read_work_run(&w);
  if (two) pthread_join(helper, NULL);
}

// A sorted list of pids (a walk's process list).
struct pid_list {
  int32_t *v;
  size_t n, cap;
};

static bool pid_list_has(const struct pid_list *l, int32_t pid) {
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (l->v[mid] < pid) lo = mid + 1;
    else hi = mid;
  }
  return lo < l->n && l->v[lo] == pid;
}

// The first entry of each pid's run in a table (a walk appends a process's fds together), by pid.
struct pid_runs {
  int32_t *slots; // entry index of the run's first entry, -1 = empty
  size_t nslots;
};

static void pid_runs_fill(struct pid_runs *r, const struct table *t) {
  slots_reset(&r->slots, &r->nslots, t->n);
  for (size_t i = 0; i < t->n; i++) {
    if (i > 0 && t->v[i - 1].pid == t->v[i].pid) continue;
    size_t s = hash_key(t->v[i].pid, 0) & (r->nslots - 1);
    while (r->slots[s] >= 0) s = (s + 1) & (r->nslots - 1);
    r->slots[s] = (int32_t)i;
  }
}

static int32_t pid_runs_first(const struct pid_runs *r, const struct table *t, int pid) {
  for (size_t s = hash_key(pid, 0) & (r->nslots - 1); r->slots[s] >= 0; s = (s + 1) & (r->nslots - 1))
    if (t->v[r->slots[s]].pid == pid) return r->slots[s];
  return -1;
}

// Sockets marked by `reread` whose options no walk has read again yet.
static bool rereads_pending;

// Whether a socket of `pid`'s run in `t` (from `first`, its first entry; -1 = none) is to be re-read.
static bool run_has_stale(const struct table *t, int32_t first, int pid) {
  for (int32_t i = first; i >= 0 && (size_t)i < t->n && t->v[i].pid == pid; i++)
    if (t->v[i].stale) return true;
  return false;
}

// Walks every process's fds. `old` is the previous scan's table (may be empty); the result goes to `cur`.
// With `print`, prints S/U lines for sockets new or changed relative to `old` (all of them when `old` is empty).
// With `want`, options are read only for those inodes (the sockets an inventory dumped): the walk itself is a
// readlink per fd, the options cost a pidfd_getfd and six getsockopt per socket (read after the walk).
// With `walked`, the processes it lists (those of the walk that made `old`) are not walked again: their entries in
// `old` are taken as they are (see `inventory`); only processes new since then are, and those holding a socket
// to re-read. `touched` (with `walked` and `want`) then gets the wanted inodes whose owners may differ from `old`'s:
// those a walked process holds now or held then, and those of processes gone since (duplicates included).
static void scan(int procfd, struct table *old, struct table *cur, bool track_start, bool print,
                 const struct inode_set *want, const struct pid_list *walked, struct inode_list *touched,
                 struct stats *st) {
  static struct pid_runs runs;
  static struct pid_list denied, denied_before; // processes whose fds could not be read: this scan's, the last one's
  struct pid_list l = denied_before;
  denied_before = denied;
  denied = l;
  denied.n = 0;
  int64_t t0 = now_us();
  memset(st, 0, sizeof *st);
  cur->n = 0;
  if (walked) pid_runs_fill(&runs, old);
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
    bool walked_before = walked && pid_list_has(walked, pid);
    // A process not listed may still have a run: it started between that walk's process list and its readdir.
    int32_t run = walked ? pid_runs_first(&runs, old, pid) : -1;
    if (walked_before && !(rereads_pending && run_has_stale(old, run, pid))) {
      st->pids++;
      if (pid_list_has(&denied_before, pid)) {
        st->denied++;
        GROW(denied.v, denied.n, denied.cap, 64);
        denied.v[denied.n++] = pid;
      }
      for (int32_t i = run; i >= 0 && (size_t)i < old->n && old->v[i].pid == pid; i++) {
        old->v[i].seen = true;
        struct entry *e = table_push(cur);
        *e = old->v[i];
        e->fresh = false;
        e->seen = false;
      }
      continue;
    }
    char path[64];
    snprintf(path, sizeof path, "%d/fd", pid);
    int dfd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
      if (errno == EACCES || errno == EPERM) {
        st->pids++;
        st->denied++;
        GROW(denied.v, denied.n, denied.cap, 64);
        denied.v[denied.n++] = pid;
      } // ENOENT: the process exited since readdir
      continue;
    }
    DIR *fds = fdopendir(dfd);
    if (!fds) {
      close(dfd);
      continue;
    }
    st->pids++;
    if (touched)
      for (int32_t i = run; i >= 0 && (size_t)i < old->n && old->v[i].pid == pid; i++)
        inode_list_add(touched, want, old->v[i].inode);
    uint64_t stime = track_start ? start_time(procfd, pid) : 0;
    size_t first = cur->n;
    struct dirent *fe;
    while ((fe = readdir(fds))) {
      uint64_t fd64;
      if (!parse_u64(fe->d_name, fe->d_name + strlen(fe->d_name), &fd64) || fd64 > INT32_MAX) continue;
      struct entry *prev = table_find(old, pid, (int)fd64);
      uint64_t inode;
      if (want && prev && prev->starttime == stime && (prev->kind == K_TCP || prev->kind == K_UNREAD) &&
          inode_set_has(want, prev->inode)) {
        // The fd held this TCP socket at the last walk and the socket is still there: it still holds it, but for a
        // close and a reuse of the number while another holder keeps the socket alive (dup, fork), which the
        // periodic full rescan (`full`) corrects. The readlink (a path lookup, most of the walk) is saved.
        inode = prev->inode;
      } else {
        // Socket links are short ("socket:[123]"); a longer target is cut, which only matters for non-sockets.
        char link[64];
        ssize_t n = readlinkat(dfd, fe->d_name, link, sizeof link - 1);
        if (n < 9 || memcmp(link, "socket:[", 8) != 0 || link[n - 1] != ']') continue;
        if (!parse_u64(link + 8, link + n - 1, &inode)) continue;
      }

      struct entry *e = table_push(cur);
      bool wanted = !want || inode_set_has(want, inode);
      if (prev && prev->inode == inode && prev->starttime == stime && !prev->stale &&
          !(prev->kind == K_SKIPPED && wanted)) {
        *e = *prev; // unchanged: no syscalls beyond the readlink
        prev->seen = true;
        e->fresh = false;
      } else {
        // A changed (pid, fd) is reported as a replacement (new S/U line), never as gone.
        if (prev) prev->seen = true;
        memset(e, 0, sizeof *e);
        e->pid = pid;
        e->fd = (int)fd64;
        e->inode = inode;
        e->starttime = stime;
        e->kind = wanted ? K_PENDING : K_SKIPPED;
        e->fresh = true;
        e->replaced_tcp = prev && (prev->kind == K_TCP || prev->kind == K_UNREAD);
      }
      e->seen = false;
      e->stale = false;
    }
    closedir(fds); // closes dfd
    read_pending(cur, first);
    if (touched)
      for (size_t i = first; i < cur->n; i++) inode_list_add(touched, want, cur->v[i].inode);
  }
  closedir(proc);
  if (touched) // processes gone since, or not readable any more
    for (size_t i = 0; i < old->n; i++)
      if (!old->v[i].seen) inode_list_add(touched, want, old->v[i].inode);
  rereads_pending = false; // every process holding a socket to re-read was walked: its options were read again
  for (size_t i = 0; i < cur->n; i++) {
    const struct entry *e = &cur->v[i];
    bool tcp = e->kind == K_TCP || e->kind == K_UNREAD;
    if (tcp) st->sockets++;
    if (!print || !e->fresh) continue;
    if (tcp) print_entry(e);
    // A TCP socket replaced by a non-TCP socket under the same number is gone for our purposes.
    else if (e->replaced_tcp) printf("- %d %d\n", e->pid, e->fd);
  }
  st->elapsed_us = now_us() - t0;
}

// Prints `- pid fd` for TCP entries of the previous scan that this scan did not find.
static void print_gone(const struct table *old) {
  for (size_t i = 0; i < old->n; i++) {
    const struct entry *e = &old->v[i];
    if (!e->seen && (e->kind == K_TCP || e->kind == K_UNREAD)) printf("- %d %d\n", e->pid, e->fd);
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

// ---------------------------------------------------------------------------------------------------------------
// inventory: every TCP socket of the given network namespaces through netlink sock_diag (what `ss -tinae` reads),
// joined in the same pass with the owner scan above by socket inode. One `T` line per socket, fields in the order of
// INVENTORY_FIELDS, then one `O` line per dumped socket that has owners (INVENTORY_OWNER_FIELDS); the header repeats
// both lists, so the reader checks them instead of guessing. The sockets go out before the owner scan starts: the
// reader parses them while the scan (the costly part: a pidfd_getfd and six getsockopt per socket) runs.

#define INVENTORY_VERSION "1"
#define INVENTORY_FIELDS                                                                                            \
  "state rq wq laddr lport raddr rport dev inode uid cookie timer expires timer_count shutdown cgroup"             \
  " tcpi_options cong rto_us rtt_us rttvar_us snd_mss snd_cwnd bytes_sent bytes_acked bytes_received segs_out"     \
  " segs_in lastsnd_ms lastrcv_ms lastack_ms unacked retrans total_retrans lost app_limited rates"
#define INVENTORY_OWNER_FIELDS "inode owners opts"

// A growable output buffer: a printf per field would cost more than the whole netlink dump at 100k sockets.
static struct {
  char *p;
  size_t n, cap;
} out;

static void out_reserve(size_t more) {
  if (out.n + more <= out.cap) return;
  while (out.n + more > out.cap) out.cap = out.cap ? out.cap * 2 : 1 << 20;
  out.p = xrealloc(out.p, out.cap);
}

// Filled buffers go out through a writer thread: the reader (Node) parses the sockets more slowly than the dump
// produces them, and a write blocked on the full pipe held the owner scan back until the reader had caught up (at
// 100k sockets the scan started ~0.4 s later). The queue holds at most SPOOL_MAX_BYTES; a whole answer is ~180
// bytes per socket.
#define SPOOL_MAX_BYTES (64u << 20)
struct spool_chunk {
  char *p;
  size_t n;
  struct spool_chunk *next;
};
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv; // signalled when a chunk is queued or written
  struct spool_chunk *head, *tail;
  size_t bytes;  // queued or being written
  bool started;
  bool failed;   // a write failed (the reader went away): later chunks are dropped
} spool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, false, false};

static bool write_all(const char *p, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t w = write(STDOUT_FILENO, p + off, n - off);
    if (w > 0) off += (size_t)w;
    else if (w < 0 && errno != EINTR) return false;
  }
  return true;
}

static void *spool_writer(void *arg) {
  (void)arg;
  own_fd_table(); // writes to stdout only
  pthread_mutex_lock(&spool.mu);
  for (;;) {
    while (!spool.head) pthread_cond_wait(&spool.cv, &spool.mu);
    struct spool_chunk *c = spool.head;
    bool failed = spool.failed;
    pthread_mutex_unlock(&spool.mu);
    failed = failed || !write_all(c->p, c->n);
    pthread_mutex_lock(&spool.mu);
    spool.failed = failed;
    spool.head = c->next;
    if (!spool.head) spool.tail = NULL;
    spool.bytes -= c->n;
    pthread_cond_broadcast(&spool.cv);
    free(c->p);
    free(c);
  }
  return NULL;
}

// Hands the buffer to the writer thread (written in order); `out` starts a new one. Only the inventory writes
// through `out`, and stdio's buffer is empty then (every command's answer ends with an fflush).
static void out_flush(void) {
  if (!out.n) return;
  struct spool_chunk *c = xrealloc(NULL, sizeof *c);
  *c = (struct spool_chunk){out.p, out.n, NULL};
  out = (typeof(out)){0};
  pthread_mutex_lock(&spool.mu);
  if (!spool.started) {
    pthread_t t;
    spool.started = pthread_create(&t, NULL, spool_writer, NULL) == 0 && pthread_detach(t) == 0;
  }
  if (!spool.started) { // no thread: write here
    if (!write_all(c->p, c->n)) spool.failed = true;
    pthread_mutex_unlock(&spool.mu);
    free(c->p);
    free(c);
    return;
  }
  while (spool.bytes > SPOOL_MAX_BYTES) pthread_cond_wait(&spool.cv, &spool.mu);
  if (spool.tail) spool.tail->next = c;
  else spool.head = c;
  spool.tail = c;
  spool.bytes += c->n;
  pthread_cond_broadcast(&spool.cv);
  pthread_mutex_unlock(&spool.mu);
}

// Flushes and waits until everything is written: before stdio writes to stdout again. False when a write failed.
static bool out_finish(void) {
  out_flush();
  pthread_mutex_lock(&spool.mu);
  while (spool.bytes) pthread_cond_wait(&spool.cv, &spool.mu);
  bool ok = !spool.failed;
  pthread_mutex_unlock(&spool.mu);
  return ok;
}

static void out_str(const char *s) {
  size_t l = strlen(s);
  out_reserve(l);
  memcpy(out.p + out.n, s, l);
  out.n += l;
}

static void out_ch(char c) {
  out_reserve(1);
  out.p[out.n++] = c;
}

static void out_u64(uint64_t v) {
  char b[24];
  int i = sizeof b;
  do b[--i] = (char)('0' + v % 10);
  while ((v /= 10));
  out_reserve(sizeof b - (size_t)i);
  memcpy(out.p + out.n, b + i, sizeof b - (size_t)i);
  out.n += sizeof b - (size_t)i;
}

static void out_hex(uint64_t v) {
  char b[20];
  int i = sizeof b;
  do b[--i] = "0123456789abcdef"[v & 15];
  while ((v >>= 4));
  out_reserve(sizeof b - (size_t)i);
  memcpy(out.p + out.n, b + i, sizeof b - (size_t)i);
  out.n += sizeof b - (size_t)i;
}

static void out_field_u64(uint64_t v) {
  out_ch(' ');
  out_u64(v);
}

// ---------------------------------------------------------------------------------------------------------------
// changes: in `serve`, `changes<TAB>NSPATH...` answers like `inventory`, but with only what changed since its previous
// answer: T lines of new or changed sockets, `G <cookie>` for sockets gone, O lines whose owners or options changed,
// `o <inode>` for a socket whose last owner let go. A socket is unchanged when every field but its ages
// (lastsnd/lastrcv/lastack) and its timer's expiry is equal, and those, taken as points in time (now - age,
// now + expiry), moved by at most CHANGE_TOLERANCE_MS from what was last sent: an idle socket is not sent again, and
// the reader ages what it holds by the time between two `N` lines. Real change moves a counter too (a probe is a
// segment out, its answer a segment in), so the tolerance only absorbs clock granularity (jiffies) and read order.
// A section whose namespace was not dumped (QUIET_DUMP_EVERY_MS) ends its `N` line with ` still`; a path written
// `!NSPATH` is dumped whatever its counters say.

#define CHANGE_TOLERANCE_MS 50
#define DIAG_STATE_LISTEN 10 // TCP_LISTEN of include/net/tcp_states.h: inet_diag's idiag_state, kernel ABI
#define NO_STAMP INT64_MIN

// A `changes` answer does not dump a namespace again while its TCP counters stand where they stood before its last
// dump, up to QUIET_DUMP_EVERY_MS after it: segments in and out, opens, resets and established connections (the
// `Tcp:` line of its snmp), its hashed and TIME-WAIT sockets (sockstat). A socket's state, counters, RTT, timer
// (but the countdown, which the reader ages) and its coming and going move one of those. What moves none is seen at
// the next dump, at most QUIET_DUMP_EVERY_MS late: the application reading its receive queue or accepting from a
// listener without sending a window update, shutdown(SHUT_RD), a request socket dropped after its last SYN-ACK, an
// fd passed between processes, a setsockopt the tracer does not watch (TCP_CONGESTION). Each namespace's dump walks
// the host's whole socket hash (~16 ms of kernel time at 100k sockets, however few are its own): a node of quiet
// pods, or 100k idle connections, pay it every 10 s, not at every refresh.
#define QUIET_DUMP_EVERY_MS 10000

// What a namespace's counters say, read from inside it before its dump.
struct netns_counters {
  bool empty;     // no TCP socket a dump would list (sockstat, sockstat6)
  uint64_t hash;  // of the counts QUIET_DUMP_EVERY_MS names, 0 when they cannot all be read
  int64_t at_ms;  // when they were read
};

struct known_socket {
  uint64_t cookie;
  uint64_t inode;       // 0 for TIME-WAIT and request sockets: no owner
  uint64_t line_hash;   // of the T line's fields but the times
  uint64_t owners_hash; // of the last O line sent, 0 = none sent (no owners)
  int64_t at[4];        // timer expiry, last send, last receive, last ack: CLOCK_MONOTONIC ms, or NO_STAMP
  bool seen;
};

struct known_netns {
  uint64_t inode;
  struct known_socket *v;
  size_t n, cap;
  int32_t *slots; // by cookie, open addressing, -1 = empty
  size_t nslots;
  bool visited;         // in the current answer
  uint64_t counters;    // hash of its TCP counters read before its last dump (see QUIET_DUMP_EVERY_MS), 0 = none
  int64_t dumped_at_ms; // when that dump was
};

static struct {
  struct known_netns *v; // what the previous answers sent, per namespace
  size_t n, cap;
} known;

static struct {
  bool on;                   // the current answer is a `changes` one
  int prev;                  // index in `known` of the namespace being dumped, -1 when it was not known
  size_t expect;             // where in its previous list the next socket most likely is: the kernel dumps its
                             // hash in the same order each time, so a lookup mostly reads the list in order
  struct known_netns next;   // what this answer tells of it
  int64_t now_ms;            // clock of the current netlink batch
  bool complete;             // a section of this answer was complete (its owner lines must all go out)
  unsigned long still;       // sections of this answer not dumped (QUIET_DUMP_EVERY_MS)
} changes = {.prev = -1};

static int64_t now_ms(void) { return now_us() / 1000; }

static uint64_t fnv1a(uint64_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

// A word at a time: a T line's fields are ~35 words, hashed for every socket of every `changes` answer (byte-wise
// FNV-1a was half of the helper's own time per answer at 100k sockets).
static uint64_t hash_words(uint64_t h, const uint64_t *w, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h = (h ^ w[i]) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 32;
  }
  return h;
}

static void known_index(struct known_netns *k) {
  slots_reset(&k->slots, &k->nslots, k->n);
  for (size_t i = 0; i < k->n; i++) {
    size_t s = hash_inode(k->v[i].cookie) & (k->nslots - 1);
    while (k->slots[s] >= 0) s = (s + 1) & (k->nslots - 1);
    k->slots[s] = (int32_t)i;
  }
}

static struct known_socket *known_find(struct known_netns *k, uint64_t cookie) {
  if (!k->nslots) return NULL;
  for (size_t s = hash_inode(cookie) & (k->nslots - 1); k->slots[s] >= 0; s = (s + 1) & (k->nslots - 1))
    if (k->v[k->slots[s]].cookie == cookie) return &k->v[k->slots[s]];
  return NULL;
}

static struct known_socket *known_push(struct known_netns *k) {
  GROW(k->v, k->n, k->cap, 1024);
  return &k->v[k->n++];
}

static void known_free(struct known_netns *k) {
  free(k->v);
  free(k->slots);
  memset(k, 0, sizeof *k);
}

static void known_remove(size_t i) {
  known_free(&known.v[i]);
  known.v[i] = known.v[--known.n];
}

static void forget_known(void) {
  while (known.n) known_remove(known.n - 1);
}

static bool stamps_close(const int64_t *a, const int64_t *b) {
  for (int i = 0; i < 4; i++) {
    if ((a[i] == NO_STAMP) != (b[i] == NO_STAMP)) return false;
    if (a[i] != NO_STAMP && (a[i] - b[i] > CHANGE_TOLERANCE_MS || b[i] - a[i] > CHANGE_TOLERANCE_MS)) return false;
  }
  return true;
}

// Notes a socket of the namespace being dumped; true when it is new or changed (its T line goes out). `hash` covers
// every printed field but the times, `at` holds those (see CHANGE_TOLERANCE_MS).
static bool changes_note(uint64_t cookie, uint64_t inode, uint64_t hash, const int64_t at[4]) {
  struct known_socket *old = NULL;
  if (changes.prev >= 0) {
    struct known_netns *prev = &known.v[changes.prev];
    old = changes.expect < prev->n && prev->v[changes.expect].cookie == cookie ? &prev->v[changes.expect]
                                                                                : known_find(prev, cookie);
    if (old) changes.expect = (size_t)(old - prev->v) + 1;
  }
  struct known_socket *k = known_push(&changes.next);
  k->cookie = cookie;
  k->inode = inode;
  k->seen = false;
  k->owners_hash = old ? old->owners_hash : 0;
  k->line_hash = hash;
  if (old) old->seen = true;
  bool same = old && old->line_hash == hash && stamps_close(old->at, at);
  // When unchanged, the times stay those last sent: measured from what the reader holds, drift cannot add up.
  memcpy(k->at, same ? old->at : at, sizeof k->at);
  return !same;
}

// Inodes of the sockets dumped by this answer, in dump order: the owner lines follow them. In a `changes` answer,
// with where each one's known_socket is (namespace index in `known`, entry index).
static struct {
  uint64_t *v;
  uint32_t *ns;
  uint32_t *entry;
  size_t n, cap;
} dumped;

static void remember_inode_at(uint64_t ino, uint32_t entry) {
  if (!ino) return;
  if (dumped.n == dumped.cap) {
    dumped.cap = dumped.cap ? dumped.cap * 2 : 4096;
    dumped.v = xrealloc(dumped.v, dumped.cap * sizeof *dumped.v);
    dumped.ns = xrealloc(dumped.ns, dumped.cap * sizeof *dumped.ns);
    dumped.entry = xrealloc(dumped.entry, dumped.cap * sizeof *dumped.entry);
  }
  dumped.ns[dumped.n] = 0; // a `changes` answer: set when its section ends
  dumped.entry[dumped.n] = entry;
  dumped.v[dumped.n++] = ino;
}

static void remember_inode(uint64_t ino) {
  remember_inode_at(ino, changes.on ? (uint32_t)(changes.next.n - 1) : 0);
}

// Begins a namespace's section of a `changes` answer.
static void changes_begin_netns(uint64_t inode) {
  changes.prev = -1;
  changes.expect = 0;
  for (size_t i = 0; i < known.n; i++)
    if (known.v[i].inode == inode) changes.prev = (int)i;
  if (changes.prev < 0) changes.complete = true;
  if (changes.prev >= 0)
    for (size_t i = 0; i < known.v[changes.prev].n; i++) known.v[changes.prev].v[i].seen = false;
  changes.next.n = 0;
  changes.next.inode = inode;
}

// Ends it: `G` lines for what the previous answer had and this one did not, then this answer's view replaces the
// previous one in its slot (slots do not move during an answer: the owner lines find their sockets by slot). After
// an error the section is dropped and the namespace left unvisited: forgotten at the end of the answer, its next
// section is complete again.
static void changes_end_netns(bool ok, size_t dumped_from, const struct netns_counters *counters) {
  int slot = changes.prev;
  if (!ok) {
    dumped.n = dumped_from; // the reader drops the section: no owner lines for it either
    known_free(&changes.next);
    return;
  }
  if (slot >= 0) {
    const struct known_netns *k = &known.v[slot];
    for (size_t i = 0; i < k->n; i++)
      if (!k->v[i].seen) {
        out_str("G ");
        out_hex(k->v[i].cookie);
        out_ch('\n');
      }
    // Its list and index are reused (fresh memory for 100k entries faulted in every page, every answer).
    struct known_netns old = known.v[slot];
    known.v[slot] = changes.next;
    known.v[slot].slots = old.slots;
    known.v[slot].nslots = old.nslots;
    changes.next = (struct known_netns){.v = old.v, .cap = old.cap};
  } else {
    GROW(known.v, known.n, known.cap, 8);
    slot = (int)known.n++;
    known.v[slot] = changes.next;
    memset(&changes.next, 0, sizeof changes.next);
  }
  known.v[slot].visited = true;
  known.v[slot].counters = counters->hash;
  known.v[slot].dumped_at_ms = counters->at_ms;
  known_index(&known.v[slot]);
  for (size_t i = dumped_from; i < dumped.n; i++) dumped.ns[i] = (uint32_t)slot;
}

// Whether the namespace of the section just begun need not be dumped again: its counters are those read before its
// last dump, less than QUIET_DUMP_EVERY_MS ago, and no traced setsockopt is pending (SO_KEEPALIVE arms a timer
// without a segment).
static bool changes_still(const struct netns_counters *counters) {
  if (changes.prev < 0 || !counters->hash || rereads_pending) return false;
  const struct known_netns *k = &known.v[changes.prev];
  return k->counters == counters->hash && counters->at_ms - k->dumped_at_ms < QUIET_DUMP_EVERY_MS;
}

// A section not dumped: what the previous answers sent of the namespace stands (the reader ages it as it ages an
// unchanged socket), and its sockets count as dumped for the owner walk, whose owners and options are compared as in
// every answer.
static void changes_still_netns(void) {
  struct known_netns *k = &known.v[changes.prev];
  k->visited = true;
  size_t from = dumped.n;
  for (size_t i = 0; i < k->n; i++) remember_inode_at(k->v[i].inode, (uint32_t)i);
  for (size_t i = from; i < dumped.n; i++) dumped.ns[i] = (uint32_t)changes.prev;
}

// Owners by socket inode over the current scan table: open addressing to the first entry, chained through `next`.
struct owners {
  int32_t *slots, *next;
  size_t nslots;
};

static void owners_build(struct owners *o, const struct table *t) {
  size_t want = 64;
  while (want < t->n * 2) want *= 2;
  o->slots = xrealloc(o->slots, want * sizeof *o->slots);
  o->next = xrealloc(o->next, (t->n ? t->n : 1) * sizeof *o->next);
  o->nslots = want;
  memset(o->slots, 0xff, want * sizeof *o->slots);
  for (size_t i = t->n; i-- > 0;) { // backwards, so each chain lists owners in scan (pid) order
    const struct entry *e = &t->v[i];
    o->next[i] = -1;
    if (e->kind != K_TCP && e->kind != K_UNREAD) continue;
    size_t s = hash_inode(e->inode) & (want - 1);
    for (; o->slots[s] >= 0; s = (s + 1) & (want - 1))
      if (t->v[o->slots[s]].inode == e->inode) break;
    if (o->slots[s] >= 0) o->next[i] = o->slots[s];
    o->slots[s] = (int32_t)i;
  }
}

static int32_t owners_first(const struct owners *o, const struct table *t, uint64_t ino) {
  if (!ino) return -1;
  for (size_t s = hash_inode(ino) & (o->nslots - 1); o->slots[s] >= 0; s = (s + 1) & (o->nslots - 1))
    if (t->v[o->slots[s]].inode == ino) return o->slots[s];
  return -1;
}

// Cgroup v2 ids to paths below the cgroup2 mount, as ss prints them (`/` for the root, `unreachable:<hex id>` for
// an id not found). A path is printed once per answer as `C <hex id> <path>`; socket lines carry the id.
struct cgroup_path {
  uint64_t id;
  char *path;
  unsigned printed; // answer number it was last printed in
};

static struct {
  struct cgroup_path *v;
  size_t n, cap;
  bool loaded;
  unsigned answer;
  size_t mnt_len;
} cg;

static int cgroup_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)ftw;
  if (type != FTW_D) return 0;
  GROW(cg.v, cg.n, cg.cap, 256);
  const char *rel = path + cg.mnt_len;
  cg.v[cg.n++] = (struct cgroup_path){.id = sb->st_ino, .path = strdup(*rel ? rel : "/"), .printed = 0};
  return 0;
}

// (Re)reads the id -> path map: the cgroup id is the inode number of the cgroup's directory on cgroup2.
static void cgroup_load(void) {
  for (size_t i = 0; i < cg.n; i++) free(cg.v[i].path);
  cg.n = 0;
  cg.loaded = true;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return;
  char *line = NULL, mnt[4096] = "";
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    // `id parent maj:min root mountpoint options... - fstype source superoptions`
    char *sep = strstr(line, " - cgroup2 ");
    char point[4096];
    if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1) {
      snprintf(mnt, sizeof mnt, "%s", point);
      break;
    }
  }
  free(line);
  fclose(f);
  if (!mnt[0]) return;
  cg.mnt_len = strlen(mnt);
  nftw(mnt, cgroup_visit, 64, FTW_PHYS | FTW_MOUNT);
}

static struct cgroup_path *cgroup_find(uint64_t id) {
  for (size_t i = 0; i < cg.n; i++)
    if (cg.v[i].id == id) return &cg.v[i];
  return NULL;
}

static void cgroup_announce(uint64_t id) {
  if (!cg.loaded) cgroup_load();
  struct cgroup_path *c = cgroup_find(id);
  if (!c) {
    cgroup_load(); // created since the map was read
    c = cgroup_find(id);
  }
  if (!c) {
    char name[40];
    snprintf(name, sizeof name, "unreachable:%llx", (unsigned long long)id);
    GROW(cg.v, cg.n, cg.cap, 256);
    cg.v[cg.n] = (struct cgroup_path){.id = id, .path = strdup(name), .printed = 0};
    c = &cg.v[cg.n++];
  }
  if (c->printed == cg.answer) return;
  c->printed = cg.answer;
  out_str("C ");
  out_hex(id);
  out_ch(' ');
  for (const char *p = c->path; *p; p++) out_ch(*p == '\n' ? '?' : *p); // the line format has no escape
  out_ch('\n');
}

// The `O` line of one owned socket: its inode, `pid:fd,...` and the options of the first owner they were read from
// (`ka,idle,intvl,cnt,user_timeout_ms,linger_on,linger_sec`), or `!ERRNAME` when none could be read.
// In a `changes` answer only when it differs from the line last sent for the socket (`o <inode>`: none now).
static void out_owners(const struct owners *o, const struct table *t, size_t d) {
  uint64_t ino = dumped.v[d];
  struct known_socket *k = changes.on ? &known.v[dumped.ns[d]].v[dumped.entry[d]] : NULL;
  int32_t first = owners_first(o, t, ino);
  if (first < 0) {
    if (k && k->owners_hash) {
      out_str("o ");
      out_u64(ino);
      out_ch('\n');
      k->owners_hash = 0;
    }
    return;
  }
  const struct entry *opts = NULL, *err = NULL;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int32_t i = first; i >= 0; i = o->next[i]) {
    const struct entry *e = &t->v[i];
    if (e->kind == K_TCP && !opts) opts = e;
    if (e->kind == K_UNREAD && !err) err = e;
    int pf[2] = {e->pid, e->fd};
    h = fnv1a(h, (const char *)pf, sizeof pf);
  }
  int v[7] = {0};
  if (opts) {
    int o7[7] = {opts->keepalive != 0, opts->idle, opts->intvl, opts->cnt, (int)opts->user_timeout, opts->linger_on,
                 opts->linger_sec};
    memcpy(v, o7, sizeof v);
    h = fnv1a(h, (const char *)v, sizeof v);
  } else {
    h = fnv1a(h, (const char *)&err->err, sizeof err->err);
  }
  h |= 1; // 0 means none
  if (k) {
    bool same = h == k->owners_hash;
    k->owners_hash = h;
    if (same) return;
  }
  out_str("O ");
  out_u64(ino);
  out_ch(' ');
  for (int32_t i = first; i >= 0; i = o->next[i]) {
    const struct entry *e = &t->v[i];
    if (i != first) out_ch(',');
    out_u64((uint64_t)e->pid);
    out_ch(':');
    out_u64((uint64_t)e->fd);
  }
  out_ch(' ');
  if (opts) {
    for (int j = 0; j < 7; j++) {
      if (j) out_ch(',');
      out_u64((uint64_t)(unsigned)v[j]);
    }
  } else {
    out_ch('!');
    out_str(errname(err->err));
  }
  out_ch('\n');
  if (out.n >= 1 << 20) out_flush();
}

static void out_addr(int family, const void *addr) {
  char b[INET6_ADDRSTRLEN];
  out_ch(' ');
  out_str(inet_ntop(family, addr, b, sizeof b) ? b : "?");
}

static const char *ifname_of(unsigned idx, char *buf) {
  return if_indextoname(idx, buf) ? buf : "?";
}

// One inet_diag message as a T line (in a `changes` answer, only when new or changed).
static void out_socket(const struct inet_diag_msg *r, size_t len) {
  struct rtattr *tb[INET_DIAG_MAX + 1] = {0};
  size_t alen = len - NLMSG_ALIGN(sizeof *r);
  for (struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(sizeof *r)); RTA_OK(a, alen);
       a = RTA_NEXT(a, alen))
    if (a->rta_type <= INET_DIAG_MAX) tb[a->rta_type] = a;
  uint64_t cgroup = tb[INET_DIAG_CGROUP_ID] && RTA_PAYLOAD(tb[INET_DIAG_CGROUP_ID]) >= 8
                        ? *(uint64_t *)RTA_DATA(tb[INET_DIAG_CGROUP_ID])
                        : 0;
  uint64_t cookie = (uint64_t)r->id.idiag_cookie[1] << 32 | r->id.idiag_cookie[0];
  int shutdown = tb[INET_DIAG_SHUTDOWN] ? *(uint8_t *)RTA_DATA(tb[INET_DIAG_SHUTDOWN]) & 3 : -1;
  // Older kernels send a shorter struct: the missing tail reads as 0, as in ss.
  struct tcp_info ti;
  bool info = tb[INET_DIAG_INFO] != NULL;
  const char *cong = "-";
  bool rates = false;
  if (info) {
    memset(&ti, 0, sizeof ti);
    size_t il = RTA_PAYLOAD(tb[INET_DIAG_INFO]);
    memcpy(&ti, RTA_DATA(tb[INET_DIAG_INFO]), il < sizeof ti ? il : sizeof ti);
    const char *c = tb[INET_DIAG_CONG] ? (const char *)RTA_DATA(tb[INET_DIAG_CONG]) : "";
    if (*c && !strchr(c, ' ')) cong = c;
    // ss prints `pacing_rate`/`delivery_rate` under these conditions (tcp_show_info); only whether it did matters.
    rates = (ti.tcpi_pacing_rate && ti.tcpi_pacing_rate != ~0ULL) || ti.tcpi_delivery_rate;
  }

  if (changes.on) {
    // Every printed field but the four times, as a hash; the times as points on the clock.
    int64_t at[4] = {NO_STAMP, NO_STAMP, NO_STAMP, NO_STAMP};
    if (r->idiag_timer) at[0] = changes.now_ms + r->idiag_expires;
    uint64_t id[sizeof r->id / 8]; // ends, interface, cookie
    _Static_assert(sizeof r->id % 8 == 0, "inet_diag_sockid is hashed as words");
    memcpy(id, &r->id, sizeof id);
    uint64_t h = hash_words(0xcbf29ce484222325ULL, id, sizeof id / 8);
    uint64_t v[] = {r->idiag_family, r->idiag_state, r->idiag_rqueue, r->idiag_wqueue, r->idiag_inode, r->idiag_uid,
                    r->idiag_timer, r->idiag_retrans, (uint64_t)shutdown, cgroup, info};
    h = hash_words(h, v, sizeof v / 8);
    if (info) {
      // A listener's ages are not times (tcp_get_info fills none for it, they stay 0). Any other socket's are, 0
      // included: one dumped within a jiffy of its handshake reads 0 and must not count as changed when it ages.
      if (r->idiag_state != DIAG_STATE_LISTEN) {
        at[1] = changes.now_ms - ti.tcpi_last_data_sent;
        at[2] = changes.now_ms - ti.tcpi_last_data_recv;
        at[3] = changes.now_ms - ti.tcpi_last_ack_recv;
      }
      uint64_t w[] = {ti.tcpi_options, ti.tcpi_rto, ti.tcpi_rtt, ti.tcpi_rttvar, ti.tcpi_snd_mss, ti.tcpi_snd_cwnd,
                      ti.tcpi_bytes_sent, ti.tcpi_bytes_acked, ti.tcpi_bytes_received, ti.tcpi_segs_out,
                      ti.tcpi_segs_in, ti.tcpi_unacked, ti.tcpi_retrans, ti.tcpi_total_retrans, ti.tcpi_lost,
                      ti.tcpi_delivery_rate_app_limited, rates};
      h = hash_words(h, w, sizeof w / 8);
      h = fnv1a(h, cong, strlen(cong));
    }
    bool changed = changes_note(cookie, r->idiag_inode, h, at);
    remember_inode(r->idiag_inode);
    if (!changed) return;
  } else {
    remember_inode(r->idiag_inode);
  }

  if (cgroup) cgroup_announce(cgroup);
  out_ch('T');
  out_field_u64(r->idiag_state);
  out_field_u64(r->idiag_rqueue);
  out_field_u64(r->idiag_wqueue);
  out_addr(r->idiag_family, r->id.idiag_src);
  out_field_u64(ntohs(r->id.idiag_sport));
  out_addr(r->idiag_family, r->id.idiag_dst);
  out_field_u64(ntohs(r->id.idiag_dport));
  char ifn[IF_NAMESIZE];
  out_ch(' ');
  out_str(r->id.idiag_if ? ifname_of(r->id.idiag_if, ifn) : "-");
  out_field_u64(r->idiag_inode);
  out_field_u64(r->idiag_uid);
  out_ch(' ');
  out_hex(cookie);
  out_field_u64(r->idiag_timer);
  out_field_u64(r->idiag_expires);
  out_field_u64(r->idiag_retrans);
  out_ch(' ');
  if (shutdown >= 0) out_u64((uint64_t)shutdown);
  else out_ch('-');
  out_ch(' ');
  if (cgroup) out_hex(cgroup);
  else out_ch('-');
  if (info) {
    out_field_u64(ti.tcpi_options);
    out_ch(' ');
    out_str(cong);
    out_field_u64(ti.tcpi_rto);
    out_field_u64(ti.tcpi_rtt);
    out_field_u64(ti.tcpi_rttvar);
    out_field_u64(ti.tcpi_snd_mss);
    out_field_u64(ti.tcpi_snd_cwnd);
    out_field_u64(ti.tcpi_bytes_sent);
    out_field_u64(ti.tcpi_bytes_acked);
    out_field_u64(ti.tcpi_bytes_received);
    out_field_u64(ti.tcpi_segs_out);
    out_field_u64(ti.tcpi_segs_in);
    out_field_u64(ti.tcpi_last_data_sent);
    out_field_u64(ti.tcpi_last_data_recv);
    out_field_u64(ti.tcpi_last_ack_recv);
    out_field_u64(ti.tcpi_unacked);
    out_field_u64(ti.tcpi_retrans);
    out_field_u64(ti.tcpi_total_retrans);
    out_field_u64(ti.tcpi_lost);
    out_field_u64(ti.tcpi_delivery_rate_app_limited);
    out_field_u64(rates);
  } else {
    out_str(" - - - - - - - - - - - - - - - - - - - - -");
  }
  out_ch('\n');
  if (out.n >= 1 << 20) out_flush();
}

// The states a dump asks for: every TCP state (TCP_ESTABLISHED 1 .. TCP_NEW_SYN_RECV 12, include/net/tcp_states.h:
// kernel ABI, as ss's own table) but the BOUND_INACTIVE pseudo-state (13, Linux 6.5+) of sockets only bound, never
// connected or listening. ss lists those only when asked for by name; the kernel finds them by a second walk, of its
// bind hash, that reads every bound socket again: 16% of a dump's kernel time at 100k connected sockets.
#define DUMP_STATES ((1u << 13) - 2)

// One dump of the current network namespace, returning 0 or an errno: every state of DUMP_STATES (TIME-WAIT and
// SYN-RECV request sockets included), with tcp_info and the congestion control. `type` TCPDIAG_GETSOCK is the original request
// (struct inet_diag_req): the kernel answers it for both families in one walk of its socket hash, where
// SOCK_DIAG_BY_FAMILY walks it once per family (0.16 -> 0.12 s of kernel time at 100k sockets). Answers carry the
// request's type.
static int dump_request(int nl, uint16_t type, int family, unsigned long *count) {
  const uint8_t ext = 1 << (INET_DIAG_INFO - 1) | 1 << (INET_DIAG_CONG - 1);
  struct {
    struct nlmsghdr nlh;
    union {
      struct inet_diag_req_v2 v2;
      struct inet_diag_req v1;
    } r;
  } req;
  memset(&req, 0, sizeof req);
  req.nlh.nlmsg_type = type;
  req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nlh.nlmsg_seq = (uint32_t)family;
  if (type == TCPDIAG_GETSOCK) {
    req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof req.r.v1);
    req.r.v1.idiag_family = (uint8_t)family;
    req.r.v1.idiag_states = DUMP_STATES;
    req.r.v1.idiag_ext = ext;
  } else {
    req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof req.r.v2);
    req.r.v2.sdiag_family = (uint8_t)family;
    req.r.v2.sdiag_protocol = IPPROTO_TCP;
    req.r.v2.idiag_states = DUMP_STATES;
    req.r.v2.idiag_ext = ext;
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(nl, &req, req.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return errno;
  // The kernel hands a dump out in datagrams of at most 32 KB (~80 sockets), filling the next one as each is taken:
  // one recvmmsg takes up to DUMP_BATCH of them (MSG_WAITFORONE: it waits for the first only). At 100k sockets that
  // is ~80 syscalls a dump instead of ~1300 (2-3% of an answer's CPU; the rest is the kernel's walk and fill). A
  // datagram larger than its buffer would be cut (MSG_TRUNC): the dump fails rather than lose sockets.
  enum { DUMP_BATCH = 16, DATAGRAM_MAX = 1 << 16 };
  static char bufs[DUMP_BATCH][DATAGRAM_MAX] __attribute__((aligned(8)));
  static struct iovec iov[DUMP_BATCH];
  static struct mmsghdr msgs[DUMP_BATCH];
  for (;;) {
    for (int i = 0; i < DUMP_BATCH; i++) {
      iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = DATAGRAM_MAX};
      msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    int got = recvmmsg(nl, msgs, DUMP_BATCH, MSG_WAITFORONE, NULL);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno;
    if (got == 0) return EPIPE;
    changes.now_ms = now_ms();
    for (int i = 0; i < got; i++) {
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) return EMSGSIZE;
      size_t left = msgs[i].msg_len;
      if (left == 0) return EPIPE;
      for (struct nlmsghdr *h = (struct nlmsghdr *)bufs[i]; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_type == NLMSG_DONE) return 0;
        if (h->nlmsg_type == NLMSG_ERROR) {
          const struct nlmsgerr *e = NLMSG_DATA(h);
          return h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error ? -e->error : EIO;
        }
        if (h->nlmsg_type != type || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
        out_socket(NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN);
        (*count)++;
      }
    }
  }
}

// Every TCP socket of the current namespace: one walk, or one per family where the kernel refuses the original
// request before answering anything.
static int dump_tcp(int nl, unsigned long *count) {
  unsigned long before = *count;
  int err = dump_request(nl, TCPDIAG_GETSOCK, AF_INET, count);
  if (!err || *count != before) return err;
  err = dump_request(nl, SOCK_DIAG_BY_FAMILY, AF_INET, count);
  return err ? err : dump_request(nl, SOCK_DIAG_BY_FAMILY, AF_INET6, count);
}

// The current namespace's counters. `empty`: no hashed socket of either family (listeners, connections, orphans)
// and no TIME-WAIT one; a SYN-RECV request socket needs a listener, which counts. A dump walks the kernel's whole
// socket hash, every namespace's sockets included: ~16 ms of kernel time with 100k sockets elsewhere on the host,
// for a namespace with none too (a middlebox, a container without TCP). When sockstat cannot be read, the dump
// decides. `hashed`: the hash of QUIET_DUMP_EVERY_MS too (only a `changes` answer compares it).
static struct netns_counters netns_counters(bool hashed) {
  struct netns_counters c = {.at_ms = now_ms()};
  char buf[8192];
  unsigned long inuse, tw, inuse6 = 0;
  if (read_small(AT_FDCWD, "/proc/thread-self/net/sockstat", buf, sizeof buf) < 0) return c;
  const char *tcp = strstr(buf, "\nTCP: ");
  if (!tcp || sscanf(tcp, "\nTCP: inuse %lu orphan %*d tw %lu", &inuse, &tw) != 2) return c;
  if (read_small(AT_FDCWD, "/proc/thread-self/net/sockstat6", buf, sizeof buf) >= 0) {
    if (sscanf(buf, "TCP6: inuse %lu", &inuse6) != 1) return c;
  } else if (errno != ENOENT) { // no sockstat6: IPv6 is off, no TCP6 socket can exist
    return c;
  }
  c.empty = inuse == 0 && tw == 0 && inuse6 == 0;
  // sockstat's orphan, alloc and mem are the host's, not the namespace's: left out, or any host activity would count.
  // In snmp the Tcp: names line comes first, then the values.
  if (!hashed || read_small(AT_FDCWD, "/proc/thread-self/net/snmp", buf, sizeof buf) < 0) return c;
  const char *names = strstr(buf, "\nTcp: ");
  const char *values = names ? strstr(names + 1, "\nTcp: ") : NULL;
  const char *end = values ? strchr(values + 1, '\n') : NULL;
  if (!end) return c;
  uint64_t counts[] = {inuse, tw, inuse6};
  c.hash = hash_words(fnv1a(0xcbf29ce484222325ULL, values, (size_t)(end - values)), counts, 3) | 1;
  return c;
}

// Enters each namespace (unless it is our own), dumps IPv4 and IPv6 there (unless its counters say it has no TCP
// socket), and prints the section:
// `N <index> <netns inode>`, then C/T lines, or `E <index> <ERRNAME>` (the section's T lines are then void).
static void inventory_dump(char **paths, int npaths, unsigned long *count) {
  struct stat self_sb;
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0 || fstat(self, &self_sb) < 0) {
    fprintf(stderr, "ka-sockinfo: /proc/self/ns/net: %s\n", strerror(errno));
    exit(1);
  }
  cg.answer++;
  out_str(changes.on ? "@ka-sockinfo/changes " INVENTORY_VERSION : "@ka-sockinfo/inventory " INVENTORY_VERSION);
  out_str("\n@fields " INVENTORY_FIELDS "\n@owners " INVENTORY_OWNER_FIELDS "\n");
  for (size_t k = 0; k < known.n; k++) known.v[k].visited = false;
  for (int i = 0; i < npaths; i++) {
    struct stat sb;
    bool always = changes.on && paths[i][0] == '!'; // dumped even when its counters stand (a connection in view)
    int ns = open(paths[i] + always, O_RDONLY | O_CLOEXEC);
    int err = ns < 0 || fstat(ns, &sb) < 0 ? errno : 0;
    bool entered = false;
    if (!err && sb.st_ino != self_sb.st_ino) {
      if (setns(ns, CLONE_NEWNET) < 0) err = errno;
      else entered = true;
    }
    if (ns >= 0) close(ns);
    out_str("N ");
    out_u64((uint64_t)i);
    out_ch(' ');
    if (err) out_ch('-');
    else out_u64(sb.st_ino);
    size_t dumped_from = dumped.n;
    bool began = changes.on && !err;
    struct netns_counters counters = {0};
    if (!err) counters = netns_counters(changes.on);
    bool still = false;
    if (began) {
      changes_begin_netns(sb.st_ino);
      still = !always && changes_still(&counters);
      out_field_u64((uint64_t)now_ms()); // the time the section's figures are as of
      out_str(changes.prev >= 0 ? " +" : " -"); // + = changes since the previous section, - = complete
      if (still) out_str(" still"); // not dumped: nothing it could see has moved (QUIET_DUMP_EVERY_MS)
    }
    out_ch('\n');
    if (still) {
      changes_still_netns();
      changes.still++;
    } else if (!err && !counters.empty) {
      int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
      if (nl < 0) err = errno;
      else {
        int rcv = 1 << 20; // fewer, larger reads; the kernel caps it at rmem_max
        setsockopt(nl, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
        err = dump_tcp(nl, count);
        close(nl);
      }
    }
    if (began && !still) changes_end_netns(!err, dumped_from, &counters);
    if (err) {
      out_str("E ");
      out_u64((uint64_t)i);
      out_ch(' ');
      out_str(errname(err));
      out_ch('\n');
    }
    if (entered && setns(self, CLONE_NEWNET) < 0) {
      // Cannot come back: later paths would be dumped from the wrong namespace, so stop here.
      out_finish();
      fprintf(stderr, "ka-sockinfo: cannot return to the original netns: %s\n", strerror(errno));
      exit(1);
    }
  }
  close(self);
}

// The owner walk of a `changes` answer (~100 ms at 100k sockets, a path lookup per fd of every process) is
// skipped when it could find nothing new: no socket was dumped that the last walk's answer had not dumped (a new
// connection, an accepted one that got its inode), no section is complete, no process started or exited, and no
// `reread` is pending. The table and the owners sent stand. What that cannot see, a dup closed or an fd passed
// between running processes, a walk at least every WALK_EVERY_MS corrects.
#define WALK_EVERY_MS 30000
static struct {
  bool valid;          // the table `old` is the walk of a `changes` answer
  int64_t at_ms;       // when it was walked
  uint64_t pids;       // hash of the process list then
  struct pid_list list; // the process list then
  struct inode_set inodes; // sockets dumped then
  struct stats st;     // its figures
} last_walk;

// The process list into `l`, sorted, and its hash (0 when /proc cannot be read: never equal to a hash).
static uint64_t pids_read(int procfd, struct pid_list *l) {
  uint64_t h = 0xcbf29ce484222325ULL;
  l->n = 0;
  int pdfd = dup(procfd);
  DIR *proc = pdfd >= 0 ? fdopendir(pdfd) : NULL;
  if (!proc) {
    if (pdfd >= 0) close(pdfd);
    return 0;
  }
  rewinddir(proc);
  struct dirent *de;
  uint64_t pid;
  bool sorted = true;
  while ((de = readdir(proc))) {
    if (!parse_u64(de->d_name, de->d_name + strlen(de->d_name), &pid) || pid > INT32_MAX) continue;
    h = fnv1a(h, (const char *)&pid, sizeof pid);
    if (l->n && l->v[l->n - 1] >= (int32_t)pid) sorted = false;
    GROW(l->v, l->n, l->cap, 256);
    l->v[l->n++] = (int32_t)pid;
  }
  closedir(proc);
  return sorted ? h | 1 : 0; // /proc lists pids in increasing order; if not, no walk is spared
}

enum walk { WALK_NONE, WALK_ALL, WALK_NEW_PROCESSES };

// What the owner walk of a `changes` answer must cover. A new process can hold only sockets it inherited or was
// passed when no socket was dumped that the last walk had not: then only new processes are walked (a k8s node starts
// exec probes, shells and runc every few seconds; the walk of 100k fds is ~0.1 s), and exited ones drop out. A
// traced setsockopt's `reread` walks the process holding that socket, not every process.
static enum walk walk_needed(uint64_t pids) {
  if (!last_walk.valid || changes.complete || pids == 0 || now_ms() - last_walk.at_ms >= WALK_EVERY_MS)
    return WALK_ALL;
  for (size_t i = 0; i < dumped.n; i++)
    if (!inode_set_has(&last_walk.inodes, dumped.v[i])) return WALK_ALL;
  return pids == last_walk.pids && !rereads_pending ? WALK_NONE : WALK_NEW_PROCESSES;
}

// One inventory: every namespace's sockets, then the owner scan (with options) joined to them.
// `old`/`cur` as in `scan`; returns the table now holding the current sockets (`old` when the walk was skipped),
// and in `*how` what was walked.
static struct table *inventory(int procfd, struct table *old, struct table *cur, bool track_start, char **paths,
                               int npaths, struct stats *st, unsigned long *count, enum walk *how) {
  static struct owners own;
  static struct inode_set want, touched_set;
  static struct pid_list pids_now;
  static struct inode_list touched;
  *count = 0;
  dumped.n = 0;
  changes.complete = false;
  changes.still = 0;
  inventory_dump(paths, npaths, count);
  out_flush(); // the reader parses the sockets while the scan runs
  uint64_t pids = changes.on ? pids_read(procfd, &pids_now) : 0;
  *how = changes.on ? walk_needed(pids) : WALK_ALL;
  if (*how == WALK_NONE) {
    *st = last_walk.st;
    st->elapsed_us = 0;
  } else {
    inode_set_fill(&want, dumped.v, dumped.n);
    bool some = *how == WALK_NEW_PROCESSES;
    touched.n = 0;
    scan(procfd, old, cur, track_start, false, &want, some ? &last_walk.list : NULL, some ? &touched : NULL, st);
    // Walking only new processes, the owner lines of sockets no walked or gone process held stand as sent: on a host
    // where a process starts every few seconds, the owners of its 100k other sockets are not looked up and compared
    // again at each refresh.
    if (some) inode_set_fill(&touched_set, touched.v, touched.n);
    if (!some || touched.n) {
      owners_build(&own, cur);
      for (size_t i = 0; i < dumped.n; i++)
        if (!some || inode_set_has(&touched_set, dumped.v[i])) out_owners(&own, cur, i);
    }
    // Only a `changes` answer's walk can stand for the next one: the owner lines it sent are what the reader holds.
    last_walk.valid = changes.on;
    last_walk.pids = pids;
    struct pid_list l = last_walk.list;
    last_walk.list = pids_now;
    pids_now = l;
    // Only a walk of every process restarts the clock of the periodic one (it sees what no list of pids can).
    if (*how == WALK_ALL) last_walk.at_ms = now_ms();
    last_walk.st = *st;
    // The sockets dumped then are `want`, already filled from this answer's dump: the sets trade places.
    struct inode_set w = last_walk.inodes;
    last_walk.inodes = want;
    want = w;
  }
  // Namespaces not asked for this time are forgotten: asked again, their section is complete.
  for (size_t k = known.n; changes.on && k-- > 0;)
    if (!known.v[k].visited) known_remove(k);
  return *how == WALK_NONE ? old : cur;
}

static int cmd_inventory(int argc, char **argv) {
  static char obuf[1 << 16];
  setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
  int procfd = open_proc();
  struct table old = {0}, cur = {0};
  struct stats st;
  unsigned long dumped;
  enum walk how;
  inventory(procfd, &old, &cur, false, argv, argc, &st, &dumped, &how);
  if (!out_finish()) return 1;
  printf("# pids=%lu denied=%lu sockets=%lu elapsed_us=%lld dumped=%lu\n", st.pids, st.denied, st.sockets,
         (long long)st.elapsed_us, dumped);
  return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_scan(void) {
  static char obuf[1 << 20]; // full buffering: tens of thousands of lines
  setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
  int procfd = open_proc();
  struct table old = {0}, cur = {0};
  struct stats st;
  scan(procfd, &old, &cur, false, true, NULL, NULL, NULL, &st);
  printf("# pids=%lu denied=%lu sockets=%lu elapsed_us=%lld\n", st.pids, st.denied, st.sockets,
         (long long)st.elapsed_us);
  return fflush(stdout) == 0 ? 0 : 1;
}

static bool print_sysctls(char **paths, int npaths);

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
      last_walk.valid = false;
      struct stats st;
      for (size_t i = 0; i < old->n; i++) old->v[i].seen = false;
      scan(procfd, old, cur, true, true, NULL, NULL, NULL, &st);
      print_gone(old);
      printf(". %lu pids=%lu denied=%lu sockets=%lu elapsed_us=%lld\n", ++seq, st.pids, st.denied, st.sockets,
             (long long)st.elapsed_us);
      struct table *t = old;
      old = cur;
      cur = t;
      table_index(old);
    } else if (!strncmp(line, "reread", 6) && (line[6] == ' ' || line[6] == 0)) {
      // One pass over the table for the whole list: a health checker's setsockopts come in hundreds a second,
      // and a pass per inode over 100k sockets cost ~50 ms of CPU a second.
      static struct inode_set asked;
      static uint64_t *inodes;
      static size_t ninodes, cap;
      ninodes = 0;
      char *save = NULL;
      for (char *tok = strtok_r(line + 6, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        uint64_t ino;
        if (!parse_u64(tok, tok + strlen(tok), &ino) || ino == 0) continue;
        GROW(inodes, ninodes, cap, 64);
        inodes[ninodes++] = ino;
      }
      inode_set_fill(&asked, inodes, ninodes);
      for (size_t i = 0; ninodes && i < old->n; i++)
        if (inode_set_has(&asked, old->v[i].inode)) rereads_pending = old->v[i].stale = true;
      printf("ok reread\n");
    } else if ((!strncmp(line, "inventory", 9) && (line[9] == '\t' || line[9] == 0)) ||
               (!strncmp(line, "changes", 7) && (line[7] == '\t' || line[7] == 0))) {
      // Paths are tab-separated: a namespace name may hold spaces. Options are read only for new/changed fds.
      changes.on = line[0] == 'c';
      char **paths = NULL;
      int npaths = 0;
      char *save = NULL;
      for (char *tok = strtok_r(line + (changes.on ? 7 : 9), "\t", &save); tok; tok = strtok_r(NULL, "\t", &save)) {
        paths = xrealloc(paths, (size_t)(npaths + 1) * sizeof *paths);
        paths[npaths++] = tok;
      }
      struct stats st;
      unsigned long dumped;
      enum walk how;
      bool walked = inventory(procfd, old, cur, true, paths, npaths, &st, &dumped, &how) == cur;
      changes.on = false;
      free(paths);
      if (!out_finish()) break; // the reader went away
      // walked: 0 = the last walk stands, 1 = every process, 2 = only processes new since the last walk (and those
      // holding a socket to re-read); still: namespaces not dumped (their counters did not move)
      printf(". %lu pids=%lu denied=%lu sockets=%lu elapsed_us=%lld dumped=%lu walked=%d still=%lu\n", ++seq,
             st.pids, st.denied, st.sockets, (long long)st.elapsed_us, dumped,
             how == WALK_NONE ? 0 : how == WALK_ALL ? 1 : 2, changes.still);
      if (walked) { // else `old` still holds the current sockets, indexed
        struct table *t = old;
        old = cur;
        cur = t;
        table_index(old);
      }
    } else if (!strncmp(line, "sysctl", 6) && (line[6] == '\t' || line[6] == 0)) {
      // As the `sysctl` command, without a process per refresh; `ok sysctl` ends the answer.
      char **paths = NULL;
      int npaths = 0;
      char *save = NULL;
      for (char *tok = strtok_r(line + 6, "\t", &save); tok; tok = strtok_r(NULL, "\t", &save)) {
        paths = xrealloc(paths, (size_t)(npaths + 1) * sizeof *paths);
        paths[npaths++] = tok;
      }
      bool back = print_sysctls(paths, npaths);
      free(paths);
      if (!back) exit(1); // in another namespace: every later answer would be wrong
      printf("ok sysctl\n");
    } else if (!strcmp(line, "forget")) {
      forget_known();
      last_walk.valid = false;
      printf("ok forget\n");
    } else if (!strcmp(line, "full")) {
      // The next answer reads everything again: every socket's options, and every namespace is dumped.
      old->n = 0;
      table_index(old);
      last_walk.valid = false;
      for (size_t i = 0; i < known.n; i++) known.v[i].counters = 0;
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

// Prints an N or E line per path; false when it could not come back to its own namespace (the caller must stop).
static bool print_sysctls(char **paths, int npaths) {
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    fprintf(stderr, "ka-sockinfo: /proc/self/ns/net: %s\n", strerror(errno));
    return false;
  }
  for (int i = 0; i < npaths; i++) {
    const char *path = paths[i];
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
      return false;
    }
  }
  close(self);
  return true;
}

static int cmd_sysctl(int argc, char **argv) {
  return print_sysctls(argv, argc) && fflush(stdout) == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------------------------
// tracepoint-events: bpftrace returns 1 from a (classic) tracepoint program so that perf tools see the event too.
// The kernel then also runs perf's sampling path (perf_tp_event) at each hit on the CPU the tracepoint's perf event
// is on (bpftrace opens it on CPU 0), for nobody: no one reads those events. Under connection churn that path cost
// about what the state-change program itself did. A disabled event leaves that CPU's list, and the path with it;
// the program stays attached to the tracepoint and runs at every hit, as before. Only events carrying tracepoint
// programs are touched (BEGIN/END are uprobes, the interval is a software event, the output buffers carry none).

/** The type of the first BPF program attached to a trace perf event, or -1 when it carries none (or is not one). */
static int attached_prog_type(int perf_fd) {
  struct {
    struct perf_event_query_bpf q;
    __u32 ids[8];
  } q = {.q = {.ids_len = 8}};
  if (ioctl(perf_fd, PERF_EVENT_IOC_QUERY_BPF, &q) != 0 && errno != ENOSPC) return -1; // EINVAL: not a trace event
  if (q.q.prog_cnt == 0) return -1;
  union bpf_attr a = {.prog_id = q.q.ids[0]};
  int prog = (int)syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &a, sizeof a);
  if (prog < 0) return -1;
  struct bpf_prog_info info = {0};
  union bpf_attr g = {.info = {.bpf_fd = (__u32)prog, .info_len = sizeof info, .info = (__u64)(uintptr_t)&info}};
  int r = (int)syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &g, sizeof g);
  close(prog);
  return r == 0 ? (int)info.type : -1;
}

/** `T fd count` per tracepoint perf event of process `pid` (its perf count: hits that went through perf's path),
 *  after switching its sampling off when `off`; then `. events=N`. */
static int cmd_tracepoint_events(const char *pidarg, bool off) {
  char *end;
  long pid = strtol(pidarg, &end, 10);
  if (*end || pid <= 0) {
    fprintf(stderr, "ka-sockinfo: tracepoint-events: %s is not a pid\n", pidarg);
    return 2;
  }
  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%ld/fd", pid);
  DIR *d = pidfd < 0 ? NULL : opendir(dir);
  if (!d) {
    printf("E %s\n", errname(errno));
    if (pidfd >= 0) close(pidfd);
    return 1;
  }
  int n = 0, failed = 0;
  for (struct dirent *e; (e = readdir(d));) {
    char link[64];
    ssize_t k = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
    if (k < 0) continue;
    link[k] = 0;
    if (strcmp(link, "anon_inode:[perf_event]") != 0) continue;
    int fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(e->d_name), 0);
    if (fd < 0) continue; // closed meanwhile
    if (attached_prog_type(fd) == BPF_PROG_TYPE_TRACEPOINT) {
      if (off && ioctl(fd, PERF_EVENT_IOC_DISABLE, 0) != 0) {
        printf("E %s %s\n", e->d_name, errname(errno));
        failed++;
      }
      uint64_t v[8] = {0}; // the count first, whatever else the event's read_format adds
      if (read(fd, v, sizeof v) < (ssize_t)sizeof v[0]) v[0] = 0;
      printf("T %s %llu\n", e->d_name, (unsigned long long)v[0]);
      n++;
    }
    close(fd); // the copy only: the event lives and dies with bpftrace's fd
  }
  closedir(d);
  close(pidfd);
  printf(". events=%d\n", n);
  return fflush(stdout) == 0 && failed == 0 ? 0 : 1;
}

static void usage(FILE *f) {
  fputs("Usage:\n"
        "  ka-sockinfo scan              one scan of every process's TCP socket fds\n"
        "  ka-sockinfo serve             incremental scans; stdin commands: scan | reread INODE... | full |\n"
        "                                inventory / changes / sysctl<TAB>NSPATH... | forget\n"
        "  ka-sockinfo sysctl NSPATH...  keepalive sysctls inside each network namespace (e.g. /proc/1/ns/net)\n"
        "  ka-sockinfo inventory NSPATH...  every TCP socket of each namespace (sock_diag), joined with owners\n"
        "                                and options; in serve: inventory<TAB>NSPATH<TAB>...\n"
        "  ka-sockinfo tracepoint-events PID [off]  the tracepoint perf events of bpftrace PID (T fd perf_count),\n"
        "                                with `off` after switching their perf sampling off (the programs still run)\n"
        "Lines: S pid fd inode keepalive idle intvl cnt user_timeout_ms linger_on linger_sec\n"
        "       U pid fd inode ERRNAME | - pid fd | # or . <seq>: pids= denied= sockets= elapsed_us=\n"
        "       N path netns_inode time intvl probes retries2 fin_timeout | E path ERRNAME\n"
        "inventory: @ header lines (version, field names), then per namespace `N index inode|-`, `C hexid path`,\n"
        "       `T <fields>` per socket, `E index ERRNAME` if it failed; then `O inode pid:fd,... opts` per owned\n"
        "       socket; then the # or . summary (with dumped=)\n"
        "changes (serve): the inventory's lines for what changed since the previous changes answer, headed\n"
        "       `@ka-sockinfo/changes`; `N index inode ms +|-` (its clock; + changes, - complete), `G hexcookie` gone,\n"
        "       `o inode` no owner any more; `forget` makes the next answer complete\n",
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
  if (argc >= 3 && !strcmp(argv[1], "inventory")) return cmd_inventory(argc - 2, argv + 2);
  if ((argc == 3 || (argc == 4 && !strcmp(argv[3], "off"))) && !strcmp(argv[1], "tracepoint-events"))
    return cmd_tracepoint_events(argv[2], argc == 4);
  fprintf(stderr, "ka-sockinfo: expected scan, serve, sysctl NSPATH..., inventory NSPATH... or tracepoint-events PID [off]; see --help\n");
  return 2;
}
