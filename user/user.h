// The user-space interface: system call stubs (user/lib/usys.S) and the
// small C library (user/lib/*.c) that every program is linked with.
#ifndef XV6NET_USER_H
#define XV6NET_USER_H
#include "kernel/types.h"

struct stat;
struct statfs;

// ---- system calls (user/lib/usys.S) ---------------------------------------
// Each returns -1 and sets errno on failure, unless noted.
int   fork(void);
void  exit(int status) __attribute__((noreturn));
int   wait(int *status);            // status may be 0; -1 if killed by the kernel
int   pipe(int fd[2]);
int   read(int fd, void *buf, int n);
int   write(int fd, const void *buf, int n);
int   close(int fd);
int   kill(int pid);
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

// ---- memory allocation (user/lib/umalloc.c) -------------------------------
void *malloc(uint n);
void  free(void *p);
void *calloc(uint count, uint size);
void *realloc(void *p, uint n);

#endif
