// A tiny test framework for the host-compiled C tests (tests/cunit/test_*.c):
// CHECK, CHECK_EQ, CHECK_MEM count passes and print each failure with its
// line; TESTS() runs the table and prints "ok  NAME" / "FAIL NAME" and
// "N passed, M failed", exiting 1 on any failure. `exact` hands parsers heap
// buffers of exactly the length they are told, so that AddressSanitizer
// catches any read past the end.
#ifndef XV6NET_CUNIT_H
#define XV6NET_CUNIT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cu_passed, cu_failed;
static const char *cu_current;

static void
cu_check(int ok, const char *what, const char *file, int line)
{
  if (ok) {
    cu_passed++;
    return;
  }
  cu_failed++;
  printf("%s:%d: %s: FAILED: %s\n", file, line, cu_current, what);
}

static void
cu_check_eq(long long got, long long want, const char *expr, const char *file, int line)
{
  if (got == want) {
    cu_passed++;
    return;
  }
  cu_failed++;
  printf("%s:%d: %s: FAILED: %s is %lld (0x%llx), want %lld (0x%llx)\n",
         file, line, cu_current, expr, got, got, want, want);
}

static void
cu_check_str(const char *got, const char *want, const char *expr, const char *file, int line)
{
  if (strcmp(got, want) == 0) {
    cu_passed++;
    return;
  }
  cu_failed++;
  printf("%s:%d: %s: FAILED: %s is \"%s\", want \"%s\"\n", file, line, cu_current, expr, got, want);
}

#define CHECK(cond)          cu_check((cond) != 0, #cond, __FILE__, __LINE__)
#define CHECK_EQ(got, want)  cu_check_eq((long long)(got), (long long)(want), #got, __FILE__, __LINE__)
#define CHECK_STR(got, want) cu_check_str((got), (want), #got, __FILE__, __LINE__)

static unsigned char *
exact(const void *data, size_t n)
{
  unsigned char *p = malloc(n ? n : 1);
  if (p == 0) {
    perror("malloc");
    exit(2);
  }
  memcpy(p, data, n);
  return p;
}

struct cu_test {
  const char *name;
  void (*fn)(void);
};
#define T(fn) { #fn, fn }

static int
cu_run(const struct cu_test *tests, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    int before = cu_failed;
    cu_current = tests[i].name;
    tests[i].fn();
    printf("%s %s\n", cu_failed == before ? "ok  " : "FAIL", cu_current);
  }
  printf("%d passed, %d failed\n", cu_passed, cu_failed);
  return cu_failed != 0;
}

#define TESTS(...)                                                    \
  int main(void)                                                      \
  {                                                                   \
    static const struct cu_test tests[] = { __VA_ARGS__ };            \
    return cu_run(tests, sizeof tests / sizeof tests[0]);             \
  }

#endif
