// The host's side of the network stack's seam (kernel/net/netos.h): one
// thread, a fake clock that the test advances, user memory that is the
// host's own (a "user address" is a host pointer; the first page and one
// reserved unmapped page fault), and checks that turn misuse into a panic
// (a lock taken twice or released unheld, a sleep that nothing could end).
//
// Built with -m32 like the kernel, so uint is the width of a pointer.

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kernel/net/netos.h"
#include "tests/host/host.h"

uint ticks;

static char cmdline[512];
static char console[65536];
static uint consolelen;
static int locksheld;
static void *woken;
static int interrupted;
static uchar *badpage;

// ---- strings: the C library has the rest under the same names ----

char *
safestrcpy(char *dst, const char *src, int n)
{
  if (n <= 0)
    return dst;
  strncpy(dst, src, n - 1);
  dst[n - 1] = 0;
  return dst;
}

// ---- console ----

void
cprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int room = sizeof console - consolelen;
  int n = vsnprintf(console + consolelen, room, fmt, ap);
  va_end(ap);
  if (n > 0)
    consolelen += n < room ? n : room - 1;
  if (getenv("HOST_VERBOSE")) {
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
  }
}

void
panic(const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "\nkernel panic: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  abort();   // a crash to libFuzzer, a failure to the test runner
}

const char *
host_console(void)
{
  return console;
}

void
host_console_clear(void)
{
  consolelen = 0;
  console[0] = 0;
}

// ---- locks: one thread, so a lock is either free or ours ----

void
initlock(struct spinlock *lk, char *name)
{
  lk->locked = 0;
  lk->name = name;
  lk->cpu = 0;
}

void
acquire(struct spinlock *lk)
{
  if (lk->locked)
    panic("acquire: %s already held (a deadlock on one CPU)", lk->name);
  lk->locked = 1;
  locksheld++;
}

void
release(struct spinlock *lk)
{
  if (!lk->locked)
    panic("release: %s not held", lk->name);
  lk->locked = 0;
  locksheld--;
}

int
holding(struct spinlock *lk)
{
  return lk->locked;
}

int
host_locks_held(void)
{
  return locksheld;
}

// ---- sleep and wakeup ----

// Nothing else runs, so the only things that can end a sleep are the clock
// reaching the deadline and a wakeup by the timers it runs.
void
sleepdeadline(void *chan, struct spinlock *lk, uint deadline)
{
  if (deadline == 0)
    panic("sleep on %p with no deadline: nothing on the host could end it", chan);
  woken = 0;
  release(lk);
  while ((int)(ticks - deadline) < 0 && woken != chan)
    host_advance(1);
  acquire(lk);
}

void
wakeup(void *chan)
{
  woken = chan;
}

// The poller would look again; tests count the calls (host_pollwakes).
static int pollwakes;

void
pollwakeup(void)
{
  pollwakes++;
}

int
host_pollwakes(void)
{
  return pollwakes;
}

int
net_interrupted(void)
{
  return interrupted;
}

void
host_set_interrupted(int on)
{
  interrupted = on;
}

int
net_pid(void)
{
  return 1;
}

int
net_cpu(void)
{
  return 0;
}

// ---- user memory ----

// A host address that faults like an unmapped user address does.
uint
host_badaddr(void)
{
  if (badpage == 0) {
    badpage = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (badpage == MAP_FAILED)
      panic("host_badaddr: mmap failed");
  }
  return (uint)badpage;
}

int
net_useraccessible(uint uva, uint n, int write)
{
  (void)write;
  uint end = uva + n;
  if (end < uva || uva < 4096)
    return 0;
  uint bad = badpage ? (uint)badpage : 0;
  return !(bad && uva < bad + 4096 && end > bad);
}

int
net_copyin(void *dst, uint usrc, uint n)
{
  if (!net_useraccessible(usrc, n, 0))
    return -EFAULT;
  memmove(dst, (const void *)usrc, n);
  return 0;
}

int
net_copyout(uint udst, const void *src, uint n)
{
  if (!net_useraccessible(udst, n, 1))
    return -EFAULT;
  memmove((void *)udst, src, n);
  return 0;
}

// ---- memory ----

static int pagesinuse;   // kalloc'd and not yet freed: tests check that orphans give pages back

char *
kalloc(void)
{
  char *p = aligned_alloc(NET_PAGESIZE, NET_PAGESIZE);
  pagesinuse += p != 0;
  return p;
}

void
kfree(char *page)
{
  pagesinuse--;
  free(page);
}

int
host_pages_inuse(void)
{
  return pagesinuse;
}

// Deterministic on the host: a test is the same run after run (TCP's ISN
// key; tests that need exact ISNs set tcp.isn=).
void
random_get(void *buf, uint n)
{
  static uint x = 0x12345678;
  uchar *p = buf;
  for (uint i = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    p[i] = x >> 16;
  }
}

// ---- the receive thread: the test runs netrx_work itself ----

void
net_thread(const char *name, void (*fn)(void *), void *arg)
{
  (void)fn;
  (void)arg;
  panic("net_thread(%s): no threads on the host", name);
}

void
net_preempt(void)
{
}

void
net_yield(void)
{
}

int
net_intrson(void)
{
  return 1;
}

// ---- boot parameters ----

void
host_set_cmdline(const char *line)
{
  snprintf(cmdline, sizeof cmdline, "%s", line ? line : "");
}

int
cmdlineget(const char *key, char *val, int max)
{
  uint klen = strlen(key);
  const char *p = cmdline;

  while (*p) {
    while (*p == ' ')
      p++;
    const char *word = p;
    while (*p && *p != ' ')
      p++;
    if (strncmp(word, key, klen) == 0 && (word[klen] == '=' || word + klen == p)) {
      const char *v = word[klen] == '=' ? word + klen + 1 : word + klen;
      int n = p - v < max - 1 ? p - v : max - 1;
      if (max > 0) {
        memmove(val, v, n);
        val[n] = 0;
      }
      return 1;
    }
  }
  return 0;
}
