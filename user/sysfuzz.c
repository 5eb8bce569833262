// sysfuzz [-s SEED] [-n CALLS] [-l CALLS_PER_CHILD] [-q]: random sequences of
// every system call with hostile arguments, each sequence in a child
// process of its own, entering the kernel by sysenter and by int $64 in
// turn. The oracle: the kernel never panics, and once every child has
// exited, the free pages, open files, sockets, processes and network
// buffers are back at their counts from before (sysinfo). The seed is
// printed first: `sysfuzz -s SEED` replays the same calls.
//
// Calls that change the file system (unlink, rename, truncate, mkdir, rmdir,
// and open for writing) are aimed only at a closed set of names under
// SCRATCH, so that renames cannot reach anything else, and the scratch
// directory is emptied after each child; calls that only read take any path.

#include "kernel/types.h"
#include "kernel/syscall.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/fcntl.h"
#include "kernel/socket.h"
#include "kernel/sysinfo.h"
#include "kernel/memlayout.h"
#include "kernel/prof.h"
#include "user/user.h"
#include "user/net.h"
#include "kernel/prof.h"

#define WATCHDOG_TICKS 5       // a child still running after this is killed
#define REPORTFD (NOFILE - 1)  // a child writes a byte here before each call
#define SCRATCH "/tmp/sysfuzz"
#define SETTLE_TICKS   (45 * 100)   // longest wait for timers to give resources back

enum kind {
  K_NONE, K_INT, K_FD, K_RBUF, K_WBUF, K_LEN, K_PATH, K_FLAGS, K_PID, K_TICKS, K_SBRK,
  K_DOMAIN, K_TYPE, K_PROTO, K_ADDR, K_ADDRLEN, K_LENPTR, K_LEVEL, K_OPT, K_INDEX,
  K_IFNAME, K_IP, K_STRUCT, K_KPROF, K_MSG, K_WPATH, K_WHENCE,
  K_POLLFDS, K_NFDS, K_TIMEOUT, K_FCNTL, K_FFLAGS,
};

struct call {
  int num;
  const char *name;
  uchar args[6];
};

// Every system call but exit (a child ends with it anyway) and those that
// would end the fuzzer's own world (kill is aimed away from our parent).
static const struct call calls[] = {
  { SYS_fork, "fork", { K_NONE } },
  { SYS_wait, "wait", { K_WBUF } },
  { SYS_pipe, "pipe", { K_WBUF } },
  { SYS_read, "read", { K_FD, K_WBUF, K_LEN } },
  { SYS_kill, "kill", { K_PID } },
  { SYS_exec, "exec", { K_PATH, K_RBUF } },
  { SYS_fstat, "fstat", { K_FD, K_WBUF } },
  { SYS_chdir, "chdir", { K_PATH } },
  { SYS_dup, "dup", { K_FD } },
  { SYS_getpid, "getpid", { K_NONE } },
  { SYS_sbrk, "sbrk", { K_SBRK } },
  { SYS_sleep, "sleep", { K_TICKS } },
  { SYS_uptime, "uptime", { K_NONE } },
  { SYS_open, "open", { K_PATH, K_FLAGS } },
  { SYS_write, "write", { K_FD, K_RBUF, K_LEN } },
  { SYS_close, "close", { K_FD } },
  { SYS_getppid, "getppid", { K_NONE } },
  { SYS_socket, "socket", { K_DOMAIN, K_TYPE, K_PROTO } },
  { SYS_bind, "bind", { K_FD, K_ADDR, K_ADDRLEN } },
  { SYS_sendto, "sendto", { K_FD, K_RBUF, K_LEN, K_MSG, K_ADDR, K_ADDRLEN } },
  { SYS_recvfrom, "recvfrom", { K_FD, K_WBUF, K_LEN, K_MSG, K_WBUF, K_LENPTR } },
  { SYS_setsockopt, "setsockopt", { K_FD, K_LEVEL, K_OPT, K_RBUF, K_LEN } },
  { SYS_netifget, "netifget", { K_INDEX, K_WBUF } },
  { SYS_netstat, "netstat", { K_WBUF } },
  { SYS_netifset, "netifset", { K_IFNAME, K_STRUCT } },
  { SYS_create_arp, "create_arp", { K_IFNAME, K_IP, K_WBUF, K_TICKS } },
  { SYS_arplist, "arplist", { K_INDEX, K_WBUF } },
  { SYS_arpset, "arpset", { K_STRUCT } },
  { SYS_arpdel, "arpdel", { K_IP, K_IFNAME } },
  { SYS_clock, "clock", { K_WBUF } },
  { SYS_connect, "connect", { K_FD, K_ADDR, K_ADDRLEN } },
  { SYS_getsockname, "getsockname", { K_FD, K_WBUF, K_LENPTR } },
  { SYS_getsockopt, "getsockopt", { K_FD, K_LEVEL, K_OPT, K_WBUF, K_LENPTR } },
  { SYS_routelist, "routelist", { K_INDEX, K_WBUF } },
  { SYS_routeadd, "routeadd", { K_STRUCT } },
  { SYS_routedel, "routedel", { K_STRUCT } },
  { SYS_socklist, "socklist", { K_INDEX, K_WBUF } },
  { SYS_kprof, "kprof", { K_KPROF, K_INT, K_INT } },
  { SYS_sysinfo, "sysinfo", { K_WBUF } },
  { SYS_unlink, "unlink", { K_WPATH } },
  { SYS_mkdir, "mkdir", { K_WPATH, K_INT } },
  { SYS_rmdir, "rmdir", { K_WPATH } },
  { SYS_rename, "rename", { K_WPATH, K_WPATH } },
  { SYS_ftruncate, "ftruncate", { K_FD, K_LEN } },
  { SYS_truncate, "truncate", { K_WPATH, K_LEN } },
  { SYS_lseek, "lseek", { K_FD, K_INT, K_WHENCE } },
  { SYS_statfs, "statfs", { K_PATH, K_WBUF } },
  { SYS_getrandom, "getrandom", { K_WBUF, K_LEN, K_INT } },
  { SYS_poll, "poll", { K_POLLFDS, K_NFDS, K_TIMEOUT } },
  { SYS_fcntl, "fcntl", { K_FD, K_FCNTL, K_FFLAGS } },
  { SYS_listen, "listen", { K_FD, K_INT } },
  { SYS_accept, "accept", { K_FD, K_WBUF, K_LENPTR } },
  { SYS_shutdown, "shutdown", { K_FD, K_INT } },
  { SYS_getpeername, "getpeername", { K_FD, K_WBUF, K_LENPTR } },
  { SYS_tcplist, "tcplist", { K_INDEX, K_WBUF } },
  { SYS_lockstat, "lockstat", { K_WBUF, K_INDEX } },
  { SYS_lockorder, "lockorder", { K_WBUF, K_INDEX } },
  { SYS_nettrace, "nettrace", { K_INT } },
  { SYS_nettraceread, "nettraceread", { K_WBUF, K_LEN } },
  // Names are paths here, never a real setting's (those would change the
  // machine under the tests that follow): the name's copy-in is what is fuzzed.
  { SYS_sysctl, "sysctl", { K_PATH, K_WBUF, K_RBUF } },
  { SYS_sysctlname, "sysctlname", { K_INDEX, K_WBUF, K_LEN } },
  { -1, "unknown", { K_INT, K_INT, K_INT, K_INT, K_INT, K_INT } },
};

int main(int argc, char **argv);

static uint rng;
static char *page;          // a page of our own, read/write, with an unmapped page after it
static char *brkend;        // the break just after it

static uint
rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static uint
pick(const uint *values, int n)
{
  return values[rnd() % n];
}
#define PICK(array) pick(array, sizeof(array) / sizeof(array[0]))

// Hostile and friendly pointers: null, the first page, straddling the end
// of our memory, unmapped, the kernel's half, read-only text, and good ones.
static uint
pointer(int writable)
{
  uint bad[] = { 0, 1, 0xFFF, (uint)page + 4096 - 2, (uint)page + 4096, 0x40000000,
                 KERNBASE, KERNBASE + 0x100000, 0xFFFFF000, 0xFFFFFFFF };
  switch (rnd() % 4) {
  case 0:
    return PICK(bad);
  case 1:
    if (!writable)
      return (uint)pointer;      // our text: readable, not writable
    return (uint)main;           // our text: writing there must fail cleanly
  default:
    return (uint)page + (rnd() % 64) * 8;
  }
}

static const char *paths[] = {
  "/", "/bin", "/bin/echo", "/bin/nonexistent", "", "/dev/null", ".", "..", "/bin/../bin/ls",
  "/etc", "////", "/bin/ls/x",
};

// The scratch names, deepest first (the order cleanup removes them in).
static const char *scratch[] = {
  SCRATCH "/d/d", SCRATCH "/d/a", SCRATCH "/a", SCRATCH "/b", SCRATCH "/d",
};

// A path to change: a scratch name, the root, or a bad one. Bad means one
// that cannot be read: a good pointer would name a file made of whatever
// bytes are there (our text, or what the last call left in our page),
// created outside the scratch set and never removed (a leak that is ours).
static uint
wpath(void)
{
  switch (rnd() % 8) {
  case 0: {
    uint p = pointer(0);
    if (p == (uint)page + 4096 - 2)
      memset(page + 4096 - 2, 'a', 2);   // no NUL before the unmapped page
    else if (p == (uint)pointer || (p >= (uint)page && p < (uint)page + 4096))
      p = 0;
    return p;
  }
  case 1:
    return (uint)"/";
  case 2:
    return (uint)"";
  default:
    return (uint)scratch[rnd() % (sizeof scratch / sizeof scratch[0])];
  }
}

static uint
path(void)
{
  switch (rnd() % 5) {
  case 0:
    return pointer(0);
  case 1: {                      // no NUL before the end of our memory
    memset(page + 4096 - 64, 'a', 64);
    return (uint)page + 4096 - 64;
  }
  default:
    return (uint)paths[rnd() % (sizeof paths / sizeof paths[0])];
  }
}

// A socket address of either family, valid or not, in our page.
static uint
sockaddr(void)
{
  if (rnd() % 5 == 0)
    return pointer(0);
  char *p = page + 1024;
  if (rnd() % 2) {
    struct sockaddr_in *sin = (struct sockaddr_in *)p;
    uint addrs[] = { 0, 0x0100007f, 0x0200007f, 0xFFFFFFFF, 0x0202000a, 0x0f02000a,
                     0x010000e0, rnd() };
    memset(sin, 0, sizeof *sin);
    sin->sin_family = rnd() % 8 ? AF_INET : rnd();
    sin->sin_port = rnd() % 4 ? htons(9000 + rnd() % 8) : rnd();
    sin->sin_addr = PICK(addrs);
  } else {
    struct sockaddr_ll *sll = (struct sockaddr_ll *)p;
    memset(sll, 0, sizeof *sll);
    sll->sll_family = rnd() % 8 ? AF_PACKET : rnd();
    sll->sll_protocol = rnd() % 2 ? htons(ETH_P_TEST) : rnd();
    sll->sll_ifindex = rnd() % 5 - 1;
  }
  return (uint)p;
}

// A structure argument (netif_conf, arpreq, rtentry): random bytes, names
// that exist or not.
static uint
structure(void)
{
  if (rnd() % 5 == 0)
    return pointer(0);
  char *p = page + 2048;
  for (int i = 0; i < 64; i += 4)
    *(uint *)(p + i) = rnd();
  const char *names[] = { "eth0", "lo", "eth9", "" };
  if (rnd() % 2)
    strcpy(p + 12 + (rnd() % 2) * 4, names[rnd() % 4]);
  return (uint)p;
}

// A pollfd array: a hostile pointer, or entries at the end of our page
// (a long array runs into the unmapped page after it) naming our
// descriptors, closed or bad ones, with any events.
static uint
pollfds(int *fds, int nfds)
{
  if (rnd() % 5 == 0)
    return pointer(1);
  int n = 1 + rnd() % 128;
  struct pollfd *p = (struct pollfd *)(page + 4096) - n;
  int bad[] = { -1, NOFILE, 0x7FFFFFFF, (int)0x80000000, NOFILE - 2 };
  for (int i = 0; i < n; i++) {
    p[i].fd = rnd() % 4 ? fds[rnd() % nfds] : bad[rnd() % 5];
    p[i].events = rnd() % 2 ? (POLLIN | POLLOUT) : rnd();
    p[i].revents = rnd();
  }
  return (uint)p;
}

static uint
argument(int kind, int *fds, int nfds)
{
  uint lens[] = { 0, 1, 7, 8, 16, 28, 64, 1500, 4096, 4097, 16384, 65536, 0x7FFFFFFF,
                  0xFFFFFFFF, 0x80000000, 0xFFFFF000 };
  uint ints[] = { 0, 1, 2, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 255, 65536 };
  switch (kind) {
  case K_NONE:
    return 0;
  case K_FD: {
    uint bad[] = { 0xFFFFFFFF, NOFILE, 1000, 0x7FFFFFFF };
    return rnd() % 6 == 0 ? PICK(bad) : (uint)fds[rnd() % nfds];
  }
  case K_RBUF:
    return pointer(0);
  case K_WBUF:
    return pointer(1);
  case K_LEN:
  case K_ADDRLEN:
    return rnd() % 3 ? rnd() % 40 : PICK(lens);
  case K_PATH:
    return path();
  case K_FLAGS: {
    uint flags[] = { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT | O_RDWR, O_TRUNC | O_WRONLY,
                     O_APPEND | O_WRONLY, O_CREAT | O_EXCL | O_WRONLY, 0xFFFFFFFF };
    return PICK(flags);
  }
  case K_WPATH:
    return wpath();
  case K_WHENCE:
    return rnd() % 4 ? rnd() % 3 : PICK(ints);
  case K_PID: {
    uint pids[] = { 0, 0xFFFFFFFF, 0x7FFFFFFF, 30000 + rnd() % 1000 };
    return rnd() % 8 == 0 ? (uint)getpid() : PICK(pids);
  }
  case K_TICKS: {
    uint ticks[] = { 0, 1, 2, 0xFFFFFFFF, 0x7FFFFFFF, 1000 };
    return PICK(ticks);
  }
  case K_SBRK: {
    uint incr[] = { 0, 4096, 1, 0xFFFFF000, 0x40000000, 0x80000000, 0xC0000000, 65536 };
    return PICK(incr);
  }
  case K_DOMAIN: {
    uint d[] = { AF_INET, AF_PACKET, 0, 99, 0xFFFFFFFF };
    return PICK(d);
  }
  case K_TYPE: {
    uint t[] = { SOCK_DGRAM, SOCK_RAW, SOCK_STREAM, 0, 99, SOCK_DGRAM | SOCK_NONBLOCK,
                 SOCK_RAW | SOCK_NONBLOCK, 0xFFFFFFFF };
    return PICK(t);
  }
  case K_PROTO: {
    uint p[] = { 0, IPPROTO_ICMP, IPPROTO_UDP, IPPROTO_TCP, htons(ETH_P_ALL), htons(ETH_P_TEST),
                 255, 0xFFFFFFFF };
    return PICK(p);
  }
  case K_ADDR:
    return rnd() % 6 == 0 ? 0 : sockaddr();
  case K_LENPTR: {
    if (rnd() % 4 == 0)
      return pointer(1);
    int *lp = (int *)(page + 3072);
    *lp = rnd() % 3 ? 16 : (int)PICK(lens);
    return (uint)lp;
  }
  case K_LEVEL: {
    uint l[] = { SOL_SOCKET, IPPROTO_TCP, 0, 0xFFFFFFFF };
    return PICK(l);
  }
  case K_OPT: {
    uint o[] = { SO_RCVTIMEO, SO_BROADCAST, SO_ERROR, SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER,
                 SO_SNDBUF, SO_RCVBUF, TCP_NODELAY, 0, 99 };
    return PICK(o);
  }
  case K_INDEX: {
    uint i[] = { 0, 1, 2, 3, 9, 0xFFFFFFFF, 0x7FFFFFFF };
    return PICK(i);
  }
  case K_IFNAME: {
    const char *names[] = { "eth0", "lo", "eth9", "" };
    return rnd() % 4 == 0 ? pointer(0) : (uint)names[rnd() % 4];
  }
  case K_IP: {
    uint ips[] = { 0, 0x0100007f, 0x0202000a, 0xFFFFFFFF, rnd() };
    return PICK(ips);
  }
  case K_STRUCT:
    return structure();
  case K_KPROF:
    return rnd() % 4;
  case K_MSG:
    return rnd() % 4 ? MSG_DONTWAIT | (rnd() % 2 ? MSG_PEEK : 0) : PICK(ints);
  case K_POLLFDS:
    return pollfds(fds, nfds);
  case K_NFDS: {
    uint n[] = { 0, 1, 2, 16, 127, 128, 129, POLL_MAXFDS, POLL_MAXFDS + 1, 0xFFFFFFFF,
                 0x7FFFFFFF, 0x20000000, 0x20000001 };   // the last two: nfds * 8 wraps
    return PICK(n);
  }
  case K_TIMEOUT: {
    uint t[] = { 0, 0, 0, 1, 10, 30, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFE };
    return PICK(t);
  }
  case K_FCNTL: {
    uint c[] = { F_GETFL, F_SETFL, F_SETFL, 0, 1, 2, 5, 1024, 0xFFFFFFFF };
    return PICK(c);
  }
  case K_FFLAGS: {
    uint f[] = { 0, O_NONBLOCK, O_APPEND, O_NONBLOCK | O_APPEND, O_RDWR, 0xFFFFFFFF };
    return rnd() % 5 ? PICK(f) : rnd();
  }
  default:
    return rnd() % 2 ? PICK(ints) : rnd();
  }
}

// TCP descriptors: a listener on 127.0.0.1:9000 (a port the fuzzed
// addresses name), a connection to it, and the accepted end. Returns how
// many it added to fds. The connection is non-blocking and given 10 ms
// (a fifth of the watchdog's time): an earlier child may have taken lo
// down (it is put back at the end), and then it never comes.
static int
tcpfds(int *fds)
{
  struct sockaddr_in a = { AF_INET, htons(9000), 0x0100007f, { 0 } };
  int n = 0, l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
  if (l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 4) == 0)
    fds[n++] = l;
  if (c < 0)
    return n;
  fds[n++] = c;
  fcntl(c, F_SETFL, O_NONBLOCK);
  connect(c, (struct sockaddr *)&a, sizeof a);
  struct pollfd p = { l, POLLIN, 0 };
  if (l >= 0 && poll(&p, 1, 10) == 1) {
    int s = accept(l, 0, 0);
    if (s >= 0)
      fds[n++] = s;
  }
  return n;
}

// Some descriptors to aim at: the three standard ones (on /dev/null), a
// pipe, sockets of each kind, a directory and a file.
static int
openfds(int *fds)
{
  int n = 0, p[2];
  for (int i = 0; i < 3; i++)
    fds[n++] = i;
  if (pipe(p) == 0) {
    fds[n++] = p[0];
    fds[n++] = p[1];
  }
  int kinds[][3] = { { AF_INET, SOCK_DGRAM, 0 }, { AF_INET, SOCK_RAW, IPPROTO_ICMP },
                     { AF_PACKET, SOCK_RAW, htons(ETH_P_TEST) } };
  for (int i = 0; i < 3; i++)
    if ((fds[n] = socket(kinds[i][0], kinds[i][1], kinds[i][2])) >= 0)
      n++;
  n += tcpfds(fds + n);
  if ((fds[n] = open("/", O_RDONLY)) >= 0)
    n++;
  if ((fds[n] = open("/bin/echo", O_RDONLY)) >= 0)
    n++;
  if ((fds[n] = open(SCRATCH "/a", O_CREAT | O_RDWR)) >= 0)
    n++;
  return n;
}

// A page of our own with nothing mapped after it (the heap's end).
static void
ownpage(void)
{
  char *brk = sbrk(0);
  uint pad = (4096 - ((uint)brk & 4095)) & 4095;
  page = sbrk(pad + 4096) + pad;
  brkend = page + 4096;
}

static void
child(uint seed, int ncalls, int report)
{
  int fds[16];
  rng = seed ? seed : 1;
  int fill[NOFILE], nfill = 0, fd;
  while ((fd = dup(report)) >= 0 && fd < REPORTFD)   // dup takes the lowest free one
    fill[nfill++] = fd;
  if (fd != REPORTFD)
    exit(1);
  for (int i = 0; i < nfill; i++)
    close(fill[i]);
  close(report);
  for (int fd = 0; fd < 3; fd++) {   // nothing blocks on or writes to the console
    close(fd);
    open("/dev/null", O_RDWR);
  }
  ownpage();
  int nfds = openfds(fds);
  for (int i = 0; i < ncalls; i++) {
    const struct call *c = &calls[rnd() % (sizeof calls / sizeof calls[0])];
    uint a[6];
    for (int j = 0; j < 6; j++)
      a[j] = argument(c->args[j], fds, nfds);
    int num = c->num >= 0 ? c->num : (int)(rnd() % 200);
    if (num == SYS_exit || num == SYS_kill)
      num = c->num == SYS_kill ? num : SYS_getpid;
    if ((num == SYS_close || num == SYS_dup || num == SYS_fcntl) && a[0] == REPORTFD)
      a[0] = 0xFFFFFFFF;               // the report pipe is not a target
    if (num == SYS_open && (a[1] & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)))
      a[0] = wpath();                  // only scratch files are opened to be changed
    write(REPORTFD, "", 1);
    int r = (i & 1) ? rawsyscall_int(num, a[0], a[1], a[2], a[3], a[4], a[5])
                    : rawsyscall(num, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (num == SYS_fork && r == 0)
      exit(0);                       // a grandchild has no sequence of its own
    if (num == SYS_sbrk)             // our page back where it was, for the next call
      sbrk(brkend - sbrk(0));
  }
  exit(0);
}

// One child with a watchdog that kills it if it is still running (asleep
// in a blocking call) after WATCHDOG_TICKS. Returns how many calls the child
// made: it writes a byte to a pipe before each, which we read until every
// holder of the pipe's write end is gone.
static int
runchild(uint seed, int ncalls)
{
  int report[2];
  if (pipe(report) < 0) {
    fprintf(2, "sysfuzz: pipe: %s\n", strerror(errno));
    exit(1);
  }
  int pid = fork();
  if (pid == 0) {
    close(report[0]);
    child(seed, ncalls, report[1]);
  }
  close(report[1]);
  if (pid < 0) {
    fprintf(2, "sysfuzz: fork: %s\n", strerror(errno));
    exit(1);
  }
  int dog = fork();
  if (dog == 0) {
    close(report[0]);
    sleep(WATCHDOG_TICKS);
    kill(pid, SIGKILL);
    exit(0);
  }
  int made = 0, n;
  char buf[64];
  while ((n = read(report[0], buf, sizeof buf)) > 0)
    made += n;
  close(report[0]);
  if (dog > 0)
    kill(dog, SIGKILL);
  int done;
  while ((done = wait(0)) >= 0)   // the child, the watchdog, and nothing else of ours
    ;
  return made;
}

// Empty the scratch directory: whatever the calls made of it, only its
// closed set of names can be there.
static void
cleanscratch(void)
{
  for (uint i = 0; i < sizeof scratch / sizeof scratch[0]; i++)
    if (unlink(scratch[i]) < 0)
      rmdir(scratch[i]);
}

static int
same(const struct sysinfo *a, const struct sysinfo *b)
{
  return a->freepages + a->kstackpages == b->freepages + b->kstackpages && a->files == b->files && a->sockets == b->sockets &&
         a->procs == b->procs && a->pbuf_free == b->pbuf_free &&
         a->bigpbuf_free == b->bigpbuf_free && a->shortpbuf_free == b->shortpbuf_free;
}

// The kernel's pages in use by allocation site (kprof KPROF_PAGES), so that
// a leak names where its pages were taken.
struct sites {
  int n;
  struct kprof_pages s[KPROF_MAXSITES];
};

static void
sitesget(struct sites *t)
{
  t->n = kprof(KPROF_PAGES, (int)t->s, KPROF_MAXSITES);
  if (t->n < 0)
    t->n = 0;
}

static uint
sitepages(const struct sites *t, uint pc)
{
  for (int i = 0; i < t->n; i++)
    if (t->s[i].pc == pc)
      return t->s[i].pages;
  return 0;
}

// One line per site whose count changed: "pages held by kernel pc PC: A -> B".
static void
sitesdiff(const struct sites *a, const struct sites *b)
{
  for (int i = 0; i < a->n; i++)
    if (sitepages(b, a->s[i].pc) != a->s[i].pages)
      printf("sysfuzz: pages held by kernel pc 0x%x: %u -> %u\n", a->s[i].pc, a->s[i].pages,
             sitepages(b, a->s[i].pc));
  for (int i = 0; i < b->n; i++)
    if (sitepages(a, b->s[i].pc) == 0)
      printf("sysfuzz: pages held by kernel pc 0x%x: 0 -> %u\n", b->s[i].pc, b->s[i].pages);
}

static struct sites sitesbefore, sitesafter;

static void
show(const char *what, const struct sysinfo *s)
{
  printf("sysfuzz: %s: free pages %u (+%u in kernel stacks), files %u, sockets %u, processes %u, buffers %u/%u, "
         "big %u/%u, short %u/%u\n", what, s->freepages, s->kstackpages, s->files, s->sockets, s->procs,
         s->pbuf_free, s->pbuf_total, s->bigpbuf_free, s->bigpbuf_total, s->shortpbuf_free,
         s->shortpbuf_total);
}

// The interfaces' and routes' configuration: the calls may change it (an
// address on lo, eth0 down, a route deleted) as root may, and the programs
// run after us need it back.
#define MAXNETIFS 8
#define MAXROUTES 32
struct netconf {
  int nifs, nroutes;
  struct netif_info ifs[MAXNETIFS];
  struct rtentry routes[MAXROUTES];
};

static void
netsave(struct netconf *c)
{
  c->nifs = 0;
  while (c->nifs < MAXNETIFS && netifget(c->nifs + 1, &c->ifs[c->nifs]) == 0)
    c->nifs++;
  c->nroutes = 0;
  while (c->nroutes < MAXROUTES && routelist(c->nroutes, &c->routes[c->nroutes]) == 0)
    c->nroutes++;
}

static void
netrestore(const struct netconf *saved)
{
  struct netconf now;
  netsave(&now);
  for (int i = 0; i < now.nroutes; i++)
    routedel(&now.routes[i]);
  for (int i = 0; i < saved->nifs; i++) {
    const struct netif_info *ifi = &saved->ifs[i];
    struct netif_conf conf = { .ipaddr = ifi->ipaddr, .netmask = ifi->netmask, .mtu = ifi->mtu };
    uint sets[] = { NETIF_SET_MTU, NETIF_SET_ADDR,
                    (ifi->flags & IFF_PROMISC) ? NETIF_SET_PROMISC : NETIF_SET_NOPROMISC,
                    (ifi->flags & IFF_UP) ? NETIF_SET_UP : NETIF_SET_DOWN };
    const struct netif_info *cur = i < now.nifs ? &now.ifs[i] : 0;
    if (cur && cur->mtu == ifi->mtu)
      sets[0] = 0;                  // lo's own MTU is more than netifset takes
    for (int j = 0; j < (int)(sizeof sets / sizeof sets[0]); j++) {   // one at a time: a refusal spoils no other
      conf.set = sets[j];
      if (conf.set && netifset(ifi->name, &conf) < 0 &&
          !(sets[j] == NETIF_SET_ADDR && ifi->ipaddr == 0))
        fprintf(2, "sysfuzz: restoring %s (set %x): %s\n", ifi->name, sets[j], strerror(errno));
    }
  }
  for (int i = 0; i < saved->nroutes; i++)
    routeadd(&saved->routes[i]);   // the connected ones are back already: EEXIST
}

static const char usage[] =
  "usage: sysfuzz [-s SEED] [-n CALLS] [-l CALLS_PER_CHILD] [-q]\n"
  "  random system calls with hostile arguments, in children under a watchdog;\n"
  "  then checks that every page, file, socket and process came back\n"
  "  -s SEED   the sequence's seed (default: from the clock)\n"
  "  -n CALLS  calls in all, 1 to 100000000 (default 10000)\n"
  "  -l CALLS  calls per child, 1 to 100000 (default 128)\n"
  "  -q        no progress lines\n";

int
main(int argc, char **argv)
{
  uint seed = uptime() * 2654435761u + 1;
  int total = 10000, perchild = 128, quiet = 0, c;
  argsinit("sysfuzz", usage);
  while ((c = getopt(argc, argv, "s:n:l:q")) != -1) {
    if (c == 's')
      seed = argnum("-s", "seed", optarg, 0, 0x7fffffff);
    else if (c == 'n')
      total = argnum("-n", "calls", optarg, 1, 100000000);
    else if (c == 'l')
      perchild = argnum("-l", "calls per child", optarg, 1, 100000);
    else
      quiet = 1;
  }
  if (optind < argc)
    argextra(argv[optind]);
  struct netconf net;
  netsave(&net);
  printf("sysfuzz: seed %u, %d calls, %d per child\n", seed, total, perchild);
  struct sysinfo before, after;
  if (mkdir(SCRATCH, 0755) < 0 && errno != EEXIST) {
    fprintf(2, "sysfuzz: mkdir %s: %s\n", SCRATCH, strerror(errno));
    exit(1);
  }
  cleanscratch();
  sysinfo(&before);
  sitesget(&sitesbefore);
  int children = 0, done = 0;
  while (done < total) {
    int n = total - done < perchild ? total - done : perchild;
    done += runchild(seed + children * 0x9E3779B9u, n);
    cleanscratch();
    children++;
    if (!quiet && children % 200 == 0)
      printf("sysfuzz: %d calls in %d children\n", done, children);
  }
  netrestore(&net);
  int start = uptime();
  do {
    sysinfo(&after);
    if (same(&before, &after))
      break;
    sleep(10);
  } while (uptime() - start < SETTLE_TICKS);
  kprof(KPROF_STOP, 0, 0);   // a child may have started the profiler
  printf("sysfuzz: %d calls made in %d children, half by int $64\n", done, children);
  show("before", &before);
  show("after", &after);
  if (!same(&before, &after)) {
    sitesget(&sitesafter);
    sitesdiff(&sitesbefore, &sitesafter);
    printf("sysfuzz: FAILED: resources not returned (seed %u)\n", seed);
    exit(1);
  }
  if (rmdir(SCRATCH) < 0) {   // a name made outside the scratch set would be a leak of ours
    printf("sysfuzz: FAILED: cannot remove %s: %s\n", SCRATCH, strerror(errno));
    exit(1);
  }
  printf("sysfuzz: no leaks\n");
  exit(0);
}
