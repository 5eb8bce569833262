// Formatted output: printf, fprintf, snprintf and their va_list forms.
// One formatter writes into a "sink" that is either a file descriptor
// (buffered, so a whole message usually leaves in one write and lines from
// different processes do not interleave mid-line) or a caller's buffer.
#include "kernel/types.h"
#include "user/user.h"

struct sink {
  int fd;          // file descriptor, or -1 for a string sink
  char *buf;
  int cap;         // bytes in buf
  int len;         // bytes in buf now
  int total;       // characters produced so far (the return value)
  int err;         // a write failed
};

static void
flush(struct sink *s)
{
  if (s->fd >= 0 && s->len > 0) {
    if (writeall(s->fd, s->buf, s->len) < 0)
      s->err = 1;
    s->len = 0;
  }
}

static void
put(struct sink *s, char c)
{
  s->total++;
  if (s->fd >= 0) {
    if (s->len == s->cap)
      flush(s);
    s->buf[s->len++] = c;
  } else if (s->len < s->cap - 1) {   // keep room for the NUL
    s->buf[s->len++] = c;
  }
}

static void
putn(struct sink *s, char c, int count)
{
  while (count-- > 0)
    put(s, c);
}

// One parsed conversion specification.
struct spec {
  int left;        // '-': pad on the right
  int zero;        // '0': pad numbers with zeros
  int width;
  int prec;        // -1 if none
  int size;        // 0, 1 (l) or 2 (ll)
};

// Divides *n by base in place and returns the remainder. The 64-bit
// division is done as two 32-bit ones (divl) because there is no libgcc.
static uint
divmod(uint64 *n, uint base)
{
  uint hi = (uint)(*n >> 32), lo = (uint)*n;
  uint qhi = hi / base, r = hi % base, qlo;
  // r < base, so the quotient of r:lo / base fits in 32 bits.
  asm("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(base));
  *n = ((uint64)qhi << 32) | qlo;
  return r;
}

// Emits prefix (a sign or "0x") and the digits of v, padded to the width.
static void
putnum(struct sink *s, const struct spec *sp, uint64 v, uint base, int upper,
       const char *prefix)
{
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = digits[divmod(&v, base)];
  } while (v != 0);

  int plen = strlen(prefix);
  int pad = sp->width - n - plen;
  if (!sp->left && !sp->zero)
    putn(s, ' ', pad);
  while (*prefix)
    put(s, *prefix++);
  if (!sp->left && sp->zero)
    putn(s, '0', pad);
  while (n > 0)
    put(s, tmp[--n]);
  if (sp->left)
    putn(s, ' ', pad);
}

static void
putstr(struct sink *s, const struct spec *sp, const char *str)
{
  if (str == 0)
    str = "(null)";
  int n = 0;
  while (str[n] && (sp->prec < 0 || n < sp->prec))
    n++;
  if (!sp->left)
    putn(s, ' ', sp->width - n);
  for (int i = 0; i < n; i++)
    put(s, str[i]);
  if (sp->left)
    putn(s, ' ', sp->width - n);
}

static void
putchr(struct sink *s, const struct spec *sp, char c)
{
  if (!sp->left)
    putn(s, ' ', sp->width - 1);
  put(s, c);
  if (sp->left)
    putn(s, ' ', sp->width - 1);
}

// Reads "[flags][width][.prec][l|ll]" at *fmtp into sp; advances *fmtp.
static void
parsespec(const char **fmtp, struct spec *sp, va_list *ap)
{
  const char *f = *fmtp;
  sp->left = sp->zero = sp->width = sp->size = 0;
  sp->prec = -1;
  for (;; f++) {
    if (*f == '-')
      sp->left = 1;
    else if (*f == '0')
      sp->zero = 1;
    else
      break;
  }
  if (*f == '*') {
    sp->width = va_arg(*ap, int);
    if (sp->width < 0) {        // as in C: a negative width means '-'
      sp->left = 1;
      sp->width = -sp->width;
    }
    f++;
  }
  while (isdigit(*f))
    sp->width = sp->width * 10 + (*f++ - '0');
  if (*f == '.') {
    f++;
    sp->prec = 0;
    if (*f == '*') {
      sp->prec = va_arg(*ap, int);
      f++;
    }
    while (isdigit(*f))
      sp->prec = sp->prec * 10 + (*f++ - '0');
  }
  while (*f == 'l' && sp->size < 2) {
    sp->size++;
    f++;
  }
  *fmtp = f;
}

// Fetches a signed argument of the spec's size and prints it.
static void
putsigned(struct sink *s, const struct spec *sp, va_list *ap)
{
  long long v = (sp->size == 2) ? va_arg(*ap, long long)
              : (sp->size == 1) ? va_arg(*ap, long) : va_arg(*ap, int);
  uint64 mag = (v < 0) ? (uint64)0 - (uint64)v : (uint64)v;
  putnum(s, sp, mag, 10, 0, v < 0 ? "-" : "");
}

static void
putunsigned(struct sink *s, const struct spec *sp, va_list *ap, uint base,
            int upper)
{
  uint64 v = (sp->size == 2) ? va_arg(*ap, unsigned long long)
           : (sp->size == 1) ? va_arg(*ap, unsigned long)
           : va_arg(*ap, uint);
  putnum(s, sp, v, base, upper, "");
}

static void
format(struct sink *s, const char *fmt, va_list ap0)
{
  va_list ap;
  struct spec sp;

  va_copy(ap, ap0);   // passed by address to helpers, so use a local copy
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      put(s, *fmt);
      continue;
    }
    const char *start = fmt++;
    parsespec(&fmt, &sp, &ap);
    switch (*fmt) {
    case 'd': case 'i': putsigned(s, &sp, &ap); break;
    case 'u': putunsigned(s, &sp, &ap, 10, 0); break;
    case 'x': putunsigned(s, &sp, &ap, 16, 0); break;
    case 'X': putunsigned(s, &sp, &ap, 16, 1); break;
    case 'p': putnum(s, &sp, (uint)va_arg(ap, void *), 16, 0, "0x"); break;
    case 's': putstr(s, &sp, va_arg(ap, const char *)); break;
    case 'c': putchr(s, &sp, (char)va_arg(ap, int)); break;
    case '%': put(s, '%'); break;
    default:
      // Unknown conversion (or the format ended): print it as it was.
      for (; start <= fmt && *start; start++)
        put(s, *start);
      if (*fmt == 0)
        fmt--;
      break;
    }
  }
  va_end(ap);
}

int
vfprintf(int fd, const char *fmt, va_list ap)
{
  char buf[128];
  struct sink s = { fd, buf, sizeof buf, 0, 0, 0 };
  format(&s, fmt, ap);
  flush(&s);
  return s.err ? -1 : s.total;
}

int
fprintf(int fd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vfprintf(fd, fmt, ap);
  va_end(ap);
  return n;
}

int
printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vfprintf(1, fmt, ap);
  va_end(ap);
  return n;
}

// As in C: writes at most size-1 characters and a NUL, and returns the
// length the whole output would have had.
int
vsnprintf(char *buf, int size, const char *fmt, va_list ap)
{
  struct sink s = { -1, buf, size, 0, 0, 0 };
  format(&s, fmt, ap);
  if (size > 0)
    buf[s.len] = 0;
  return s.total;
}

int
snprintf(char *buf, int size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}
