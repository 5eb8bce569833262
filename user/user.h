// The user-space interface: system call stubs (user/lib/usys.S) and the
// small C library (user/lib/*.c) that every program is linked with.
#ifndef XV6NET_USER_H
#define XV6NET_USER_H
#include "kernel/types.h"
#include "kernel/signal.h"
#include "kernel/poll.h"
#include "kernel/fcntl.h"

struct stat;
struct statfs;

// ---- system calls (user/lib/usys.S) ---------------------------------------
// Each returns -1 and sets errno on failure, unless noted.
int   fork(void);
void  exit(int status) __attribute__((noreturn));
int   wait(int *status);            // status may be 0; see waitpid
int   pipe(int fd[2]);
int   read(int fd, void *buf, int n);
int   write(int fd, const void *buf, int n);
int   close(int fd);
int   kill(int pid, int sig);       // as Linux's: pid < 0 is a process group
int   exec(const char *path, char **argv);
int   open(const char *path, int flags);
int   fstat(int fd, struct stat *st);
int   chdir(const char *path);
int   dup(int fd);
int   getpid(void);
int   getppid(void);
char *sbrk(int n);                  // old break, or (char *)-1
int   sleep(int ticks);             // HZ (100) ticks per second
int   uptime(void);                 // ticks since boot
int   kprof(int cmd, int arg, int max);   // the sampling profiler (kernel/prof.h)
int   unlink(const char *path);
int   mkdir(const char *path, int mode);  // mode is ignored: no permissions
int   rmdir(const char *path);
int   rename(const char *from, const char *to);
int   ftruncate(int fd, int length);
int   truncate(const char *path, int length);
int   lseek(int fd, int offset, int whence);   // SEEK_SET, SEEK_CUR, SEEK_END
int   statfs(const char *path, struct statfs *sf);
int   getrandom(void *buf, int len, int flags);   // fills buf, returns len
struct sysinfo;
int   sysinfo(struct sysinfo *info);      // resources in use (kernel/sysinfo.h)
// Waits until one of fds is ready (POLLIN, POLLOUT; POLLERR, POLLHUP and
// POLLNVAL are reported unasked), timeout_ms passes (-1: never; 0: only
// look) or a signal comes (EINTR). Returns how many entries have revents.
int   poll(struct pollfd *fds, int nfds, int timeout_ms);
struct lockstat;
struct lockedge;
int   lockstat(struct lockstat *buf, int n);  // lock classes' counts: kernel/lockstat.h
int   lockorder(struct lockedge *buf, int n); // the lock-order graph's edges
int   nettrace(int mask);                    // the packet trace: kernel/net/nettrace.h
int   nettraceread(char *buf, int len);
int   fcntl(int fd, int cmd, int arg);   // F_GETFL; F_SETFL with O_NONBLOCK, O_APPEND
// select() over poll (user/lib/select.c): fd_set is a bitmask of NOFILE
// descriptors; a null timeout waits for ever. Returns the number of bits
// left set (as Linux: a descriptor ready both ways counts twice).
typedef struct { uint bits; } fd_set;
#define FD_SETSIZE 32
#define FD_ZERO(s)     ((s)->bits = 0)
#define FD_SET(fd, s)  ((s)->bits |= 1u << (fd))
#define FD_CLR(fd, s)  ((s)->bits &= ~(1u << (fd)))
#define FD_ISSET(fd, s) (((s)->bits >> (fd)) & 1)
struct timeval;
int   select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *timeout);
// Any system call with any arguments; the kernel's result as it is
// (a negated errno on failure, errno untouched). user/lib/rawsys.S.
int   rawsyscall(int num, uint a1, uint a2, uint a3, uint a4, uint a5, uint a6);
int   rawsyscall_int(int num, uint a1, uint a2, uint a3, uint a4, uint a5, uint a6);

// ---- job control and signals (user/lib/usig.S, user/lib/signal.c) ----------
// A child's status is what it passed to exit, 128 + the signal that ended
// it (SIGSTATUS), or -1 if the kernel killed it for a fault.
int   waitpid(int pid, int *status, int options);   // options: WNOHANG
int   setpgid(int pid, int pgid);
int   getpgid(int pid);
int   tcsetpgrp(int fd, int pgid);  // fd on the console: ^C signals group pgid
int   tcgetpgrp(int fd);
int   sigaction(int sig, const struct sigaction *act, struct sigaction *old);
sighandler_t signal(int sig, sighandler_t handler);   // SIG_ERR on failure
const char *signame(int sig);       // "INT" for SIGINT; 0 if unnamed
int   signum(const char *name);     // "INT", "SIGINT" or "2" -> 2; -1 if none

// ---- errors (user/lib/ulib.c) ---------------------------------------------
extern int errno;                   // set by a failing system call stub
const char *strerror(int err);
void  perror(const char *what);     // "what: message\n" on fd 2

// ---- strings and memory (user/lib/ulib.c) ---------------------------------
int   strlen(const char *s);
int   strcmp(const char *p, const char *q);
int   strncmp(const char *p, const char *q, uint n);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, int n);
int   strlcpy(char *dst, const char *src, int size);  // always NUL-terminates
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
void *memset(void *dst, int c, uint n);
void *memmove(void *dst, const void *src, uint n);
void *memcpy(void *dst, const void *src, uint n);
int   memcmp(const void *a, const void *b, uint n);
int   isspace(int c);
int   isdigit(int c);
int   atoi(const char *s);
// Parses an unsigned number in base 10, 16 or 8 (base 0: by prefix 0x/0).
// *end (if end != 0) is set to the first character not used.
uint  strtoul(const char *s, char **end, int base);
uint  digitval(int c);              // c as a digit in bases up to 16, or 99

// ---- files (user/lib/ulib.c) ----------------------------------------------
int   stat(const char *path, struct stat *st);
// Reads one line (up to and including '\n') from fd into buf, at most max-1
// bytes, one byte at a time so that nothing beyond the line is consumed.
// Returns the number of bytes stored (NUL-terminated), 0 at end of file,
// -1 on error. A line that does not fit comes back without its '\n'.
int   readline(int fd, char *buf, int max);
int   writeall(int fd, const void *buf, int n);   // retries short writes

// ---- formatted output (user/lib/printf.c) ---------------------------------
// Conversions: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width
// (or *), a precision for %s (.N or .*), and the l and ll modifiers.
typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type)   __builtin_va_arg(ap, type)
#define va_end(ap)         __builtin_va_end(ap)
#define va_copy(d, s)      __builtin_va_copy(d, s)

#define PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
int   printf(const char *fmt, ...) PRINTFLIKE(1, 2);
int   fprintf(int fd, const char *fmt, ...) PRINTFLIKE(2, 3);
int   vfprintf(int fd, const char *fmt, va_list ap);
int   snprintf(char *buf, int size, const char *fmt, ...) PRINTFLIKE(3, 4);
int   vsnprintf(char *buf, int size, const char *fmt, va_list ap);

// ---- command-line arguments (user/lib/args.c) ------------------------------
// argsinit(name, usage) first. -h/--help print usage and exit 0; every
// other function here that finds bad input prints "NAME: what is wrong",
// then the usage, on stderr and exits 2. opt names the option a value came
// with ("-c"), or is 0 for an operand; what names the value ("count").
extern char *optarg;
extern int optind;
void  argsinit(const char *prog, const char *usage);
const char *argprog(void);
int   getopt(int argc, char **argv, const char *opts);   // GNU style; -1 at the end
void  arghelp(int argc, char **argv);   // only -h/--help, for word-driven programs
void  usagehelp(void) __attribute__((noreturn));
void  usagefail(const char *fmt, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));
void  argmissing(const char *what) __attribute__((noreturn));
void  argextra(const char *arg) __attribute__((noreturn));
void  argbad(const char *opt, const char *what, const char *value, const char *why)
      __attribute__((noreturn));
int   argnum(const char *opt, const char *what, const char *s, int min, int max);
int   argsecs(const char *opt, const char *what, const char *s, int minms, int maxms);
// cp's and mv's operands (after the options): SOURCE DEST, or SOURCE...
// DIRECTORY. op(source, target) for each; the statuses ORed together.
int   argtargets(int argc, char **argv, int (*op)(const char *from, const char *to));

// ---- memory allocation (user/lib/umalloc.c) -------------------------------
void *malloc(uint n);
void  free(void *p);
void *calloc(uint count, uint size);
void *realloc(void *p, uint n);

#endif
