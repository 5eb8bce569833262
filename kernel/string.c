// The few string and memory routines the kernel uses.

#include "kernel/types.h"
#include "kernel/defs.h"

// Words sixteen bytes a step, as copyforward below. Not `rep stosl`: TCG
// runs a rep-prefixed instruction one iteration per pass through its
// translated block, so a page took 1,024 passes; kalloc zeroes every page
// and kfree poisons it, twice per page that fork copies and exit frees.
void *
memset(void *dst, int c, uint n)
{
  uchar *d = dst;
  uint w = (uchar)c;
  w |= w << 8;
  w |= w << 16;
  for (; n > 0 && ((uint)d & 3); n--)
    *d++ = c;
  for (; n >= 16; n -= 16, d += 16) {
    __builtin_memcpy(d, &w, 4);
    __builtin_memcpy(d + 4, &w, 4);
    __builtin_memcpy(d + 8, &w, 4);
    __builtin_memcpy(d + 12, &w, 4);
  }
  for (; n >= 4; n -= 4, d += 4)
    __builtin_memcpy(d, &w, 4);
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

// Forward, 32-bit words four at a time, then the last bytes. Safe for an
// overlap with dst below src (each word is read before it is written).
// Every copy in the kernel comes here, TCP's three per segment included;
// under TCG each loop step costs several translated instructions, so
// sixteen bytes a step instead of one makes copies several times cheaper.
static void
copyforward(char *d, const char *s, uint n)
{
  uint w0, w1, w2, w3;
  for (; n >= 16; n -= 16, d += 16, s += 16) {
    __builtin_memcpy(&w0, s, 4);
    __builtin_memcpy(&w1, s + 4, 4);
    __builtin_memcpy(&w2, s + 8, 4);
    __builtin_memcpy(&w3, s + 12, 4);
    __builtin_memcpy(d, &w0, 4);
    __builtin_memcpy(d + 4, &w1, 4);
    __builtin_memcpy(d + 8, &w2, 4);
    __builtin_memcpy(d + 12, &w3, 4);
  }
  for (; n >= 4; n -= 4, d += 4, s += 4) {
    __builtin_memcpy(&w0, s, 4);
    __builtin_memcpy(d, &w0, 4);
  }
  while (n-- > 0)
    *d++ = *s++;
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
    copyforward(d, s, n);
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
