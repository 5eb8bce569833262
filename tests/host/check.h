// A tiny test framework for the host-compiled C tests (tests/cunit,
// tests/host): CHECK macros that count and report, and a runner that runs
// each test in a process of its own when asked (the network stack's tables
// are static: a fresh process is a freshly booted stack).
//
//   static const struct test tests[] = { TEST(test_x), ... };
//   int main(void) { return run_tests(tests, NELEM(tests), 1); }
//
// prints "ok  test_x" or "FAIL test_x" per test and "N passed, M failed"
// (checks, not tests) at the end; exit status 1 if anything failed.

#ifndef XV6NET_CHECK_H
#define XV6NET_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static __attribute__((unused)) int passed, failed;
static __attribute__((unused)) const char *current;

static __attribute__((unused)) void
check(int ok, const char *what, const char *file, int line)
{
  if (ok) {
    passed++;
    return;
  }
  failed++;
  printf("%s:%d: %s: FAILED: %s\n", file, line, current, what);
}

static __attribute__((unused)) void
check_eq(long long got, long long want, const char *expr, const char *file, int line)
{
  if (got == want) {
    passed++;
    return;
  }
  failed++;
  printf("%s:%d: %s: FAILED: %s is %lld (0x%llx), want %lld (0x%llx)\n",
         file, line, current, expr, got, got, want, want);
}

static __attribute__((unused)) void
check_mem(const void *got, const void *want, size_t n, const char *expr, const char *file,
          int line)
{
  if (memcmp(got, want, n) == 0) {
    passed++;
    return;
  }
  failed++;
  printf("%s:%d: %s: FAILED: %s:\n   got", file, line, current, expr);
  for (size_t i = 0; i < n; i++)
    printf(" %02x", ((const unsigned char *)got)[i]);
  printf("\n  want");
  for (size_t i = 0; i < n; i++)
    printf(" %02x", ((const unsigned char *)want)[i]);
  printf("\n");
}

#define CHECK(cond)         check((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(got, want) check_eq((long long)(got), (long long)(want), #got, __FILE__, __LINE__)
#define CHECK_MEM(got, want, n) check_mem((got), (want), (n), #got, __FILE__, __LINE__)

struct test {
  const char *name;
  void (*fn)(void);
};
#define TEST(f) { #f, f }

// Run one test in a child process; its counts come back through a pipe. A
// child that dies (a panic, a sanitizer report) fails its test.
static __attribute__((unused)) void
run_forked(const struct test *t)
{
  int fds[2], counts[2] = { 0, 0 }, status;
  fflush(stdout);
  if (pipe(fds) < 0) {
    perror("pipe");
    exit(2);
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(2);
  }
  if (pid == 0) {
    close(fds[0]);
    passed = failed = 0;
    t->fn();
    int mine[2] = { passed, failed };
    if (write(fds[1], mine, sizeof mine) != sizeof mine)
      _exit(3);
    fflush(stdout);
    _exit(0);
  }
  close(fds[1]);
  ssize_t got = read(fds[0], counts, sizeof counts);
  close(fds[0]);
  waitpid(pid, &status, 0);
  if (got != sizeof counts || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    printf("%s: FAILED: the test process died (status 0x%x)\n", t->name, status);
    counts[1]++;
  }
  passed += counts[0];
  failed += counts[1];
}

static __attribute__((unused)) int
run_tests(const struct test *tests, size_t n, int forked)
{
  const char *only = getenv("TEST_ONLY");
  for (size_t i = 0; i < n; i++) {
    if (only && strcmp(only, tests[i].name) != 0)
      continue;
    int before = failed;
    current = tests[i].name;
    if (forked)
      run_forked(&tests[i]);
    else
      tests[i].fn();
    printf("%s %s\n", failed == before ? "ok  " : "FAIL", current);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}

#endif
