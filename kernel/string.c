// The few string and memory routines the kernel uses.

#include "kernel/types.h"
#include "kernel/defs.h"

void *
memset(void *dst, int c, uint n)
{
  uchar *d = dst;
  if (((uint)dst & 3) == 0 && (n & 3) == 0) {
    uint w = (uchar)c;
    w |= w << 8;
    w |= w << 16;
    uint words = n / 4;
    asm volatile("cld; rep stosl" : "+D"(d), "+c"(words) : "a"(w) : "memory");
    return dst;
  }
  while (n-- > 0)
    *d++ = c;
  return dst;
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

void *
memmove(void *dst, const void *src, uint n)
{
  const char *s = src;
  char *d = dst;
  if (s < d && s + n > d) {
    s += n;
    d += n;
    while (n-- > 0)
      *--d = *--s;
  } else {
    while (n-- > 0)
      *d++ = *s++;
  }
  return dst;
}

// gcc may emit calls to memcpy for structure copies.
void *
memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int
strncmp(const char *p, const char *q, uint n)
{
  while (n > 0 && *p && *p == *q)
    n--, p++, q++;
  if (n == 0)
    return 0;
  return (uchar)*p - (uchar)*q;
}

char *
strncpy(char *dst, const char *src, int n)
{
  int i;
  for (i = 0; i < n && src[i]; i++)
    dst[i] = src[i];
  for (; i < n; i++)
    dst[i] = 0;
  return dst;
}

// Like strncpy, but always NUL-terminates.
char *
safestrcpy(char *dst, const char *src, int n)
{
  char *d = dst;
  if (n <= 0)
    return dst;
  while (--n > 0 && (*d++ = *src++) != 0)
    ;
  *d = 0;
  return dst;
}

int
strlen(const char *s)
{
  int n = 0;
  while (s[n])
    n++;
  return n;
}

// Decimal digits at the start of s (no sign); stops at the first non-digit.
int
atoi(const char *s)
{
  int n = 0;
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return n;
}
