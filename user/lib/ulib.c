// The small C library: strings, memory, numbers, errors, files.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/errno.h"
#include "user/user.h"

int errno;

// ---- strings --------------------------------------------------------------

int
strlen(const char *s)
{
  int n = 0;
  while (s[n])
    n++;
  return n;
}

int
strcmp(const char *p, const char *q)
{
  while (*p && *p == *q)
    p++, q++;
  return (uchar)*p - (uchar)*q;
}

int
strncmp(const char *p, const char *q, uint n)
{
  for (; n > 0; n--, p++, q++) {
    if (*p != *q)
      return (uchar)*p - (uchar)*q;
    if (*p == 0)
      break;
  }
  return 0;
}

char *
strcpy(char *dst, const char *src)
{
  char *d = dst;
  while ((*d++ = *src++) != 0)
    ;
  return dst;
}

// As in C: copies at most n bytes and pads with NULs, so the result is not
// terminated if src is n bytes or longer. Prefer strlcpy.
char *
strncpy(char *dst, const char *src, int n)
{
  int i = 0;
  for (; i < n && src[i]; i++)
    dst[i] = src[i];
  for (; i < n; i++)
    dst[i] = 0;
  return dst;
}

// Copies as much of src as fits in size bytes, always NUL-terminated (if
// size > 0). Returns strlen(src), so a result >= size means truncation.
int
strlcpy(char *dst, const char *src, int size)
{
  int len = strlen(src);
  if (size > 0) {
    int n = len < size ? len : size - 1;
    memmove(dst, src, n);
    dst[n] = 0;
  }
  return len;
}

char *
strchr(const char *s, int c)
{
  for (;; s++) {
    if (*s == (char)c)
      return (char *)s;
    if (*s == 0)
      return 0;
  }
}

char *
strrchr(const char *s, int c)
{
  const char *last = 0;
  for (;; s++) {
    if (*s == (char)c)
      last = s;
    if (*s == 0)
      return (char *)last;
  }
}

// ---- memory ---------------------------------------------------------------
// Written with string instructions: a plain C loop here may be turned by the
// optimizer into a call to the very function being defined.

void *
memset(void *dst, int c, uint n)
{
  void *d = dst;
  asm volatile("cld; rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dst;
}

void *
memmove(void *dst, const void *src, uint n)
{
  const char *s = src;
  char *d = dst;
  if (s < d && s + n > d) {
    // Overlap with the destination above: copy backwards.
    s += n - 1;
    d += n - 1;
    asm volatile("std; rep movsb; cld"
                 : "+S"(s), "+D"(d), "+c"(n) : : "memory");
  } else {
    asm volatile("cld; rep movsb" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
  }
  return dst;
}

void *
memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, uint n)
{
  const uchar *p = a, *q = b;
  for (; n > 0; n--, p++, q++)
    if (*p != *q)
      return *p - *q;
  return 0;
}

// ---- numbers --------------------------------------------------------------

int
isspace(int c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int
isdigit(int c)
{
  return c >= '0' && c <= '9';
}

int
atoi(const char *s)
{
  while (isspace(*s))
    s++;
  int neg = (*s == '-');
  if (*s == '-' || *s == '+')
    s++;
  int n = 0;
  while (isdigit(*s))
    n = n * 10 + (*s++ - '0');
  return neg ? -n : n;
}

// Value of c as a digit in any base up to 16, or 99 if it is not one.
uint
digitval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return 99;
}

// Saturates at 0xffffffff instead of wrapping, so that a huge number is not
// mistaken for a small one.
uint
strtoul(const char *str, char **end, int base)
{
  const char *s = str;
  while (isspace(*s))
    s++;
  if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
      && digitval(s[2]) < 16) {
    s += 2;
    base = 16;
  } else if (base == 0) {
    base = (s[0] == '0') ? 8 : 10;
  }
  const char *digits = s;
  uint n = 0;
  for (uint d; (d = digitval(*s)) < (uint)base; s++)
    n = (n > (0xffffffffU - d) / base) ? 0xffffffffU : n * base + d;
  if (end)
    *end = (char *)(s == digits ? str : s);   // no digits: nothing used
  return n;
}

// ---- errors ---------------------------------------------------------------

// The same wording as Linux, so that messages read the same.
static const char *const errmsg[] = {
  [0]               = "Success",
  [EPERM]           = "Operation not permitted",
  [ENOENT]          = "No such file or directory",
  [ESRCH]           = "No such process",
  [EINTR]           = "Interrupted system call",
  [EIO]             = "Input/output error",
  [ENXIO]           = "No such device or address",
  [E2BIG]           = "Argument list too long",
  [ENOEXEC]         = "Exec format error",
  [EBADF]           = "Bad file descriptor",
  [ECHILD]          = "No child processes",
  [EAGAIN]          = "Resource temporarily unavailable",
  [ENOMEM]          = "Cannot allocate memory",
  [EACCES]          = "Permission denied",
  [EFAULT]          = "Bad address",
  [EBUSY]           = "Device or resource busy",
  [EEXIST]          = "File exists",
  [ENODEV]          = "No such device",
  [ENOTDIR]         = "Not a directory",
  [EISDIR]          = "Is a directory",
  [EINVAL]          = "Invalid argument",
  [ENFILE]          = "Too many open files in system",
  [EMFILE]          = "Too many open files",
  [ENOTTY]          = "Inappropriate ioctl for device",
  [EFBIG]           = "File too large",
  [ENOSPC]          = "No space left on device",
  [ESPIPE]          = "Illegal seek",
  [EROFS]           = "Read-only file system",
  [EPIPE]           = "Broken pipe",
  [EDOM]            = "Numerical argument out of domain",
  [ERANGE]          = "Numerical result out of range",
  [ENAMETOOLONG]    = "File name too long",
  [ENOSYS]          = "Function not implemented",
  [ENOTEMPTY]       = "Directory not empty",
  [ENOTSOCK]        = "Socket operation on non-socket",
  [EDESTADDRREQ]    = "Destination address required",
  [EMSGSIZE]        = "Message too long",
  [EPROTOTYPE]      = "Protocol wrong type for socket",
  [ENOPROTOOPT]     = "Protocol not available",
  [EPROTONOSUPPORT] = "Protocol not supported",
  [ESOCKTNOSUPPORT] = "Socket type not supported",
  [EOPNOTSUPP]      = "Operation not supported",
  [EAFNOSUPPORT]    = "Address family not supported by protocol",
  [EADDRINUSE]      = "Address already in use",
  [EADDRNOTAVAIL]   = "Cannot assign requested address",
  [ENETDOWN]        = "Network is down",
  [ENETUNREACH]     = "Network is unreachable",
  [ENOBUFS]         = "No buffer space available",
  [EISCONN]         = "Transport endpoint is already connected",
  [ENOTCONN]        = "Transport endpoint is not connected",
  [ETIMEDOUT]       = "Connection timed out",
  [ECONNREFUSED]    = "Connection refused",
  [EHOSTUNREACH]    = "No route to host",
};

const char *
strerror(int err)
{
  static char unknown[32];

  if (err >= 0 && err < (int)(sizeof errmsg / sizeof errmsg[0]) && errmsg[err])
    return errmsg[err];
  snprintf(unknown, sizeof unknown, "Unknown error %d", err);
  return unknown;
}

void
perror(const char *what)
{
  if (what && *what)
    fprintf(2, "%s: %s\n", what, strerror(errno));
  else
    fprintf(2, "%s\n", strerror(errno));
}

// ---- files ----------------------------------------------------------------

int
stat(const char *path, struct stat *st)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int r = fstat(fd, st);
  int saved = errno;   // close must not hide fstat's error
  close(fd);
  errno = saved;
  return r;
}

int
readline(int fd, char *buf, int max)
{
  int n = 0;
  if (max <= 0)
    return 0;
  while (n < max - 1) {
    char c;
    int r = read(fd, &c, 1);
    if (r < 0 && n == 0)
      return -1;
    if (r <= 0)
      break;
    buf[n++] = c;
    if (c == '\n')
      break;
  }
  buf[n] = 0;
  return n;
}

int
writeall(int fd, const void *buf, int n)
{
  const char *p = buf;
  int done = 0;
  while (done < n) {
    int w = write(fd, p + done, n - done);
    if (w <= 0)
      return -1;
    done += w;
  }
  return done;
}
